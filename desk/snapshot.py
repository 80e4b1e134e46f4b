"""Immutable snapshots of the engine's state for a viewer: what the app paints, never live state.

The app pulls one snapshot per frame (at most ~30 a second, never per event);
`desk.snapshot_builder` makes them from the engine. Nothing here imports a UI toolkit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desk.audit import TailRecord


@dataclass(frozen=True, slots=True)
class LadderLevel:
    """One price level of the book, with the quantity of our own resting orders at that price."""

    price: float
    size: float
    ours: float


@dataclass(frozen=True, slots=True)
class BookView:
    """The top of one instrument's book."""

    instrument: str
    bids: tuple[LadderLevel, ...]
    asks: tuple[LadderLevel, ...]
    bid: float
    ask: float
    spread: float
    last: float
    last_size: float
    in_flight: tuple[str, ...]
    """Our working orders that do not rest on a displayed level (market orders, far limits)."""
    price_decimals: int = 2
    """Decimal places of the instrument's tick: prices are shown with exactly these."""
    size_decimals: int = 0
    """Decimal places of the lot: sizes are shown with these (0.003 BTC, 200 shares)."""


@dataclass(frozen=True, slots=True)
class PositionRow:
    instrument: str
    qty: float
    avg_cost: float
    mark: float
    unrealized: float
    realized: float
    exposure: float
    price_decimals: int = 2


@dataclass(frozen=True, slots=True)
class PnL:
    equity: float
    cash: float
    start_cash: float
    realized: float
    unrealized: float
    fees: float
    drawdown: float
    max_drawdown: float
    gross: float
    leverage: float
    equity_history: tuple[float, ...]
    drawdown_history: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A risk rule: its switch and limits, and its verdict on the latest intent it judged."""

    index: int
    name: str
    enabled: bool
    limits: tuple[tuple[str, Any], ...]
    value: float | None
    limit: float | None
    headroom: float | None
    passed: bool | None
    message: str
    blocks: int
    pending: tuple[tuple[str, Any], ...] = ()
    """Changes queued for the next event (`enabled`, or a limit's name, and the new value)."""
    changed_since: bool = False
    """The rule was switched or its limits changed after its latest verdict: that verdict's
    limit and headroom are not the rule's any more."""

    @property
    def will_enable(self) -> bool:
        """The switch as it will be once the queued changes apply (as it is when none are)."""
        return bool(dict(self.pending).get("enabled", self.enabled))

    def will_have(self, param: str) -> Any:
        """Limit `param` as it will be once the queued changes apply."""
        pending = dict(self.pending)
        return pending[param] if param in pending else dict(self.limits).get(param)


@dataclass(frozen=True, slots=True)
class Decision:
    """The latest risk decision as the journal recorded it."""

    seq: int
    ts_ns: int
    approved: bool
    why: str
    blocked_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast the replay goes: what the person asked for and what the engine achieves."""

    speed: str
    """The requested speed: "1×" … "1000×" or "max"."""
    requested: float | None
    """Simulated seconds per wall second asked for; None at max."""
    events_per_second: float | None
    """Measured over the last second of wall time; None until there is a measure."""
    achieved: float | None
    """Simulated seconds per wall second actually achieved over the same window."""
    clock_ns: int | None = None
    """While a paced replay waits for its next event: the simulated time the pacing clock has
    reached (later than the last event's); None while events are due, paused or at max."""
    waiting_for: int | None = None
    """The next event's time while the wait for it is long enough to be worth telling."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the app shows, frozen at one moment of the replay."""

    version: int
    session: str
    now_ns: int
    events: int
    market_events: int
    progress: float | None
    """Fraction of the replay done by simulated time; None when the end is not known up front."""
    state: str
    """PLAYING, PAUSED, SEEKING, FINISHED or FAILED: the runner's state."""
    pace: Pace
    mode: str
    """The risk mode: ACTIVE, REDUCING or HALTED."""
    book: BookView | None
    book_pinned: bool
    """True when the person chose the book's instrument; False while it follows the action."""
    instruments: tuple[str, ...]
    positions: tuple[PositionRow, ...]
    pnl: PnL
    rules: tuple[RuleRow, ...]
    decision: Decision | None
    journal: tuple[TailRecord, ...]
    """Journal records that appeared since the previous snapshot (oldest first)."""
    skipped: int
    """Records that appeared since the previous snapshot but did not fit in `journal`."""
    stats: dict[str, Any]
    strategy_active: bool
    """False once the engine stopped the strategy after repeated faults."""
    error: str | None
    multi_day: bool = False
    """The replay spans more than one calendar day (UTC): times are shown with their date."""

    @property
    def speed(self) -> str:
        return self.pace.speed

    @property
    def events_per_second(self) -> float:
        return self.pace.events_per_second or 0.0

