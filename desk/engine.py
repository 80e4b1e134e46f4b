"""The engine: one deterministic loop that routes each event through the desk in a fixed order.

market event → market state → portfolio mark → risk mode → resting orders →
strategy → (signal → intent → risk decision → order). Scheduled facts (order
arrival, fill report, order end) and control changes come from the same queue.
The core is synchronous; `desk.runner` paces it for people and the app.
"""

from __future__ import annotations

import math
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk import records
from desk.audit import Journal
from desk.book import GAP, STALE
from desk.config import LoadedSession, OperatorAction, ScheduleItem
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
from desk.figures import num, signed
from desk.invariants import Invariants
from desk.market import MarketState, MarketView
from desk.orders import (
    FillInfo,
    Order,
    OrderInfo,
    OrderIntent,
    OrderStatus,
    OrderType,
    RejectInfo,
    TimeInForce,
)
from desk.portfolio import Portfolio, PortfolioView
from desk.queue import EventQueue
from desk.risk.engine import ModeChange, RiskEngine
from desk.risk.verdict import decision_why
from desk.strategy import Context, Strategy, find_strategy, make_params, make_strategy
from desk.timeutil import ns_range_error, parse_iso_ns, parse_offset_ns

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""

_DONE = frozenset((OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.ENDED))
"""The statuses of `Order.done_at_venue`."""

_SCALARS = frozenset((int, float, str, bool, type(None)))
"""Evidence of these types cannot change after the strategy hands it over."""

_FEED_KINDS = frozenset((Trade, Quote, BookDelta, BookSnapshot))
"""The market events `Engine._run_feed` handles without `step()`."""

_CALLBACKS = {Trade: "on_trade", Quote: "on_quote", BookSnapshot: "on_book", BookDelta: "on_book",
              Bar: "on_bar"}
"""The strategy callback of each kind of market event."""


@dataclass(slots=True)
class Stats:
    """Counters for the end-of-run summary."""

    events: int = 0
    market_events: int = 0
    signals: int = 0
    intents: int = 0
    approved: int = 0
    blocked: int = 0
    blocked_by: dict[str, int] = field(default_factory=dict)
    fills: int = 0
    filled_qty: float = 0.0
    decided_notional: float = 0.0
    """Σ |filled| · decision price · multiplier of finished orders: what shortfall is measured
    against."""
    latency_cost: float = 0.0
    impact_cost: float = 0.0
    fee_cost: float = 0.0
    orders_done: int = 0
    data_issues: int = 0
    strategy_faults: int = 0
    cash_guards: int = 0


def _limit(value: Any) -> str:
    """A rule's limit as a sentence says it: 300, 0.05, none (no limit), true."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return num(value)
    return repr(value)


class Engine:
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
        self._build(loaded, multipliers, strict)
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
        self.feed, self.readers = open_feed(loaded, self.seed, self._data_issue)
        self.queue = EventQueue(self.feed)
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
        self.strategy = self._load_strategy()
        self._hears_fills = type(self.strategy).on_fill is not Strategy.on_fill
        """Whether the strategy overrides `on_fill`: if not, no `FillInfo` is made per fill."""
        self._started = False
        self._invariants = Invariants(self) if strict else None
        self.risk.changed = self._unsteady
        self._band: list[Any] = [None, math.inf, -math.inf]
        """[instrument, low, high]: marks of that instrument strictly inside (low, high) change
        nothing but the price (see `_marked`); instrument None: no band."""

    # --- set-up -----------------------------------------------------------------

    def _load_strategy(self) -> Strategy:
        cfg = self.config.strategy
        where = str(self.loaded.path) if self.loaded.path else "session"
        cls = find_strategy(cfg.use, where)
        params = make_params(cls, cfg.params, where)
        ctx = Context(self.portfolio_view, self.market_view, self._target, self._order,
                      self._cancel, self._open_orders, self._clock)
        return make_strategy(cls, params, ctx, where)

    def _clock(self) -> int:
        return self.now

    def start(self) -> None:
        """Journal the session header, schedule the timed risk changes, and start the strategy."""
        if self._started:
            return
        self._started = True
        first = self.queue.peek_feed_ts()
        start_ts = first if first is not None else 0
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
        for index, item in enumerate(cfg.risk.schedule):
            self._schedule_item(index, item, start_ts)
        self._call_strategy(self.strategy.on_start)

    def _schedule_item(self, index: int, item: ScheduleItem, start_ts: int) -> None:
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
        try:
            rule = self.risk.rule(item.rule)
            if item.param is not None:
                rule.coerce(item.param, item.value)  # a bad limit fails at start, not mid-run
        except ValueError as error:
            raise SessionError(f"{where}: {error}") from None
        if item.param is not None:
            self.queue.schedule(ts, Priority.CONTROL,
                                RiskLimitChanged(ts, item.rule, item.param, item.value, "schedule"))
        if item.enabled is not None:
            self.queue.schedule(ts, Priority.CONTROL,
                                RuleToggled(ts, item.rule, item.enabled, "schedule"))

    # --- the loop ------------------------------------------------------------------

    def step(self) -> bool:
        """Process exactly one event. Returns False when the replay is over."""
        if not self._started:
            self.start()
        if self.commands or self._replay_pos < len(self._replay_actions):
            self._apply_commands()
        try:
            item = self.queue.pop()
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
            self.journal.record("error", self.now, f"run stopped: {error}", error=error.title)
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
        batch, i = queue.feed_window()
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
                    except Exception as error:  # as in _call_strategy
                        self._strategy_fault(where, error)
                        active = self.strategy_active
                    if self._rejects:
                        self._deliver_rejects()
                        active = self.strategy_active
                if strict:
                    self.check_invariants()
        except DeskError as error:
            self.journal.record("error", self.now, f"run stopped: {error}", error=error.title)
            raise
        finally:
            done = i - start  # what step() counts event by event
            self.stats.events += done
            self.stats.market_events += done
        return done

    def events(self) -> Iterator[int]:
        """The replay as an iterator: each `next()` processes one event and yields its seq."""
        while self.step():
            yield self.queue.popped - 1

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        left = self._replay_actions[self._replay_pos:]
        if left:  # recorded for events this replay never reached (a shorter data file, say)
            self.journal.record("control_error", self.now, f"{len(left)} operator action(s) "
                                f"not applied: recorded before event {left[0].seq:,}, and the "
                                f"replay ended after {self.queue.popped:,} events",
                                source="operator", seqs=[a.seq for a in left])
        self._call_strategy(self.strategy.on_stop)
        p = self.portfolio
        self.journal.record(
            "end", self.now, f"replay over after {self.stats.events:,} events: equity "
            f"{p.equity:,.2f}, return {p.equity / p.start_cash - 1:+.2%}, max drawdown "
            f"{p.max_drawdown:.2%}", equity=p.equity, cash=p.cash, realized=p.realized,
            unrealized=p.unrealized, fees=p.fees, positions=self.portfolio_view.positions())
        self.journal.flush()

    def close(self) -> None:
        """Flush and close the journal; safe to call twice."""
        self.journal.close()

    # --- market events ------------------------------------------------------------------

    def _marked(self, symbol: str, mark: float) -> None:
        """Revalue the book at a new mark and let the drawdown move the risk mode.

        Most marks change nothing but the price: inside the steady band that the
        portfolio and the risk engine worked out at the last full mark, only the
        price is stored. Anything that could move the band (a fill, another
        instrument's mark, a rule or mode change) empties it first.
        """
        band = self._band
        if band[0] == symbol and band[1] < mark < band[2]:
            self.portfolio.positions[symbol].mark = mark  # all Portfolio.mark would change
            return
        change = self.risk.on_mark(self.portfolio.mark(symbol, mark))
        if change is not None:
            self._journal_mode(change, "drawdown")
        steady = self.risk.steady_drawdown()
        if steady is None:
            band[0] = None
        else:
            band[1], band[2] = self.portfolio.steady_band(symbol, *steady)
            band[0] = symbol

    def _unsteady(self) -> None:
        """Empty the steady band: something it was worked out from has changed."""
        self._band[0] = None

    # At the venue the market changes and resting orders may fill at once; the
    # desk (marks, risk, strategy) hears of it after the feed latency, if any.

    def _on_trade(self, trade: Trade) -> None:
        self.stats.market_events += 1
        self.venue.trade(trade)
        self.execution.on_trade(trade)
        self._reach_desk(trade)

    def _on_quote(self, quote: Quote) -> None:
        self.stats.market_events += 1
        self.venue.quote(quote)
        self.execution.on_top_of_book(quote.instrument, quote.ts)
        self._reach_desk(quote)

    def _on_book(self, book: BookSnapshot | BookDelta) -> None:
        self.stats.market_events += 1
        if not self._venue_book(book):
            return
        self.execution.on_top_of_book(book.instrument, book.ts)
        self._reach_desk(book)

    def _on_bar(self, bar: Bar) -> None:
        self.stats.market_events += 1
        self.venue.bar(bar)
        self._reach_desk(bar)

    def _venue_book(self, event: BookSnapshot | BookDelta) -> bool:
        """Apply a book event at the venue: a stale delta is skipped, a gap or a crossing
        journaled."""
        symbol = event.instrument
        venue = self.venue
        book = venue.states[symbol].book
        if book is None:
            book = venue.book(symbol)
        if event.seq is not None:
            issue = book.sequence_issue(event.seq, getattr(event, "prev_seq", None),
                                        type(event) is BookSnapshot)
            if issue == STALE:
                self._data_issue(event.ts, symbol, f"stale book update {event.seq} (the book is "
                                 f"at {book.seq}): skipped")
                return False
            if issue == GAP:
                self._data_issue(event.ts, symbol, f"sequence gap: update {event.seq} follows "
                                 f"{getattr(event, 'prev_seq', None) or event.seq - 1} "
                                 f"but the book is at {book.seq}; "
                                 "levels may be wrong until the next snapshot")
        crossed = venue.book_event(event)
        if crossed != book.crossed:
            book.crossed = crossed
            if crossed:
                self._data_issue(event.ts, symbol, f"crossed book: best bid {book.best_bid:g} ≥ "
                                 f"best ask {book.best_ask:g} (an auction, or bad data); no fills "
                                 "against it until it uncrosses")
            else:
                self.journal.record("data_quality", event.ts, "book uncrossed", symbol)
        return True

    def _reach_desk(self, event: Any) -> None:
        latency = self.feed_latency
        if latency is None:
            self._desk_sees(event)
            return
        at = max(event.ts + latency.sample(), self._feed_free)
        self._feed_free = at
        self.queue.schedule(at, Priority.MARKET, MarketDelivered(at, event))

    def _on_delivered(self, delivered: MarketDelivered) -> None:
        event = delivered.event
        self.market.apply(event)
        self._desk_sees(event)

    def _desk_sees(self, event: Any) -> None:
        """Marks, the risk mode and the strategy, from the market as the desk knows it."""
        symbol = event.instrument
        state = self.market.states[symbol]
        kind = type(event)
        if state.mark > 0 and (kind is not Trade or state.bid <= 0 or state.ask <= 0):
            self._marked(symbol, state.mark)
        if self.strategy_active:
            self._current = event
            self._event_record = None
            self._call_strategy(getattr(self.strategy, _CALLBACKS[kind]), event)

    # --- the strategy's intents ---------------------------------------------------------

    def _market_record(self) -> int | None:
        """Journal the market event a signal follows from, once per event."""
        if self._event_record is None and self._current is not None:
            event = self._current
            state = self.market.states[event.instrument]
            self._event_record = self.journal.add(
                "market", event.ts, event.instrument, None, None, records.market,
                records.market_args(event, state.bid, state.ask, state.last, state.mark,
                                    self.queue.popped - 1))
        return self._event_record

    def _target(self, symbol: str, qty: float, reason: str, evidence: dict[str, Any],
                limit: float | None = None) -> int | None:
        spec = self.specs.get(symbol)
        if spec is None:
            raise KeyError(f"unknown instrument {symbol!r}")
        lot = spec.lot_size  # as _round_lot
        delta = round(round((qty - self.portfolio.positions[symbol].qty
                             - self.risk.pending[symbol]) / lot) * lot, 10)
        if delta == 0:
            return None
        if limit is not None:
            tick = self.specs[symbol].tick_size
            limit = round(round(limit / tick) * tick, 10)
        return self._intend(symbol, delta, reason, limit, TimeInForce.GTC, evidence, target=qty)

    def _order(self, symbol: str, qty: float, reason: str, limit: float | None, tif: str,
               evidence: dict[str, Any]) -> int | None:
        self._check_symbol(symbol)
        qty = self._round_lot(symbol, qty)
        if qty == 0:
            return None
        if limit is not None:
            tick = self.specs[symbol].tick_size
            limit = round(round(limit / tick) * tick, 10)
        return self._intend(symbol, qty, reason, limit, TimeInForce(tif), evidence)

    def _intend(self, symbol: str, qty: float, reason: str, limit: float | None, tif: TimeInForce,
                evidence: dict[str, Any], target: float | None = None) -> int | None:
        """signal → intent → every rule's verdict → order or block, each journaled with its
        cause."""
        journal = self.journal
        ts = self.now
        stats = self.stats
        market_seq = self._market_record()
        if _SCALARS.issuperset(map(type, evidence.values())):
            signal_seq = journal.add("signal", ts, symbol, market_seq, None, records.signal,
                                     (reason, evidence))
        else:  # evidence the strategy might change later: its words are taken now
            signal_seq = journal.record("signal", ts, reason, symbol, market_seq, None, **evidence)
        stats.signals += 1
        state = self.market.states[symbol]
        order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET
        intent = _new(OrderIntent, (self._next_intent, ts, symbol, qty, order_type, limit, tif,
                                    reason, signal_seq, state.mark))
        self._next_intent += 1
        stats.intents += 1
        plain = (intent.intent_id, qty, symbol, order_type.value, limit, tif.value, state.mark)
        intent_seq = journal.add("intent", ts, symbol, signal_seq, None, records.intent,
                                 (*plain, target))
        decision, exposure = self.risk.check(intent)
        if decision.approved:
            order_id = self.execution.peek_next_id()
            decision_seq = journal.add("risk", ts, symbol, intent_seq, order_id, records.allowed,
                                       (decision.mode, records.verdicts_args(decision.results)))
            approved = self.risk.approve(decision, exposure, decision_seq)
            order_seq = journal.add("order", ts, symbol, decision_seq, order_id, records.order,
                                    (*plain, order_id))
            order = self.execution.submit(approved, ts, order_seq)
            self.risk.on_sent(order.order_id, approved)
            stats.approved += 1
            return order.order_id
        why = decision_why(decision)
        journal.record("risk", ts, why, symbol, intent_seq, None, approved=False,
                       mode=decision.mode, blocked_by=decision.blocked_by,
                       verdicts=[r.as_dict() for r in decision.results])
        stats.blocked += 1
        for rule in decision.blocked_by:
            stats.blocked_by[rule] = stats.blocked_by.get(rule, 0) + 1
        self._rejects.append(RejectInfo(ts, symbol, qty, tuple(decision.blocked_by), why))
        return None

    def _cancel(self, order_id: int, reason: str) -> bool:
        order = self.execution.orders.get(order_id)
        if order is None or not self.execution.cancel(order_id, self.now):
            return False
        self.journal.record("cancel", self.now, f"cancel order #{order_id}: {reason}",
                            order.instrument, order.order_seq, order_id)
        return True

    def _open_orders(self, symbol: str | None) -> list[OrderInfo]:
        # the status the desk knows from its reports, never the venue's own
        return [OrderInfo(o.order_id, o.instrument, o.qty, o.reported, o.order_type,
                          o.limit_price, OrderStatus.WORKING if o.reported else OrderStatus.SENT)
                for o in self.execution.working(symbol)]

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.specs:
            raise KeyError(f"unknown instrument {symbol!r}")

    def _round_lot(self, symbol: str, qty: float) -> float:
        lot = self.specs[symbol].lot_size
        return round(round(qty / lot) * lot, 10)

    # --- the venue's facts --------------------------------------------------------------

    def _on_arrival(self, event: OrderArrived) -> None:
        order = self.execution.orders[event.order_id]
        self.execution.on_arrival(event)
        latency_ms = (event.ts - order.submit_ts) / 1e6
        rests = order.order_type is OrderType.LIMIT and not order.done_at_venue \
            and not order.taking
        self._order_chain[order.order_id] = self.journal.add(
            "arrival", event.ts, order.instrument, order.order_seq, order.order_id,
            records.arrival, (order.order_id, latency_ms, order.arrival_price,
                              order.limit_price if rests else None, order.queue_ahead))

    def _on_cancel_arrival(self, event: CancelArrived) -> None:
        self.execution.on_cancel_arrival(event)

    def _on_fill(self, report: FillReported) -> None:
        order = self.execution.orders[report.order_id]
        symbol = report.instrument
        effect = self.portfolio.apply_fill(symbol, report.qty, report.price, report.fee)
        self._unsteady()
        spec = self.specs[symbol]
        cost = report.qty * report.price * spec.multiplier + report.fee
        self.execution.on_reported(report)
        self.risk.on_filled(order.order_id, symbol, report.qty, cost)
        order.reported += report.qty
        order.notional += report.qty * report.price
        order.fees += report.fee
        self.stats.fills += 1
        self.stats.filled_qty += abs(report.qty)
        slip_bps = ((report.price / order.arrival_price - 1) * 1e4 * order.side
                    if order.arrival_price else 0.0)
        self.journal.add(
            "fill", report.ts, symbol, self._order_chain.get(order.order_id, order.order_seq),
            order.order_id, records.fill,
            (symbol, report.qty, report.price, report.fee, report.liquidity, report.venue_ts,
             slip_bps, effect.qty_before, effect.qty_after, effect.avg_cost_after,
             effect.realized, effect.cash_after))
        self._current = None  # what follows a fill follows from no market event
        if self.strategy_active and self._hears_fills:
            info = _new(FillInfo, (report.ts, order.order_id, symbol, report.qty, report.price,
                                   report.fee))
            self._call_strategy(self.strategy.on_fill, info)
        if order.status in _DONE and abs(order.qty - order.reported) < 1e-9:
            self._order_done(order, "filled")

    def _on_order_ended(self, event: OrderEnded) -> None:
        order = self.execution.orders[event.order_id]
        unfilled = order.qty - order.venue_filled
        self.risk.on_ended(order.order_id, order.instrument, unfilled)
        order.reported += unfilled
        self.journal.record("order_end", event.ts, f"order #{order.order_id} ended: "
                            f"{event.reason}; {signed(unfilled)} unfilled", order.instrument,
                            order.order_seq, order.order_id, reason=event.reason,
                            unfilled=unfilled)
        if abs(order.unreported) < 1e-9:
            self._order_done(order, event.reason)

    def _order_done(self, order: Order, how: str) -> None:
        """Journal the order's execution quality: implementation shortfall split in three."""
        self.risk.on_ended(order.order_id, order.instrument, 0.0)
        filled = order.venue_filled
        mult = self.specs[order.instrument].multiplier
        if filled:
            vwap = order.notional / filled
            arrival = order.arrival_price or order.decision_price
            latency = (arrival - order.decision_price) * filled * mult
            impact = (vwap - arrival) * filled * mult
        else:
            vwap = latency = impact = 0.0
        shortfall = latency + impact + order.fees
        stats = self.stats
        stats.orders_done += 1
        stats.latency_cost += latency
        stats.decided_notional += abs(filled) * order.decision_price * mult
        stats.impact_cost += impact
        stats.fee_cost += order.fees
        self.journal.add(
            "execution", self.now, order.instrument, order.order_seq, order.order_id,
            records.execution, (order.order_id, how, filled, vwap, order.decision_price,
                                order.arrival_price, latency, impact, order.fees, shortfall))
        self.execution.forget(order.order_id)
        self._order_chain.pop(order.order_id, None)

    # --- control -------------------------------------------------------------------

    def _on_limit_changed(self, event: RiskLimitChanged) -> None:
        try:
            before = self.risk.rule(event.rule).limits().get(event.param)
            self.risk.set_limit(event.rule, event.param, event.value)
        except (ValueError, TypeError) as error:
            self.journal.record("control_error", event.ts, f"could not set {event.rule}."
                                f"{event.param} = {event.value!r}: {error}", source=event.source)
            return
        self.journal.record("limit_change", event.ts, f"{event.rule}.{event.param}: "
                            f"{_limit(before)} → {_limit(event.value)} (by {event.source})",
                            rule=event.rule,
                            param=event.param, before=before, after=event.value,
                            source=event.source)

    def _on_rule_toggled(self, event: RuleToggled) -> None:
        try:
            self.risk.toggle(event.rule, event.enabled)
        except ValueError as error:
            self.journal.record("control_error", event.ts, f"could not switch {event.rule}: "
                                f"{error}", source=event.source)
            return
        self.journal.record("rule_toggle", event.ts, f"{event.rule} switched "
                            f"{'on' if event.enabled else 'off'} (by {event.source})",
                            rule=event.rule, enabled=event.enabled, source=event.source)

    def _on_mode_reset(self, event: ModeReset) -> None:
        try:
            change = self.risk.reset_mode(f"reset by {event.source}")
        except ValueError as error:
            self.journal.record("control_error", event.ts, str(error), source=event.source)
            return
        if change is not None:
            self._journal_mode(change, event.source)

    def _journal_mode(self, change: ModeChange, source: str) -> None:
        self.journal.record("mode", self.now,
                            f"mode {change.before} → {change.after}: {change.why}",
                            before=change.before, after=change.after, source=source)

    # --- operator commands: applied between events, journaled, recorded for replay ------------

    def command(self, action: OperatorAction) -> None:
        """Queue an operator action; it takes effect before the next event."""
        self.commands.append(action)

    def _apply_commands(self) -> None:
        seq = self.queue.popped
        actions = self._replay_actions
        while self._replay_pos < len(actions) and actions[self._replay_pos].seq <= seq:
            # journaled exactly as when the operator took it, so a replay is byte-identical
            self._apply_action(actions[self._replay_pos], "operator")
            self._replay_pos += 1
        pending, self.commands = self.commands, []
        for action in pending:
            recorded = action.model_copy(update={"seq": seq})
            self.operator_log.append(recorded)
            self._apply_action(recorded, "operator")

    def _apply_action(self, action: OperatorAction, source: str) -> None:
        ts = self.now
        try:
            if action.action == "toggle" and action.rule is not None:
                rule = self.risk.rule(action.rule)
                enabled = (not rule.enabled) if action.enabled is None else action.enabled
                self._on_rule_toggled(RuleToggled(ts, action.rule, enabled, source))
            elif action.action == "set" and action.rule and action.param:
                self._on_limit_changed(RiskLimitChanged(ts, action.rule, action.param,
                                                        action.value, source))
            elif action.action == "kill":
                engaged = True if action.enabled is None else action.enabled
                if engaged and not self.risk.rule("kill_switch").enabled:
                    self._on_rule_toggled(RuleToggled(ts, "kill_switch", True, source))
                self._on_limit_changed(RiskLimitChanged(ts, "kill_switch", "engaged", engaged,
                                                        source))
            elif action.action == "reset":
                self._on_mode_reset(ModeReset(ts, source))
            else:
                raise ValueError(f"incomplete operator action {action.model_dump()}")
        except ValueError as error:
            self.journal.record("control_error", ts, f"operator action failed: {error}",
                                source=source)

    # --- faults and data -------------------------------------------------------------------

    def _call_strategy(self, callback: Any, *args: Any) -> None:
        """Run one strategy callback; an exception is journaled and counted, never fatal to the
        engine."""
        try:
            callback(*args)
        except Exception as error:  # a strategy's bug must not take the desk down
            self._strategy_fault(callback.__name__, error)
        if self._rejects:
            self._deliver_rejects()

    def _deliver_rejects(self) -> None:
        """Tell the strategy about the intents risk blocked during its last callback."""
        if self._rejects:
            rejects, self._rejects = self._rejects, []
            for reject in rejects:
                if not self.strategy_active:
                    break
                try:
                    self.strategy.on_reject(reject)
                except Exception as error:
                    self._strategy_fault("on_reject", error)

    def _strategy_fault(self, where: str, error: Exception) -> None:
        self.strategy_faults += 1
        self.stats.strategy_faults += 1
        cfg = self.config.strategy
        # from the strategy's own frame on: the engine frame that caught it is noise, and
        # differs between step() and the fast loop, which must journal the same bytes
        tb = error.__traceback__
        trace = "".join(traceback.format_exception(type(error), error,
                                                   tb.tb_next if tb is not None else None,
                                                   limit=8))
        self.journal.record("strategy_error", self.now, f"strategy raised in {where}: "
                            f"{type(error).__name__}: {error} (fault {self.strategy_faults} of "
                            f"{cfg.max_faults})", traceback=trace)
        if self.strategy_faults >= cfg.max_faults and self.strategy_active:
            self.strategy_active = False
            self.journal.record("strategy_stopped", self.now, f"strategy stopped after "
                                f"{self.strategy_faults} faults; policy {cfg.on_fault}",
                                policy=cfg.on_fault)
            if cfg.on_fault == "flatten":
                for symbol, qty in self.portfolio_view.positions().items():
                    self._current = None
                    self._intend(symbol, self._round_lot(symbol, -qty - self.risk.pending[symbol]),
                                 "flatten: strategy stopped after repeated faults", None,
                                 TimeInForce.GTC, {})

    def _data_issue(self, ts: int, instrument: str | None, message: str) -> None:
        self.stats.data_issues += 1
        self.journal.record("data_quality", ts, message, instrument)

    def _spendable(self, order: Order) -> float:
        return self.portfolio.cash - self.risk.reserved_by_others(order.order_id)

    # --- invariants ------------------------------------------------------------------------

    def check_invariants(self) -> None:
        """DESIGN §2, checked after an event in strict mode; raises InvariantError naming the
        rule."""
        if self._invariants is None:
            self._invariants = Invariants(self)
        self._invariants.check()
