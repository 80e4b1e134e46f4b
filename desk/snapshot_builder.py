"""Builds snapshots from the engine's live state, remembering what the previous one held.

Building one costs a few dozen attribute reads plus the journal records that
appeared since the previous snapshot. Nothing here imports a UI toolkit.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from desk.audit import TailRecord, details_of
from desk.pending_change import pending_changes
from desk.replay_span import file_span, replay_span, windowed
from desk.snapshot import BookView, Decision, LadderLevel, Pace, PnL, PositionRow, RuleRow, Snapshot

if TYPE_CHECKING:
    from desk.engine import Engine

BOOK_LEVELS = 10
HISTORY = 240
"""How many equity/drawdown samples the sparklines keep (one per snapshot in which time moved)."""
JOURNAL_PER_SNAPSHOT = 400
"""At most this many new journal records ride along in one snapshot; older ones count as skipped."""
CHANGE_KINDS = frozenset({"limit_change", "rule_toggle"})
"""Journal kinds that change a rule after its latest verdict (by schedule, operator or data)."""
FOLLOWED_KINDS = frozenset({"risk", "fill"})
"""The book pane follows the instrument of the latest record of these kinds (unless pinned)."""


def decimals_of(step: float) -> int:
    """Decimal places of a tick or lot size: the places its prices (or quantities) need."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _day(ts: int) -> int:
    """The UTC calendar day of epoch-ns `ts`, as a day number."""
    return ts // 86_400_000_000_000


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
        self._changed: set[str] = set()
        """Rules switched or given new limits since their latest verdict."""
        self._decision: Decision | None = None
        span = replay_span(engine.config) or file_span(engine.loaded)
        self._span = None if span is None else windowed(span, engine.config.replay)
        """First and last times of the replay, when known up front: progress by simulated time.
        A timed risk change due after the data's last event is never applied, so the span ends
        with the data, or with `[replay]`'s window."""
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
        """The share of the replay's time span done: 100% only once it has finished (orders
        and fills can follow the last market event)."""
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
            elif kind in CHANGE_KINDS:
                rule = details_of(record[7]).get("rule")
                if isinstance(rule, str):
                    self._changed.add(rule)
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
            self._changed.discard(verdict["rule"])
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
        # what the desk still awaits (`unreported`), as a strategy's `open_orders` tells it: a
        # market order the venue has filled, its reports still on their way, is not `+0`
        for order in engine.execution.working(symbol):
            if order.limit_price is not None:
                resting[order.limit_price] = resting.get(order.limit_price, 0.0) + order.unreported
            else:
                in_flight.append(f"#{order.order_id} {order.unreported:+g} mkt")
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
                tuple(pending.get(rule.name, {}).items()),
                rule.name in self._changed and rule.name in self._verdicts))
        return tuple(rows)
