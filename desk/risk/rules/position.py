"""The exposure rules: the position, the leverage and the cash the desk would have after an order.

Position and leverage count this instrument's open orders on the order's own
side and let an order that brings the position closer to flat through; cash
counts what approved buys have already reserved.
"""

from __future__ import annotations

from typing import Any

from desk.execution.costs import Fees
from desk.orders import OrderIntent, RuleResult
from desk.risk.rules.rule import Exposure, Rule, unpriced
from desk.risk.rules.wording import fmt, fmt2, signed, times

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


class MaxPosition(Rule):
    """Blocks when the position after the order, counting open orders, exceeds a quantity or
    notional.

    Open orders count on the order's own side only: fills may arrive in any
    order, so a buy is judged as if every open buy filled and no open sell did.
    A per-instrument limit overrides the default field by field: a field it
    leaves out falls back to the default. An order that brings the position
    closer to flat always passes, so a lowered limit never traps a position.
    """

    name = "max_position"
    params = ("max_qty", "max_notional")
    optional = ("max_qty", "max_notional")

    def __init__(self, enabled: bool, max_qty: float | None, max_notional: float | None,
                 per_instrument: dict[str, tuple[float | None, float | None]]) -> None:
        super().__init__(enabled)
        self.max_qty = max_qty
        self.max_notional = max_notional
        self.per_instrument = per_instrument

    def limits_for(self, symbol: str) -> tuple[float | None, float | None]:
        own_qty, own_notional = self.per_instrument.get(symbol, (None, None))
        return (own_qty if own_qty is not None else self.max_qty,
                own_notional if own_notional is not None else self.max_notional)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        max_qty, max_notional = self.limits_for(intent.instrument)
        qty = intent.qty
        after = abs(x.worst(qty) + qty)
        reducing = x.reduces_worst(qty)
        if max_qty is not None:
            passed = after <= max_qty + 1e-9 or reducing
            if not passed:
                return self.result(False, after, max_qty, _position_over, (
                    after, max_qty, x.position, x.pending_buy if qty > 0 else x.pending_sell,
                    qty, intent.instrument))
            if max_notional is None:
                return _new(RuleResult, (self.name, True, after, max_qty, max_qty - after,
                                          _position_within, (after, max_qty)))
        if max_notional is not None:
            value = x.value()
            if value <= 0 and not reducing:
                return self.result(False, None, max_notional, unpriced, (intent.instrument,))
            notional = after * value * x.multiplier
            passed = notional <= max_notional + 1e-6 or reducing
            if not passed:
                return self.result(False, notional, max_notional, _notional_over, (
                    notional, max_notional, x.position,
                    x.pending_buy if qty > 0 else x.pending_sell, qty, intent.instrument,
                    value, x.multiplier))
            return _new(RuleResult, (self.name, True, notional, max_notional,
                                     max_notional - notional, _notional_within,
                                     (notional, max_notional)))
        return self.result(True, after, None, _position_unlimited, (after,))


def _position_inputs(position: float, pending: float, qty: float, instrument: str) -> str:
    return (f"held {fmt(position)} + open {'buys' if qty > 0 else 'sells'} "
            f"{signed(pending)} + order {signed(qty)} {instrument}")


def _position_over(after: float, max_qty: float, position: float, pending: float, qty: float,
                   instrument: str) -> str:
    shown, limit = fmt2(after, max_qty)
    sign = "-" if position + pending + qty < 0 else ""
    return (f"position would be {sign}{shown}, beyond ±{limit} "
            f"({_position_inputs(position, pending, qty, instrument)})")


def _position_within(after: float, max_qty: float) -> str:
    shown, limit = fmt2(after, max_qty)
    return f"max_position {shown}/{limit}" + (" (reducing)" if after > max_qty else "")


def _notional_over(notional: float, max_notional: float, position: float, pending: float,
                   qty: float, instrument: str, price: float, multiplier: float) -> str:
    shown, limit = fmt2(notional, max_notional)
    return (f"position notional {shown} > {limit} "
            f"({_position_inputs(position, pending, qty, instrument)} at {price:g}"
            f"{times(multiplier)})")


def _notional_within(notional: float, max_notional: float) -> str:
    shown, limit = fmt2(notional, max_notional)
    return (f"max_position notional {shown}/{limit}"
            + (" (reducing)" if notional > max_notional else ""))


def _position_unlimited(after: float) -> str:
    return f"max_position {fmt(after)} (no limit)"


class MaxLeverage(Rule):
    """Blocks when gross exposure after the order, divided by equity after its fee, exceeds the
    limit.

    Like `max_position`, it counts this instrument's open orders on the order's side.
    """

    name = "max_leverage"
    params = ("limit",)

    def __init__(self, enabled: bool, limit: float) -> None:
        super().__init__(enabled)
        self.limit = limit

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        reducing = x.reduces_worst(intent.qty)
        if x.value() <= 0 and not reducing:
            return self.result(False, None, self.limit, unpriced, (intent.instrument,))
        gross_after = x.gross - abs(x.position) * x.mark * x.multiplier \
            + abs(x.worst(intent.qty) + intent.qty) * x.value() * x.multiplier
        equity = x.equity - abs(intent.qty) * x.price * x.multiplier * x.fee_rate
        leverage = gross_after / equity if equity > 0 else float("inf")
        passed = leverage <= self.limit + 1e-12 or reducing
        limit = self.limit
        if not passed:
            return self.result(False, leverage, limit, _leverage_over,
                               (leverage, limit, gross_after, equity))
        if leverage > limit:
            return _new(RuleResult, (self.name, True, leverage, limit, limit - leverage,
                                     _leverage_reduced, (leverage, limit)))
        return _new(RuleResult, (self.name, True, leverage, limit, limit - leverage,
                                 _leverage_within, (leverage, limit)))


def _leverage_over(leverage: float, limit: float, gross: float, equity: float) -> str:
    digits = 2 if f"{leverage:.2f}" != f"{limit:.2f}" else 4
    return (f"{leverage:.{digits}f} > {limit:.{digits}f} (gross {fmt(gross)} / equity "
            f"{fmt(equity)})")


def _leverage_reduced(leverage: float, limit: float) -> str:
    return f"leverage {leverage:.2f} > {limit:.2f} but the order reduces it"


def _leverage_within(leverage: float, limit: float) -> str:
    return f"leverage {leverage:.2f} ≤ {limit:.2f}"


class Cash(Rule):
    """Blocks a buy that, with fees and a slippage buffer, needs more cash than is free.

    Free cash is cash less what approved, unfilled buys have reserved; the
    reserve of an approved buy is exactly the `need` computed here.
    """

    name = "cash"
    params = ("buffer_bps",)

    def __init__(self, enabled: bool, buffer_bps: float, fees: Fees | None = None) -> None:
        super().__init__(enabled)
        self.buffer_bps = buffer_bps
        self.fees = fees
        """The venue's fees; None: the proportional rate of the exposure alone (tests)."""

    def need(self, intent: OrderIntent, x: Exposure) -> float:
        """Cash to set aside for a buy: notional at the buffered price, plus its worst fees.

        The worst fees are the highest rate, the per-unit charge and the
        minimum, on the buffered price: an approved buy never needs more cash
        than this, however it fills.
        """
        if intent.qty <= 0:
            return 0.0
        price = x.price * (1 + self.buffer_bps / 1e4)
        if self.fees is None:
            return intent.qty * price * x.multiplier * (1 + x.fee_rate)
        return intent.qty * price * x.multiplier + self.fees.worst(intent.qty, price,
                                                                    x.multiplier)

    def coerce(self, param: str, value: Any) -> Any:
        if param == "buffer_bps" and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and value <= 0:
            if value == 0:
                return 0.0  # no buffer is a valid choice
            raise ValueError(f"cash.buffer_bps must be zero or a positive number, not {value!r}")
        return super().coerce(param, value)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        free = x.cash - x.reserved
        if intent.qty <= 0:
            return _new(RuleResult, (self.name, True, 0.0, free, free, _cash_free, (free,)))
        if x.price <= 0:
            return self.result(False, None, free, unpriced, (intent.instrument,))
        need = self.need(intent, x)
        if need <= free + 1e-9:
            return _new(RuleResult, (self.name, True, need, free, free - need, _cash_within,
                                     (need, free)))
        return self.result(False, need, free, _cash_short, (
            need, free, x.cash, x.reserved, intent.qty, x.price, self.buffer_bps, x.multiplier))


def _cash_free(free: float) -> str:
    return f"cash {fmt(free)} free"


def _cash_within(need: float, free: float) -> str:
    shown, limit = fmt2(need, free)
    return f"cash {shown} of {limit} free"


def _cash_short(need: float, free: float, cash: float, reserved: float, qty: float,
                price: float, buffer_bps: float, multiplier: float) -> str:
    shown, limit = fmt2(need, free)
    return (f"needs {shown} > {limit} free (cash {fmt(cash)} − reserved "
            f"{fmt(reserved)}; {fmt(qty)} × {price:g}{times(multiplier)} + {buffer_bps:g} bps "
            "buffer + fees)")
