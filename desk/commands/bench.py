"""`desk bench`: the speed benchmark, desk's whole pipeline against a bare Python loop."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desk.commands import given


def cmd_bench(args: argparse.Namespace) -> int:
    """Generate (or take) the data, measure each process, print the figures."""
    from desk.bench import BenchError, profile, report, run_l2, run_trades
    from desk.data import not_regular

    if args.events <= 0 or args.repeat <= 0:
        raise BenchError("--events and --repeat must be positive")
    folder = Path(args.dir).resolve()
    data = Path(args.data).resolve() if args.data else None  # the session lives in --dir
    if data is not None and not data.exists():
        raise BenchError(f"{data}: no such data file")
    if data is not None and data.is_dir():
        raise BenchError(f"--data: {data} is a folder, not a data file")
    special = None if data is None else not_regular(data)
    if special is not None:
        raise BenchError(f"--data: {data}: {special}")
    _prepare(folder)
    if args.l2:
        result = run_l2(folder, args.events, data, args.repeat)
    else:
        result = run_trades(folder, args.events, data, args.repeat)
    if args.profile and not args.l2:
        result["profile"] = profile(folder)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    for line in report(result):
        print(line)
    for line in result.get("profile", []):
        print(line)
    return 0


def _prepare(folder: Path) -> None:
    """Create `--dir` before anything is generated, so that a path that is not a folder is one
    line, not a failure halfway through writing the data."""
    from desk.errors import OutputError

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"--dir: {folder} is a file, not a folder") from None
    except NotADirectoryError:
        raise OutputError(f"--dir: {folder}: a part of the path is a file, not a folder") from None
    except OSError as error:
        raise OutputError(f"--dir: {folder}: cannot create the folder: "
                          f"{error.strerror or error}") from None
    if not folder.is_dir():
        raise OutputError(f"--dir: {folder} is not a folder")


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="measure desk against a bare Python loop (speed, memory)")
    bench.add_argument("--events", type=int, default=1_000_000,
                       help="trade ticks (or with --l2, level updates) to generate (default 1M)")
    bench.add_argument("--l2", action="store_true",
                       help="replay L2 book updates instead of trade ticks")
    bench.add_argument("--data", type=given("a data file"),
                       help="a Parquet/CSV file with desk's columns instead of generated "
                            "data (trade: ts, price, size; L2: ts, side, price, size)")
    bench.add_argument("--profile", action="store_true", help="also print the top functions")
    bench.add_argument("--repeat", type=int, default=3, help="runs of each process (medians)")
    bench.add_argument("--dir", default="runs/bench", type=given("a folder"),
                       help="folder for the data, sessions and journals (default runs/bench)")
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    bench.set_defaults(func=cmd_bench)
