"""Measure `desk play` at full speed: how long a key waits, and the engine's pace inside the app.

Runs the real app headless (Textual's test driver) at maximum speed, and in
the same process, just before, the same session headless. Each repeat:

1. headless: the engine alone (`Engine.run`, as `desk run` does) for SECONDS;
2. the app at max for SECONDS: events/s, and the share of the process's CPU
   the engine got; meanwhile a probe asks the event loop to wake it every 5 ms
   and records how late it wakes (what any key waits for at most);
3. KEYS presses of space while the replay runs flat out, each posted from
   another thread at a seeded random moment, exactly the way Textual's input
   thread posts a key it has read from the terminal: the time from posting to
   the action running (the replay paused), and to the header showing PAUSED in
   a rendered frame; the replay is resumed between presses.

Wall-clock figures depend on the load of the machine (the load average is
printed): on a shared machine the process waits for a CPU too. So each key
is also measured by the CPU time the app's thread spent between posting the
key and its effect: the work queued ahead of the key, which is what the wait
would be on an idle machine, and which the load barely changes. Likewise the
events/s ratio app/headless is given by CPU time as well as by wall time.

    python tools/app_latency.py [SESSION] [--size 200x50] [--seconds 3] [--keys 30]
                                [--repeat 3] [--desk-run] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from textual import events

from desk.app.desk_app import DeskApp
from desk.app.header import DeskHeader
from desk.commands.run import DEMO
from desk.config import LoadedSession, load_session
from desk.engine import Engine
from desk.runner import Runner, RunState


def long_session(path: Path) -> LoadedSession:
    """The session, made long enough (synthetic data) that the replay cannot end while measuring."""
    loaded = load_session(path)
    cfg = loaded.config
    if cfg.data.synthetic is not None:
        synthetic = cfg.data.synthetic.model_copy(update={"events": 10_000_000})
        loaded.config = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"synthetic": synthetic})})
    return loaded


def headless(path: Path, seconds: float) -> dict[str, float]:
    """The engine alone on the session, as `desk run` drives it, for about `seconds`."""
    engine = Engine(long_session(path), None)
    engine.start()
    engine.run(max_events=2_000)  # warm up: imports, first batches
    events, cpu, wall = engine.stats.events, time.process_time(), time.perf_counter()
    while time.perf_counter() - wall < seconds:
        if not engine.run(max_events=2_000):
            break
    done = engine.stats.events - events
    return {"events_per_second": done / (time.perf_counter() - wall),
            "events_per_cpu_second": done / (time.process_time() - cpu)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def in_app(path: Path, size: tuple[int, int], seconds: float, keys: int,
                 seed: int) -> dict[str, Any]:
    engine = Engine(long_session(path), None)
    runner = Runner(engine)
    runner.speed_index = len(runner.speeds) - 1  # max
    app = DeskApp(runner)
    lateness: list[float] = []
    acted: list[float] = []
    seen: list[float] = []
    acted_cpu: list[float] = []
    seen_cpu: list[float] = []
    slices: list[int] = []
    probing = True

    async def probe() -> None:
        while probing:
            asked = time.perf_counter()
            await asyncio.sleep(0.005)
            lateness.append(time.perf_counter() - asked - 0.005)

    async with app.run_test(size=size) as pilot:
        header = app.query_one(DeskHeader)
        pause_action = app.action_toggle_pause
        header_render = header.render_lines
        marks: dict[str, float] = {}

        def timed_pause() -> None:
            marks.setdefault("acted", time.perf_counter())  # the key takes effect here
            marks.setdefault("acted_cpu", time.thread_time())
            marks.setdefault("slices", runner.slices)
            pause_action()

        def timed_render(crop: Any) -> Any:
            lines = header_render(crop)
            if "posted" in marks and "PAUSED" in header.lines[0].plain:
                marks.setdefault("seen", time.perf_counter())
                marks.setdefault("seen_cpu", time.thread_time())
            return lines

        app.action_toggle_pause = timed_pause  # type: ignore[method-assign]
        header.render_lines = timed_render  # type: ignore[method-assign]
        await pilot.pause(0.5)  # warm up
        task = asyncio.get_running_loop().create_task(probe())
        events0, cpu0, engine_cpu0 = engine.stats.events, time.process_time(), runner.engine_cpu
        wall0 = time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall0
        done = engine.stats.events - events0
        cpu = time.process_time() - cpu0
        share = (runner.engine_cpu - engine_cpu0) / cpu
        probing = False
        await task
        rng = random.Random(seed)
        loop = asyncio.get_running_loop()
        main_cpu = time.pthread_getcpuclockid(threading.main_thread().ident or 0)

        def post() -> None:
            """In a thread, as the driver's input thread does with a key it has read."""
            marks["slices0"] = runner.slices
            marks["posted"] = time.perf_counter()
            marks["posted_cpu"] = time.clock_gettime(main_cpu)
            asyncio.run_coroutine_threadsafe(app._post_message(events.Key("space", " ")), loop)

        for _ in range(keys):
            await asyncio.sleep(0.05)  # back at full speed
            assert runner.state is RunState.PLAYING, (runner.state, runner.error)
            marks.clear()
            poster = threading.Timer(rng.uniform(0.0, 0.2), post)  # at a random moment
            poster.start()
            while "seen" not in marks:
                await asyncio.sleep(0.001)
            poster.join()
            slices0 = int(marks["slices0"])
            acted.append(marks["acted"] - marks["posted"])
            seen.append(marks["seen"] - marks["posted"])
            acted_cpu.append(marks["acted_cpu"] - marks["posted_cpu"])
            seen_cpu.append(marks["seen_cpu"] - marks["posted_cpu"])
            slices.append(int(marks["slices"]) - slices0)
            assert runner.state is RunState.PAUSED
            runner.resume()
        await pilot.press("q")
    return {"events_per_second": done / wall, "events_per_cpu_second": done / cpu,
            "engine_cpu_share": share, "lateness_p99_ms": pct(lateness, 0.99) * 1e3,
            "lateness_max_ms": max(lateness) * 1e3,
            "longest_slice_ms": runner.longest_slice * 1e3,
            "key_to_action_ms": [v * 1e3 for v in acted],
            "key_to_visible_ms": [v * 1e3 for v in seen],
            "key_to_action_cpu_ms": [v * 1e3 for v in acted_cpu],
            "key_to_visible_cpu_ms": [v * 1e3 for v in seen_cpu], "slices_before_action": slices}


def desk_run(path: Path) -> float:
    """`desk run SESSION --json`'s own events_per_second (the whole session, headless)."""
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run([sys.executable, "-m", "desk", "run", str(path), "--json",
                                 "--out", out], capture_output=True, text=True, check=True)
    return float(json.loads(result.stdout.strip().splitlines()[-1])["events_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", nargs="?", default=str(DEMO))
    parser.add_argument("--size", default="200x50", help="terminal size, COLSxROWS")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--desk-run", action="store_true",
                        help="also run `desk run SESSION --json` once for its events_per_second")
    parser.add_argument("--json", action="store_true", help="one JSON line at the end")
    args = parser.parse_args()
    path = Path(args.session)
    cols, rows = (int(v) for v in args.size.split("x"))
    print(f"session {path.name}, {cols}×{rows}, {os.cpu_count()} CPUs, load average "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    runs = []
    for repeat in range(args.repeat):
        alone = headless(path, args.seconds)
        app = asyncio.run(in_app(path, (cols, rows), args.seconds, args.keys, seed=repeat))
        runs.append((alone, app))
        print(f"[{repeat + 1}] headless {alone['events_per_second']:,.0f} ev/s "
              f"({alone['events_per_cpu_second']:,.0f} per CPU s) · app "
              f"{app['events_per_second']:,.0f} ev/s ({app['events_per_cpu_second']:,.0f} per "
              f"CPU s, engine {app['engine_cpu_share']:.0%} of the CPU) · key→action median "
              f"{statistics.median(app['key_to_action_ms']):.1f} ms max "
              f"{max(app['key_to_action_ms']):.1f} · key→PAUSED shown median "
              f"{statistics.median(app['key_to_visible_ms']):.1f} ms max "
              f"{max(app['key_to_visible_ms']):.1f} · loop lateness p99 "
              f"{app['lateness_p99_ms']:.1f} ms")
    acted = [v for _, app in runs for v in app["key_to_action_ms"]]
    seen = [v for _, app in runs for v in app["key_to_visible_ms"]]
    acted_cpu = [v for _, app in runs for v in app["key_to_action_cpu_ms"]]
    seen_cpu = [v for _, app in runs for v in app["key_to_visible_cpu_ms"]]
    slices = [v for _, app in runs for v in app["slices_before_action"]]
    wall_ratio = statistics.median(a["events_per_second"] / h["events_per_second"]
                                   for h, a in runs)
    cpu_ratio = statistics.median(a["events_per_cpu_second"] / h["events_per_cpu_second"]
                                  for h, a in runs)
    summary = {
        "session": path.name, "size": args.size, "load_average": os.getloadavg()[0],
        "headless_events_per_second": statistics.median(h["events_per_second"] for h, _ in runs),
        "app_events_per_second": statistics.median(a["events_per_second"] for _, a in runs),
        "app_over_headless_wall": wall_ratio, "app_over_headless_cpu": cpu_ratio,
        "key_to_action_ms": {"median": statistics.median(acted), "p95": pct(acted, 0.95),
                             "max": max(acted)},
        "key_to_visible_ms": {"median": statistics.median(seen), "p95": pct(seen, 0.95),
                              "max": max(seen)},
        "work_before_action_cpu_ms": {"median": statistics.median(acted_cpu),
                                      "p95": pct(acted_cpu, 0.95), "max": max(acted_cpu)},
        "work_before_visible_cpu_ms": {"median": statistics.median(seen_cpu),
                                       "p95": pct(seen_cpu, 0.95), "max": max(seen_cpu)},
        "slices_before_action_max": max(slices),
        "longest_slice_ms": max(a["longest_slice_ms"] for _, a in runs),
    }
    if args.desk_run:
        summary["desk_run_events_per_second"] = desk_run(path)
    print(f"app / headless events/s: {wall_ratio:.2f} by wall time, {cpu_ratio:.2f} by CPU time")
    print(f"key → action ({len(acted)} presses): median {summary['key_to_action_ms']['median']:.1f}"
          f" ms, p95 {summary['key_to_action_ms']['p95']:.1f} ms, max "
          f"{summary['key_to_action_ms']['max']:.1f} ms; engine slices before it: at most "
          f"{max(slices)}")
    print(f"key → PAUSED on screen: median {summary['key_to_visible_ms']['median']:.1f} ms, "
          f"p95 {summary['key_to_visible_ms']['p95']:.1f} ms, max "
          f"{summary['key_to_visible_ms']['max']:.1f} ms")
    print(f"work the app did before the key took effect (CPU ms, ≈ wall ms on an idle machine): "
          f"median {summary['work_before_action_cpu_ms']['median']:.1f}, p95 "
          f"{summary['work_before_action_cpu_ms']['p95']:.1f}, max "
          f"{summary['work_before_action_cpu_ms']['max']:.1f}; before PAUSED was on screen: "
          f"median {summary['work_before_visible_cpu_ms']['median']:.1f}, p95 "
          f"{summary['work_before_visible_cpu_ms']['p95']:.1f}, max "
          f"{summary['work_before_visible_cpu_ms']['max']:.1f}")
    if args.desk_run:
        print(f"desk run --json events_per_second: {summary['desk_run_events_per_second']:,.0f}")
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
