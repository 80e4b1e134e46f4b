"""The risk rules: each a name, an enabled flag, parameters, and a pure check of one intent.

A rule never mutates anything; it reads a `Exposure` computed once per intent
and returns a `RuleResult` with the measured value, the limit, the headroom and
a sentence a person can read without the code.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from desk.events import frozen_tuple
from desk.execution.costs import Fees
from desk.figures import num
from desk.orders import OrderIntent, OrderType, RuleResult


@frozen_tuple
class Exposure(NamedTuple):
    """Everything a rule may look at for one intent, measured once before the rules run."""

    ts: int
    position: float
    pending: float
    """Signed quantity of this instrument's orders sent but not yet reported done."""
    pending_buy: float
    """The buys among them (≥ 0)."""
    pending_sell: float
    """The sells among them (≤ 0)."""
    price: float
    """The price the intent is valued at: its limit, or for a market order the far side of the
    quote."""
    mark: float
    multiplier: float
    equity: float
    gross: float
    cash: float
    reserved: float
    """Cash set aside for buys already approved and not yet filled."""
    fee_rate: float
    drawdown: float
    mode: str

    def worst(self, qty: float) -> float:
        """Before the order, the position furthest in the order's direction that open orders
        allow."""
        return self.position + (self.pending_buy if qty > 0 else self.pending_sell)

    def reduces_worst(self, qty: float) -> bool:
        """True when the order moves even that worst-case position closer to flat without
        flipping."""
        before = self.worst(qty)
        return before != 0 and abs(before + qty) < abs(before) and (before + qty) * before >= 0


_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:,.4g}"
    return num(float(text)) if "e" in text else text  # four significant digits, never 9e-05


def _fmt2(value: float, limit: float) -> tuple[str, str]:
    """Both numbers as `_fmt` writes them, with more digits when that would print them equal.

    A verdict must never read "position 1,000 > 1,000" (1,000.4 against 1,000).
    """
    return _apart(value, limit, _fmt, lambda x, digits: f"{x:,.{digits}f}", 1)


def _pct2(value: float, limit: float) -> tuple[str, str]:
    """Two fractions as `_pct` writes them, with more digits when they would print equal."""
    return _apart(value, limit, _pct, lambda x, digits: f"{x * 100:.{digits}f}%", 2)


def _apart(value: float, limit: float, short: Callable[[float], str],
           wide: Callable[[float, int], str], digits: int) -> tuple[str, str]:
    """`short` of both, or `wide` with the fewest digits from `digits` on that tells unequal
    numbers apart."""
    shown = short(value), short(limit)
    while shown[0] == shown[1] and value != limit and digits < 10:
        shown = wide(value, digits), wide(limit, digits)
        digits += 1
    return shown


class Rule:
    """Base of every rule. Subclasses set `name` and implement `check`."""

    name: ClassVar[str] = "rule"
    params: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    """Parameters that may be set to None (no limit)."""
    fractions: ClassVar[tuple[str, ...]] = ()
    """Parameters that are fractions in (0, 1]."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        raise NotImplementedError

    def set_param(self, param: str, value: Any) -> None:
        """Change a limit at run time; only declared parameters, only valid values."""
        setattr(self, param, self.coerce(param, value))

    def coerce(self, param: str, value: Any) -> Any:
        """`value` as parameter `param` holds it; ValueError naming the rule if it cannot be."""
        if param not in self.params:
            raise ValueError(f"rule {self.name} has no parameter {param!r} "
                             f"(it has: {', '.join(self.params) or 'none'})")
        if value is None:
            if param not in self.optional:
                raise ValueError(f"{self.name}.{param} cannot be removed (set a number)")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.name}.{param} must be a number, not {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{self.name}.{param} must be a positive number, not {value!r}")
        if param in self.fractions and value > 1:
            raise ValueError(f"{self.name}.{param} is a fraction in (0, 1], not {value!r}")
        if isinstance(getattr(self, param), int):
            if value != int(value):
                raise ValueError(f"{self.name}.{param} must be a whole number, not {value!r}")
            return int(value)
        return float(value)

    def limits(self) -> dict[str, Any]:
        return {param: getattr(self, param) for param in self.params}

    def on_approved(self, intent: OrderIntent) -> None:
        """Called once an intent passed every rule (the order-rate rule counts orders here)."""

    def result(self, passed: bool, value: float | None, limit: float | None,
               message: str | Callable[..., str], args: tuple[Any, ...] = (),
               headroom: float | None = None) -> RuleResult:
        """The verdict. `message` is the sentence, or a module-level function of `args` that
        makes it when someone reads it (the journal's writer, mostly, in another process)."""
        if headroom is None and value is not None and limit is not None:
            headroom = limit - value
        return _new(RuleResult, (self.name, passed, value, limit, headroom, message, args))


def _pct(fraction: float) -> str:
    """A fraction as a short percentage: 0.1 → "10%", 0.031 → "3.1%"."""
    return f"{fraction * 100:.1f}".removesuffix(".0") + "%"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _fmt(value)


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
            notional = after * x.price * x.multiplier
            passed = notional <= max_notional + 1e-6 or reducing
            if not passed:
                return self.result(False, notional, max_notional, _notional_over, (
                    notional, max_notional, x.position,
                    x.pending_buy if qty > 0 else x.pending_sell, qty, intent.instrument,
                    x.price))
            return _new(RuleResult, (self.name, True, notional, max_notional,
                                     max_notional - notional, _notional_within,
                                     (notional, max_notional)))
        return self.result(True, after, None, _position_unlimited, (after,))


def _position_inputs(position: float, pending: float, qty: float, instrument: str) -> str:
    return (f"held {_fmt(position)} + open {'buys' if qty > 0 else 'sells'} "
            f"{_signed(pending)} + order {_signed(qty)} {instrument}")


def _position_over(after: float, max_qty: float, position: float, pending: float, qty: float,
                   instrument: str) -> str:
    shown, limit = _fmt2(after, max_qty)
    sign = "-" if position + pending + qty < 0 else ""
    return (f"position would be {sign}{shown}, beyond ±{limit} "
            f"({_position_inputs(position, pending, qty, instrument)})")


def _position_within(after: float, max_qty: float) -> str:
    shown, limit = _fmt2(after, max_qty)
    return f"max_position {shown}/{limit}" + (" (reducing)" if after > max_qty else "")


def _notional_over(notional: float, max_notional: float, position: float, pending: float,
                   qty: float, instrument: str, price: float) -> str:
    shown, limit = _fmt2(notional, max_notional)
    return (f"position notional {shown} > {limit} "
            f"({_position_inputs(position, pending, qty, instrument)} at {price:g})")


def _notional_within(notional: float, max_notional: float) -> str:
    shown, limit = _fmt2(notional, max_notional)
    return (f"max_position notional {shown}/{limit}"
            + (" (reducing)" if notional > max_notional else ""))


def _position_unlimited(after: float) -> str:
    return f"max_position {_fmt(after)} (no limit)"


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
        unit = x.price * x.multiplier
        gross_after = x.gross - abs(x.position) * x.mark * x.multiplier \
            + abs(x.worst(intent.qty) + intent.qty) * unit
        equity = x.equity - abs(intent.qty) * unit * x.fee_rate
        leverage = gross_after / equity if equity > 0 else float("inf")
        reducing = x.reduces_worst(intent.qty)
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
    return (f"{leverage:.{digits}f} > {limit:.{digits}f} (gross {_fmt(gross)} / equity "
            f"{_fmt(equity)})")


def _leverage_reduced(leverage: float, limit: float) -> str:
    return f"leverage {leverage:.2f} > {limit:.2f} but the order reduces it"


def _leverage_within(leverage: float, limit: float) -> str:
    return f"leverage {leverage:.2f} ≤ {limit:.2f}"


class MaxDrawdown(Rule):
    """Beyond the tolerance only risk-reducing orders pass (REDUCING); beyond `halt`, none (HALTED).

    The rule reads the mode the risk engine set on the last mark, so the
    verdict and the mode shown in the journal can never disagree.
    """

    name = "max_drawdown"
    params = ("tolerance", "halt", "resume_below")
    optional = ("halt", "resume_below")
    fractions = ("tolerance", "halt", "resume_below")

    def __init__(self, enabled: bool, tolerance: float, halt: float | None,
                 resume_below: float | None) -> None:
        super().__init__(enabled)
        self.tolerance = tolerance
        self.halt = halt
        self.resume_below = resume_below

    def set_param(self, param: str, value: Any) -> None:
        """As for any rule, and the three limits stay in order (as the session file requires)."""
        value = self.coerce(param, value)
        limits = {"tolerance": self.tolerance, "halt": self.halt,
                  "resume_below": self.resume_below, param: value}
        tolerance, halt, resume = limits["tolerance"], limits["halt"], limits["resume_below"]
        if resume is not None and resume >= tolerance:
            raise ValueError(f"max_drawdown.resume_below ({resume:g}) must be below tolerance "
                             f"({tolerance:g}), or the mode flips back and forth on every tick")
        if halt is not None and halt < tolerance:
            raise ValueError(f"max_drawdown.halt ({halt:g}) must be at least tolerance "
                             f"({tolerance:g}): REDUCING comes before HALTED")
        setattr(self, param, value)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        dd = x.drawdown
        tolerance = self.tolerance
        if x.mode == "HALTED":
            limit = self.halt if self.halt is not None else tolerance
            return self.result(False, dd, limit, _halted, (dd, limit))
        if x.mode == "REDUCING":
            before = x.worst(intent.qty)
            after = before + intent.qty
            if x.reduces_worst(intent.qty):
                return self.result(True, dd, tolerance, _reducing_reduces, (dd, before, after))
            return self.result(False, dd, tolerance, _reducing_adds,
                               (dd, tolerance, before, after))
        return _new(RuleResult, (self.name, True, dd, tolerance, tolerance - dd, _drawdown_within,
                                 (dd, tolerance)))


def _halted(dd: float, limit: float) -> str:
    shown, halt = _pct2(dd, limit)
    return f"HALTED (drawdown went beyond {halt}, now {shown}): no new orders"


def _reducing_reduces(dd: float, before: float, after: float) -> str:
    return f"drawdown {_pct(dd)} REDUCING, order reduces {_fmt(before)} → {_fmt(after)}"


def _reducing_adds(dd: float, tolerance: float, before: float, after: float) -> str:
    shown, limit = _pct2(dd, tolerance)
    return (f"REDUCING (drawdown {shown}, tolerance {limit}): the order adds risk "
            f"(position {_fmt(before)} → {_fmt(after)})")


def _drawdown_within(dd: float, tolerance: float) -> str:
    shown, limit = _pct2(dd, tolerance)
    return f"drawdown {shown} {'<' if dd < tolerance else '≤'} {limit}"


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
        if param == "buffer_bps" and value == 0 and not isinstance(value, bool):
            return 0.0  # no buffer is a valid choice
        return super().coerce(param, value)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        free = x.cash - x.reserved
        if intent.qty <= 0:
            return _new(RuleResult, (self.name, True, 0.0, free, free, _cash_free, (free,)))
        need = self.need(intent, x)
        if need <= free + 1e-9:
            return _new(RuleResult, (self.name, True, need, free, free - need, _cash_within,
                                     (need, free)))
        return self.result(False, need, free, _cash_short, (
            need, free, x.cash, x.reserved, intent.qty, x.price, self.buffer_bps))


def _cash_free(free: float) -> str:
    return f"cash {_fmt(free)} free"


def _cash_within(need: float, free: float) -> str:
    shown, limit = _fmt2(need, free)
    return f"cash {shown} of {limit} free"


def _cash_short(need: float, free: float, cash: float, reserved: float, qty: float,
                price: float, buffer_bps: float) -> str:
    shown, limit = _fmt2(need, free)
    return (f"needs {shown} > {limit} free (cash {_fmt(cash)} − reserved "
            f"{_fmt(reserved)}; {_fmt(qty)} × {price:g} + {buffer_bps:g} bps buffer + fees)")


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
            if notional > max_notional + 1e-6:
                return self.result(False, notional, max_notional, _order_notional_over,
                                   (notional, max_notional, size, x.price))
            return self.result(True, notional, max_notional, _order_notional_within,
                               (notional, max_notional))
        return self.result(True, size, max_qty, _size_within, (size, max_qty))


def _size_over(size: float, max_qty: float) -> str:
    shown, limit = _fmt2(size, max_qty)
    return f"order size {shown} > {limit}"


def _order_notional_over(notional: float, max_notional: float, size: float, price: float) -> str:
    shown, limit = _fmt2(notional, max_notional)
    return f"order notional {shown} > {limit} ({_fmt(size)} × {price:g})"


def _order_notional_within(notional: float, max_notional: float) -> str:
    return f"order notional {_fmt(notional)}/{_fmt(max_notional)}"


def _size_within(size: float, max_qty: float | None) -> str:
    return f"order size {_fmt(size)}" + (f"/{_fmt(max_qty)}" if max_qty is not None else "")


class OrderRate(Rule):
    """Blocks when `max_orders` were already approved in the last `per_seconds` of simulated time.

    Every approved order is counted, also while the rule is switched off, so
    switching it back on judges the real recent rate.
    """

    name = "order_rate"
    params = ("max_orders", "per_seconds")

    def __init__(self, enabled: bool, max_orders: int, per_seconds: float) -> None:
        super().__init__(enabled)
        self.max_orders = max_orders
        self.per_seconds = per_seconds
        self._sent: deque[int] = deque()

    def _count(self, ts: int) -> int:
        horizon = ts - int(self.per_seconds * 1e9)
        sent = self._sent
        while sent and sent[0] <= horizon:
            sent.popleft()
        return len(sent)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        count = self._count(intent.ts)
        max_orders, per_seconds = self.max_orders, self.per_seconds
        if count < max_orders:
            return _new(RuleResult, (self.name, True, count + 1, max_orders,
                                     max_orders - (count + 1), _rate_within,
                                     (count, max_orders, per_seconds)))
        return self.result(False, count + 1, max_orders, _rate_over,
                           (count, max_orders, per_seconds))

    def on_approved(self, intent: OrderIntent) -> None:
        self._count(intent.ts)  # what left the window goes: the books stay bounded while off
        self._sent.append(intent.ts)


def _rate_within(count: int, max_orders: int, per_seconds: float) -> str:
    return f"order_rate {count + 1}/{max_orders} per {per_seconds:g}s"


def _rate_over(count: int, max_orders: int, per_seconds: float) -> str:
    return (f"{count + 1} orders > {max_orders} per {per_seconds:g}s ({count} already sent in "
            "the window)")


class PriceBand(Rule):
    """Blocks a limit price further than `pct`% from the mark."""

    name = "price_band"
    params = ("pct",)

    def __init__(self, enabled: bool, pct: float) -> None:
        super().__init__(enabled)
        self.pct = pct

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        if intent.order_type is not OrderType.LIMIT or intent.limit_price is None or x.mark <= 0:
            return _new(RuleResult, (self.name, True, None, self.pct, None,
                                     "price_band n/a (market order)", ()))
        away = abs(intent.limit_price / x.mark - 1) * 100
        pct = self.pct
        if away <= pct + 1e-9:
            return self.result(True, away, pct, _band_within, (away, pct))
        return self.result(False, away, pct, _band_over, (intent.limit_price, away, x.mark, pct))


def _band_within(away: float, pct: float) -> str:
    return f"price_band {away:.2f}%/{pct:g}%"


def _band_over(limit: float, away: float, mark: float, pct: float) -> str:
    return f"limit {limit:g} is {away:.2f}% from mark {mark:g} > {pct:g}%"


class KillSwitch(Rule):
    """The operator's stop: while engaged every new order is blocked (cancels still pass)."""

    name = "kill_switch"
    params = ("engaged",)

    def __init__(self, enabled: bool, engaged: bool) -> None:
        super().__init__(enabled)
        self.engaged = engaged

    def coerce(self, param: str, value: Any) -> Any:
        if param == "engaged":
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in ("1", "true", "on", "yes", "0", "false", "off", "no"):
                    raise ValueError(f"kill_switch.engaged takes true or false, not {value!r}")
                return text in ("1", "true", "on", "yes")
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise ValueError(f"kill_switch.engaged takes true or false, not {value!r}")
            return bool(value)
        return super().coerce(param, value)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        if self.engaged:
            return self.result(False, 1.0, 0.0, "kill switch engaged: no new orders",
                               headroom=0.0)
        return _new(RuleResult, (self.name, True, 0.0, 0.0, 0.0, "kill switch not engaged", ()))
