"""Immutable snapshots of the engine's state for a viewer: what the app paints, never live state.

The app pulls one snapshot per frame (at most ~30 a second, never per event);
building one costs a few dozen attribute reads plus the journal records that
appeared since the previous snapshot. Nothing here imports a UI toolkit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from desk.audit import TailRecord, details_of
from desk.timeutil import parse_iso_ns

if TYPE_CHECKING:
    from desk.config import Session
    from desk.engine import Engine

BOOK_LEVELS = 10
HISTORY = 240
"""How many equity/drawdown samples the sparklines keep (one per snapshot in which time moved)."""
JOURNAL_PER_SNAPSHOT = 400
"""At most this many new journal records ride along in one snapshot; older ones count as skipped."""
FOLLOWED_KINDS = frozenset({"risk", "fill"})
"""The book pane follows the instrument of the latest record of these kinds (unless pinned)."""


def decimals_of(step: float) -> int:
    """Decimal places of a tick or lot size: the places its prices (or quantities) need."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def replay_span(config: Session) -> tuple[int, int] | None:
    """First and last market timestamps of a synthetic replay (None for data files).

    Progress is told by simulated time, which ends exactly at 100%: the event
    count cannot, since orders, arrivals and fills are events too.
    """
    synthetic = config.data.synthetic
    if synthetic is None:
        return None
    symbols = len(synthetic.instruments or config.instruments) or 1
    steps = max(1, round(synthetic.events / (1.0 + synthetic.trade_prob) / symbols))
    start = parse_iso_ns(synthetic.start)
    step_ns = round(synthetic.step_ms * 1_000_000)
    return start, start + (steps - 1) * step_ns + (symbols - 1) * 1_000 + 1


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

    @property
    def speed(self) -> str:
        return self.pace.speed

    @property
    def events_per_second(self) -> float:
        return self.pace.events_per_second or 0.0


class SnapshotBuilder:
    """Turns the engine's live state into snapshots, remembering what the previous one held."""

    def __init__(self, engine: Engine, book_levels: int = BOOK_LEVELS) -> None:
        self.engine = engine
        self.book_levels = book_levels
        self.version = 0
        self._next_seq = 0
        self._last_ts = -1
        self._equity: deque[float] = deque(maxlen=HISTORY)
        self._drawdown: deque[float] = deque(maxlen=HISTORY)
        self._verdicts: dict[str, dict[str, Any]] = {}
        self._decision: Decision | None = None
        self._span = replay_span(engine.config)
        self.instruments = tuple(engine.specs)
        self.followed: str | None = None
        """The instrument of the latest risk decision or fill: the one the book shows by default."""
        self.pinned: str | None = None
        """The instrument the person chose for the book (None: follow the action)."""

    @property
    def book_instrument(self) -> str | None:
        return self.pinned or self.followed or (self.instruments[0] if self.instruments else None)

    def progress(self, finished: bool) -> float | None:
        if finished:
            return 1.0
        if self._span is None:
            return None
        start, end = self._span
        now = self.engine.now
        if now <= 0:
            return 0.0
        return min(1.0, max(0.0, (now - start) / max(1, end - start)))

    def build(self, state: str, pace: Pace, error: str | None = None) -> Snapshot:
        """A new snapshot; consumes the journal records that appeared since the previous one."""
        engine = self.engine
        journal, skipped = self._new_records()
        for record in journal:
            kind = record[2]
            if kind == "risk":
                self._note_decision(record)
            if kind in FOLLOWED_KINDS and record[3] in engine.specs:
                self.followed = record[3]
        p = engine.portfolio_view
        if engine.now != self._last_ts:
            self._last_ts = engine.now
            self._equity.append(p.equity)
            self._drawdown.append(p.drawdown)
        self.version += 1
        stats = engine.stats
        return Snapshot(
            version=self.version, session=engine.config.session.name, now_ns=engine.now,
            events=stats.events, market_events=stats.market_events,
            progress=self.progress(state == "FINISHED"), state=state, pace=pace,
            mode=engine.risk.mode, book=self._book(), book_pinned=self.pinned is not None,
            instruments=self.instruments, positions=self._positions(), pnl=self._pnl(),
            rules=self._rules(), decision=self._decision, journal=journal, skipped=skipped,
            stats={"signals": stats.signals, "approved": stats.approved,
                   "blocked": stats.blocked, "fills": stats.fills,
                   "blocked_by": dict(stats.blocked_by), "records": engine.journal.seq,
                   "strategy_faults": stats.strategy_faults},
            strategy_active=bool(getattr(engine, "strategy_active", True)), error=error)

    # --- parts ----------------------------------------------------------------------

    def _new_records(self) -> tuple[tuple[TailRecord, ...], int]:
        journal = self.engine.journal
        first = self._next_seq
        self._next_seq = journal.seq
        fresh: list[TailRecord] = []
        for record in reversed(journal.tail):
            if record[0] < first or len(fresh) >= JOURNAL_PER_SNAPSHOT:
                break
            fresh.append(record)
        fresh.reverse()
        skipped = (journal.seq - first) - len(fresh)
        return tuple(fresh), skipped

    def _note_decision(self, record: TailRecord) -> None:
        details = details_of(record[7])
        for verdict in details.get("verdicts", []):
            self._verdicts[verdict["rule"]] = verdict
        self._decision = Decision(record[0], record[1], bool(details.get("approved")), record[6],
                                  tuple(details.get("blocked_by", ())))

    def _book(self) -> BookView | None:
        engine = self.engine
        symbol = self.book_instrument
        if symbol is None:
            return None
        state = engine.market.states[symbol]
        resting: dict[float, float] = {}
        in_flight: list[str] = []
        for order in engine.execution.working(symbol):
            if order.limit_price is not None:
                resting[order.limit_price] = resting.get(order.limit_price, 0.0) + order.venue_open
            else:
                in_flight.append(f"#{order.order_id} {order.venue_open:+g} mkt")
        n = self.book_levels
        if state.book is not None:
            bid_levels = state.book.bid_levels()[:n]
            ask_levels = state.book.ask_levels()[:n]
        else:
            bid_levels = [(state.bid, state.bid_size)] if state.bid > 0 else []
            ask_levels = [(state.ask, state.ask_size)] if state.ask > 0 else []
        bids = tuple(LadderLevel(px, size, resting.pop(px, 0.0)) for px, size in bid_levels)
        asks = tuple(LadderLevel(px, size, resting.pop(px, 0.0)) for px, size in ask_levels)
        in_flight.extend(f"{qty:+g} @ {px:g}" for px, qty in sorted(resting.items()))
        spec = engine.specs[symbol]
        return BookView(symbol, bids, asks, state.bid, state.ask, state.spread, state.last,
                        state.last_size, tuple(in_flight), decimals_of(spec.tick_size),
                        decimals_of(spec.lot_size))

    def _positions(self) -> tuple[PositionRow, ...]:
        engine = self.engine
        p = engine.portfolio_view
        rows = []
        for symbol, spec in engine.specs.items():
            qty = p.position(symbol)
            mark = p.mark(symbol)
            rows.append(PositionRow(symbol, qty, p.avg_cost(symbol), mark, p.unrealized_of(symbol),
                                    p.realized_of(symbol), qty * mark * spec.multiplier,
                                    decimals_of(spec.tick_size)))
        return tuple(rows)

    def _pnl(self) -> PnL:
        p = self.engine.portfolio_view
        return PnL(p.equity, p.cash, p.start_cash, p.realized, p.unrealized, p.fees, p.drawdown,
                   p.max_drawdown, p.gross_exposure, p.leverage, tuple(self._equity),
                   tuple(self._drawdown))

    def _rules(self) -> tuple[RuleRow, ...]:
        engine = self.engine
        blocked_by = engine.stats.blocked_by
        rows = []
        for index, rule in enumerate(engine.risk.rules, start=1):
            verdict = self._verdicts.get(rule.name, {})
            rows.append(RuleRow(
                index, rule.name, rule.enabled, tuple(rule.limits().items()),
                verdict.get("value"), verdict.get("limit"), verdict.get("headroom"),
                verdict.get("passed"), verdict.get("message", ""), blocked_by.get(rule.name, 0)))
        return tuple(rows)
