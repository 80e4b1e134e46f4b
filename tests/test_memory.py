"""Bounded resources: a replay streams its input and keeps short tails, so memory does not grow
with the length of the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w
from conftest import ROOT

N = 60_000
"""Trades in the short replay; the long one has five times as many."""


def _trades(path: Path, n: int) -> None:
    """`n` trades of a seeded walk, written in row groups of 16k (read back batch by batch)."""
    rng = np.random.default_rng(7)
    ts = 1_700_000_000_000_000_000 + np.cumsum(rng.integers(1, 50_000_000, n))
    price = np.round(100 * np.exp(np.cumsum(rng.normal(0, 4e-4, n))), 2)
    pq.write_table(pa.table({"ts": ts, "price": price,
                             "size": rng.integers(1, 50, n).astype(float)}),
                   path, row_group_size=16_384)


def _peak_rss_kb(folder: Path, n: int) -> int:
    """Peak resident memory of `desk run` replaying `n` trades, as the kernel counted it."""
    _trades(folder / f"trades{n}.parquet", n)
    session = folder / f"session{n}.toml"
    session.write_text(tomli_w.dumps({
        "data": {"files": [{"path": f"trades{n}.parquet", "kind": "trade"}], "batch_rows": 8_192},
        "instruments": [{"symbol": "ACME"}],
        "strategy": {"use": "momentum", "params": {"lookback": 20, "threshold": 0.002,
                                                   "size": 10, "cooldown": 20}},
        "audit": {"flush_every": 1_024}}))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([sys.executable, "-m", "desk", "run", str(session), "--out",
                             str(folder / f"out{n}"), "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read() if proc.stderr else ""
    return usage.ru_maxrss  # kilobytes on Linux


def test_peak_memory_of_a_replay_five_times_longer_stays_within_ten_percent(
        tmp_path: Path) -> None:
    short = _peak_rss_kb(tmp_path, N)
    long = _peak_rss_kb(tmp_path, 5 * N)
    print(f"peak RSS: {short / 1024:.1f} MB for {N:,} trades, {long / 1024:.1f} MB for {5 * N:,}")
    assert long <= short * 1.10 + 8 * 1024, (short, long)
