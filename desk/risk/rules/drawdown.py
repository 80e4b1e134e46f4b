"""The drawdown rule: REDUCING lets only risk-reducing orders through, HALTED none."""

from __future__ import annotations

from typing import Any

from desk.orders import OrderIntent, RuleResult
from desk.risk.rules.rule import Exposure, Rule
from desk.risk.rules.wording import fmt, pct, pct2

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""


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
    shown, halt = pct2(dd, limit)
    return f"HALTED (drawdown went beyond {halt}, now {shown}): no new orders"


def _reducing_reduces(dd: float, before: float, after: float) -> str:
    return f"drawdown {pct(dd)} REDUCING, order reduces {fmt(before)} → {fmt(after)}"


def _reducing_adds(dd: float, tolerance: float, before: float, after: float) -> str:
    shown, limit = pct2(dd, tolerance)
    return (f"REDUCING (drawdown {shown}, tolerance {limit}): the order adds risk "
            f"(position {fmt(before)} → {fmt(after)})")


def _drawdown_within(dd: float, tolerance: float) -> str:
    shown, limit = pct2(dd, tolerance)
    return f"drawdown {shown} {'<' if dd < tolerance else '≤'} {limit}"
