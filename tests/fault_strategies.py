"""Strategies that misbehave on purpose, for the fault and strict-mode tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar

from desk.strategy import Context, Params, Strategy


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


class AskParams(Params):
    ask: str
    """Which impossible order to ask for: a key of `AsksBadly.ASKS`."""


class AsksBadly(Strategy):
    """On its first trade asks for an order no order can be made of, as `params.ask` says."""

    Params = AskParams
    ASKS: ClassVar[dict[str, Callable[[Context, str], object]]] = {
        "nan qty": lambda ctx, s: ctx.order(s, float("nan"), "nan"),
        "inf target": lambda ctx, s: ctx.target(s, float("inf"), "inf"),
        "text qty": lambda ctx, s: ctx.order(s, "5", "text"),  # type: ignore[arg-type]
        "nan limit": lambda ctx, s: ctx.target(s, 5, "limit", limit=float("nan")),
        "reason 42": lambda ctx, s: ctx.order(s, 5, 42),  # type: ignore[arg-type]
        "reason None": lambda ctx, s: ctx.target(s, 5, None),  # type: ignore[arg-type]
        "tif FOK": lambda ctx, s: ctx.order(s, 5, "fok", limit=100.0, tif="FOK"),
    }

    def on_start(self) -> None:
        self.asked = False

    def on_trade(self, trade: Any) -> None:
        if not self.asked:
            self.asked = True
            self.ASKS[self.params.ask](self.ctx, trade.instrument)  # type: ignore[attr-defined]


class OrdersInInit(Strategy):
    """Asks for a position in its constructor, before the run has started."""

    def __init__(self, params: Params, ctx: Context) -> None:
        super().__init__(params, ctx)
        ctx.target("ACME", 5, "from the constructor")


class StopParams(Params):
    breaks: bool = False
    """Raise on every trade after the first, so that the strategy is stopped by its faults."""


class FlattensAtStop(Strategy):
    """Buys 20 on its first trade and goes flat in `on_stop`."""

    Params = StopParams

    def on_start(self) -> None:
        self.asked = False

    def on_trade(self, trade: Any) -> None:
        if not self.asked:
            self.asked = True
            self.ctx.target(trade.instrument, 20, "enter")
        elif self.params.breaks:  # type: ignore[attr-defined]
            raise ValueError("broken")

    def on_stop(self) -> None:
        self.ctx.target("ACME", 0, "the data is over: go flat")


class Exits(Strategy):
    """Calls `sys.exit()` in `on_start` and on its first trade, as a script that gives up would."""

    def on_start(self) -> None:
        self.trades = 0
        sys.exit("no edge today")

    def on_trade(self, trade: Any) -> None:
        self.trades += 1
        if self.trades == 1:
            sys.exit(3)
