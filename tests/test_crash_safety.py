"""Crash safety and determinism: kill -9 leaves a readable prefix, Ctrl-C closes, runs repeat
byte for byte."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w
from conftest import ROOT, merge

from desk.audit import read_journal
from desk.config import load_session
from desk.engine import Engine

KILL_SEED = 20261124
KILLS = 8


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _write_session(folder: Path, **extra: Any) -> Path:
    base = {
        "session": {"name": "crash", "seed": 3, "start_cash": 100_000.0},
        "data": {"synthetic": {"events": 40_000, "step_ms": 100, "volatility_bps": 3.0}},
        "instruments": [{"symbol": "ACME", "tick_size": 0.01, "lot_size": 1}],
        "strategy": {"use": "momentum", "params": {"lookback": 20, "threshold": 0.0005,
                                                   "size": 50, "cooldown": 5}},
        "risk": {"order_rate": {"max_orders": 50, "per_seconds": 1}},
        "execution": {"entry_latency": {"model": "uniform", "ms": 5, "jitter_ms": 20}},
        "audit": {"path": "journal.arrow"},
    }
    if "data" in extra:
        del base["data"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.toml"
    path.write_text(tomli_w.dumps(merge(base, extra)))
    return path


def _records(path: Path) -> list[dict[str, Any]]:
    return read_journal(path).to_pylist()


def _run_desk(session: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "desk", "run", str(session), "--out", str(out),
                             "--json"], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _journal_records(path: Path) -> list[dict[str, Any]]:
    """The records a killed run left: none if it died before its journal was created."""
    return _records(path) if path.exists() else []


def _journal_appears(proc: subprocess.Popen[bytes], journal: Path, limit: float = 120) -> float:
    """Wait until the run has created its journal (or ended); the seconds that took."""
    started = time.monotonic()
    while not journal.exists() and proc.poll() is None and time.monotonic() - started < limit:
        time.sleep(0.005)
    return time.monotonic() - started


def test_kill_9_at_moments_spread_over_a_whole_run_leaves_readable_exact_prefixes(
        tmp_path: Path) -> None:
    # flush_every is huge so no batch is sealed before the end: every record a killed run
    # left behind reached the file through the wall-clock flush alone.
    audit = {"flush_every": 10_000_000, "flush_ms": 20}
    session = _write_session(tmp_path / "s", audit=audit)
    full = Engine(load_session(session), tmp_path / "full.arrow")
    full.run()
    full.close()
    reference = _records(tmp_path / "full.arrow")
    # one uninterrupted run, timed: start-up (until its journal exists), then the run itself
    timed = _run_desk(session, tmp_path / "timed")
    start_up = _journal_appears(timed, tmp_path / "timed" / "journal.arrow")
    began = time.monotonic()
    assert timed.wait(timeout=300) == 0
    duration = time.monotonic() - began
    rng = random.Random(KILL_SEED)
    lengths = []
    for k in range(KILLS + 1):
        proc = _run_desk(session, tmp_path / f"kill{k}")
        journal = tmp_path / f"kill{k}" / "journal.arrow"
        if k == KILLS:  # and one kill while it is still starting up
            wait = start_up * rng.random()
        else:  # one kill in each of KILLS equal slices of the run, at a random point of it
            _journal_appears(proc, journal)
            wait = duration * (k + rng.random()) / KILLS
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        records = _journal_records(journal)
        assert records == reference[:len(records)], f"kill {k} after {wait:.2f}s: not a prefix"
        lengths.append(len(records))
    print(f"start-up {start_up:.2f}s, run {duration:.2f}s; kill -9 journals: {lengths} records "
          f"of {len(reference)}")
    in_run = lengths[:KILLS]
    assert sum(1 for n in in_run if n > 0) >= KILLS * 3 // 4, f"too many empty journals: {lengths}"
    cut_short = [n for n in in_run if 0 < n < len(reference)]
    assert len(cut_short) >= KILLS // 2, f"too few kills landed mid-run: {lengths}"


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGINT, 130, "interrupted"),
                                                      (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_flushes_closes_and_exits_with_a_prefix_journal(
        tmp_path: Path, signum: int, code: int, said: str) -> None:
    session = _write_session(tmp_path / "s")
    full = Engine(load_session(session), tmp_path / "full.arrow")
    full.run()
    full.close()
    reference = _records(tmp_path / "full.arrow")
    out = tmp_path / "int"
    proc = subprocess.Popen([sys.executable, "-m", "desk", "run", str(session), "--out", str(out),
                             "--json"], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    journal = out / "journal.arrow"
    while not journal.exists() and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.5)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert f"{said}: journal flushed and closed" in stderr and "Traceback" not in stderr
    assert '"events"' in stdout  # the summary of what ran is still printed
    data = journal.read_bytes()
    assert data.endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00")  # the stream was closed
    records = _records(journal)
    assert 0 < len(records) < len(reference)
    assert records == reference[:len(records)]


def _market_files(folder: Path) -> None:
    """A trade file (CSV) and a quote file (Parquet) of a seeded walk, for a file-based session."""
    rng = np.random.default_rng(5)
    n = 20_000
    ts = 1_700_000_000_000_000_000 + np.cumsum(rng.integers(1, 50_000_000, n))
    mid = 100 * np.exp(np.cumsum(rng.normal(0, 4e-4, n)))
    bid = np.round(mid - 0.01, 2)
    quotes = pa.table({"ts": ts, "bid": bid, "bid_size": rng.integers(1, 500, n).astype(float),
                       "ask": np.round(bid + 0.02, 2),
                       "ask_size": rng.integers(1, 500, n).astype(float)})
    pq.write_table(quotes, folder / "quotes.parquet", row_group_size=4_000)
    pick = np.sort(rng.choice(n, n // 2, replace=False))
    side = rng.choice(["buy", "sell"], len(pick))
    price = np.where(side == "buy", quotes["ask"].to_numpy()[pick], bid[pick])
    lines = ["time,px,qty,side"] + [f"{t + 1},{p:.2f},{q},{s}" for t, p, q, s in
                                    zip(ts[pick], price, rng.integers(1, 80, len(pick)), side,
                                        strict=True)]
    (folder / "trades.csv").write_text("\n".join(lines) + "\n")


def test_file_session_journal_is_byte_identical_across_processes_hash_seeds_and_flush_timing(
        tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    _market_files(folder)
    files = [{"path": "trades.csv", "kind": "trade", "columns": {"ts": "time", "price": "px",
                                                                "size": "qty"}},
             {"path": "quotes.parquet", "kind": "quote"}]
    outputs = []
    for name, hash_seed, flush_ms in (("a", "1", 1), ("b", "2", 60_000)):
        session = _write_session(folder / name, data={"files": [
            {**f, "path": str(folder / f["path"])} for f in files]},
            audit={"flush_every": 512, "flush_ms": flush_ms})
        subprocess.run([sys.executable, "-m", "desk", "run", str(session), "--strict", "--json"],
                       env=_env(PYTHONHASHSEED=hash_seed), check=True, capture_output=True,
                       cwd=folder / name)
        outputs.append((folder / name / "journal.arrow").read_bytes())
    assert len(outputs[0]) > 20_000
    assert outputs[0] == outputs[1]
    kinds = {r["kind"] for r in _records(folder / "a" / "journal.arrow")}
    assert {"fill", "risk", "end"} <= kinds
