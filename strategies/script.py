"""A scripted strategy: orders at fixed offsets from the start, to put the risk engine through its
paces.

Each step fires once, on the first trade at or after its time, and may send a
burst of identical orders. It is how `sessions/risk_tour.toml` makes every rule
fire on purpose: no signal logic hides which rule answered what.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from desk.events import Trade
from desk.strategy import Params, Strategy
from desk.timeutil import parse_offset_ns


class Step(BaseModel):
    """One scripted action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str
    """An offset from the first trade, such as "+90s" or "+15m"."""
    instrument: str | None = None
    """Default: the instrument of the trade that triggers the step."""
    qty: float | None = None
    """Send an order of this signed quantity."""
    target: float | None = None
    """Or aim for this position (one market order for the difference)."""
    limit_pct: float | None = None
    """Make it a limit order this many percent from the mark (+ above, − below)."""
    repeat: int = Field(default=1, ge=1)
    """Send the order this many times at once (a burst, for the order-rate rule)."""
    reason: str = "scripted step"

    @model_validator(mode="after")
    def _valid(self) -> Step:
        if parse_offset_ns(self.at) is None:
            raise ValueError(f"at: {self.at!r} is not an offset like \"+90s\"")
        if (self.qty is None) == (self.target is None):
            raise ValueError("give qty or target")
        return self


class ScriptParams(Params):
    steps: list[Step] = Field(min_length=1)


class Script(Strategy):
    """Plays `steps` in time order; each step's reason is journaled as its signal."""

    Params = ScriptParams

    def on_start(self) -> None:
        p: ScriptParams = self.params  # type: ignore[assignment]
        self.steps = sorted(((parse_offset_ns(step.at) or 0, step) for step in p.steps),
                            key=lambda item: item[0])
        self.start: int | None = None
        self.next = 0

    def on_trade(self, trade: Trade) -> None:
        if self.start is None:
            self.start = trade.ts
        while self.next < len(self.steps) and trade.ts >= self.start + self.steps[self.next][0]:
            offset, step = self.steps[self.next]
            self.next += 1
            self._play(step, step.instrument or trade.instrument, offset)

    def _play(self, step: Step, symbol: str, offset: int) -> None:
        ctx = self.ctx
        reason = f"{step.reason} (script step at {step.at})"
        if step.target is not None:
            ctx.target(symbol, step.target, reason, step_at=step.at, target=step.target)
            return
        assert step.qty is not None
        limit = None
        if step.limit_pct is not None:
            limit = ctx.market.mark(symbol) * (1 + step.limit_pct / 100)
        for n in range(step.repeat):
            ctx.order(symbol, step.qty, reason, limit=limit, step_at=step.at, burst=n + 1)
