"""The rule protocol: the `Exposure` every rule reads and the `Rule` base every rule extends.

A rule never mutates anything; it reads an `Exposure` computed once per intent
and returns a `RuleResult` with the measured value, the limit, the headroom and
a sentence a person can read without the code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from desk.events import frozen_tuple
from desk.orders import OrderIntent, RuleResult


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
    quote (the mark without one); 0 when the market has given no price yet."""
    mark: float
    """The instrument's mark; 0 when there is none yet."""
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

    def value(self) -> float:
        """The price the position after the order is valued at: the mark, or the order's own
        price when that is higher.

        A market buy pays the ask, so it is valued there; a limit buy far below the market
        leaves the position it adds to worth the mark, not the limit.
        """
        return self.price if self.price > self.mark else self.mark

    def reduces_worst(self, qty: float) -> bool:
        """True when the order moves even that worst-case position closer to flat without
        flipping."""
        before = self.worst(qty)
        return before != 0 and abs(before + qty) < abs(before) and (before + qty) * before >= 0


_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


def unpriced(instrument: str) -> str:
    """The verdict of a rule that must value an order the market has not priced yet."""
    return f"no price for {instrument} yet: the order cannot be valued"


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
