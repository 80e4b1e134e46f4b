"""A test strategy that trades at random: targets, market and limit orders, cancels, on every
event kind."""

from __future__ import annotations

import random

from pydantic import Field

from desk.events import Bar, BookDelta, BookSnapshot, Quote, Trade
from desk.strategy import Params, Strategy


class RandomParams(Params):
    seed: int = 0
    act_prob: float = Field(default=0.2, ge=0, le=1)
    max_qty: float = Field(default=500, gt=0)
    limit_prob: float = Field(default=0.3, ge=0, le=1)
    cancel_prob: float = Field(default=0.2, ge=0, le=1)


class RandomTrader(Strategy):
    """Random order flow: the property tests use it to hunt for broken invariants."""

    Params = RandomParams

    def on_start(self) -> None:
        self.rng = random.Random(self.params.seed)  # type: ignore[attr-defined]

    def _act(self, symbol: str) -> None:
        p: RandomParams = self.params  # type: ignore[assignment]
        rng = self.rng
        if rng.random() >= p.act_prob:
            return
        mark = self.ctx.market.mark(symbol)
        if mark <= 0:
            return
        roll = rng.random()
        open_orders = self.ctx.open_orders(symbol)
        if open_orders and roll < p.cancel_prob:
            self.ctx.cancel(rng.choice(open_orders).order_id, "random cancel")
        elif roll < p.cancel_prob + p.limit_prob:
            qty = rng.choice([-1, 1]) * rng.randint(1, int(p.max_qty))
            offset = rng.uniform(-0.01, 0.01)
            self.ctx.order(symbol, qty, "random limit", limit=mark * (1 + offset),
                           tif=rng.choice(["GTC", "IOC"]))
        elif roll < 0.8:
            self.ctx.target(symbol, rng.randint(-int(p.max_qty), int(p.max_qty)), "random target")
        else:
            self.ctx.order(symbol, rng.choice([-1, 1]) * rng.randint(1, int(p.max_qty)),
                           "random market order")

    def on_trade(self, trade: Trade) -> None:
        self._act(trade.instrument)

    def on_quote(self, quote: Quote) -> None:
        self._act(quote.instrument)

    def on_book(self, book: BookSnapshot | BookDelta) -> None:
        self._act(book.instrument)

    def on_bar(self, bar: Bar) -> None:
        self._act(bar.instrument)
