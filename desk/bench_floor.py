"""The floor `desk bench` compares with: a bare Python loop over the benchmark's prices, no desk.

Run as a script (`python -P bench_floor.py FILE`: -P keeps desk's folder off the path, where
`queue.py` would shadow the standard library) so that nothing of desk is
imported: it reads the Parquet file with pyarrow, takes the prices as a Python
list and applies the benchmark strategy's decisions in a plain loop, then
prints the event and order counts as one JSON line.
"""

from __future__ import annotations

import json
import sys

import pyarrow.parquet as pq


def main(path: str, lookback: int = 20, threshold: float = 0.0005) -> None:
    prices = pq.read_table(path).column("price").to_pylist()
    position = 0
    orders = 0
    for i in range(lookback, len(prices)):
        momentum = prices[i] / prices[i - lookback] - 1.0
        if momentum > threshold:
            if position <= 0:
                position = 100
                orders += 1
        elif momentum < -threshold and position >= 0:
            position = -100
            orders += 1
    print(json.dumps({"events": len(prices), "orders": orders}))


if __name__ == "__main__":
    main(sys.argv[1])
