"""`desk compare A.toml B.toml …`: each session over the same K seeded worlds, side by side."""

from __future__ import annotations

import argparse
import json
from typing import Any

from desk.errors import SessionError
from desk.timeutil import parse_offset_ns


def parse_every(text: str) -> float:
    """`60s`, `5m`, `1h` (or plain seconds) → seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    ns = parse_offset_ns("+" + text.lstrip("+"))
    if ns is None or ns <= 0:
        raise SessionError(f"--every: {text!r} is not a duration like 60s, 5m or 1h")
    return ns / 1e9


def cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from desk.batch import Cell, read_session_dict
    from desk.compare import aggregate, comparison_table, equity_chart
    from desk.pool import default_jobs

    if args.seeds < 1:
        raise SessionError(f"--seeds: {args.seeds} must be at least 1")
    if not 0 < args.ruin < 1:
        raise SessionError(f"--ruin: {args.ruin} must be between 0 and 1")
    every = parse_every(args.every)
    labels = []
    for path in args.sessions:
        raw = read_session_dict(path)
        labels.append(str(raw.get("session", {}).get("name", path)))
    if len(set(labels)) < len(labels):
        labels = list(args.sessions)
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    cells = [Cell(path, seed, (), every, args.ruin, label)
             for path, label in zip(args.sessions, labels, strict=True) for seed in seeds]
    console = Console()
    rows = _collect(cells, args, console, default_jobs() if args.jobs is None else args.jobs)
    rows.sort(key=lambda r: (labels.index(r["label"]), r["seed"]))
    stats = aggregate(rows)
    if args.json:
        for s in stats.values():
            s = {k: v for k, v in s.items() if k != "curves"}
            print(json.dumps(s, sort_keys=True))
        return 0
    console.print(comparison_table(stats, f"desk compare · {args.seeds} seeds "
                                   f"({seeds.start}…{seeds.stop - 1}) · ruin at −{args.ruin:.0%}"))
    for line in equity_chart(stats, args.width):
        console.print(line, highlight=False, soft_wrap=True)
    return 0


def _collect(cells: list[Any], args: argparse.Namespace, console: Any, jobs: int) -> list[Any]:
    from desk.pool import run_cells

    results = run_cells(cells, jobs=jobs, scheduler=args.scheduler)
    if not console.is_terminal or args.json:
        return [row for _, row in results]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    rows = []
    with Progress("[bold]runs", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("runs", total=len(cells))
        for _, row in results:
            rows.append(row)
            progress.advance(task)
    return rows


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="run sessions over the same K seeds and compare them")
    p.add_argument("sessions", nargs="+", help="session files")
    p.add_argument("--seeds", type=int, default=8, help="how many seeded worlds (default 8)")
    p.add_argument("--seed-start", type=int, default=1, help="the first seed (default 1)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: cores, at most 4)")
    p.add_argument("--scheduler", help="run on this Dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--every", default="60s", help="equity curve sample interval (default 60s)")
    p.add_argument("--ruin", type=float, default=0.2,
                   help="a run that ever loses this fraction of its start cash is ruined (0.2)")
    p.add_argument("--width", type=int, default=60, help="width of the equity chart")
    p.add_argument("--json", action="store_true", help="print one JSON line per session")
    p.set_defaults(func=cmd_compare)
