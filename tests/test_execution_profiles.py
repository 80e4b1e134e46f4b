"""Two execution profiles on the same market, strategy and seed: slow, costly execution shows."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT

from desk.config import load_session
from desk.engine import Engine
from desk.report import summarize


def _run(name: str, journal: Path) -> dict:
    engine = Engine(load_session(ROOT / "sessions" / f"{name}.toml"), journal, strict=True)
    try:
        engine.run()
    finally:
        engine.close()
    return summarize(engine, 1.0)


def test_slow_costly_execution_costs_more_per_unit_traded_and_ends_with_less(
        tmp_path: Path) -> None:
    fast = _run("exec_fast", tmp_path / "fast.arrow")
    slow = _run("exec_slow", tmp_path / "slow.arrow")
    assert fast["market_events"] == slow["market_events"]  # the same market
    assert fast["fills"] > 0 and slow["fills"] > 0
    assert slow["shortfall_bps"] > 1.5 * fast["shortfall_bps"]
    fee_rate = {name: run["fee_cost"] / run["traded_notional"]
                for name, run in (("fast", fast), ("slow", slow))}
    assert fee_rate["slow"] > 5 * fee_rate["fast"]
    assert slow["equity"] < fast["equity"]
    assert fast["latency_cost"] == 0.0  # 1 ms never outlasts a 100 ms book
    assert slow["latency_cost"] != 0.0
