"""The events that flow through the engine: market data, control, and the engine's own facts.

Every event is immutable and carries `ts` in integer nanoseconds of simulated
time. Market data and facts are named as things that happened; the engine
never mutates an event after it is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from itertools import repeat
from typing import Any, NamedTuple

Level = tuple[float, float]
"""One price level of a book side: (price, size)."""


class Priority(IntEnum):
    """Tie-break for events sharing a timestamp: the second key of the queue's total order.

    Control first (a limit changed at t governs every intent at t), then market
    data, then the engine's own scheduled facts, which therefore see the market
    as it stands at their time.
    """

    CONTROL = 0
    MARKET = 1
    ARRIVAL = 2
    REPORT = 3
    TIMER = 4


# --- market data --------------------------------------------------------------
#
# Market events are the bulk of a replay (millions per run), so they are typed
# named tuples rather than frozen dataclasses: just as immutable and slotted,
# with the same attribute names, but a frozen dataclass's __init__ pays an
# object.__setattr__ per field, while a reader builds a whole batch of named
# tuples with `tuple.__new__` at a fraction of the cost (see `make_trades`).
# The facts made several times per order (an arrival, a fill report, an
# intent, a risk decision) are named tuples for the same reason.


def frozen_tuple(cls: Any) -> Any:
    """Give an event named tuple the manners of a frozen dataclass.

    Equality and hashing include the type, so a `BookSnapshot` never equals a
    `BookDelta` (or a bare tuple) with the same fields; `__slots__` names the
    fields for code that lists an event's attributes (the layout stays the
    tuple's: assigning the class attribute after creation changes nothing else).
    """
    def __eq__(self: tuple[Any, ...], other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)

    def __ne__(self: tuple[Any, ...], other: object) -> bool:
        return not __eq__(self, other)

    def __hash__(self: tuple[Any, ...]) -> int:
        return hash((type(self).__name__, tuple(self)))

    def __repr__(self: tuple[Any, ...]) -> str:
        fields = ", ".join(f"{name}={value!r}"
                           for name, value in zip(cls._fields, self, strict=True))
        return f"{type(self).__name__}({fields})"

    cls.__eq__, cls.__ne__, cls.__hash__, cls.__repr__ = __eq__, __ne__, __hash__, __repr__
    cls.__slots__ = cls._fields
    return cls


@frozen_tuple
class Trade(NamedTuple):
    """A trade printed on the venue. `aggressor` is +1 buy, -1 sell, 0 unknown."""

    ts: int
    instrument: str
    price: float
    size: float
    aggressor: int = 0


@frozen_tuple
class Quote(NamedTuple):
    """The best bid and offer."""

    ts: int
    instrument: str
    bid: float
    bid_size: float
    ask: float
    ask_size: float


@frozen_tuple
class BookSnapshot(NamedTuple):
    """The whole L2 book: bids best first (descending), asks best first (ascending)."""

    ts: int
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    seq: int | None = None
    """The venue's update id the snapshot includes (Binance `lastUpdateId`), if the feed has one."""


@frozen_tuple
class BookDelta(NamedTuple):
    """Changes to L2 levels: each level's new absolute size; size 0 deletes the level."""

    ts: int
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    seq: int | None = None
    """The venue's id of this update (its last, when it spans several), if the feed has one."""
    prev_seq: int | None = None
    """The id this update follows (Binance `pu`, or the first id − 1); None: `seq − 1`."""


@frozen_tuple
class Bar(NamedTuple):
    """An OHLCV bar, stamped at its close so no one sees it before it has closed."""

    ts: int
    instrument: str
    open: float
    high: float
    low: float
    close: float
    volume: float


_tuple_new = tuple.__new__


def make_trades(ts: Iterable[int], instrument: Iterable[str], price: Iterable[float],
                size: Iterable[float], aggressor: Iterable[int]) -> list[Trade]:
    """A batch of trades from columns, built with `tuple.__new__` (no Python call per trade)."""
    return list(map(_tuple_new, repeat(Trade), zip(ts, instrument, price, size, aggressor,
                                                         strict=True)))


MarketEvent = Trade | Quote | BookSnapshot | BookDelta | Bar


# --- control ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskLimitChanged:
    """A risk rule's parameter was set, from the schedule, the data or an operator."""

    ts: int
    rule: str
    param: str
    value: Any
    source: str = "schedule"


@dataclass(frozen=True, slots=True)
class RuleToggled:
    """A risk rule was switched on or off."""

    ts: int
    rule: str
    enabled: bool
    source: str = "schedule"


@dataclass(frozen=True, slots=True)
class ModeReset:
    """An explicit request to return the risk engine to ACTIVE (the way back from
    REDUCING/HALTED)."""

    ts: int
    source: str = "operator"


ControlEvent = RiskLimitChanged | RuleToggled | ModeReset


# --- the engine's own scheduled facts ------------------------------------------


@frozen_tuple
class OrderArrived(NamedTuple):
    """An order reached the venue after its entry latency."""

    ts: int
    order_id: int


@frozen_tuple
class CancelArrived(NamedTuple):
    """A cancel request reached the venue after its entry latency."""

    ts: int
    order_id: int
    instrument: str
    cause: int
    """The journal record of the request (`cancel`)."""


@frozen_tuple
class MarketDelivered(NamedTuple):
    """A market event reached the desk after the feed latency: only now do the strategy and marks
    see it."""

    ts: int
    event: MarketEvent


@frozen_tuple
class FillReported(NamedTuple):
    """A fill report reached the desk after the response latency: only now does the portfolio
    change."""

    ts: int
    order_id: int
    instrument: str
    qty: float
    price: float
    fee: float
    liquidity: str
    venue_ts: int


@frozen_tuple
class OrderEnded(NamedTuple):
    """The venue's report that an order is done without (further) fills: cancelled, expired or
    unfilled."""

    ts: int
    order_id: int
    reason: str
