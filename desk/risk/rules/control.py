"""The controls of the flow of orders: the order-rate throttle and the operator's kill switch."""

from __future__ import annotations

from collections import deque
from typing import Any

from desk.orders import OrderIntent, RuleResult
from desk.risk.rules.rule import Exposure, Rule

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


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
        # rounded, not truncated: 4.1 * 1e9 is 4,099,999,999.9999995, and the window 4.1 s
        horizon = ts - round(self.per_seconds * 1e9)
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
