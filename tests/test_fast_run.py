"""The fast run loop is a pure speed-up: its journal is byte-identical to stepping event by event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desk.bench import bench_session
from desk.benchdata import make_ticks, write_parquet
from desk.config import LoadedSession, load_session, parse_session
from desk.engine import Engine
from desk.events import Trade
from desk.strategy import Strategy
from tests.conftest import BASE, make_session, merge


def _journal(session: LoadedSession, path: Path, fast: bool, strict: bool = False,
             max_events: int | None = None) -> bytes:
    engine = Engine(session, path, strict=strict)
    try:
        if fast:
            engine.run(max_events=max_events)
        elif max_events is None:
            while engine.step():
                pass
        else:
            for _ in range(max_events):
                if not engine.step():
                    break
    finally:
        engine.close()
    return path.read_bytes()


def _same(session: LoadedSession, tmp_path: Path, **kwargs: Any) -> bytes:
    fast = _journal(session, tmp_path / "fast.arrow", True, **kwargs)
    stepped = _journal(session, tmp_path / "step.arrow", False, **kwargs)
    assert fast == stepped
    return fast


@pytest.fixture
def bench(tmp_path: Path) -> LoadedSession:
    data = write_parquet(make_ticks(20_000), tmp_path / "ticks.parquet")
    return parse_session(bench_session(data, tmp_path / "unused.arrow"), "bench")


def test_benchmark_session_journal_is_identical_fast_and_stepped(bench: LoadedSession,
                                                                 tmp_path: Path) -> None:
    journal = _same(bench, tmp_path)
    assert len(journal) > 100_000  # hundreds of orders, each with its whole causal chain


def test_benchmark_session_is_identical_in_strict_mode_and_when_stopped_early(
        bench: LoadedSession, tmp_path: Path) -> None:
    _same(bench, tmp_path, strict=True)
    _same(bench, tmp_path, max_events=7_777)


def test_demo_journal_is_identical_fast_and_stepped(demo_path: Path, tmp_path: Path) -> None:
    _same(load_session(demo_path), tmp_path, max_events=40_000)


def test_recorded_operator_actions_and_scheduled_changes_land_on_the_same_event(
        tmp_path: Path) -> None:
    session = make_session(
        risk={"schedule": [{"at": "+30s", "rule": "max_position", "param": "max_qty",
                            "value": 50}]},
        execution={"entry_latency": {"model": "uniform", "ms": 5, "jitter_ms": 20}},
        operator_actions=[{"seq": 1_001, "action": "kill"},
                          {"seq": 2_500, "action": "kill", "enabled": False},
                          {"seq": 3_000, "action": "toggle", "rule": "order_rate"}])
    journal = _same(session, tmp_path, strict=True)
    assert b"kill_switch" in journal


def test_a_strategy_that_raises_is_stopped_at_the_same_event(tmp_path: Path) -> None:
    data = merge(BASE, {})
    data["strategy"] = {"use": "tests.test_fast_run:Raising", "max_faults": 3}
    session = parse_session(data, "test-session")
    journal = _same(session, tmp_path)
    assert b"strategy_stopped" in journal


class Raising(Strategy):
    """Trades, and raises on every 400th trade, so faults interleave with orders."""

    def on_start(self) -> None:
        self.seen = 0

    def on_trade(self, trade: Trade) -> None:
        self.seen += 1
        if self.seen % 400 == 0:
            raise RuntimeError(f"boom at trade {self.seen}")
        if self.seen % 50 == 0:
            self.ctx.target(trade.instrument, 10 if self.seen % 100 else -10, "flip")
