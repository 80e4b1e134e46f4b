"""The benchmark's data: deterministic synthetic trade ticks and L2 book updates, as Parquet.

The trade ticks follow the shared benchmark's specification exactly, so desk's
figures compare with other engines run on the same file: one instrument,
`ts` int64 ns (gaps uniform 50..150 ms from 2024-01-02T00:00:00Z), `price` a
geometric random walk from 100.0 (log-return sd 2e-4) rounded to the 0.01 tick,
`size` int64 uniform 1..499; seed 42, each column from its own seeded stream,
so a k-tick file is a prefix of an N-tick one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START_NS = 1_704_153_600_000_000_000
"""2024-01-02T00:00:00Z in epoch nanoseconds."""
TICK_SIZE = 0.01
START_PRICE = 100.0
SIGMA = 2e-4
SEED = 42


def make_ticks(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """The benchmark's `n` trade ticks as columns `ts`, `price`, `size`."""
    s_dt, s_ret, s_size = np.random.SeedSequence(seed).spawn(3)
    gaps = np.random.default_rng(s_dt).integers(50_000_000, 150_000_001, size=n, dtype=np.int64)
    if n:
        gaps[0] = 0
    ts = START_NS + np.cumsum(gaps, dtype=np.int64)
    rets = np.random.default_rng(s_ret).normal(0.0, SIGMA, size=n)
    if n:
        rets[0] = 0.0
    raw = START_PRICE * np.exp(np.cumsum(rets))
    ticks = np.maximum(np.rint(raw / TICK_SIZE), 1.0)
    price = np.round(ticks * TICK_SIZE, 2)  # the nearest double to a 2-decimal value
    size = np.random.default_rng(s_size).integers(1, 500, size=n, dtype=np.int64)
    return {"ts": ts, "price": price, "size": size}


def make_book_rows(n: int, seed: int = SEED, levels: int = 20) -> dict[str, np.ndarray]:
    """`n` L2 level updates (`ts`, `side`, `price`, `size`, `snapshot`) around a random-walk mid.

    The first 2·`levels` rows are a snapshot of the whole book; after it each row
    sets one level's absolute size (0 deletes it) a few ticks from the mid, and
    consecutive rows share a timestamp about three at a time, so they group into
    book deltas of one to a handful of levels, like a real depth feed.
    """
    rng = np.random.default_rng(seed)
    snap = min(2 * levels, n)
    rest = n - snap
    new_event = rng.random(rest) < 1 / 3
    if rest:
        new_event[0] = True
    event = np.cumsum(new_event) - 1
    steps = rng.integers(-1, 2, size=int(event[-1]) + 1 if rest else 0)
    mid = 10_000 + np.cumsum(steps)  # in ticks
    side = np.where(rng.random(rest) < 0.5, 1, -1)
    depth = rng.integers(1, levels + 1, size=rest)
    price_ticks = mid[event] - side * depth if rest else np.zeros(0, dtype=np.int64)
    size = np.where(rng.random(rest) < 0.15, 0, rng.integers(1, 1_000, size=rest))
    snap_side = np.r_[np.ones(levels, dtype=np.int64), -np.ones(levels, dtype=np.int64)][:snap]
    snap_depth = np.r_[np.arange(1, levels + 1), np.arange(1, levels + 1)][:snap]
    snap_ticks = 10_000 - snap_side * snap_depth
    ts = START_NS + np.r_[np.zeros(snap, dtype=np.int64), (event + 1) * 10_000_000]
    return {
        "ts": ts.astype(np.int64),
        "side": np.r_[snap_side, side].astype(np.int64),
        "price": np.round(np.r_[snap_ticks, price_ticks] * TICK_SIZE, 2),
        "size": np.r_[np.full(snap, 500), size].astype(np.int64),
        "snapshot": np.r_[np.ones(snap, dtype=bool), np.zeros(rest, dtype=bool)],
    }


def write_parquet(columns: dict[str, np.ndarray], path: Path) -> Path:
    """Write columns as a zstd Parquet file, atomically (a half-written cache is never reused)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    pq.write_table(pa.table(columns), partial, compression="zstd")
    partial.replace(path)
    return path


def ensure_ticks(folder: Path, n: int) -> Path:
    """The benchmark's n-tick file in `folder`, generated on first use."""
    path = folder / f"ticks_{n}.parquet"
    return path if path.exists() else write_parquet(make_ticks(n), path)


def ensure_book(folder: Path, n: int) -> Path:
    """The synthetic L2 file of n level updates in `folder`, generated on first use."""
    path = folder / f"book_{n}.parquet"
    return path if path.exists() else write_parquet(make_book_rows(n), path)
