"""The risk rules: each a name, an enabled flag, parameters, and a pure check of one intent.

A rule never mutates anything; it reads a `Exposure` computed once per intent
and returns a `RuleResult` with the measured value, the limit, the headroom and
a sentence a person can read without the code.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from desk.orders import OrderIntent, OrderType, RuleResult


@dataclass(frozen=True, slots=True)
class Exposure:
    """Everything a rule may look at for one intent, measured once before the rules run."""

    ts: int
    position: float
    pending: float
    """Signed quantity of this instrument's orders sent but not yet reported done."""
    price: float
    """The price the intent is valued at: its limit, or for a market order the far side of the quote."""
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

    @property
    def before(self) -> float:
        return self.position + self.pending

    def after(self, qty: float) -> float:
        return self.position + self.pending + qty

    def reduces(self, qty: float) -> bool:
        """True when the order brings the instrument's exposure closer to flat without flipping it."""
        before = self.before
        return before != 0 and abs(before + qty) < abs(before) and (before + qty) * before >= 0


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


class Rule:
    """Base of every rule. Subclasses set `name` and implement `check`."""

    name: ClassVar[str] = "rule"
    params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        raise NotImplementedError

    def set_param(self, param: str, value: Any) -> None:
        """Change a limit at run time; only declared parameters can be set."""
        if param not in self.params:
            raise ValueError(f"rule {self.name} has no parameter {param!r} "
                             f"(it has: {', '.join(self.params) or 'none'})")
        current = getattr(self, param)
        if value is not None and isinstance(current, (int, float)) and not isinstance(current, bool):
            value = type(current)(value)
        setattr(self, param, value)

    def limits(self) -> dict[str, Any]:
        return {param: getattr(self, param) for param in self.params}

    def on_approved(self, intent: OrderIntent) -> None:
        """Called once an intent passed every rule (the order-rate rule counts orders here)."""

    def result(self, passed: bool, value: float | None, limit: float | None, message: str,
               headroom: float | None = None) -> RuleResult:
        if headroom is None and value is not None and limit is not None:
            headroom = limit - value
        return RuleResult(self.name, passed, value, limit, headroom, message)


class MaxPosition(Rule):
    """Blocks when the position after the order, counting open orders, exceeds a quantity or notional."""

    name = "max_position"
    params = ("max_qty", "max_notional")

    def __init__(self, enabled: bool, max_qty: float | None, max_notional: float | None,
                 per_instrument: dict[str, tuple[float | None, float | None]]) -> None:
        super().__init__(enabled)
        self.max_qty = max_qty
        self.max_notional = max_notional
        self.per_instrument = per_instrument

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        max_qty, max_notional = self.per_instrument.get(intent.instrument,
                                                        (self.max_qty, self.max_notional))
        after = abs(x.after(intent.qty))
        reducing = x.reduces(intent.qty)
        if max_qty is not None:
            passed = after <= max_qty + 1e-9 or reducing
            if not passed or max_notional is None:
                return self.result(passed, after, max_qty,
                                   f"position {_fmt(after)}/{_fmt(max_qty)}"
                                   + (" (reducing)" if reducing and after > max_qty else ""))
        if max_notional is not None:
            notional = after * x.price * x.multiplier
            passed = notional <= max_notional + 1e-6 or reducing
            return self.result(passed, notional, max_notional,
                               f"position notional {_fmt(notional)}/{_fmt(max_notional)}")
        return self.result(True, after, None, f"position {_fmt(after)} (no limit)")


class MaxLeverage(Rule):
    """Blocks when gross exposure after the order, divided by equity, exceeds the limit."""

    name = "max_leverage"
    params = ("limit",)

    def __init__(self, enabled: bool, limit: float) -> None:
        super().__init__(enabled)
        self.limit = limit

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        unit = x.price * x.multiplier
        gross_after = x.gross - abs(x.position) * x.mark * x.multiplier \
            + abs(x.after(intent.qty)) * unit
        equity = x.equity - abs(intent.qty) * unit * x.fee_rate
        leverage = gross_after / equity if equity > 0 else float("inf")
        passed = leverage <= self.limit + 1e-12 or x.reduces(intent.qty)
        return self.result(passed, leverage, self.limit,
                           f"leverage {leverage:.2f} vs {self.limit:.2f} "
                           f"(gross {_fmt(gross_after)} / equity {_fmt(equity)})")


class MaxDrawdown(Rule):
    """Beyond the tolerance only risk-reducing orders pass (REDUCING); beyond `halt`, none (HALTED)."""

    name = "max_drawdown"
    params = ("tolerance", "halt", "resume_below")

    def __init__(self, enabled: bool, tolerance: float, halt: float | None,
                 resume_below: float | None) -> None:
        super().__init__(enabled)
        self.tolerance = tolerance
        self.halt = halt
        self.resume_below = resume_below

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        dd = x.drawdown
        if x.mode == "HALTED":
            return self.result(False, dd, self.halt or self.tolerance,
                               f"HALTED at drawdown {dd:.1%}: no new orders")
        if x.mode == "REDUCING":
            reduces = x.reduces(intent.qty)
            return self.result(reduces, dd, self.tolerance,
                               f"REDUCING at drawdown {dd:.1%} ≥ {self.tolerance:.1%}: "
                               + ("order reduces risk" if reduces else "order would add risk"))
        return self.result(True, dd, self.tolerance, f"drawdown {dd:.1%} < {self.tolerance:.1%}")


class Cash(Rule):
    """Blocks a buy that, with fees and a slippage buffer, needs more cash than is free."""

    name = "cash"
    params = ("buffer_bps",)

    def __init__(self, enabled: bool, buffer_bps: float) -> None:
        super().__init__(enabled)
        self.buffer_bps = buffer_bps

    def need(self, intent: OrderIntent, x: Exposure) -> float:
        """Cash to set aside for a buy: notional with the buffer, plus fees."""
        if intent.qty <= 0:
            return 0.0
        notional = intent.qty * x.price * x.multiplier * (1 + self.buffer_bps / 1e4)
        return notional * (1 + x.fee_rate)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        free = x.cash - x.reserved
        if intent.qty <= 0:
            return self.result(True, 0.0, free, f"cash {_fmt(free)} free (sell needs none)",
                               headroom=free)
        need = self.need(intent, x)
        passed = need <= free + 1e-9
        return self.result(passed, need, free,
                           f"cash needs {_fmt(need)} of {_fmt(free)} free")


class MaxOrderSize(Rule):
    """Blocks a single order larger than a quantity or notional: the fat-finger check."""

    name = "max_order_size"
    params = ("max_qty", "max_notional")

    def __init__(self, enabled: bool, max_qty: float | None, max_notional: float | None) -> None:
        super().__init__(enabled)
        self.max_qty = max_qty
        self.max_notional = max_notional

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        size = abs(intent.qty)
        if self.max_qty is not None and size > self.max_qty + 1e-9:
            return self.result(False, size, self.max_qty,
                               f"order size {_fmt(size)} > {_fmt(self.max_qty)}")
        notional = size * x.price * x.multiplier
        if self.max_notional is not None:
            passed = notional <= self.max_notional + 1e-6
            return self.result(passed, notional, self.max_notional,
                               f"order notional {_fmt(notional)} vs {_fmt(self.max_notional)}")
        return self.result(True, size, self.max_qty,
                           f"order size {_fmt(size)}"
                           + (f"/{_fmt(self.max_qty)}" if self.max_qty is not None else ""))


class OrderRate(Rule):
    """Blocks when more than `max_orders` were approved in the last `per_seconds` of simulated time."""

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
        passed = count < self.max_orders
        return self.result(passed, count + 1, self.max_orders,
                           f"{count + 1} orders in {self.per_seconds:g}s vs {self.max_orders}")

    def on_approved(self, intent: OrderIntent) -> None:
        self._sent.append(intent.ts)


class PriceBand(Rule):
    """Blocks a limit price further than `pct`% from the mark."""

    name = "price_band"
    params = ("pct",)

    def __init__(self, enabled: bool, pct: float) -> None:
        super().__init__(enabled)
        self.pct = pct

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        if intent.order_type is not OrderType.LIMIT or intent.limit_price is None or x.mark <= 0:
            return self.result(True, None, self.pct, "market order: no price to check")
        away = abs(intent.limit_price / x.mark - 1) * 100
        passed = away <= self.pct + 1e-9
        return self.result(passed, away, self.pct,
                           f"limit {intent.limit_price:g} is {away:.2f}% from mark {x.mark:g} "
                           f"vs band {self.pct:g}%")


class KillSwitch(Rule):
    """The operator's stop: while engaged every new order is blocked."""

    name = "kill_switch"
    params = ("engaged",)

    def __init__(self, enabled: bool, engaged: bool) -> None:
        super().__init__(enabled)
        self.engaged = engaged

    def set_param(self, param: str, value: Any) -> None:
        if param == "engaged":
            self.engaged = bool(value)
            return
        super().set_param(param, value)

    def check(self, intent: OrderIntent, x: Exposure) -> RuleResult:
        if self.engaged:
            return self.result(False, 1.0, 0.0, "kill switch engaged", headroom=0.0)
        return self.result(True, 0.0, 0.0, "kill switch off", headroom=0.0)
