"""The execution simulator: orders travel with latency, match at the venue as it is, report late.

It accepts only orders the risk engine approved, and never touches the
portfolio: fills reach the desk as `FillReported` events after the response
latency, and only then does `Portfolio.apply_fill` book them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from desk.audit import Journal
from desk.config import ExecutionConfig, InstrumentSpec
from desk.events import CancelArrived, FillReported, OrderArrived, OrderEnded, Priority
from desk.execution.costs import Fees, Slippage
from desk.execution.latency import Latency
from desk.execution.queue_model import make_queue_model
from desk.execution.resting import EPS, RestingOrders, crossed, lots
from desk.market import InstrumentState, MarketState
from desk.orders import Order, OrderStatus, OrderType, TimeInForce
from desk.risk.engine import ApprovedOrder, is_approved

Schedule = Callable[[int, int, Any], None]
"""`schedule(ts, priority, event)`: put an event of the engine's own on the queue."""


class ExecutionSimulator(RestingOrders):
    """Latency legs, matching (walk the book, or quote plus slippage), resting limits with a queue.

    Each leg is a FIFO link, as a real session is: a message never overtakes
    one sent before it on the same leg, so a cancel cannot reach the venue
    before its order, nor a fill report before an earlier one.
    """

    def __init__(self, config: ExecutionConfig, specs: dict[str, InstrumentSpec],
                 market: MarketState, journal: Journal, schedule: Schedule,
                 spendable: Callable[[Order], float], seed: int) -> None:
        self.entry = Latency(config.entry_latency, seed * 7919 + 1)
        self.response = Latency(config.response_latency, seed * 7919 + 2)
        self.queue = make_queue_model(config.queue_model, config.queue_power, seed * 7919 + 3)
        self.slippage = Slippage(config.slippage)
        self.fees = Fees(config.fees)
        self.max_share = config.max_volume_share
        self.cash_policy = config.cash_policy
        self.specs = specs
        self.market = market
        self.journal = journal
        self.schedule = schedule
        self.spendable = spendable
        self.orders: dict[int, Order] = {}
        self.resting: dict[str, list[Order]] = {symbol: [] for symbol in specs}
        """Limit orders waiting in the queue at their price."""
        self.taking: dict[str, list[Order]] = {symbol: [] for symbol in specs}
        self.bar_start: dict[str, int] = {}
        """Orders still taking liquidity event by event, held back by `max_volume_share`."""
        self.inflight_cost = 0.0
        """Cash that buy fills already made at the venue will take once their reports arrive."""
        self._charged: dict[int, float] = {}
        """Proportional fees charged so far per order, kept only when a minimum fee applies."""
        self._next_id = 1
        self._entry_free = 0
        self._response_free = 0

    # --- the two legs ---------------------------------------------------------------

    def _entry_at(self, ts: int) -> int:
        arrive = max(ts + self.entry.sample(), self._entry_free)
        self._entry_free = arrive
        return arrive

    def _response_at(self, ts: int) -> int:
        back = max(ts + self.response.sample(), self._response_free)
        self._response_free = back
        return back

    # --- from the desk ----------------------------------------------------------

    def submit(self, approved: ApprovedOrder, ts: int, order_seq: int) -> Order:
        """Send an approved order: it reaches the venue after the entry latency."""
        if not is_approved(approved):
            raise PermissionError("the execution simulator accepts only risk-approved orders")
        intent = approved.intent
        order = Order(self._next_id, intent.instrument, intent.qty, intent.order_type,
                      intent.limit_price, intent.tif, ts, intent.decision_price, order_seq)
        if self.cash_policy == "reserve" and intent.qty > 0 and approved.reserve > 0:
            spec = self.specs[intent.instrument]
            order.reserved_price = self.fees.worst_price(intent.qty, approved.reserve,
                                                         spec.multiplier)
        self._next_id += 1
        self.orders[order.order_id] = order
        arrive = self._entry_at(ts)
        self.schedule(arrive, Priority.ARRIVAL, OrderArrived(arrive, order.order_id))
        return order

    def peek_next_id(self) -> int:
        return self._next_id

    def cancellable(self, order_id: int) -> Order | None:
        """The order, if the desk may still ask to cancel it; else None.

        Judged on what the desk knows (reports received), never on the venue's
        state: an order already filled at the venue can still be asked to cancel.
        """
        order = self.orders.get(order_id)
        if order is None or not order.open_to_desk or order.cancel_requested:
            return None
        return order

    def cancel(self, order: Order, ts: int, cause: int) -> None:
        """Ask the venue to cancel a `cancellable` order; it takes the entry latency, and fills
        may still win the race. `cause` is the journal record of the request: a late cancel's
        rejection follows from it, even once the venue has forgotten the order."""
        order.cancel_requested = True
        arrive = self._entry_at(ts)
        self.schedule(arrive, Priority.ARRIVAL,
                      CancelArrived(arrive, order.order_id, order.instrument, cause))

    # --- at the venue ----------------------------------------------------------

    def on_arrival(self, event: OrderArrived) -> Order:
        ts = event.ts
        order = self.orders[event.order_id]
        state = self.market.states[order.instrument]
        order.arrival_ts = ts
        order.arrival_price = state.mid or state.last
        order.status = OrderStatus.WORKING
        self._work(order, state, ts)
        return order

    def _work(self, order: Order, state: InstrumentState, ts: int) -> None:
        """Take what the market offers now; then keep taking, rest, or end."""
        outcome = self._take(order, state, ts)
        if outcome == _FILLED or order.done_at_venue:
            return
        if outcome == _CASH:
            self._end(order, ts, "not enough cash for the remainder")
        elif order.order_type is OrderType.LIMIT and order.tif is TimeInForce.IOC:
            self._end(order, ts, "IOC remainder cancelled")
        elif outcome == _CAPPED:
            order.taking = True
            self.taking[order.instrument].append(order)
        elif order.order_type is OrderType.MARKET:
            self._end(order, ts, "no more liquidity for the market order")
        else:
            self.queue.join(order, self._level_size(state, order))
            self.resting[order.instrument].append(order)

    def on_cancel_arrival(self, event: CancelArrived) -> Order | None:
        """The cancel reached the venue: the remainder is cancelled, unless fills won the race."""
        ts = event.ts
        order = self.orders.get(event.order_id)
        if order is None or order.done_at_venue:
            how = order.status.value if order is not None else "done"
            self.journal.record(
                "cancel_reject", ts, f"cancel of order #{event.order_id} reached the venue too "
                f"late: the order was already {how}", event.instrument, event.cause,
                event.order_id, status=how)
            return order
        self._unrest(order)
        order.status = OrderStatus.CANCELLED
        self._report_end(order, ts, "cancelled")
        return order

    def on_top_of_book(self, symbol: str, ts: int) -> None:
        """The book or quote changed: held-back orders keep taking, resting ones update their queue.

        Nothing fills against a crossed book or quote (bad data or an auction).
        """
        taking = self.taking[symbol]
        resting = self.resting[symbol]
        if not taking and not resting:
            return
        state = self.market.states[symbol]
        if crossed(state):
            return
        if taking:
            self.taking[symbol] = []
            for order in taking:
                order.taking = False
                if not order.done_at_venue:
                    self._work(order, state, ts)
        if resting:
            self._requeue(symbol, state, ts)

    # --- matching ---------------------------------------------------------------

    def _take(self, order: Order, state: InstrumentState, ts: int) -> str:
        """Take liquidity for an order: walk the book, or the quote plus slippage.

        Returns FILLED, CAPPED (held back by the share cap with liquidity
        left), CASH (a cash guard stopped it) or EXHAUSTED (nothing more within
        the limit price).
        """
        side = order.side
        want = abs(order.venue_open)
        limit = order.limit_price
        book = state.book
        lot = self.specs[order.instrument].lot_size
        if book is not None and not book.is_empty():
            if book.is_crossed():
                return _CAPPED  # an auction or bad data: wait for the book to uncross
            levels = book.ask_levels() if side > 0 else book.bid_levels()
            share = self.max_share
            capped = False
            taken: list[tuple[float, float]] = []
            for price, size in levels:
                if want <= EPS or (limit is not None and (price - limit) * side > 0):
                    break
                if share < 1.0:
                    allowed = lots(size * share, lot)
                    capped = capped or allowed < size
                    size = allowed
                qty = min(want, size)
                if qty > 0:
                    taken.append((price, qty))
                    want -= qty
            if not taken and capped:
                # every level's share rounds to nothing: one lot at the best, so the order moves
                price, size = levels[0]
                if size >= lot:
                    taken.append((price, min(want, lot)))
                    want -= min(want, lot)
            capped = capped and want > EPS
            for price, qty in taken:
                filled = self._fill(order, ts, qty, price, maker=False)
                book.take(-side, price, filled)
                if filled < lots(qty, lot) - EPS:
                    return _CASH
            if abs(order.venue_open) <= EPS:
                return _FILLED
            return _CAPPED if capped else _EXHAUSTED
        touch = (state.ask if side > 0 else state.bid) or state.last
        if touch <= 0:
            return _EXHAUSTED
        spec = self.specs[order.instrument]
        price = _round_away(touch * (1 + side * self.slippage.fraction(want)), spec.tick_size, side)
        if limit is not None and (price - limit) * side > 0:
            if (touch - limit) * side > 0:
                return _EXHAUSTED
            price = limit
        quoted = state.ask_size if side > 0 else state.bid_size
        capped = False
        if quoted > 0 and self.max_share < 1.0 and want > quoted * self.max_share:
            want = max(lots(quoted * self.max_share, lot), lot)
            capped = True
        filled = self._fill(order, ts, want, price, maker=False)
        if filled < lots(want, lot) - EPS:
            return _CASH
        if abs(order.venue_open) <= EPS:
            return _FILLED
        return _CAPPED if capped else _EXHAUSTED

    def _fill(self, order: Order, ts: int, qty: float, price: float, maker: bool) -> float:
        """Fill up to `qty` at `price` at the venue; returns what was filled after any cash clip."""
        spec = self.specs[order.instrument]
        lot = spec.lot_size
        qty = lots(qty, lot)
        if order.side > 0 and order.reserved_price and price > order.reserved_price:
            self.journal.record(
                "cash_guard", ts, f"fill at {price:g} beyond the reserved price "
                f"{order.reserved_price:g}: remainder not filled", order.instrument,
                order.order_seq, order.order_id, policy="reserve", price=price)
            return 0.0
        fees = self.fees
        charged = self._charged.get(order.order_id) if fees.minimum > 0 else None
        if order.side > 0 and qty > 0:
            spendable = self.spendable(order) - self.inflight_cost
            affordable = lots(fees.affordable(spendable, price, spec.multiplier, maker, charged),
                               lot)
            if affordable < qty:
                self.journal.record(
                    "cash_guard", ts, f"buy of {qty:g} at {price:g} clipped to {affordable:g}: "
                    f"only {spendable:,.2f} cash spendable", order.instrument, order.order_seq,
                    order.order_id, policy="clip", wanted=qty, filled=affordable)
                qty = affordable
        if qty <= 0:
            return 0.0
        signed = qty * order.side
        proportional = fees.proportional(qty, price, spec.multiplier, maker)
        fee = fees.charge(proportional, charged)
        if fees.minimum > 0 and proportional >= 0:
            self._charged[order.order_id] = proportional + (charged or 0.0)
        if signed > 0:
            self.inflight_cost += signed * price * spec.multiplier + fee
        order.venue_filled += signed
        order.fills.append((ts, signed, price))
        if abs(order.venue_open) < 1e-9:
            order.status = OrderStatus.FILLED
        back = self._response_at(ts)
        self.schedule(back, Priority.REPORT,
                      FillReported(back, order.order_id, order.instrument, signed, price, fee,
                                   "maker" if maker else "taker", ts))
        return qty

    def on_reported(self, report: FillReported) -> None:
        """The desk booked a fill: its cash is no longer in flight."""
        if report.qty > 0:
            spec = self.specs[report.instrument]
            self.inflight_cost -= report.qty * report.price * spec.multiplier + report.fee
            if self.inflight_cost < 1e-6:
                self.inflight_cost = 0.0

    def _end(self, order: Order, ts: int, reason: str) -> None:
        if abs(order.venue_open) > 1e-9:
            order.status = OrderStatus.ENDED
            self._report_end(order, ts, reason)

    def _report_end(self, order: Order, ts: int, reason: str) -> None:
        back = self._response_at(ts)
        self.schedule(back, Priority.REPORT, OrderEnded(back, order.order_id, reason))

    def _unrest(self, order: Order) -> None:
        for lists in (self.resting, self.taking):
            waiting = lists[order.instrument]
            if order in waiting:
                waiting.remove(order)
        order.taking = False

    def working(self, symbol: str | None = None) -> list[Order]:
        """Orders the desk still counts as open (it has not had every report yet)."""
        return [o for o in self.orders.values()
                if o.open_to_desk and (symbol is None or o.instrument == symbol)]

    def forget(self, order_id: int) -> None:
        """Drop a finished order so memory stays bounded over long replays."""
        self.orders.pop(order_id, None)
        self._charged.pop(order_id, None)


_FILLED, _CAPPED, _CASH, _EXHAUSTED = "filled", "capped", "cash", "exhausted"


def _round_away(price: float, tick: float, side: int) -> float:
    """Round to the tick, against us: up for a buy, down for a sell; never below one tick.

    Square-root impact has no ceiling: a sell large enough against the daily
    volume would move the price to zero or below, which no venue prints.
    """
    steps = price / tick
    steps = math.ceil(steps - 1e-9) if side > 0 else max(math.floor(steps + 1e-9), 1)
    return round(steps * tick, 10)
