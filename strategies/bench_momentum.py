"""The benchmark strategy, the same in every engine compared: 20-trade momentum, ±100 on ±0.05%.

Keeps the previous `lookback` trade prices per instrument; momentum is
p[i] / p[i - lookback] - 1. Above +threshold with a position ≤ 0 it targets
+size, below -threshold with a position ≥ 0 it targets -size: one market order
for the difference. Kept minimal on purpose so `desk bench` measures the desk.
"""

from __future__ import annotations

from collections import deque

from pydantic import Field

from desk.events import Trade
from desk.strategy import Params, Strategy


class BenchParams(Params):
    lookback: int = Field(default=20, ge=1)
    """How many trades back the momentum is measured over."""
    threshold: float = Field(default=0.0005, gt=0)
    """The momentum that triggers a target, as a fraction (0.0005 = 0.05%)."""
    size: float = Field(default=100, gt=0)
    """The target position, in units, long or short."""


class BenchMomentum(Strategy):
    """Targets ±size when the momentum over `lookback` trades crosses ±threshold."""

    Params = BenchParams

    def on_start(self) -> None:
        p: BenchParams = self.params  # type: ignore[assignment]
        self.lookback = p.lookback
        self.threshold = p.threshold
        self.size = p.size
        self.windows: dict[str, deque[float]] = {}
        self.position = self.ctx.portfolio.position
        self.target = self.ctx.target

    def on_trade(self, trade: Trade) -> None:
        symbol = trade.instrument
        price = trade.price
        window = self.windows.get(symbol)
        if window is None:
            window = self.windows[symbol] = deque(maxlen=self.lookback + 1)
        window.append(price)
        if len(window) <= self.lookback:
            return
        momentum = price / window[0] - 1.0
        threshold = self.threshold
        if momentum > threshold:
            if self.position(symbol) <= 0:
                self._go(symbol, self.size, momentum, price)
        elif momentum < -threshold and self.position(symbol) >= 0:
            self._go(symbol, -self.size, momentum, price)

    def _go(self, symbol: str, want: float, momentum: float, price: float) -> None:
        self.target(symbol, want, f"momentum {momentum:+.4%} over {self.lookback} trades crosses "
                    f"{'+' if want > 0 else '-'}{self.threshold:.4%}: target {want:+g}",
                    momentum=round(momentum, 10), price=price)
