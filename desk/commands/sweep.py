"""`desk sweep SWEEP.toml`: a grid of session parameters × seeds, locally or on a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.commands import given
from desk.errors import OutputError, SessionError
from desk.figures import counted

if TYPE_CHECKING:
    from desk.batch import Cell
    from desk.sweep_results import ResultStore


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from desk.pool import check_scheduler, default_jobs, run_cells
    from desk.sweep import Sweep
    from desk.sweep_results import RESULTS, ResultStore

    if args.jobs is not None and args.jobs < 1:
        raise SessionError(f"--jobs: {args.jobs} must be at least 1")
    check_scheduler(args.scheduler)
    if args.out is not None and not args.out.strip():
        raise OutputError("--out: give a folder, not an empty path")
    jobs = default_jobs() if args.jobs is None else args.jobs
    sweep = Sweep(Path(args.sweep))
    out = Path(args.out) if args.out else sweep.out
    console = Console(stderr=True)

    def tell(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True, markup=False)

    store = ResultStore(out, notify=tell)
    store.prepare("--out" if args.out else f"{sweep.path}: out")
    cells = sweep.cells()
    done = store.done_keys()
    todo = [cell for cell in cells if cell.key not in done]
    where = (f"Dask at {args.scheduler}" if args.scheduler
             else counted(jobs, "local process", "local processes"))
    console.print(f"sweep {args.sweep}: {counted(len(cells), 'cell')}, "
                  f"{len(cells) - len(todo):,} already done, {len(todo):,} to run on {where}",
                  highlight=False, soft_wrap=True, markup=False)

    def stopping(in_flight: int) -> None:
        console.print(f"stopping: {counted(in_flight, 'cell')} in flight will finish and be "
                      "kept, no new cell starts (Ctrl-C again to abandon them)", highlight=False,
                      soft_wrap=True)

    results = run_cells(todo, jobs=jobs, scheduler=args.scheduler, retries=sweep.config.retries,
                        finish_on_interrupt=True, on_interrupt=stopping)
    try:
        _store(results, store, console, len(cells), len(cells) - len(todo))
    except KeyboardInterrupt:
        store.flush()
        print(f"interrupted: {counted(store.added, 'row')} kept; rerun to resume", file=sys.stderr)
        return 130
    finally:
        store.flush()
    table, left_out = store.consolidate({cell.key for cell in cells})
    rows = 0 if table is None else table.num_rows
    note = "" if not left_out else \
        f" ({counted(left_out, 'row')} of cells no longer in the sweep left out, kept in {out})"
    print(f"{counted(rows, 'row')} in {out / RESULTS}{note}")
    return 0


def _store(results: Iterator[tuple[Cell, dict[str, Any]]], store: ResultStore, console: Any,
           total: int, done: int) -> None:
    """Store each row as it comes, with a progress bar on a terminal."""
    from desk.sweep_results import flatten

    if not console.is_terminal or done == total:
        for cell, row in results:
            store.add(flatten(cell, row))
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[bold]cells", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("cells", total=total, completed=done)
        for cell, row in results:
            store.add(flatten(cell, row))
            progress.advance(task)


def register(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of session parameters × seeds, into Parquet")
    p.add_argument("sweep", type=given("a sweep file"), help="the sweep file (TOML)")
    p.add_argument("--scheduler", help="run on this Dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: cores, at most 4)")
    p.add_argument("--out", help="results folder (default: the sweep file's `out`)")
    p.set_defaults(func=cmd_sweep)
