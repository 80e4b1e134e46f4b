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
from desk.timeutil import parse_iso_ns, parse_offset_ns, unit_ns

if TYPE_CHECKING:
    from desk.config import LoadedSession, Session
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


def file_span(loaded: LoadedSession) -> tuple[int, int] | None:
    """First and last timestamps of a session's data files, from their Parquet footers (the
    row groups' min/max statistics of the time column: no row is read). None when any file is
    not Parquet, or its statistics do not tell."""
    import pyarrow.parquet as pq

    from desk.data.file_format import file_format

    sources = loaded.config.data.files
    if not sources:
        return None
    first, last = None, None
    try:
        for source in sources:
            path = loaded.resolve(source.path)
            if file_format(path, source.format) != "parquet":
                return None
            metadata = pq.read_metadata(path)
            column = source.columns.get("ts", "ts")
            names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
            if column not in names:
                return None
            index = names.index(column)
            for group in range(metadata.num_row_groups):
                stats = metadata.row_group(group).column(index).statistics
                if stats is None or not stats.has_min_max:
                    return None
                low = _stat_ns(stats.min, source.ts_unit)
                high = _stat_ns(stats.max, source.ts_unit)
                if low is None or high is None:
                    return None
                first = low if first is None else min(first, low)
                last = high if last is None else max(last, high)
    except Exception:  # an unreadable file or footer: the engine will say why; no progress here
        return None
    return None if first is None or last is None else (first, last)


def _stat_ns(value: Any, unit: str) -> int | None:
    """A Parquet min/max statistic of a time column as epoch ns, as the reader reads it."""
    from datetime import datetime

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(value * unit_ns(unit))
    if isinstance(value, datetime):
        return round(value.timestamp() * 1e9)
    if isinstance(value, str):
        return parse_iso_ns(value)
    return None


def schedule_end(config: Session, start: int) -> int:
    """The latest timed risk change of the session (offsets counted from `start`), else `start`.

    A schedule may come long after the data ends; progress must not read 100% before it.
    """
    latest = start
    for item in config.risk.schedule:
        if isinstance(item.at, int):
            latest = max(latest, item.at)
            continue
        offset = parse_offset_ns(item.at)
        try:
            latest = max(latest, start + offset if offset is not None else parse_iso_ns(item.at))
        except ValueError:
            continue
    return latest


def _day(ts: int) -> int:
    """The UTC calendar day of epoch-ns `ts`, as a day number."""
    return ts // 86_400_000_000_000


def _current(engine: Engine, rule: str, key: str) -> Any:
    """Rule `rule`'s switch (`enabled`) or limit `key` as the engine has it now."""
    found = engine.risk.rule(rule)
    return found.enabled if key == "enabled" else found.limits().get(key)


def pending_changes(engine: Engine) -> dict[str, dict[str, Any]]:
    """What the operator actions queued for the next event will change, rule by rule:
    `enabled` for a switch, a parameter's name for a limit (`engaged` for the kill switch).

    The engine applies them only before its next event, so while paused a key's effect
    would stay invisible; the app shows these instead, marked as pending. An action the
    engine will refuse (an unknown rule, a bad limit) changes nothing here either.
    """
    changes: dict[str, dict[str, Any]] = {}

    def will_be(rule: str, key: str) -> Any:
        pending = changes.get(rule, {})
        return pending[key] if key in pending else _current(engine, rule, key)

    for action in engine.commands:
        rule = action.rule
        try:
            if action.action == "toggle" and rule is not None:
                enabled = not will_be(rule, "enabled") if action.enabled is None else action.enabled
                changes.setdefault(rule, {})["enabled"] = enabled
            elif action.action == "set" and rule is not None and action.param is not None:
                value = engine.risk.rule(rule).coerce(action.param, action.value)
                changes.setdefault(rule, {})[action.param] = value
            elif action.action == "kill":
                engaged = True if action.enabled is None else action.enabled
                if engaged and not will_be("kill_switch", "enabled"):
                    changes.setdefault("kill_switch", {})["enabled"] = True
                changes.setdefault("kill_switch", {})["engaged"] = engaged
        except ValueError:
            continue
    return {rule: kept for rule, change in changes.items()
            if (kept := {key: value for key, value in change.items()
                         if value != _current(engine, rule, key)})}


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
        span = replay_span(engine.config) or file_span(engine.loaded)
        self._span = None if span is None else (
            span[0], max(span[1], schedule_end(engine.config, span[0])))
        """First and last times of the replay, when known up front: progress by simulated time."""
        self.instruments = tuple(engine.specs)
        self.followed: str | None = None
        """The instrument of the latest risk decision or fill: the one the book shows by default."""
        self.pinned: str | None = None
        """The instrument the person chose for the book (None: follow the action)."""
        self._first_day: int | None = None if self._span is None else _day(self._span[0])
        self.multi_day = self._span is not None and _day(self._span[1]) != self._first_day
        """The replay spans more than one day: known up front from its span, else once the
        replay reaches a day other than its first."""

    @property
    def book_instrument(self) -> str | None:
        return self.pinned or self.followed or (self.instruments[0] if self.instruments else None)

    def progress(self, finished: bool) -> float | None:
        """The share of the replay's time span done: 100% only once it has finished (orders,
        fills and a late schedule can follow the last market event)."""
        if finished:
            return 1.0
        if self._span is None:
            return None
        start, end = self._span
        now = self.engine.now
        if now <= 0:
            return 0.0
        return min(0.99, max(0.0, (now - start) / max(1, end - start)))

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
        if engine.now and not self.multi_day:
            if self._first_day is None:
                self._first_day = _day(engine.now)
            self.multi_day = _day(engine.now) != self._first_day
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
            strategy_active=bool(getattr(engine, "strategy_active", True)), error=error,
            multi_day=self.multi_day)

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
        pending = pending_changes(engine) if engine.commands else {}
        rows = []
        for index, rule in enumerate(engine.risk.rules, start=1):
            verdict = self._verdicts.get(rule.name, {})
            rows.append(RuleRow(
                index, rule.name, rule.enabled, tuple(rule.limits().items()),
                verdict.get("value"), verdict.get("limit"), verdict.get("headroom"),
                verdict.get("passed"), verdict.get("message", ""), blocked_by.get(rule.name, 0),
                tuple(pending.get(rule.name, {}).items())))
        return tuple(rows)
