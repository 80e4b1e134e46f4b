"""The strategy API: a base class with lifecycle callbacks, typed parameters, and a narrow context.

A strategy sees the market and the portfolio only through read-only views and
acts only by stating intent with a reason through its `Context`. It cannot
reach the risk engine, the execution simulator or the portfolio's writer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from desk.config import validation_lines
from desk.errors import StrategyError
from desk.events import Bar, BookDelta, BookSnapshot, Quote, Trade
from desk.market import MarketView
from desk.orders import FillInfo, OrderInfo, RejectInfo
from desk.portfolio import PortfolioView


class Params(BaseModel):
    """Base of strategy parameters: validated once at load, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Context:
    """What a strategy may see and do. The engine builds one per run and hands it to the strategy."""

    __slots__ = ("_cancel", "_clock", "_open_orders", "_order", "_target", "market", "portfolio")

    def __init__(self, portfolio: PortfolioView, market: MarketView,
                 target: Callable[..., int | None], order: Callable[..., int | None],
                 cancel: Callable[[int, str], bool], open_orders: Callable[[str | None], list[OrderInfo]],
                 clock: Callable[[], int]) -> None:
        self.portfolio = portfolio
        self.market = market
        self._target = target
        self._order = order
        self._cancel = cancel
        self._open_orders = open_orders
        self._clock = clock

    @property
    def now(self) -> int:
        """Simulated time of the event being handled, in epoch nanoseconds."""
        return self._clock()

    def target(self, instrument: str, qty: float, reason: str, *, limit: float | None = None,
               **evidence: Any) -> int | None:
        """Aim for a position of `qty`: one order for the difference with position and open orders.

        A market order, or a GTC limit at `limit` (a passive way to the same target).
        Returns the order id if risk approved it, None if it was blocked or nothing was needed.
        """
        if limit is None:
            return self._target(instrument, qty, reason, evidence)
        return self._target(instrument, qty, reason, evidence, limit)

    def order(self, instrument: str, qty: float, reason: str, *, limit: float | None = None,
              tif: str = "GTC", **evidence: Any) -> int | None:
        """Send one order of signed `qty` (market, or limit at `limit`). Returns its id, or None if blocked."""
        return self._order(instrument, qty, reason, limit, tif, evidence)

    def cancel(self, order_id: int, reason: str) -> bool:
        """Ask the venue to cancel a working order; False if it is not working any more."""
        return self._cancel(order_id, reason)

    def open_orders(self, instrument: str | None = None) -> list[OrderInfo]:
        return self._open_orders(instrument)


class Strategy:
    """Base of every strategy. Override the callbacks you need; all default to doing nothing."""

    Params: ClassVar[type[Params]] = Params
    """The pydantic model of this strategy's parameters."""

    def __init__(self, params: Params, ctx: Context) -> None:
        self.params = params
        self.ctx = ctx

    def on_start(self) -> None: ...
    def on_trade(self, trade: Trade) -> None: ...
    def on_quote(self, quote: Quote) -> None: ...
    def on_book(self, book: BookSnapshot | BookDelta) -> None: ...
    def on_bar(self, bar: Bar) -> None: ...
    def on_fill(self, fill: FillInfo) -> None: ...
    def on_reject(self, reject: RejectInfo) -> None: ...
    def on_stop(self) -> None: ...


def find_strategy(use: str) -> type[Strategy]:
    """A strategy class by entry-point name (group `desk.strategies`) or `package.module:Class`."""
    if ":" in use:
        module_name, _, class_name = use.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise StrategyError(f"strategy {use!r}: cannot import {module_name!r}: {error}") from None
        cls = getattr(module, class_name, None)
        if cls is None:
            raise StrategyError(f"strategy {use!r}: module {module_name!r} has no {class_name!r}")
    else:
        found = [ep for ep in entry_points(group="desk.strategies") if ep.name == use]
        if not found:
            names = sorted(ep.name for ep in entry_points(group="desk.strategies"))
            raise StrategyError(f"unknown strategy {use!r} (installed: {', '.join(names) or 'none'};"
                                " or give package.module:Class)")
        try:
            cls = found[0].load()
        except ImportError as error:
            raise StrategyError(f"strategy {use!r}: cannot load {found[0].value}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"strategy {use!r} is not a subclass of desk.strategy.Strategy")
    return cls


def make_params(cls: type[Strategy], params: dict[str, Any], where: str) -> Params:
    """Validate raw parameters with the strategy's own model; errors name `strategy.params.KEY`."""
    try:
        return cls.Params.model_validate(params)
    except ValidationError as error:
        lines = validation_lines(where, error)
        raise StrategyError("\n".join(
            line.replace(f"{where}: ", f"{where}: strategy.params.", 1) for line in lines)) from None
