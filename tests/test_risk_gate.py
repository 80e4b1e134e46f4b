"""The gate in the types: a strategy can neither reach the execution simulator nor change the
portfolio.

Python cannot stop deliberate introspection of underscored attributes; what is
tested is that the strategy's API offers no path, and that the simulator
refuses anything but the risk engine's own approval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from risk_kit import intent
from test_risk_runtime import make_session

from desk.audit import details_of, read_journal
from desk.engine import Engine
from desk.events import Trade
from desk.risk.engine import ApprovedOrder, is_approved
from desk.strategy import Strategy


class Intruder(Strategy):
    """Tries every way into the portfolio and the venue on its first trade, and notes what
    worked."""

    def on_start(self) -> None:
        self.worked: list[str] = []
        self.refused: list[str] = []
        self.tried = False

    def on_trade(self, trade: Trade) -> None:
        if self.tried:
            return
        self.tried = True
        ctx = self.ctx
        forged = intent(10)
        attempts: dict[str, Callable[[], Any]] = {
            "set cash": lambda: setattr(ctx.portfolio, "cash", 1e12),
            "replace the positions": lambda: setattr(ctx.portfolio, "positions", {"ACME": 1e6}),
            "apply a fill": lambda: ctx.portfolio.apply_fill("ACME", 10, 1.0, 0.0),  # type: ignore[attr-defined]
            "mark the portfolio": lambda: ctx.portfolio.mark("ACME", 1.0),  # type: ignore[call-arg]
            "reach the simulator": lambda: ctx.execution,  # type: ignore[attr-defined]
            "reach the risk engine": lambda: ctx.risk,  # type: ignore[attr-defined]
            "plant an attribute on the context": lambda: setattr(ctx, "execution", object()),
            "forge an approval": lambda: ApprovedOrder(forged, 0, 0.0, object()),
            "forge an approval by keyword": lambda: ApprovedOrder(
                intent=forged, decision_seq=0, reserve=0.0, _token=None),
        }
        for name, attempt in attempts.items():
            try:
                attempt()
            except (AttributeError, PermissionError, TypeError):
                self.refused.append(name)
            else:
                self.worked.append(name)


def test_a_strategy_can_neither_reach_the_simulator_nor_change_the_portfolio() -> None:
    engine = Engine(make_session(strategy={"use": "momentum"}), None, strict=True)
    intruder = Intruder(engine.strategy.params, engine.strategy.ctx)
    engine.strategy = intruder
    intruder.on_start()
    engine.run()
    assert intruder.worked == []
    assert len(intruder.refused) == 9
    assert engine.portfolio.cash == engine.portfolio.start_cash
    assert engine.portfolio_view.positions() == {}
    assert engine.execution.orders == {} and engine.stats.approved == 0
    assert engine.journal.counts.get("order", 0) == 0


def test_the_simulator_refuses_a_look_alike_of_an_approved_order() -> None:
    engine = Engine(make_session(strategy={"use": "momentum"}), None)

    @dataclasses.dataclass(frozen=True)
    class LookAlike:
        intent: Any
        decision_seq: int
        reserve: float
        _token: object

    fake = LookAlike(intent(10), 0, 0.0, object())
    assert not is_approved(fake)
    with pytest.raises(PermissionError, match="accepts only risk-approved orders"):
        engine.execution.submit(fake, 0, 0)  # type: ignore[arg-type]
    assert engine.execution.orders == {}


def test_a_blocked_decision_cannot_be_turned_into_an_approval() -> None:
    engine = Engine(make_session(strategy={"use": "momentum"},
                                 risk={"kill_switch": {"engaged": True}}), None)
    engine.market.states["ACME"].mark = 100.0
    decision, exposure = engine.risk.check(intent(10))
    assert not decision.approved
    with pytest.raises(PermissionError, match="blocked decision cannot be approved"):
        engine.risk.approve(decision, exposure, 0)


class OrdersBeforeAnyPrice(Strategy):
    """Orders from `on_start`, before the market has priced anything."""

    def on_start(self) -> None:
        self.ctx.order("ACME", 900, "buy before any quote")
        self.ctx.order("ACME", 5, "bid far above any market", limit=150.0)


def test_an_order_the_market_has_not_priced_yet_is_blocked_not_valued_at_zero(
        tmp_path: Path) -> None:
    session = make_session(strategy={"use": "tests.test_risk_gate:OrdersBeforeAnyPrice"})
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    assert not [r for r in table if r["kind"] in ("order", "fill")]
    market, limit = (details_of(r["details"]) for r in table if r["kind"] == "risk")
    assert market["blocked_by"] == ["max_leverage", "cash"]
    verdict = {v["rule"]: v for v in market["verdicts"]}
    assert verdict["cash"]["message"] == "no price for ACME yet: the order cannot be valued"
    assert verdict["cash"]["value"] is None
    assert limit["blocked_by"] == ["price_band"]
    assert {v["rule"]: v for v in limit["verdicts"]}["price_band"]["message"] == (
        "no mark for ACME yet to measure limit 150 against")
