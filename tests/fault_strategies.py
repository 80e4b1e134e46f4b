"""Strategies that misbehave on purpose, for the fault and strict-mode tests."""

from __future__ import annotations

from typing import Any

from desk.strategy import Strategy


class Cheat(Strategy):
    """On its 10th trade it reaches past the read-only view and adds to the portfolio's cash."""

    def on_start(self) -> None:
        self.trades = 0

    def on_trade(self, trade: Any) -> None:
        self.trades += 1
        if self.trades == 10:
            self.ctx.portfolio._p.cash += 1_000.0  # type: ignore[attr-defined]


class BuysThenBreaks(Strategy):
    """Buys 20 on its first trade, then raises on every trade once it holds a position."""

    def on_start(self) -> None:
        self.asked = False

    def on_trade(self, trade: Any) -> None:
        if not self.asked:
            self.asked = True
            self.ctx.target(trade.instrument, 20, "enter")
        elif self.ctx.portfolio.position(trade.instrument) != 0:
            raise ValueError(f"bad tick at {trade.price}")
