"""The strategy API: a base class with lifecycle callbacks, typed parameters, and a narrow context.

A strategy sees the market and the portfolio only through read-only views and
acts only by stating intent with a reason through its `Context`. It cannot
reach the risk engine, the execution simulator or the portfolio's writer.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from desk.config import STRICT, format_location, validation_lines
from desk.errors import StrategyError, first_line
from desk.events import Bar, BookDelta, BookSnapshot, Quote, Trade
from desk.market import MarketView
from desk.orders import FillInfo, OrderInfo, RejectInfo, TimeInForce
from desk.portfolio import PortfolioView


class Params(BaseModel):
    """Base of strategy parameters: validated once at load, as strictly as the session
    (`desk.config.STRICT`)."""

    model_config = STRICT


_Params = Params
"""`Params` by another name: in the body of `Strategy`, `Params` is the class attribute."""


_TIFS = frozenset(tif.value for tif in TimeInForce)
"""The time-in-force words `ctx.order` takes."""


def _check_order(call: str, instrument: str, qty: float, reason: str, limit: float | None
                 ) -> None:
    """Refuse what a strategy asks that no order can be made of, before anything is journaled.

    A reason that is not text would stop the journal's writer mid-run, and a nan or inf
    quantity or limit would fail deep in the lot and tick rounding with words that do not
    say which argument was wrong. The error is raised in the strategy's callback, so it is
    journaled as the strategy's fault.
    """
    if not isinstance(reason, str):
        raise TypeError(f"{call}: reason {reason!r} is not text (a str)")
    _check_number(call, "qty", qty, instrument)
    if limit is not None:
        _check_number(call, "limit", limit, instrument)


def _check_number(call: str, name: str, value: float, instrument: str) -> None:
    """A finite number: anything `float()` takes as one (an int, a numpy scalar), not text."""
    try:
        finite = math.isfinite(value)
    except TypeError:
        raise TypeError(f"{call}: {name} {value!r} for {instrument} is not a number") from None
    if not finite:
        raise ValueError(f"{call}: {name} {value!r} for {instrument} is not a finite number")


class Context:
    """What a strategy may see and do. The engine builds one per run and hands it to the
    strategy."""

    __slots__ = ("_cancel", "_clock", "_open_orders", "_order", "_target", "market", "portfolio")

    def __init__(self, portfolio: PortfolioView, market: MarketView,
                 target: Callable[..., int | None], order: Callable[..., int | None],
                 cancel: Callable[[int, str], bool],
                 open_orders: Callable[[str | None], list[OrderInfo]],
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
        _check_order("ctx.target", instrument, qty, reason, limit)
        if limit is None:
            return self._target(instrument, qty, reason, evidence)
        return self._target(instrument, qty, reason, evidence, limit)

    def order(self, instrument: str, qty: float, reason: str, *, limit: float | None = None,
              tif: str = "GTC", **evidence: Any) -> int | None:
        """Send one order of signed `qty` (market, or limit at `limit`). Returns its id, or None
        if blocked."""
        _check_order("ctx.order", instrument, qty, reason, limit)
        if tif not in _TIFS:
            raise ValueError(f"ctx.order: tif {tif!r} is neither 'GTC' nor 'IOC'")
        return self._order(instrument, qty, reason, limit, tif, evidence)

    def cancel(self, order_id: int, reason: str) -> bool:
        """Ask the venue to cancel a working order; False if it is not working any more."""
        return self._cancel(order_id, reason)

    def open_orders(self, instrument: str | None = None) -> list[OrderInfo]:
        return self._open_orders(instrument)


class Strategy:
    """Base of every strategy. Override the callbacks you need; all default to doing nothing."""

    Params: ClassVar[type[_Params]] = Params
    """The pydantic model of this strategy's parameters."""

    def __init__(self, params: _Params, ctx: Context) -> None:
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


def find_strategy(use: str, where: str | None = None) -> type[Strategy]:
    """A strategy class by entry-point name (group `desk.strategies`) or `package.module:Class`.

    Any exception while importing the strategy's module is the user's code
    failing, not desk's: it becomes one `StrategyError` line (chained, so
    `--debug` shows the traceback). With `where` (the session file) the line
    reads `where: strategy.use: …`.
    """
    prefix = f"{where}: strategy.use: " if where else f"strategy {use!r}: "
    if ":" in use:
        module_name, _, class_name = use.partition(":")
        if not module_name.strip() or not class_name.strip():
            raise StrategyError(f"{prefix}{use!r} is not package.module:Class (one of the two "
                                "is missing)")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise StrategyError(f"{prefix}cannot import {module_name!r}: {error}") from error
        except Exception as error:  # the strategy's own module failed to run
            raise StrategyError(f"{prefix}importing {module_name!r} raised "
                                f"{_one_line(error)}") from error
        cls = getattr(module, class_name, None)
        if cls is None:
            raise StrategyError(f"{prefix}module {module_name!r} has no {class_name!r}")
    else:
        group = entry_points(group="desk.strategies")
        found = [ep for ep in group if ep.name == use]
        if not found:
            names = sorted(ep.name for ep in group)
            start = f"{where}: strategy.use: " if where else ""
            raise StrategyError(f"{start}unknown strategy {use!r} (installed: "
                                f"{', '.join(names) or 'none'}; or give package.module:Class)")
        try:
            cls = found[0].load()
        except Exception as error:
            raise StrategyError(f"{prefix}cannot load {found[0].value}: "
                                f"{_one_line(error)}") from error
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"{prefix}{use!r} is not a subclass of desk.strategy.Strategy")
    model = cls.Params
    if not (isinstance(model, type) and issubclass(model, Params)):
        # any other model would be called at load and fail in words of its own, or, a plain
        # pydantic model, take unknown and mistyped parameters without a word
        raise StrategyError(f"{prefix}{cls.__name__}.Params must be a subclass of "
                            f"desk.strategy.Params, not {getattr(model, '__qualname__', model)!r}")
    return cls


def make_params(cls: type[Strategy], params: dict[str, Any], where: str) -> Params:
    """Validate raw parameters with the strategy's own model; errors name `strategy.params.KEY`.

    inf and nan are refused at any depth first: `Params` refuses them in its own
    fields, but a nested model of the strategy's (a list of steps) or a field of
    type `Any` would take them as they are.
    """
    unfinite = list(_not_finite(params, ()))
    if unfinite:
        raise StrategyError("\n".join(
            f"{where}: strategy.params.{format_location(loc)}: Input should be a finite number "
            f"(not {value!r})" for loc, value in unfinite))
    try:
        return cls.Params.model_validate(params)
    except ValidationError as error:
        lines = validation_lines(where, error)
        raise StrategyError("\n".join(
            line.replace(f"{where}: ", f"{where}: strategy.params.", 1)
            for line in lines)) from None
    except Exception as error:  # a validator of the strategy's own raised
        raise StrategyError(f"{where}: strategy.params: {cls.__name__}.Params raised "
                            f"{_one_line(error)}") from error


def _not_finite(value: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[tuple[int | str, ...],
                                                                       float]]:
    """(where, value) of each float in `value` that is inf or nan, tables and lists walked."""
    if isinstance(value, float) and not math.isfinite(value):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _not_finite(item, (*loc, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _not_finite(item, (*loc, index))


def make_strategy(cls: type[Strategy], params: Params, ctx: Context, where: str) -> Strategy:
    """The strategy built; an exception in its `__init__` is one line naming `strategy.use`."""
    try:
        return cls(params, ctx)
    except StrategyError:
        raise
    except Exception as error:  # the strategy's constructor is user code
        raise StrategyError(f"{where}: strategy.use: {cls.__name__}.__init__ raised "
                            f"{_one_line(error)}") from error


def _one_line(error: BaseException) -> str:
    """`Type: first line of the message`, for an exception raised by a strategy's code."""
    text = first_line(error)
    return text if text == type(error).__name__ else f"{type(error).__name__}: {text}"
