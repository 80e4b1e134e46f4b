"""The bundled risk tour: every rule fires, a scheduled limit change takes effect, drawdown
reduces."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT

from desk.audit import read_journal
from desk.config import load_session
from desk.engine import Engine
from desk.explain import JournalIndex, explain_seq
from desk.query import Query, select

RULES = {"kill_switch", "max_drawdown", "max_position", "max_leverage", "cash", "max_order_size",
         "order_rate", "price_band"}


def test_the_risk_tour_tells_the_story_of_every_rule(tmp_path: Path) -> None:
    engine = Engine(load_session(ROOT / "sessions" / "risk_tour.toml"), tmp_path / "j.arrow",
                    strict=True)
    engine.run()
    engine.close()
    assert set(engine.stats.blocked_by) == RULES
    table = read_journal(tmp_path / "j.arrow")
    index = JournalIndex(table)
    blocked = select(table, Query(outcome="blocked"))
    for record in blocked:
        chain = explain_seq(index, record["seq"])
        assert [r["kind"] for r in chain.records] == ["market", "signal", "intent", "risk"]
    # the scheduled leverage limit: the same order allowed before it, blocked after it
    [change] = select(table, Query(kinds=("limit_change",), rule="max_leverage"))
    assert change["details"]["source"] == "schedule" and change["details"]["after"] == 0.4
    def reason(decision: dict[str, object]) -> str:
        intent = index.record(decision["cause"])  # type: ignore[arg-type]
        assert intent is not None
        signal = index.record(intent["cause"])
        assert signal is not None
        return str(signal["why"])

    leverage = [r for r in select(table, Query(kinds=("risk",)))
                if reason(r).startswith(("add to ACME under the first",
                                         "the same order under the scheduled"))]
    assert [(r["seq"] > change["seq"], r["details"]["approved"]) for r in leverage] == \
        [(False, True), (True, False)]
    assert leverage[1]["details"]["blocked_by"] == ["max_leverage"]
    modes = [r["details"]["after"] for r in select(table, Query(kinds=("mode",)))]
    assert "REDUCING" in modes
    reducing_at = next(r["seq"] for r in select(table, Query(kinds=("mode",)))
                       if r["details"]["after"] == "REDUCING")
    after = [r for r in select(table, Query(kinds=("risk",))) if r["seq"] > reducing_at]
    assert any("max_drawdown" in r["details"].get("blocked_by", []) for r in after)
    assert any(r["details"]["approved"] for r in after)  # a reducing order still passes
    # a burst: one market event, several signals; explaining the event says so
    markets = [r for r in table.to_pylist() if r["kind"] == "market"]
    burst = next(m for m in markets if len(index.caused_by(m["seq"], "signal")) > 1)
    chain = explain_seq(index, burst["seq"])
    assert f"market event {burst['seq']} led to" in chain.outcome
