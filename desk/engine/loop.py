"""The `Engine`: builds the desk from a session and runs the event loop, with a fast inner loop
for runs of market events straight from the feed."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from desk.audit import Journal
from desk.config import LoadedSession, OperatorAction, ScheduleItem, limit_value
from desk.engine.control import ControlSide
from desk.engine.market_side import MarketSide
from desk.engine.order_side import OrderSide
from desk.engine.stats import Stats
from desk.engine.strategy_host import FAULTS, StrategyHost
from desk.errors import DeskError, SessionError
from desk.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    CancelArrived,
    FillReported,
    MarketDelivered,
    ModeReset,
    OrderArrived,
    OrderEnded,
    Priority,
    Quote,
    RiskLimitChanged,
    RuleToggled,
    Trade,
)
from desk.execution.costs import Fees
from desk.execution.latency import Latency
from desk.execution.simulator import ExecutionSimulator
from desk.feed import open_feed
from desk.figures import counted
from desk.invariants import Invariants
from desk.market import MarketState, MarketView
from desk.orders import RejectInfo
from desk.portfolio import Portfolio, PortfolioView
from desk.queue import EventQueue
from desk.risk.engine import RiskEngine
from desk.strategy import Strategy
from desk.timeutil import ns_range_error, parse_iso_ns, parse_offset_ns

_FEED_KINDS = frozenset((Trade, Quote, BookDelta, BookSnapshot))
"""The market events `Engine._run_feed` handles without `step()`."""


class Engine(MarketSide, OrderSide, ControlSide, StrategyHost):
    """Builds every component from a session and runs events through them one at a time."""

    def __init__(self, loaded: LoadedSession, journal_path: Path | None = None,
                 seed: int | None = None, strict: bool = False,
                 journal_writer: str = "inline") -> None:
        cfg = loaded.config
        self.loaded = loaded
        self.config = cfg
        self.seed = cfg.session.seed if seed is None else seed
        self.strict = strict
        self.specs = {spec.symbol: spec for spec in cfg.instruments}
        multipliers = {s: spec.multiplier for s, spec in self.specs.items()}
        # the file is opened once everything is built: a run that cannot start leaves no
        # journal behind, nor takes the place of the one an earlier run left there
        self.journal = Journal(journal_path, cfg.audit.flush_every,
                               flush_ms=cfg.audit.flush_ms, writer=journal_writer, open_now=False)
        self._stop_error: DeskError | None = None
        """The error that stopped the run, once journaled."""
        self._build(loaded, multipliers, strict)
        self.journal.prepare()  # a writer process is forked now, before any data is read
        try:
            # what can fail before the first event fails here, the file still untouched: the
            # first batch of data read and checked, the timed risk changes placed after its
            # first event
            first = self.queue.peek_feed_ts()
            self._start_ts = first if first is not None else 0
            self._scheduled = [(self._schedule_time(index, item, self._start_ts), item)
                               for index, item in enumerate(cfg.risk.schedule)]
        except BaseException:
            self.journal.abandon()
            raise
        self.journal.open()

    def _build(self, loaded: LoadedSession, multipliers: dict[str, float], strict: bool) -> None:
        """Every component but the journal, in the order they depend on each other."""
        cfg = loaded.config
        self.stats = Stats()
        self.now = 0
        self.finished = False
        self.market = MarketState(list(self.specs))
        feed = cfg.execution.feed_latency
        self.venue = self.market if feed is None else MarketState(list(self.specs))
        """The market at the venue; the same object as the desk's `market` without feed latency."""
        self.feed_latency = Latency(feed, self.seed * 7919 + 4) if feed is not None else None
        self._feed_free = 0
        self.portfolio = Portfolio(cfg.session.start_cash, multipliers)
        self.portfolio_view = PortfolioView(self.portfolio)
        self.market_view = MarketView(self.market)
        fees = Fees(cfg.execution.fees)
        self.risk = RiskEngine(cfg.risk, self.portfolio_view, self.market, multipliers,
                               fees.worst_rate, fees)
        self.feed, self.readers, self.window = open_feed(loaded, self.seed, self._data_issue)
        self.queue = EventQueue(_JournaledFeed(self.feed, self._stopped_by))
        self.execution = ExecutionSimulator(cfg.execution, self.specs, self.venue, self.journal,
                                            self.queue.schedule, self._spendable, self.seed)
        self._next_intent = 1
        self._event_record: int | None = None
        self._current: Any = None
        self._rejects: list[RejectInfo] = []
        self._order_chain: dict[int, int] = {}
        self.commands: list[OperatorAction] = []
        self.operator_log: list[OperatorAction] = []
        self._replay_actions = sorted(cfg.operator_actions, key=lambda a: a.seq)
        self._replay_pos = 0
        self._handlers: dict[type, Callable[[Any], object]] = {
            Trade: self._on_trade, Quote: self._on_quote, BookSnapshot: self._on_book,
            BookDelta: self._on_book, Bar: self._on_bar, MarketDelivered: self._on_delivered,
            OrderArrived: self._on_arrival,
            CancelArrived: self._on_cancel_arrival, FillReported: self._on_fill,
            OrderEnded: self._on_order_ended, RiskLimitChanged: self._on_limit_changed,
            RuleToggled: self._on_rule_toggled, ModeReset: self._on_mode_reset,
        }
        self.strategy_active = True
        self.strategy_faults = 0
        self._started = False
        """Whether `start()` has run: the strategy's constructor may not order before it."""
        self._stopped = False
        """Whether the strategy has been told the data is over (`on_stop`)."""
        self.strategy = self._load_strategy()
        self._hears_fills = type(self.strategy).on_fill is not Strategy.on_fill
        """Whether the strategy overrides `on_fill`: if not, no `FillInfo` is made per fill."""
        self._invariants = Invariants(self) if strict else None
        self.risk.changed = self._unsteady
        self._band: list[Any] = [None, math.inf, -math.inf]
        """[instrument, low, high]: marks of that instrument strictly inside (low, high) change
        nothing but the price (see `_marked`); instrument None: no band."""

    def start(self) -> None:
        """Journal the session header, schedule the timed risk changes, and start the strategy."""
        if self._started:
            return
        self._started = True
        start_ts = self._start_ts
        self.now = start_ts
        cfg = self.config
        self.journal.record(
            "session", start_ts, f"session {cfg.session.name!r} seed {self.seed}: "
            f"{cfg.strategy.use} on {', '.join(self.specs)} with {cfg.session.start_cash:,.0f} "
            f"{cfg.session.currency}", seed=self.seed, start_cash=cfg.session.start_cash,
            strategy=cfg.strategy.use, params=cfg.strategy.params, rules=self.risk.describe(),
            entry_latency=self.execution.entry.describe(),
            response_latency=self.execution.response.describe(),
            feed_latency=self.feed_latency.describe() if self.feed_latency else None,
            execution=cfg.execution.model_dump(exclude={"entry_latency", "response_latency",
                                                        "feed_latency"}))
        for at, item in self._scheduled:
            ts = max(at, start_ts)  # due before the first event: in force from the start
            if item.param is not None:
                self.queue.schedule(ts, Priority.CONTROL, RiskLimitChanged(
                    ts, item.rule, item.param, limit_value(item.value), "schedule"))
            if item.enabled is not None:
                self.queue.schedule(ts, Priority.CONTROL,
                                    RuleToggled(ts, item.rule, item.enabled, "schedule"))
        self._call_strategy(self.strategy.on_start)

    def _schedule_time(self, index: int, item: ScheduleItem, start_ts: int) -> int:
        """When a timed risk change applies; an error if it cannot (a time out of range), found
        before the run starts rather than mid-run. Its rule, parameter and value were checked
        when the session loaded (`desk.config.risk_changes`)."""
        where = f"{self.loaded.path or 'session'}: risk.schedule[{index}]"
        if isinstance(item.at, int):
            ts = item.at
        else:
            offset = parse_offset_ns(item.at)
            try:
                ts = start_ts + offset if offset is not None else parse_iso_ns(item.at)
            except ValueError:
                raise SessionError(f"{where}.at: {item.at!r} is neither an ISO time nor an offset "
                                   "like \"+90s\"") from None
        if ns_range_error(ts):
            raise SessionError(f"{where}.at: {item.at!r} after the first event is "
                               f"{ns_range_error(ts)}")
        return ts

    # --- the loop ------------------------------------------------------------------

    def step(self) -> bool:
        """Process exactly one event. Returns False when the replay is over."""
        if not self._started:
            self.start()
        if self.commands or self._replay_pos < len(self._replay_actions):
            self._apply_commands()
        try:
            item = self.queue.pop()
            if item is None and not self._stopped:
                self._stop_strategy()
                item = self.queue.pop()  # an order the strategy sent from on_stop, arriving
            if item is None:
                self._finish()
                return False
            ts, event = item
            self.now = ts
            self.stats.events += 1
            self._handlers[type(event)](event)
            if self.strict:
                self.check_invariants()
        except DeskError as error:
            self._stopped_by(error)
            raise
        return True

    def run(self, max_events: int | None = None) -> bool:
        """Run headless to the end, or for at most `max_events` events; False once it is over.

        Event for event the same as calling `step()` until it returns False (the
        journals are byte-identical: tests/test_fast_run.py), but a run of market
        events from the feed (trades, quotes, book updates) goes through
        `_run_feed`, an inner loop with no queue call, handler lookup or strategy
        wrapper per event. Every other event, and every market event that a
        scheduled event or a command must precede, goes through `step()`.
        """
        if not self._started:
            self.start()
        left = sys.maxsize if max_events is None else max_events
        step, run_feed = self.step, self._run_feed
        while left > 0:
            done = run_feed(left)
            if done:
                left -= done
            elif step():
                left -= 1
            else:
                return False
        self.journal.poll()
        return True

    def _run_feed(self, limit: int) -> int:
        """Handle up to `limit` market events straight from the feed batch while they are next.

        The body is `step()` and the handlers of trades, quotes and book events
        (`_on_trade`, `_on_quote`, `_on_book`, `_desk_sees`, `_call_strategy`)
        inlined, statement for statement; it stops at the first event of another
        kind, or that a scheduled event, an operator command or a recorded action
        must precede. A strategy callback the strategy does not override (the
        base class's does nothing) is not called at all.
        """
        queue = self.queue
        batch, i = queue.feed_window()  # a bad batch is journaled by the feed (_JournaledFeed)
        end = min(len(batch), i + limit)
        if i >= end or type(batch[i]) not in _FEED_KINDS:
            return 0
        if self.commands or self.feed_latency is not None or self.venue is not self.market:
            return 0  # a command goes first; late market data each goes through step()
        heap = queue.heap
        if heap:  # a scheduled event goes first (an order's arrival, a fill): no set-up for none
            first_ts = batch[i].ts
            if heap[0][0] < first_ts or (heap[0][0] == first_ts and heap[0][1] < Priority.MARKET):
                return 0
        actions = self._replay_actions
        next_action = actions[self._replay_pos].seq if self._replay_pos < len(actions) \
            else sys.maxsize
        start = i
        popped = queue.popped
        states = self.market.states
        venue = self.venue
        execution = self.execution
        resting, taking, on_top = execution.resting, execution.taking, execution.on_top_of_book
        strategy = self.strategy
        overrides = type(strategy)
        on_trade, on_quote, on_book = strategy.on_trade, strategy.on_quote, strategy.on_book
        callback: Callable[[Any], None]  # on_trade, on_quote or on_book, per event below
        hears_trades = overrides.on_trade is not Strategy.on_trade
        hears_quotes = overrides.on_quote is not Strategy.on_quote
        hears_books = overrides.on_book is not Strategy.on_book
        band, positions, marked = self._band, self.portfolio.positions, self._marked
        venue_book = self._venue_book
        strict = self.strict
        active = self.strategy_active
        market = Priority.MARKET
        trade_type, quote_type, delta_type, snapshot_type = Trade, Quote, BookDelta, BookSnapshot
        try:
            # `while True` and a break, not `while i < end`: in CPython 3.11 only an unconditional
            # backward jump warms a function up for specialization, and this loop is entered
            # seldom but turns millions of times
            while True:
                if i >= end:
                    break
                event = batch[i]
                kind = type(event)
                if kind is trade_type:
                    ts, symbol, price, size, _ = event
                elif kind is delta_type or kind is snapshot_type or kind is quote_type:
                    ts = event.ts
                    symbol = event.instrument
                else:
                    break
                if heap and (heap[0][0] < ts or (heap[0][0] == ts and heap[0][1] < market)):
                    break
                if popped >= next_action:
                    break
                i += 1
                popped += 1
                queue._pos = i  # what pop() does for a feed event
                queue.popped = popped
                self.now = ts
                state = states[symbol]
                if kind is trade_type:
                    # _on_trade: the venue's market, resting orders, then the desk
                    state.ts = ts
                    state.last = price
                    state.last_size = size
                    state.volume += size
                    unquoted = state.bid <= 0 or state.ask <= 0
                    if unquoted:
                        state.mark = price
                    if resting[symbol]:
                        execution.on_trade(event)
                    # _desk_sees: the trade marks the book when there is no quote (_marked)
                    mark = price if unquoted else 0.0
                    hears, callback, where = hears_trades, on_trade, "on_trade"
                else:
                    if kind is quote_type:  # _on_quote
                        venue.quote(event)
                    elif not venue_book(event):  # _on_book: a stale update is skipped
                        if strict:
                            self.check_invariants()
                        continue
                    if taking[symbol] or resting[symbol]:
                        on_top(symbol, ts)
                    mark = state.mark  # _desk_sees: any quote or book marks the book
                    if kind is quote_type:
                        hears, callback, where = hears_quotes, on_quote, "on_quote"
                    else:
                        hears, callback, where = hears_books, on_book, "on_book"
                if mark > 0:
                    if band[0] == symbol and band[1] < mark < band[2]:
                        positions[symbol].mark = mark  # all Portfolio.mark would change
                    else:
                        marked(symbol, mark)
                if active and hears:
                    self._current = event
                    self._event_record = None
                    try:
                        callback(event)
                    except FAULTS as error:  # as in _call_strategy
                        self._strategy_fault(where, error)
                        active = self.strategy_active
                    if self._rejects:
                        self._deliver_rejects()
                        active = self.strategy_active
                if strict:
                    self.check_invariants()
        except DeskError as error:
            self._stopped_by(error)
            raise
        finally:
            done = i - start  # what step() counts event by event
            self.stats.events += done
            self.stats.market_events += done
        return done

    def _stopped_by(self, error: DeskError) -> None:
        """Journal why the run stops, once: the journal's last record says it."""
        if self._stop_error is error:
            return
        self._stop_error = error
        self.journal.record("error", self.now, f"run stopped: {error}", error=error.title)

    def events(self) -> Iterator[int]:
        """The replay as an iterator: each `next()` processes one event and yields its seq."""
        while self.step():
            yield self.queue.popped - 1

    def _stop_strategy(self) -> None:
        """Tell the strategy the data is over, once, unless its faults stopped it already.

        What it sends from `on_stop` follows from no market event, and is handled
        before the run ends: its orders reach the venue and may fill against the last
        market there.
        """
        self._stopped = True
        if self.strategy_active:
            self._current = None
            self._event_record = None
            self._call_strategy(self.strategy.on_stop)

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        left = self._replay_actions[self._replay_pos:]
        if left:  # recorded for events this replay never reached (a shorter data file, say)
            actions = counted(len(left), "operator action")
            self.journal.record("control_error", self.now, f"{actions} "
                                f"not applied: recorded before event {left[0].seq:,}, and the "
                                f"replay ended after {counted(self.queue.popped, 'event')}",
                                source="operator", seqs=[a.seq for a in left])
        self._late_changes(self.queue.left_over())
        p = self.portfolio
        self.journal.record(
            "end", self.now, f"replay over after {counted(self.stats.events, 'event')}: equity "
            f"{p.equity:,.2f}, return {p.equity / p.start_cash - 1:+.2%}, max drawdown "
            f"{p.max_drawdown:.2%}", equity=p.equity, cash=p.cash, realized=p.realized,
            unrealized=p.unrealized, fees=p.fees, positions=self.portfolio_view.positions())
        self.journal.flush()

    def window_note(self) -> str | None:
        """Once the replay is over, why it had no market event if `[replay]`'s window holds
        none of the data (one line, for a warning); else None."""
        if not self.finished or self.window is None:
            return None
        return self.window.missed()

    def close(self) -> None:
        """Flush and close the journal; safe to call twice."""
        self.journal.close()

    # --- invariants ------------------------------------------------------------------------

    def check_invariants(self) -> None:
        """DESIGN §2, checked after an event in strict mode; raises InvariantError naming the
        rule."""
        if self._invariants is None:
            self._invariants = Invariants(self)
        self._invariants.check()


class _JournaledFeed:
    """The feed's batches, with the error that stops it (bad data found as a batch is read)
    journaled before it is raised, wherever the batch is asked for: `step()`, `Engine._run_feed`
    or a look ahead (`EventQueue.peek_ts`). Raised again at every later read, so a feed that
    failed never reads as one that ended. One call per batch: nothing per event."""

    __slots__ = ("_error", "_feed", "_stopped_by")

    def __init__(self, feed: Iterator[list[Any]], stopped_by: Callable[[DeskError], None]) -> None:
        self._feed = feed
        self._stopped_by = stopped_by
        self._error: DeskError | None = None

    def __iter__(self) -> _JournaledFeed:
        return self

    def __next__(self) -> list[Any]:
        if self._error is not None:
            raise self._error
        try:
            return next(self._feed)
        except DeskError as error:
            self._error = error
            self._stopped_by(error)
            raise
