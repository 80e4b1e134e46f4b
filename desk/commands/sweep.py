"""`desk sweep SWEEP.toml`: a grid of session parameters × seeds, locally or on a Dask cluster."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from desk.pool import default_jobs, run_cells
    from desk.sweep import RESULTS, ResultStore, Sweep, flatten

    sweep = Sweep(Path(args.sweep))
    out = Path(args.out) if args.out else sweep.out
    store = ResultStore(out)
    cells = sweep.cells()
    done = store.done_keys()
    todo = [cell for cell in cells if cell.key not in done]
    console = Console(stderr=True)
    where = f"Dask at {args.scheduler}" if args.scheduler else \
        f"{default_jobs() if args.jobs is None else args.jobs} local process(es)"
    console.print(f"sweep {args.sweep}: {len(cells)} cells, {len(cells) - len(todo)} already "
                  f"done, {len(todo)} to run on {where}", highlight=False)
    jobs = default_jobs() if args.jobs is None else args.jobs
    results = run_cells(todo, jobs=jobs, scheduler=args.scheduler,
                        retries=sweep.config.retries)
    try:
        if console.is_terminal and todo:
            _with_progress(results, store, console, len(cells), len(cells) - len(todo), flatten)
        else:
            for cell, row in results:
                store.add(flatten(cell, row))
    finally:
        store.flush()
    table = store.consolidate()
    rows = 0 if table is None else table.num_rows
    print(f"{rows} rows in {out / RESULTS}")
    return 0


def _with_progress(results: Any, store: Any, console: Any, total: int, done: int,
                   flatten: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[bold]cells", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("cells", total=total, completed=done)
        for cell, row in results:
            store.add(flatten(cell, row))
            progress.advance(task)


def register(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of session parameters × seeds, into Parquet")
    p.add_argument("sweep", help="the sweep file (TOML)")
    p.add_argument("--scheduler", help="run on this Dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: cores, at most 4)")
    p.add_argument("--out", help="results folder (default: the sweep file's `out`)")
    p.set_defaults(func=cmd_sweep)
