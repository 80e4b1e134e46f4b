"""Where an order's interpreter work goes: bytecode instructions per order, by module and function.

Runs a session headless (no journal file) past its warm-up, then counts every
bytecode instruction CPython executes over a window of events (`sys.settrace`
with opcode events), grouped by the module and function that ran it, and
divides by the orders approved in that window. Time per instruction changes
with the machine and its load; the count does not, so this says which part of
the order path a change made lighter.

    python tools/order_opcodes.py SESSION [--skip N] [--events N] [--top N]

The strategy's own callback and the engine's inner loop over market events run
for every tick, not per order; they are shown apart, per event.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import desk
from desk.config import load_session
from desk.engine import Engine

PER_EVENT = ("desk/engine/loop.py:_run_feed", ":on_trade", ":on_quote", ":on_book", ":on_bar",
             "desk/portfolio.py:position")
"""Functions that run for market events whether or not they lead to an order (the strategy's
callbacks, and the position they read)."""


def _where(frame: FrameType, root: str) -> str:
    code = frame.f_code
    name = code.co_filename
    return f"{name[len(root):] if name.startswith(root) else name}:{code.co_name}"


def count(session: Path, skip: int, events: int) -> tuple[Counter[str], int, int]:
    """Instructions per function over `events` events after the first `skip`; the orders
    approved and the events handled in that window."""
    engine = Engine(load_session(session), None)
    engine.start()
    engine.run(skip)
    root = str(Path(desk.__file__).resolve().parent.parent) + "/"  # names relative to the checkout
    counts: Counter[str] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        key = _where(frame, root)

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                counts[key] += 1
            return local
        return local

    orders, handled = engine.stats.approved, engine.stats.events
    sys.settrace(trace)
    try:
        engine.run(events)
    finally:
        sys.settrace(None)
    engine.close()
    return counts, engine.stats.approved - orders, engine.stats.events - handled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", type=Path)
    parser.add_argument("--skip", type=int, default=20_000, help="events run first, uncounted")
    parser.add_argument("--events", type=int, default=6_600, help="events counted")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    args = parser.parse_args(argv)
    counts, orders, events = count(args.session, args.skip, args.events)
    if not orders:
        print(f"no order in events {args.skip:,} to {args.skip + events:,}: nothing to divide by")
        return 1
    per_event = {k: v for k, v in counts.items() if k.endswith(PER_EVENT)}
    per_order = {k: v for k, v in counts.items() if k not in per_event}
    print(f"{orders} orders in {events:,} events")
    for key, value in sorted(per_event.items(), key=lambda kv: -kv[1]):
        print(f"  {value / events:8.0f} per event  {key}")
    modules: Counter[str] = Counter()
    for key, value in per_order.items():
        modules[key.rsplit(":", 1)[0]] += value
    print(f"  {sum(per_order.values()) / orders:8.0f} per order, everything else, by module:")
    for module, value in modules.most_common():
        print(f"  {value / orders:8.0f}  {module}")
    print(f"the top {args.top} functions, per order:")
    for key, value in Counter(per_order).most_common(args.top):
        print(f"  {value / orders:8.0f}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
