"""The `[risk]` section: each rule's switch and limits, and the timed changes of its schedule."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from desk.config.model import Fraction, Model, NonNegFloat, PositiveFloat
from desk.timeutil import is_iso_time, ns_range_error, parse_iso_ns, parse_offset_ns

NO_LIMIT = "none"
"""How a session file removes an optional limit (`value = "none"`): TOML has no null."""


def limit_value(value: Any) -> Any:
    """A limit as the session file writes it, as the rules take it: `"none"` is no limit (None)."""
    return None if value == NO_LIMIT else value


Limit = Annotated[PositiveFloat | None, BeforeValidator(limit_value)]
"""A limit a rule may go without: a positive number, or `"none"`."""
ShareLimit = Annotated[Fraction | None, BeforeValidator(limit_value)]
"""A fraction a rule may go without: above 0 and at most 1, or `"none"`."""


class PositionLimit(Model):
    max_qty: Limit = None
    max_notional: Limit = None


class MaxPositionRule(Model):
    enabled: bool = True
    max_qty: Limit = 1_000.0
    max_notional: Limit = None
    per_instrument: dict[str, PositionLimit] = Field(default_factory=dict)


class MaxLeverageRule(Model):
    enabled: bool = True
    limit: PositiveFloat = 2.0


class MaxDrawdownRule(Model):
    enabled: bool = True
    tolerance: Fraction = 0.10
    """Beyond this drawdown only risk-reducing orders pass (mode REDUCING)."""
    halt: ShareLimit = None
    """Beyond this drawdown every new order is blocked (mode HALTED)."""
    resume_below: ShareLimit = None
    """Back to ACTIVE when drawdown falls below this; None: only an explicit reset."""

    @model_validator(mode="after")
    def _ordered(self) -> MaxDrawdownRule:
        # resume_below ≥ tolerance would switch REDUCING ↔ ACTIVE on every mark
        if self.resume_below is not None and self.resume_below >= self.tolerance:
            raise ValueError(f"resume_below ({self.resume_below:g}) must be below tolerance "
                             f"({self.tolerance:g}), or the mode flips back and forth on "
                             "every tick")
        if self.halt is not None and self.halt < self.tolerance:
            raise ValueError(f"halt ({self.halt:g}) must be at least tolerance "
                             f"({self.tolerance:g}): REDUCING comes before HALTED")
        return self


class CashRule(Model):
    enabled: bool = True
    buffer_bps: NonNegFloat = 10.0
    """Slippage allowance reserved on top of the price of a buy."""


class MaxOrderSizeRule(Model):
    enabled: bool = True
    max_qty: Limit = None
    max_notional: Limit = None


class OrderRateRule(Model):
    enabled: bool = True
    max_orders: int = Field(default=10, gt=0)
    per_seconds: PositiveFloat = 1.0


class PriceBandRule(Model):
    enabled: bool = True
    pct: PositiveFloat = 5.0
    """A limit price further than this percentage from the mark is blocked."""


class KillSwitchRule(Model):
    enabled: bool = True
    engaged: bool = False


class ScheduleItem(Model):
    """A timed change: at `at`, set `rule.param = value` and/or switch `rule` on or off."""

    at: int | str
    """Epoch ns, an ISO time, or an offset from the first event such as `"+90s"`."""
    rule: str
    param: str | None = None
    value: Any = None
    enabled: bool | None = None

    @field_validator("at")
    @classmethod
    def _when(cls, value: int | str) -> int | str:
        offset = parse_offset_ns(value) if isinstance(value, str) else None
        if isinstance(value, int):
            ns = value
        elif offset is not None:
            ns = offset
        elif is_iso_time(value):
            ns = parse_iso_ns(value)
        else:
            raise ValueError(f"{value!r} is neither an ISO time nor an offset like \"+90s\" "
                             "or \"+2m10s\"")
        problem = ns_range_error(ns)
        if problem:
            raise ValueError(f"{value!r} is {problem}")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> ScheduleItem:
        if self.param is None and self.enabled is None:
            raise ValueError("give `param` and `value`, or `enabled`")
        if self.param is not None and self.value is None:
            raise ValueError(f"`param = {self.param!r}` needs a `value` (the new limit, or "
                             f"\"{NO_LIMIT}\" to remove it)")
        return self


class RiskConfig(Model):
    max_position: MaxPositionRule = MaxPositionRule()
    max_leverage: MaxLeverageRule = MaxLeverageRule()
    max_drawdown: MaxDrawdownRule = MaxDrawdownRule()
    cash: CashRule = CashRule()
    max_order_size: MaxOrderSizeRule = MaxOrderSizeRule()
    order_rate: OrderRateRule = OrderRateRule()
    price_band: PriceBandRule = PriceBandRule()
    kill_switch: KillSwitchRule = KillSwitchRule()
    schedule: list[ScheduleItem] = Field(default_factory=list)
