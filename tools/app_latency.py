"""Measure how long a key can wait while `desk play` runs the demo at full speed.

Runs the real app headless (Textual's test driver) on the demo at `max`,
with a probe task in the app's event loop that asks to wake every 5 ms and
records how late it wakes: a key press waits at most that long before its
handler runs. Also times space → paused as the pilot sees it, and the
engine's events per second inside the app.

    python tools/app_latency.py [SESSION] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from desk.app.desk_app import DeskApp
from desk.commands.run import DEMO
from desk.config import load_session
from desk.engine import Engine
from desk.runner import SPEEDS, Runner, RunState


async def measure(session: Path, seconds: float) -> None:
    loaded = load_session(session)
    cfg = loaded.config
    if cfg.data.synthetic is not None:  # long enough that the replay cannot end while measuring
        synthetic = cfg.data.synthetic.model_copy(update={"events": 10_000_000})
        loaded.config = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"synthetic": synthetic})})
    engine = Engine(loaded, None)
    runner = Runner(engine)
    runner.speed_index = len(SPEEDS) - 1  # max
    app = DeskApp(runner)
    lateness: list[float] = []

    async def probe() -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.005)
            lateness.append(time.perf_counter() - asked - 0.005)

    async with app.run_test(size=(200, 50)) as pilot:
        task = asyncio.get_running_loop().create_task(probe())
        start_events, start = engine.stats.events, time.perf_counter()
        await pilot.pause(seconds)
        rate = (engine.stats.events - start_events) / (time.perf_counter() - start)
        pauses = []
        for _ in range(20):
            before = time.perf_counter()
            await pilot.press("space")
            assert runner.state is RunState.PAUSED, (runner.state, runner.error, app.screen)
            pauses.append(time.perf_counter() - before)
            await pilot.press("space")
            await pilot.pause(0.05)
        task.cancel()
        await pilot.press("q")
    lateness.sort()
    p99 = lateness[int(len(lateness) * 0.99)]
    print(f"engine in the app at max: {rate:,.0f} events/s")
    print(f"event-loop lateness (n={len(lateness)}): median {statistics.median(lateness)*1e3:.1f} ms,"
          f" p99 {p99*1e3:.1f} ms, max {lateness[-1]*1e3:.1f} ms")
    print(f"space → PAUSED through the pilot (n=20): median {statistics.median(pauses)*1e3:.1f} ms,"
          f" max {max(pauses)*1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", nargs="?", default=str(DEMO))
    parser.add_argument("--seconds", type=float, default=1.5)
    args = parser.parse_args()
    asyncio.run(measure(Path(args.session), args.seconds))


if __name__ == "__main__":
    main()
