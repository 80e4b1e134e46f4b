"""`desk compare A.toml B.toml …`: each session over the same K seeded worlds, side by side."""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Any

from desk.commands import given
from desk.commands.run import seed_value
from desk.errors import SessionError
from desk.figures import counted
from desk.seeds import seeds_problem
from desk.timeutil import parse_duration_ns

MIN_WIDTH = 10
"""The narrowest equity chart: fewer points say nothing about a curve's shape."""

WIDE = 1_000
"""Columns of a console that is not a terminal: a pipe or a file gets whole lines."""


def parse_every(text: str) -> float:
    """`60s`, `5m`, `1h` (or plain seconds) → seconds; a positive, finite duration."""
    try:
        seconds = float(text)
    except ValueError:
        ns = parse_duration_ns(text)
        if ns is None:
            raise SessionError(f"--every: {text!r} is not a duration like 60s, 5m or 1h") from None
        seconds = ns / 1e9
    if not (math.isfinite(seconds) and seconds > 0):
        raise SessionError(f"--every: {text!r} must be a positive duration like 60s, 5m or 1h")
    return seconds


def unique_labels(names: list[str], paths: list[str]) -> list[str]:
    """Column labels: the session names; the paths where names repeat; `#n` where paths do too."""
    labels = [name if names.count(name) == 1 else path for name, path in zip(names, paths,
                                                                           strict=True)]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    from desk.batch import Cell, load_cell_session, session_source
    from desk.compare import (
        aggregate,
        comparison_table,
        equity_chart,
        run_lines,
        session_blocks,
        table_fits,
    )
    from desk.pool import check_scheduler, default_jobs
    from desk.report import stdout_console

    if args.seeds < 1:
        raise SessionError(f"--seeds: {args.seeds} must be at least 1")
    problem = seeds_problem(args.seed_start, args.seeds, "--seed-start")
    if problem is not None:
        raise SessionError(f"--seeds: {problem}")
    _bound(len(args.sessions), args.seeds)
    check_scheduler(args.scheduler)
    if not 0 < args.ruin < 1:
        raise SessionError(f"--ruin: {args.ruin} must be between 0 and 1")
    if args.jobs is not None and args.jobs < 1:
        raise SessionError(f"--jobs: {args.jobs} must be at least 1")
    if args.width < MIN_WIDTH:
        raise SessionError(f"--width: {args.width} must be at least {MIN_WIDTH}")
    every = parse_every(args.every)
    sources = [session_source(path) for path in args.sessions]
    names = []
    for path, (resolved, text) in zip(args.sessions, sources, strict=True):
        # validated here, in the user's terms, before any worker starts
        loaded = load_cell_session(Cell(resolved, 0, text=text), path)
        names.append(loaded.config.session.name)
    labels = unique_labels(names, list(args.sessions))
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    cells = [Cell(resolved, seed, (), every, args.ruin, label, text)
             for (resolved, text), label in zip(sources, labels, strict=True) for seed in seeds]
    console = stdout_console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = stdout_console(width=WIDE)  # piped: whole lines, not cut at 80 columns
    rows = _collect(cells, args, console, default_jobs() if args.jobs is None else args.jobs)
    rows.sort(key=lambda r: (labels.index(r["label"]), r["seed"]))
    if args.runs:
        for run in run_lines(rows):
            print(json.dumps(run, sort_keys=True))
        return 0
    stats = aggregate(rows)
    if args.json:
        for stat in stats.values():
            print(json.dumps({k: v for k, v in stat.items() if k != "curves"}, sort_keys=True))
        return 0
    title = (f"desk compare · {counted(args.seeds, 'seed')} ({seeds.start}…{seeds.stop - 1}) "
             f"· ruin at −{args.ruin:.0%}")
    if table_fits(stats, console.width):
        console.print(comparison_table(stats, title))
    else:  # too narrow for the sessions side by side: one after the other, values whole
        for block in session_blocks(stats, title):
            console.print(block)
    for line in equity_chart(stats, args.width):
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    return 0


def _bound(sessions: int, seeds: int) -> None:
    """Refuse more runs than a sweep may have cells, before the runs are listed.

    `--seeds 100000000000` would otherwise be a list of that many runs, built
    for minutes until memory runs out, before anything is reported.
    """
    from desk.sweep import MAX_CELLS

    if sessions * seeds > MAX_CELLS:
        raise SessionError(f"--seeds: {counted(sessions, 'session')} × {counted(seeds, 'seed')} "
                           f"= {sessions * seeds:,} runs, more than the {MAX_CELLS:,} a "
                           "compare may have")


def _collect(cells: list[Any], args: argparse.Namespace, console: Any, jobs: int) -> list[Any]:
    from desk.pool import run_cells

    results = run_cells(cells, jobs=jobs, scheduler=args.scheduler)
    if not console.is_terminal or args.json or args.runs:
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
    p.add_argument("sessions", nargs="+", type=given("a session file"), help="session files")
    p.add_argument("--seeds", type=int, default=8, help="how many seeded worlds (default 8)")
    p.add_argument("--seed-start", type=seed_value, default=1,
                   help="the first seed (default 1; seeds are 0 to 2**63 - 1)")
    p.add_argument("--jobs", type=int, help="local worker processes (default: cores, at most 4)")
    p.add_argument("--scheduler", help="run on this Dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--every", default="60s", help="equity curve sample interval (default 60s)")
    p.add_argument("--ruin", type=float, default=0.2,
                   help="a run that ever loses this fraction of its start cash is ruined (0.2)")
    p.add_argument("--width", type=int, default=60,
                   help=f"width of the equity chart (default 60, at least {MIN_WIDTH})")
    lines = p.add_mutually_exclusive_group()  # each is the whole output: one, or the other
    lines.add_argument("--json", action="store_true", help="print one JSON line per session")
    lines.add_argument("--runs", action="store_true",
                       help="print one JSON line per session × seed (the figures of each run)")
    p.set_defaults(func=cmd_compare)
