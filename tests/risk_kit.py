"""A risk engine on a real portfolio and market with no event loop: for unit tests of rules and
modes."""

from __future__ import annotations

from typing import Any

from desk.config import FeeModel, RiskConfig
from desk.execution.costs import Fees
from desk.market import MarketState
from desk.orders import OrderIntent, OrderType, RuleResult, TimeInForce
from desk.portfolio import Portfolio, PortfolioView
from desk.risk.engine import RiskEngine

SYMBOL = "ACME"


class Desk:
    """A portfolio, a one-instrument market and a risk engine wired as the engine wires them."""

    def __init__(self, risk: dict[str, Any] | None = None, cash: float = 100_000.0,
                 price: float = 100.0, fee_rate: float = 0.0,
                 fees: dict[str, float] | None = None, multiplier: float = 1.0) -> None:
        self.portfolio = Portfolio(cash, {SYMBOL: multiplier})
        self.market = MarketState([SYMBOL])
        model = Fees(FeeModel.model_validate(fees)) if fees is not None else None
        self.risk = RiskEngine(RiskConfig.model_validate(risk or {}), PortfolioView(self.portfolio),
                               self.market, {SYMBOL: multiplier},
                               model.worst_rate if model is not None else fee_rate, model)
        self.next_order = 1
        self.quote(price)

    def quote(self, price: float, spread: float = 0.0) -> None:
        """Set bid/ask around `price`, mark the portfolio, and let risk move its mode."""
        state = self.market.states[SYMBOL]
        state.bid, state.ask, state.mark = price - spread / 2, price + spread / 2, price
        self.portfolio.mark(SYMBOL, price)
        self.risk.on_mark()

    def fill(self, qty: float, price: float) -> None:
        self.portfolio.apply_fill(SYMBOL, qty, price, 0.0)

    def verdicts(self, qty: float, limit: float | None = None,
                 ts: int = 0) -> dict[str, RuleResult]:
        decision, _ = self.risk.check(intent(qty, limit, ts))
        return {r.rule: r for r in decision.results}

    def passes(self, rule: str, qty: float, limit: float | None = None, ts: int = 0) -> bool:
        return self.verdicts(qty, limit, ts)[rule].passed

    def send(self, qty: float, limit: float | None = None, ts: int = 0) -> int:
        """Approve (whatever the verdict: this is bookkeeping) and send an order; returns its id."""
        decision, exposure = self.risk.check(intent(qty, limit, ts))
        forced = type(decision)(decision.intent, tuple(r for r in decision.results if r.passed),
                                decision.mode, True)
        approved = self.risk.approve(forced, exposure, 0)
        order_id = self.next_order
        self.next_order += 1
        self.risk.on_sent(order_id, approved)
        return order_id


def intent(qty: float, limit: float | None = None, ts: int = 0) -> OrderIntent:
    order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET
    return OrderIntent(1, ts, SYMBOL, qty, order_type, limit, TimeInForce.GTC, "test", 0, 100.0)
