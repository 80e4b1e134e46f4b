"""The fat-finger rules: one order's own size and limit price, whatever the desk holds."""

from __future__ import annotations

from desk.orders import OrderIntent, OrderType, RuleResult
from desk.risk.rules.rule import Exposure, Rule, unpriced
from desk.risk.rules.wording import fmt, fmt2, times

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


class MaxOrderSize(Rule):
    """Blocks a single order larger than a quantity or notional: the fat-finger check."""

    name = "max_order_size"
    params = ("max_qty", "max_notional")
    optional = ("max_qty", "max_notional")

    def __init__(self, enabled: bool, max_qty: float | None, max_notional: float | None) -> None:
        super().__init__(enabled)
        self.max_qty = max_qty
        self.max_notional = max_notional

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        size = abs(intent.qty)
        max_qty, max_notional = self.max_qty, self.max_notional
        if max_qty is not None and size > max_qty + 1e-9:
            return self.result(False, size, max_qty, _size_over, (size, max_qty))
        notional = size * x.price * x.multiplier
        if max_notional is not None:
            if x.price <= 0:
                return self.result(False, None, max_notional, unpriced, (intent.instrument,))
            if notional > max_notional + 1e-6:
                return self.result(False, notional, max_notional, _order_notional_over,
                                   (notional, max_notional, size, x.price, x.multiplier))
            return self.result(True, notional, max_notional, _order_notional_within,
                               (notional, max_notional))
        return self.result(True, size, max_qty, _size_within, (size, max_qty))


def _size_over(size: float, max_qty: float) -> str:
    shown, limit = fmt2(size, max_qty)
    return f"order size {shown} > {limit}"


def _order_notional_over(notional: float, max_notional: float, size: float, price: float,
                         multiplier: float) -> str:
    shown, limit = fmt2(notional, max_notional)
    return f"order notional {shown} > {limit} ({fmt(size)} × {price:g}{times(multiplier)})"


def _order_notional_within(notional: float, max_notional: float) -> str:
    return f"order notional {fmt(notional)}/{fmt(max_notional)}"


def _size_within(size: float, max_qty: float | None) -> str:
    return f"order size {fmt(size)}" + (f"/{fmt(max_qty)}" if max_qty is not None else "")


class PriceBand(Rule):
    """Blocks a limit price further than `pct`% from the mark."""

    name = "price_band"
    params = ("pct",)

    def __init__(self, enabled: bool, pct: float) -> None:
        super().__init__(enabled)
        self.pct = pct

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        if intent.order_type is not OrderType.LIMIT or intent.limit_price is None:
            return _new(RuleResult, (self.name, True, None, self.pct, None,
                                     "price_band n/a (market order)", ()))
        if x.mark <= 0:  # nothing to measure the limit against: a fat finger cannot be ruled out
            return self.result(False, None, self.pct, _band_unmarked,
                               (intent.limit_price, intent.instrument))
        away = abs(intent.limit_price / x.mark - 1) * 100
        pct = self.pct
        if away <= pct + 1e-9:
            return self.result(True, away, pct, _band_within, (away, pct))
        return self.result(False, away, pct, _band_over, (intent.limit_price, away, x.mark, pct))


def _band_within(away: float, pct: float) -> str:
    return f"price_band {away:.2f}%/{pct:g}%"


def _band_unmarked(limit: float, instrument: str) -> str:
    return f"no mark for {instrument} yet to measure limit {limit:g} against"


def _band_over(limit: float, away: float, mark: float, pct: float) -> str:
    return f"limit {limit:g} is {away:.2f}% from mark {mark:g} > {pct:g}%"
