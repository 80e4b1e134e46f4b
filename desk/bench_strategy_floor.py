"""The second floor `desk bench` reports: the benchmark strategy alone, with no desk around it.

Run as a script (`python -P bench_strategy_floor.py FILE`: -P keeps desk's folder off the
path, where `queue.py` would shadow the standard library), it reads the Parquet
file in record batches, makes desk's own `Trade` tuples of them as desk's feed
does (`make_trades`), and hands each to the benchmark strategy's `on_trade`
through a real `Context`. Behind the context there is nothing: a target sets the
position and counts an order. No market state, risk, execution, portfolio or
journal. It prints the event and order counts as one JSON line.

Any event-driven engine that hands a Python strategy each event pays at least
this; the bare loop (`bench_floor.py`) does the same arithmetic inline, with no
event object and no call per tick. The gap between the two floors is the cost
of the strategy interface itself, before desk does any of its own work.
"""

from __future__ import annotations

import json
import sys
from itertools import repeat
from typing import Any

import pyarrow.parquet as pq

from desk.collector import settle
from desk.events import make_trades
from desk.strategy import Context, find_strategy, make_params, make_strategy

STRATEGY = "strategies.bench_momentum:BenchMomentum"
SYMBOL = "BENCH"


class _Position:
    """The one figure the benchmark strategy reads: its position, set by its own targets."""

    __slots__ = ("orders", "qty")

    def __init__(self) -> None:
        self.qty = 0.0
        self.orders = 0

    def position(self, symbol: str) -> float:
        return self.qty

    def target(self, symbol: str, qty: float, reason: str, evidence: dict[str, Any],
               limit: float | None = None) -> int | None:
        self.qty = qty
        self.orders += 1
        return self.orders


def _never(*args: Any) -> Any:
    raise AssertionError("the benchmark strategy only reads its position and sets targets")


def main(path: str) -> None:
    book = _Position()
    ctx = Context(book, _never, book.target, _never, _never, _never, _never)  # type: ignore[arg-type]
    cls = find_strategy(STRATEGY)
    params = {"lookback": 20, "threshold": 0.0005, "size": 100}
    strategy = make_strategy(cls, make_params(cls, params, "bench"), ctx, "bench")
    strategy.on_start()
    settle()  # the collector as desk run sets it: few young-generation scans
    on_trade = strategy.on_trade
    events = 0
    for batch in pq.ParquetFile(path).iter_batches(columns=["ts", "price", "size"]):
        n = batch.num_rows
        trades = make_trades(batch.column(0).to_pylist(), repeat(SYMBOL, n),
                             batch.column(1).to_pylist(), batch.column(2).to_pylist(),
                             repeat(0, n))
        for trade in trades:
            on_trade(trade)
        events += n
    print(json.dumps({"events": events, "orders": book.orders}))


if __name__ == "__main__":
    main(sys.argv[1])
