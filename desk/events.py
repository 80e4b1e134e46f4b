"""The events that flow through the engine: market data, control, and the engine's own facts.

Every event is immutable and carries `ts` in integer nanoseconds of simulated
time. Market data and facts are named as things that happened; the engine
never mutates an event after it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade printed on the venue. `aggressor` is +1 buy, -1 sell, 0 unknown."""

    ts: int
    instrument: str
    price: float
    size: float
    aggressor: int = 0


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and offer."""

    ts: int
    instrument: str
    bid: float
    bid_size: float
    ask: float
    ask_size: float


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """The whole L2 book: bids best first (descending), asks best first (ascending)."""

    ts: int
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    seq: int | None = None
    """The venue's update id the snapshot includes (Binance `lastUpdateId`), if the feed has one."""


@dataclass(frozen=True, slots=True)
class BookDelta:
    """Changes to L2 levels: each level's new absolute size; size 0 deletes the level."""

    ts: int
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    seq: int | None = None
    """The venue's id of this update (its last, when it spans several), if the feed has one."""
    prev_seq: int | None = None
    """The id this update follows (Binance `pu`, or the first id − 1); None: `seq − 1`."""


@dataclass(frozen=True, slots=True)
class Bar:
    """An OHLCV bar, stamped at its close so no one sees it before it has closed."""

    ts: int
    instrument: str
    open: float
    high: float
    low: float
    close: float
    volume: float


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
    """An explicit request to return the risk engine to ACTIVE (the way back from REDUCING/HALTED)."""

    ts: int
    source: str = "operator"


ControlEvent = RiskLimitChanged | RuleToggled | ModeReset


# --- the engine's own scheduled facts ------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderArrived:
    """An order reached the venue after its entry latency."""

    ts: int
    order_id: int


@dataclass(frozen=True, slots=True)
class CancelArrived:
    """A cancel request reached the venue after its entry latency."""

    ts: int
    order_id: int


@dataclass(frozen=True, slots=True)
class MarketDelivered:
    """A market event reached the desk after the feed latency: only now do the strategy and marks see it."""

    ts: int
    event: MarketEvent


@dataclass(frozen=True, slots=True)
class FillReported:
    """A fill report reached the desk after the response latency: only now does the portfolio change."""

    ts: int
    order_id: int
    instrument: str
    qty: float
    price: float
    fee: float
    liquidity: str
    venue_ts: int


@dataclass(frozen=True, slots=True)
class OrderEnded:
    """The venue's report that an order is done without (further) fills: cancelled, expired or unfilled."""

    ts: int
    order_id: int
    reason: str
