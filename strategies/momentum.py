"""Momentum threshold: the seed's trivial strategy, deliberately mediocre.

Keeps the last `lookback` trade prices; when the return over that window
exceeds +threshold it targets +size, below −threshold it targets −size.
"""

from __future__ import annotations

from collections import deque

from pydantic import Field

from desk.events import Bar, BookDelta, BookSnapshot, Trade
from desk.orders import RejectInfo
from desk.strategy import Params, Strategy
from strategies.working import OrderWorker, Style


class MomentumParams(Params):
    lookback: int = Field(default=20, ge=1)
    """How many trades back the momentum is measured over."""
    threshold: float = Field(default=0.005, gt=0)
    """The return over the window that triggers a position, as a fraction (0.005 = 0.50%)."""
    size: float = Field(default=100, gt=0)
    """The target position, in units, long or short."""
    instrument: str | None = None
    """Trade only this instrument; None: every instrument, each on its own prices."""
    cooldown: int = Field(default=100, ge=0)
    """After risk blocks a target, wait this many trades before asking for the same target again."""
    style: Style = "market"
    """How targets are worked: `market` orders, or `passive` limits at the touch (see
    working.py)."""
    patience_ms: float = Field(default=2_000.0, ge=0)
    """Passive style: cross at market when the target is not reached after this long."""


class Momentum(Strategy):
    """Targets ±size when the momentum over `lookback` trades crosses ±threshold."""

    Params = MomentumParams

    def on_start(self) -> None:
        p: MomentumParams = self.params  # type: ignore[assignment]
        self.windows: dict[str, deque[float]] = {}
        self.lookback = p.lookback
        self.threshold = p.threshold
        self.size = p.size
        self.only = p.instrument
        self.cooldown = p.cooldown
        self.blocked: dict[str, tuple[float, int]] = {}
        self.seen = 0
        self.worker = (OrderWorker(self.ctx, p.style, p.patience_ms) if p.style == "passive"
                       else None)

    def on_trade(self, trade: Trade) -> None:
        self._observe(trade.instrument, trade.price, "trades")

    def on_bar(self, bar: Bar) -> None:
        self._observe(bar.instrument, bar.close, "bars")

    def on_book(self, book: BookSnapshot | BookDelta) -> None:
        if self.worker is not None:
            self.worker.work(book.instrument)

    def on_reject(self, reject: RejectInfo) -> None:
        if self.worker is not None:
            self.worker.blocked(reject.instrument)
        position = self.ctx.portfolio.position(reject.instrument)
        self.blocked[reject.instrument] = (position + reject.qty, self.seen)

    def _observe(self, symbol: str, price: float, what: str) -> None:
        if self.only is not None and symbol != self.only:
            return
        self.seen += 1
        window = self.windows.get(symbol)
        if window is None:
            window = self.windows[symbol] = deque(maxlen=self.lookback + 1)
        window.append(price)
        if len(window) <= self.lookback:
            return
        momentum = price / window[0] - 1.0
        threshold = self.threshold
        if momentum > threshold:
            want = self.size
        elif momentum < -threshold:
            want = -self.size
        else:
            return
        position = self.ctx.portfolio.position(symbol)
        if (want > 0 and position > 0) or (want < 0 and position < 0):
            return
        blocked = self.blocked.get(symbol)
        if blocked is not None and blocked[0] == want and self.seen - blocked[1] < self.cooldown:
            return
        comparison = ">" if want > 0 else "<"
        edge = threshold if want > 0 else -threshold
        digits = 2  # as many as it takes to print the two apart
        while f"{momentum:+.{digits}%}" == f"{edge:+.{digits}%}" and digits < 8:
            digits += 1
        (self.worker or self.ctx).target(
            symbol, want,
            f"momentum {momentum:+.{digits}%} over {self.lookback} {what} {comparison} "
            f"threshold {edge:+.{digits}%}: target {want:+,g}",
            momentum=round(momentum, 8), threshold=threshold, price=price)
