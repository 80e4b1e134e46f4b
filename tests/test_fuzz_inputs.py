"""Fuzzing what users hand to `desk run`: session files and market-data files.

Each example either runs (exit 0) or fails with exit 2 and `desk: …` lines; any
other exception escapes `desk.cli.main` and fails the test. The data examples
also know which faults they planted, so a clean file must run, a faulty one
must fail by default, and with `on_bad = "skip"` every fault is journaled.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w
from cli_run import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.audit import read_journal

VALID: dict[str, Any] = {
    "session": {"name": "fuzz", "seed": 3, "start_cash": 100_000.0, "currency": "USD"},
    "data": {"synthetic": {"events": 300, "step_ms": 100.0, "volatility_bps": 3.0},
             "on_bad": "fail"},
    "instruments": [{"symbol": "ACME", "tick_size": 0.01, "lot_size": 1.0}],
    "strategy": {"use": "momentum", "params": {"lookback": 5, "threshold": 0.0005, "size": 10},
                 "max_faults": 3, "on_fault": "stop"},
    "risk": {"max_position": {"max_qty": 500.0, "per_instrument": {"ACME": {"max_qty": 300.0}}},
             "max_drawdown": {"tolerance": 0.05, "halt": 0.1, "resume_below": 0.02},
             "order_rate": {"max_orders": 5, "per_seconds": 1.0},
             "schedule": [{"at": "+2m10s", "rule": "max_leverage", "param": "limit",
                           "value": 1.5}]},
    "execution": {"entry_latency": {"model": "uniform", "ms": 2.0, "jitter_ms": 3.0},
                  "fees": {"taker_bps": 1.0}},
    "replay": {"start": "2024-01-02T14:30:00Z", "stop": "2024-01-02T15:30:00Z"},
    "audit": {"flush_every": 256},
}
MAX_EVENTS = 2_000
"""A mutation may not make a run longer than this (examples must stay fast)."""


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a session dict, tables and list items included."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


PATHS = _paths(VALID)
VALUES = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", "max", "+90s", "monday", "2024-01-02", "ACME",
                                           "momentum", "nope:Nope", "fail", "skip"]),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=4),
                                                              st.integers(), max_size=2))


@st.composite
def mutated_sessions(draw: st.DrawFn) -> dict[str, Any]:
    """The valid session with one to three keys dropped, retyped, given odd values, or added."""
    session = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = session
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
        action = draw(st.sampled_from(["drop", "value", "unknown"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "value":
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(["extra", "limt", "Seed", "x"]))] = \
                draw(VALUES)
    return session


def _events_asked(session: dict[str, Any]) -> Any:
    try:
        return session["data"]["synthetic"]["events"]
    except (KeyError, TypeError):
        return None


def run(argv: list[str]) -> tuple[int, str, str]:
    """`desk ARGV` in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(argv)
    return code, out.getvalue(), err.getvalue()


def assert_run_or_clean_error(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err
    if code == 0:
        assert json.loads(out)["events"] >= 0
    else:
        lines = err.splitlines()
        assert code == 2 and lines, err
        assert all(line.startswith("desk: ") and len(line) > 6 for line in lines), err


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sessions())
def test_a_mutated_session_runs_or_fails_with_desk_lines_never_a_traceback(
        session: dict[str, Any]) -> None:
    asked = _events_asked(session)
    if isinstance(asked, int | float) and not isinstance(asked, bool) and asked > MAX_EVENTS:
        session["data"]["synthetic"]["events"] = MAX_EVENTS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.toml"
        path.write_text(tomli_w.dumps(session))
        code, out, err = run(["run", str(path), "--out", folder, "--json", "--strict"])
    assert_run_or_clean_error(code, out, err)
    assert "invariant" not in err  # an odd but valid session may fail to run, never break the books


# --- event streams ---------------------------------------------------------------------

T0 = 1_704_205_800_000_000_000
FAULTS = ("null_ts", "null_price", "nan_price", "inf_price", "zero_price", "negative_price",
          "null_size", "negative_size", "earlier", "duplicate", "none")


@dataclass
class Stream:
    """A small file of trades or quotes, and the faults planted in it."""

    kind: str
    fmt: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    faults: int = 0
    """Planted faults that make a row bad (a repeated trade is not one: trades may repeat)."""


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    stream = Stream(draw(st.sampled_from(["trade", "quote"])), draw(st.sampled_from(
        ["csv", "parquet"])))
    ts = T0
    latest: int | None = None
    """The time of the latest good row: a row before it is out of order."""
    previous_bad = False
    for _ in range(draw(st.integers(1, 25))):
        ts += draw(st.integers(0, 2_000_000_000))
        mid = 100 + draw(st.integers(-300, 300)) / 100
        if stream.kind == "trade":
            row: dict[str, Any] = {"ts": ts, "price": mid, "size": float(draw(st.integers(1, 9)))}
        else:
            row = {"ts": ts, "bid": mid - 0.01, "bid_size": 5.0, "ask": mid + 0.01,
                   "ask_size": 5.0}
        fault = draw(st.sampled_from(FAULTS))
        price, size = ("price", "size") if stream.kind == "trade" else ("bid", "bid_size")
        bad = True
        if fault == "null_ts":
            row["ts"] = None
        elif fault == "null_price":
            row[price] = None
        elif fault in ("nan_price", "inf_price", "zero_price", "negative_price"):
            row[price] = {"nan_price": math.nan, "inf_price": math.inf, "zero_price": 0.0,
                          "negative_price": -1.0}[fault]
        elif fault == "null_size":
            row[size] = None
        elif fault == "negative_size":
            row[size] = -1.0
        elif fault == "earlier" and latest is not None:
            row["ts"] = latest - draw(st.integers(1, 10**9))
        elif fault == "duplicate" and stream.rows:
            row = dict(stream.rows[-1])
            # the copy of a bad row is bad; a repeated quote is a fault, a repeated trade is not
            bad = previous_bad or stream.kind == "quote"
        else:
            bad = False
        stream.rows.append(row)
        if not bad:
            latest = row["ts"]
        stream.faults += bad
        previous_bad = bad
    return stream


def _write(stream: Stream, path: Path) -> None:
    columns = list(stream.rows[0])
    if stream.fmt == "parquet":
        table = pa.table({c: pa.array([r[c] for r in stream.rows],
                                      pa.int64() if c == "ts" else pa.float64())
                          for c in columns})
        pq.write_table(table, path)
        return
    lines = [",".join(columns)]
    for row in stream.rows:
        lines.append(",".join("" if row[c] is None else repr(row[c]) if isinstance(row[c], float)
                              else str(row[c]) for c in columns))
    path.write_text("\n".join(lines) + "\n")


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.sampled_from(["fail", "skip"]))
def test_a_faulty_event_stream_fails_by_default_and_is_journaled_with_skip(
        stream: Stream, on_bad: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / f"feed.{stream.fmt}"
        _write(stream, data)
        session = Path(folder) / "session.toml"
        session.write_text(tomli_w.dumps({
            "data": {"on_bad": on_bad, "files": [{"path": data.name, "kind": stream.kind}]},
            "instruments": [{"symbol": "ACME"}],
            "strategy": {"use": "momentum", "params": {"lookback": 3, "threshold": 0.0001,
                                                       "size": 5}}}))
        code, out, err = run(["run", str(session), "--out", folder, "--json", "--strict"])
        assert_run_or_clean_error(code, out, err)
        if on_bad == "fail":
            assert (code == 2) == (stream.faults > 0), (stream, err)
            if code == 2:
                assert err.startswith(f"desk: {data}") and len(err.splitlines()) == 1, err
            return
        assert code == 0, err
        issues = [r for r in read_journal(Path(folder) / "journal.arrow").to_pylist()
                  if r["kind"] == "data_quality"]
        assert len(issues) == json.loads(out)["data_issues"]
        assert (len(issues) > 0) == (stream.faults > 0), (stream, issues)
