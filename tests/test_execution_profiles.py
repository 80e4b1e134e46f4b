"""Two execution profiles on the same market, strategy and seed: slow, costly execution shows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import ROOT

from desk.audit import details_of, read_journal
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


def test_the_passive_session_rests_orders_in_the_probabilistic_queue_and_fills_as_maker(
        tmp_path: Path) -> None:
    loaded = load_session(ROOT / "sessions" / "exec_passive.toml")
    assert loaded.config.execution.queue_model == "probabilistic"
    engine = Engine(loaded, tmp_path / "passive.arrow", strict=True)
    try:
        engine.run()
    finally:
        engine.close()
    records = read_journal(tmp_path / "passive.arrow").to_pylist()
    kinds = Counter(record["kind"] for record in records)
    ahead = {record["order_id"]: details_of(record["details"])["queue_ahead"]
             for record in records if record["kind"] == "arrival"}
    maker = {record["order_id"] for record in records if record["kind"] == "fill"
             and details_of(record["details"])["liquidity"] == "maker"}
    cancelled = [record for record in records if record["kind"] == "order_end"
                 and details_of(record["details"])["reason"] == "cancelled"]
    assert sum(q is not None and q > 0 for q in ahead.values()) > 100  # rested behind a queue
    assert len(maker) > 50 and all(ahead[order_id] is not None for order_id in maker)
    assert sum(ahead[order_id] > 0 for order_id in maker) > 20  # ... and got through it
    assert len(cancelled) > 100 and kinds["cancel"] >= len(cancelled)
