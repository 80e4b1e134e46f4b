"""The speed benchmark: desk's whole pipeline against a bare Python loop, each in its own process.

Every figure is a whole process measured from the outside (start-up, imports
and loading included): wall time around the child, peak RSS from the child's
own resource usage (`os.wait4`). The bare loop runs in the same repeat as desk,
so the ratio holds on a busy machine even when absolute times do not; figures
are the medians of the repeats.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import tomli_w

from desk.benchdata import ensure_book, ensure_ticks
from desk.errors import DeskError
from desk.figures import counted

FLOOR = Path(__file__).with_name("bench_floor.py")
STRATEGY_FLOOR = Path(__file__).with_name("bench_strategy_floor.py")
STRATEGY = "strategies.bench_momentum:BenchMomentum"
TARGET_RATIO = 2.0
LIMIT_RATIO = 3.0
TARGET_FIRST_EVENT_S = 0.6
TARGET_L2_RATE = 300_000
TARGET_PEAK_MIB = 250


class BenchError(DeskError):
    """A benchmark child process failed."""


@dataclass(frozen=True, slots=True)
class Measured:
    """One child process: its wall time, peak resident memory, CPU time and what it printed."""

    wall: float
    peak_mib: float
    stdout: str
    cpu: float = 0.0
    """User + system seconds: steadier than wall time on a machine shared with other work."""

    def summary(self) -> dict[str, Any]:
        """The child's last line as JSON (desk run --json and the floor each print one)."""
        lines = self.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


_LAUNCHER = """
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
env = dict(os.environ, DESK_STARTED_AT=repr(time.time()))
pid = os.posix_spawn(cmd[0], cmd, env)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as out:
    out.write(f"{wall!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} "
              f"{usage.ru_utime + usage.ru_stime!r}")
"""
"""Spawns the measured command from a fresh, small process and reports its wall time and peak RSS.

A child's `ru_maxrss` starts from the peak of the process that spawned it (the
kernel carries the old address space's high-water mark across exec), so
measuring from `desk bench` itself, which may hold the generated data, would
inflate every figure; this launcher keeps that floor at a few MiB."""


def measure(cmd: list[str], cwd: Path | None = None) -> Measured:
    """Run `cmd` to the end; wall time around it and the peak RSS of that child alone."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as err:
        report = Path(folder) / "report"
        launcher = subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), *cmd],
                                  stdout=out, stderr=err, cwd=cwd, check=False)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        fields = report.read_text().split() if report.exists() else []
    code = int(fields[2]) if fields else launcher.returncode
    if code != 0 or not fields:
        last = stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise BenchError(f"{' '.join(cmd[:4])}…: exit {code}: {last[0]}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Measured(float(fields[0]), int(fields[1]) * scale / 2**20, stdout, float(fields[3]))


def bench_session(data: Path, journal: Path, kind: str = "trade",
                  threshold: float = 0.0005) -> dict[str, Any]:
    """The benchmark session: one instrument, the benchmark strategy, every risk rule on.

    Limits are set so they rarely bind (the desk still evaluates and journals
    every rule for every intent); fees, slippage and latency are zero, so an
    order fills at the price of the trade that triggered it.
    """
    return {
        "session": {"name": "bench", "seed": 42, "start_cash": 1_000_000.0},
        "data": {"files": [{"path": str(data), "kind": kind}]},
        "instruments": [{"symbol": "BENCH", "tick_size": 0.01, "lot_size": 1}],
        "strategy": {"use": STRATEGY,
                     "params": {"lookback": 20, "threshold": threshold, "size": 100}},
        "risk": {
            "kill_switch": {"enabled": True, "engaged": False},
            "max_drawdown": {"enabled": True, "tolerance": 0.5, "halt": 0.9},
            "max_position": {"enabled": True, "max_qty": 1_000},
            "max_leverage": {"enabled": True, "limit": 2.0},
            "cash": {"enabled": True, "buffer_bps": 10},
            "max_order_size": {"enabled": True, "max_qty": 1_000},
            "order_rate": {"enabled": True, "max_orders": 100, "per_seconds": 1},
            "price_band": {"enabled": True, "pct": 5.0},
        },
        "execution": {"entry_latency": {"model": "constant", "ms": 0},
                      "response_latency": {"model": "constant", "ms": 0},
                      "slippage": {"model": "fixed", "bps": 0}, "fees": {"taker_bps": 0}},
        "audit": {"path": str(journal)},
    }


def write_session(session: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(session).encode())
    return path


def desk_cmd(session: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "desk", "run", str(session), "--json", "--out", str(out)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def compile_desk() -> None:
    """Write the bytecode of desk and its strategies, as any first run on a user's machine does.

    Python caches compiled modules in `__pycache__`; where it may not write them
    (PYTHONDONTWRITEBYTECODE, a read-only install) every start-up compiles desk
    from source again, which is not what a start-up costs once desk is installed.
    """
    import compileall

    root = Path(__file__).resolve().parent
    for folder in (root, root.parent / "strategies"):
        if folder.is_dir():
            compileall.compile_dir(str(folder), quiet=1)


def run_trades(folder: Path, events: int, data: Path | None, repeat: int) -> dict[str, Any]:
    """Desk, the same desk with a strategy that never trades, the strategy alone and the floor,
    `repeat` times each."""
    compile_desk()
    path = data if data is not None else ensure_ticks(folder / "data", events)
    session = write_session(bench_session(path, folder / "journal.arrow"), folder / "bench.toml")
    quiet = write_session(bench_session(path, folder / "quiet.arrow", threshold=1e9),
                          folder / "quiet.toml")
    first = write_session(bench_session(ensure_ticks(folder / "data", 1),
                                        folder / "first.arrow"), folder / "first.toml")
    rows: dict[str, list[Measured]] = {"desk": [], "quiet": [], "floor": [], "first": [],
                                       "strategy": []}
    for _ in range(repeat):
        rows["floor"].append(measure([sys.executable, "-P", str(FLOOR), str(path)]))
        rows["strategy"].append(measure([sys.executable, "-P", str(STRATEGY_FLOOR), str(path)]))
        rows["desk"].append(measure(desk_cmd(session, folder / "run")))
        rows["quiet"].append(measure(desk_cmd(quiet, folder / "quiet")))
        rows["first"].append(measure(desk_cmd(first, folder / "first")))
    summary = rows["desk"][-1].summary()
    floor = rows["floor"][-1].summary()
    n = int(summary.get("events", 0))
    orders = int(summary.get("orders_allowed", 0)) + int(summary.get("orders_blocked", 0))
    ratios = [d.wall / f.wall for d, f in zip(rows["desk"], rows["floor"], strict=True)]
    desk_wall = _median([m.wall for m in rows["desk"]])
    quiet_wall = _median([m.wall for m in rows["quiet"]])
    desk_cpu = _median([m.cpu for m in rows["desk"]])
    quiet_cpu = _median([m.cpu for m in rows["quiet"]])
    run_phase = _median([float(m.summary().get("wall_seconds", 0.0)) for m in rows["desk"]])
    return {
        "benchmark": "trades", "data": str(path), "repeat": repeat, "events": n,
        "market_events": int(summary.get("market_events", 0)), "orders": orders,
        "fills": int(summary.get("fills", 0)), "floor_orders": int(floor.get("orders", -1)),
        "desk_wall_s": desk_wall, "floor_wall_s": _median([m.wall for m in rows["floor"]]),
        "ratio": _median(ratios), "ratios": ratios,
        "desk_cpu_s": desk_cpu,
        "floor_cpu_s": _median([m.cpu for m in rows["floor"]]),
        "cpu_ratio": _median([d.cpu / f.cpu for d, f in zip(rows["desk"], rows["floor"],
                                                             strict=True) if f.cpu > 0]),
        "events_per_s": n / run_phase if run_phase else 0.0,
        "events_per_s_whole": n / desk_wall if desk_wall else 0.0,
        "us_per_event": run_phase / n * 1e6 if n else 0.0,
        "us_per_order": (desk_cpu - quiet_cpu) / orders * 1e6 if orders else 0.0,
        "quiet_wall_s": quiet_wall, "quiet_cpu_s": quiet_cpu,
        "desk_peak_mib": _median([m.peak_mib for m in rows["desk"]]),
        "writer_peak_mib": _median([float(m.summary().get("journal_writer_peak_mib", 0.0))
                                    for m in rows["desk"]]),
        "floor_peak_mib": _median([m.peak_mib for m in rows["floor"]]),
        "strategy_wall_s": _median([m.wall for m in rows["strategy"]]),
        "strategy_cpu_s": _median([m.cpu for m in rows["strategy"]]),
        "strategy_ratio": _median([s.wall / f.wall for s, f in zip(rows["strategy"],
                                                                   rows["floor"], strict=True)]),
        "strategy_orders": int(rows["strategy"][-1].summary().get("orders", -1)),
        "first_event_s": _median([float(m.summary().get("first_event_s", m.wall))
                                  for m in rows["first"]]),
        "first_run_s": _median([m.wall for m in rows["first"]]),
        "first_event_cpu_s": _median([m.cpu for m in rows["first"]]),
        "journal_records": int(summary.get("journal_records", 0)),
    }


def _l2_file(path: Path) -> tuple[str, list[str], int]:
    """The kind to read a depth file as, its instruments, and its level-update rows.

    desk's own L2 files (`ts, side, price, size[, snapshot]`) are read as `book`;
    a desk-schema file from `desk data import` (a `kind` column) as `mixed`, where
    only the book rows count as level updates.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=None)
    except (OSError, ValueError) as error:
        raise BenchError(f"{path}: cannot read as Parquet: {error}") from None
    names = table.column_names
    symbols = (sorted(str(s) for s in pc.unique(table.column("instrument")).to_pylist()
                      if s is not None) if "instrument" in names else ["BENCH"])
    if "kind" in names:
        book = pc.is_in(table.column("kind").cast(pa.string()),
                        value_set=pa.array(["book_snapshot", "book_delta"]))
        kind, rows = "mixed", int(pc.sum(book).as_py() or 0)
    elif "side" in names:
        kind, rows = "book", table.num_rows
    else:
        raise BenchError(f"{path}: --l2: no book rows: the file has no `kind` column and no "
                         f"`side` (its columns: {', '.join(names)}); give a depth file")
    if rows == 0:
        # a replay of no level updates would only report a rate of 0 as a missed target
        raise BenchError(f"{path}: --l2: no book rows (book_snapshot or book_delta) in "
                         f"{counted(table.num_rows, 'row')}; give a depth file")
    return kind, symbols, rows


def run_l2(folder: Path, updates: int, data: Path | None, repeat: int) -> dict[str, Any]:
    """Replay L2 level updates (book kept, every component on) and report updates per second."""
    compile_desk()
    path = data if data is not None else ensure_book(folder / "data", updates)
    kind, symbols, rows = _l2_file(path)
    session = bench_session(path, folder / "l2.arrow", kind=kind)
    session["instruments"] = [{"symbol": s, "tick_size": 0.01, "lot_size": 1} for s in symbols]
    session_path = write_session(session, folder / "l2.toml")
    runs = [measure(desk_cmd(session_path, folder / "l2")) for _ in range(repeat)]
    run_phase = _median([float(m.summary().get("wall_seconds", 0.0)) for m in runs])
    summary = runs[-1].summary()
    events = int(summary.get("market_events", 0))
    return {
        "benchmark": "l2", "data": str(path), "repeat": repeat, "level_updates": rows,
        "book_events": events, "events": int(summary.get("events", 0)),
        "desk_wall_s": _median([m.wall for m in runs]),
        "desk_cpu_s": _median([m.cpu for m in runs]),
        "updates_per_s": rows / run_phase if run_phase else 0.0,
        "book_events_per_s": events / run_phase if run_phase else 0.0,
        "updates_per_cpu_s": rows / _median([m.cpu for m in runs]) if rows else 0.0,
        "desk_peak_mib": _median([m.peak_mib for m in runs]),
    }


def profile(folder: Path, top: int = 25) -> list[str]:
    """cProfile of one desk run of the benchmark session: the top functions by own time."""
    import io
    import pstats

    out = folder / "profile.pstats"
    session = folder / "bench.toml"
    measure([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "desk", "run", str(session),
             "--json", "--out", str(folder / "profiled")])
    text = io.StringIO()
    pstats.Stats(str(out), stream=text).sort_stats("tottime").print_stats(top)
    return [line for line in text.getvalue().splitlines() if line.strip()]


def report(result: dict[str, Any]) -> list[str]:
    """The human-readable lines of a result."""
    if result["benchmark"] == "l2":
        ok = "met" if result["updates_per_s"] >= TARGET_L2_RATE else "NOT met"
        return [
            f"L2 replay of {result['level_updates']:,} level updates in "
            f"{result['book_events']:,} market events ({result['data']}), median of "
            f"{result['repeat']}",
            f"  {result['updates_per_s']:,.0f} level updates/s, {result['book_events_per_s']:,.0f} "
            f"market events/s, run phase (target ≥ {TARGET_L2_RATE:,} updates/s: {ok})",
            f"  {result['updates_per_cpu_s']:,.0f} level updates per CPU second of the whole "
            "process (start-up included; steadier on a busy machine)",
            f"  whole process {result['desk_wall_s']:.2f} s ({result['desk_cpu_s']:.2f} s CPU), "
            f"peak RSS "
            f"{result['desk_peak_mib']:.0f} MiB",
        ]
    ratio = result["ratio"]
    verdict = ("met" if ratio <= TARGET_RATIO else
               f"NOT met (within the {LIMIT_RATIO:g}x limit)" if ratio <= LIMIT_RATIO
               else "NOT met")
    agree = ("same orders as the floor" if result["orders"] == result["floor_orders"]
             else f"floor made {counted(result['floor_orders'], 'order')}")
    if result["strategy_orders"] != result["orders"]:
        agree += f", the strategy alone {counted(result['strategy_orders'], 'order')}"
    return [
        f"{counted(result['events'], 'event')} ({counted(result['market_events'], 'trade tick')}, "
        f"{counted(result['orders'], 'order')}, {counted(result['fills'], 'fill')}; {agree}), "
        f"median of {result['repeat']}",
        f"  desk run (whole process)  {result['desk_wall_s']:7.2f} s   peak RSS "
        f"{result['desk_peak_mib']:5.0f} MiB (target < {TARGET_PEAK_MIB} MiB); its journal "
        f"writer {result['writer_peak_mib']:.0f} MiB, most of it shared with desk (forked)",
        f"  bare Python loop          {result['floor_wall_s']:7.2f} s   peak RSS "
        f"{result['floor_peak_mib']:5.0f} MiB",
        f"  ratio                     {ratio:7.2f} x   (target ≤ {TARGET_RATIO:g}x: {verdict})",
        f"  the strategy alone        {result['strategy_wall_s']:7.2f} s   "
        f"{result['strategy_ratio']:.2f} x the loop, {result['strategy_cpu_s']:.2f} s CPU: each "
        "trade handed to the benchmark strategy as desk's Trade, nothing else (no desk)",
        f"  CPU time (user+sys)       {result['desk_cpu_s']:7.2f} s vs "
        f"{result['floor_cpu_s']:.2f} s for the loop: {result['cpu_ratio']:.2f} x",
        f"  run phase                 {result['events_per_s']:,.0f} events/s, "
        f"{result['us_per_event']:.2f} µs/event",
        f"  per order                 {result['us_per_order']:.1f} µs of CPU (desk minus the same "
        f"run with no orders: {result['quiet_wall_s']:.2f} s, {result['quiet_cpu_s']:.2f} s CPU)",
        f"  time to first event       {result['first_event_s']:7.2f} s   "
        "(from the spawn of desk run "
        f"to its first event handled; target < {TARGET_FIRST_EVENT_S:g} s; the whole 1-tick run "
        f"{result['first_run_s']:.2f} s, {result['first_event_cpu_s']:.2f} s CPU)",
        f"  journal                   {counted(result['journal_records'], 'record')}",
    ]
