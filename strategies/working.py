"""How a strategy works its target position: at market, or passively at the touch with a deadline.

The same signal can be executed well or badly. `market` pays the spread and
any slippage at once; `passive` joins the best price on its own side, re-pegs
when the touch moves away, and crosses at market once `patience_ms` has passed
since the target changed, so a passive order never waits for ever.
"""

from __future__ import annotations

from typing import Any, Literal

from desk.strategy import Context

Style = Literal["market", "passive"]


class OrderWorker:
    """Turns target positions into orders in one of two styles; call `work()` on book updates."""

    def __init__(self, ctx: Context, style: Style, patience_ms: float) -> None:
        self.ctx = ctx
        self.style = style
        self.patience_ns = round(patience_ms * 1_000_000)
        self.wanted: dict[str, tuple[float, str, dict[str, Any]]] = {}
        self.since: dict[str, int] = {}
        self.quiet_until: dict[str, int] = {}
        self.retry: set[str] = set()

    def target(self, symbol: str, qty: float, reason: str, **evidence: Any) -> None:
        """Ask for a position of `qty`; a new target restarts the patience clock."""
        previous = self.wanted.get(symbol)
        self.wanted[symbol] = (qty, reason, evidence)
        if previous is None or previous[0] != qty:
            self.since[symbol] = self.ctx.now
            if self.style == "market":
                self.retry.add(symbol)
        self.work(symbol)

    def blocked(self, symbol: str) -> None:
        """Risk blocked our order: do not ask again for one patience period."""
        self.quiet_until[symbol] = self.ctx.now + self.patience_ns
        self.retry.add(symbol)

    def work(self, symbol: str) -> None:
        """Send what the target needs now: market at once (again after a block), or passive."""
        if symbol not in self.wanted:
            return
        ctx = self.ctx
        now = ctx.now
        if now < self.quiet_until.get(symbol, 0):
            return
        qty, reason, evidence = self.wanted[symbol]
        if self.style == "market":
            if symbol in self.retry:
                self.retry.discard(symbol)
                ctx.target(symbol, qty, reason, **evidence)
            return
        late = now - self.since[symbol] >= self.patience_ns
        working = ctx.open_orders(symbol)
        if working:
            for order in working:
                if order.limit_price is None:
                    continue
                touch = ctx.market.bid(symbol) if order.qty > 0 else ctx.market.ask(symbol)
                if late or order.limit_price != touch:
                    ctx.cancel(order.order_id, "re-peg: the touch moved" if not late
                               else "patience over: cross the spread")
            return
        if late:
            ctx.target(symbol, qty, reason + " (patience over: at market)", **evidence)
            return
        position = ctx.portfolio.position(symbol)
        if qty == position:
            return
        touch = ctx.market.bid(symbol) if qty > position else ctx.market.ask(symbol)
        if touch > 0:
            ctx.target(symbol, qty, reason + f" (passive at {touch:g})", limit=touch, **evidence)
