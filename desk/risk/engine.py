"""The risk engine: the final gate between a strategy's intent and the execution simulator.

Only this module can make an `ApprovedOrder`, and the execution simulator
accepts nothing else: the gate is in the types, not in a convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desk.config import RiskConfig
from desk.execution.costs import Fees
from desk.market import MarketState
from desk.orders import OrderIntent, OrderType, RiskDecision
from desk.portfolio import PortfolioView
from desk.risk.rules import (
    Cash,
    Exposure,
    KillSwitch,
    MaxDrawdown,
    MaxLeverage,
    MaxOrderSize,
    MaxPosition,
    OrderRate,
    PriceBand,
    Rule,
)

_GATE = object()
"""The capability only this module holds: proof that an order passed the gate."""

ACTIVE, REDUCING, HALTED = "ACTIVE", "REDUCING", "HALTED"


@dataclass(frozen=True, slots=True)
class ApprovedOrder:
    """An intent every enabled rule passed. Made only by `RiskEngine.check`."""

    intent: OrderIntent
    decision_seq: int
    reserve: float
    _token: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _GATE:
            raise PermissionError("only the risk engine can approve an order")


def is_approved(order: object) -> bool:
    """True only for an order the risk engine itself approved."""
    return isinstance(order, ApprovedOrder) and order._token is _GATE


@dataclass(frozen=True, slots=True)
class ModeChange:
    """A change of the desk's trading mode and the reason for it."""

    before: str
    after: str
    why: str


def _vs(value: float, sign: str, limit: float, name: str = "halt") -> str:
    """`4.012% > tolerance 4.00%`: enough digits that the two never print the same."""
    digits = 2 if f"{value:.2%}" != f"{limit:.2%}" else 4
    return f"{value:.{digits}%} {sign} {name} {limit:.{digits}%}"


_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


def _nothing() -> None:
    return None


def _clean(value: float) -> float:
    """Float dust left by adding and removing the same quantities is zero."""
    return 0.0 if abs(value) < 1e-9 else value


def build_rules(config: RiskConfig, fees: Fees | None = None) -> list[Rule]:
    """The rules in their fixed evaluation order (the order the journal lists verdicts in)."""
    per = {symbol: (limit.max_qty, limit.max_notional)
           for symbol, limit in config.max_position.per_instrument.items()}
    mp, ml, md = config.max_position, config.max_leverage, config.max_drawdown
    return [
        KillSwitch(config.kill_switch.enabled, config.kill_switch.engaged),
        MaxDrawdown(md.enabled, md.tolerance, md.halt, md.resume_below),
        MaxPosition(mp.enabled, mp.max_qty, mp.max_notional, per),
        MaxLeverage(ml.enabled, ml.limit),
        Cash(config.cash.enabled, config.cash.buffer_bps, fees),
        MaxOrderSize(config.max_order_size.enabled, config.max_order_size.max_qty,
                     config.max_order_size.max_notional),
        OrderRate(config.order_rate.enabled, config.order_rate.max_orders,
                  config.order_rate.per_seconds),
        PriceBand(config.price_band.enabled, config.price_band.pct),
    ]


class RiskEngine:
    """Evaluates every enabled rule for every intent, tracks the mode, and reserves cash for
    buys."""

    def __init__(self, config: RiskConfig, portfolio: PortfolioView, market: MarketState,
                 multipliers: dict[str, float], fee_rate: float,
                 fees: Fees | None = None) -> None:
        self.rules = build_rules(config, fees)
        self.by_name = {rule.name: rule for rule in self.rules}
        self.portfolio = portfolio
        self.market = market
        self.multipliers = multipliers
        self.fee_rate = fee_rate
        self.mode = ACTIVE
        self.pending: dict[str, float] = dict.fromkeys(multipliers, 0.0)
        """Net signed quantity of open orders per instrument: what `ctx.target` nets against."""
        self.pending_buy: dict[str, float] = dict.fromkeys(multipliers, 0.0)
        self.pending_sell: dict[str, float] = dict.fromkeys(multipliers, 0.0)
        """The same split by side: fills may come in any order, so limits count the worst case."""
        self.reserved = 0.0
        self._reserve_by_order: dict[int, float] = {}
        self._drawdown: MaxDrawdown = self.by_name["max_drawdown"]  # type: ignore[assignment]
        self._cash: Cash = self.by_name["cash"]  # type: ignore[assignment]
        self._counting = [rule for rule in self.rules
                          if type(rule).on_approved is not Rule.on_approved]
        """Rules that keep books of approved orders (the order rate), switched on or off."""
        self.changed: Callable[[], None] = _nothing
        """Called after a rule, a limit or the mode changed (the engine's steady band listens)."""

    # --- the gate ---------------------------------------------------------------

    def exposure(self, intent: OrderIntent) -> Exposure:
        """Measure once what every rule needs to judge `intent`."""
        symbol = intent.instrument
        state = self.market.states[symbol]
        view = self.portfolio
        # no market yet: the portfolio's own mark (a fill's price), never the order's price,
        # which would let a limit be measured against itself; 0: no price at all
        mark = state.mark or view.mark(symbol)
        if intent.order_type is OrderType.LIMIT and intent.limit_price is not None:
            price = intent.limit_price
        elif intent.qty > 0:
            price = state.ask or mark
        else:
            price = state.bid or mark
        equity, gross, cash, drawdown = view.exposure_figures()
        return _new(Exposure, (
            intent.ts, view.position(symbol), self.pending[symbol], self.pending_buy[symbol],
            self.pending_sell[symbol], price, mark, self.multipliers[symbol],
            equity, gross, cash, self.reserved, self.fee_rate, drawdown, self.mode))

    def check(self, intent: OrderIntent) -> tuple[RiskDecision, Exposure]:
        """Every enabled rule's verdict on `intent`; no short-circuit, so the journal shows them
        all."""
        exposure = self.exposure(intent)
        results = []
        approved = True
        for rule in self.rules:
            if rule.enabled:
                result = rule.check(intent, exposure)
                results.append(result)
                if not result[1]:  # passed
                    approved = False
        return _new(RiskDecision, (intent, tuple(results), self.mode, approved)), exposure

    def approve(self, decision: RiskDecision, exposure: Exposure,
                decision_seq: int) -> ApprovedOrder:
        """Turn an all-pass decision into the one object the execution simulator accepts."""
        if not decision.approved:
            raise PermissionError("a blocked decision cannot be approved")
        intent = decision.intent
        for rule in self._counting:
            rule.on_approved(intent)  # bookkeeping (the order count) goes on while a rule is off
        reserve = self._cash.need(intent, exposure)
        return ApprovedOrder(intent, decision_seq, reserve, _GATE)

    # --- bookkeeping of orders in flight ----------------------------------------------

    def on_sent(self, order_id: int, approved: ApprovedOrder) -> None:
        intent = approved.intent
        self._add_pending(intent.instrument, intent.qty, intent.qty)
        if approved.reserve > 0:
            self._reserve_by_order[order_id] = approved.reserve
            self.reserved += approved.reserve

    def on_filled(self, order_id: int, symbol: str, qty: float, cost: float) -> None:
        """A fill report arrived: it is no longer pending, and its cash is no longer reserved."""
        self._add_pending(symbol, -qty, qty)
        if order_id in self._reserve_by_order and cost > 0:
            release = min(cost, self._reserve_by_order[order_id])
            self._reserve_by_order[order_id] -= release
            self.reserved -= release

    def on_ended(self, order_id: int, symbol: str, unfilled: float) -> None:
        """The order is done: whatever it still counted as pending or reserved is released."""
        if unfilled:
            self._add_pending(symbol, -unfilled, unfilled)
        left = self._reserve_by_order.pop(order_id, 0.0)
        self.reserved -= left
        if abs(self.reserved) < 1e-6:
            self.reserved = 0.0

    def _add_pending(self, symbol: str, delta: float, side: float) -> None:
        """Change what is pending by `delta` on the side of an order whose quantity has sign
        `side`."""
        self.pending[symbol] = _clean(self.pending[symbol] + delta)
        book = self.pending_buy if side > 0 else self.pending_sell
        book[symbol] = _clean(book[symbol] + delta)

    def reserved_by_others(self, order_id: int) -> float:
        return self.reserved - self._reserve_by_order.get(order_id, 0.0)

    # --- modes -------------------------------------------------------------------

    def on_mark(self, drawdown: float | None = None) -> ModeChange | None:
        """After a mark: move between ACTIVE, REDUCING and HALTED on drawdown.

        Beyond (strictly above) the tolerance → REDUCING, beyond `halt` → HALTED;
        back to ACTIVE only below `resume_below` or by an explicit reset, and
        at once when the rule is switched off. `drawdown` is the portfolio's,
        when the caller has it at hand; None reads it from the view.
        """
        rule = self._drawdown
        mode = self.mode
        if not rule.enabled:
            if mode != ACTIVE:
                return self._set_mode(ACTIVE, "max_drawdown switched off")
            return None
        dd = self.portfolio.drawdown if drawdown is None else drawdown
        if rule.halt is not None and dd > rule.halt + 1e-12 and mode != HALTED:
            return self._set_mode(HALTED, f"drawdown {_vs(dd, '>', rule.halt)}")
        if mode == ACTIVE and dd > rule.tolerance + 1e-12:
            why = _vs(dd, ">", rule.tolerance, "tolerance")
            return self._set_mode(REDUCING, f"drawdown {why}: only risk-reducing orders pass")
        if mode != ACTIVE and rule.resume_below is not None and dd < rule.resume_below:
            why = _vs(dd, "<", rule.resume_below, "resume_below")
            return self._set_mode(ACTIVE, f"drawdown {why}")
        return None

    def steady_drawdown(self) -> tuple[float, float] | None:
        """The drawdowns at which `on_mark` would change nothing: (lowest, highest), or None.

        Lets the engine skip re-judging marks that cannot move the mode (see
        `Portfolio.steady_band`); both ends are inclusive, as in `on_mark`.
        """
        rule = self._drawdown
        if not rule.enabled:
            return (-math.inf, math.inf) if self.mode == ACTIVE else None
        high = math.inf
        if rule.halt is not None and self.mode != HALTED:
            high = rule.halt + 1e-12
        if self.mode == ACTIVE:
            high = min(high, rule.tolerance + 1e-12)
        low = -math.inf
        if self.mode != ACTIVE and rule.resume_below is not None:
            low = rule.resume_below
        return low, high

    def reset_mode(self, why: str) -> ModeChange | None:
        """The explicit way back: the mode the drawdown calls for now, judged as if from ACTIVE.

        The peak is not reset, so a reset while the drawdown is still beyond the
        tolerance would be undone by the next mark: it is refused instead
        (ValueError, journaled as a control error), saying what to change. A
        reset from HALTED with the drawdown between the tolerance and the halt
        goes to REDUCING. None: already ACTIVE, nothing to do.
        """
        if self.mode == ACTIVE:
            return None
        rule = self._drawdown
        dd = self.portfolio.drawdown
        if not rule.enabled or dd <= rule.tolerance + 1e-12:
            return self._set_mode(ACTIVE, why)
        if rule.halt is not None and dd > rule.halt + 1e-12:
            raise ValueError(f"reset refused: drawdown {_vs(dd, '>', rule.halt)}; raise "
                             "max_drawdown.halt first, or switch the rule off")
        if self.mode == REDUCING:
            raise ValueError(f"reset refused: drawdown {_vs(dd, '>', rule.tolerance, 'tolerance')}"
                             " still; raise max_drawdown.tolerance first, or switch the rule off")
        return self._set_mode(REDUCING, f"{why}: drawdown "
                              f"{_vs(dd, '>', rule.tolerance, 'tolerance')} still")

    def _set_mode(self, mode: str, why: str) -> ModeChange:
        change = ModeChange(self.mode, mode, why)
        self.mode = mode
        self.changed()
        return change

    # --- run-time changes -----------------------------------------------------------

    def rule(self, name: str) -> Rule:
        try:
            return self.by_name[name]
        except KeyError:
            raise ValueError(f"no risk rule {name!r} (rules: {', '.join(self.by_name)})") from None

    def toggle(self, name: str, enabled: bool) -> None:
        self.rule(name).enabled = enabled
        self.changed()

    def set_limit(self, name: str, param: str, value: Any) -> None:
        self.rule(name).set_param(param, value)
        self.changed()

    def describe(self) -> list[dict[str, Any]]:
        """Each rule's name, switch and limits, for the journal header and the app."""
        return [{"rule": r.name, "enabled": r.enabled, **r.limits()} for r in self.rules]
