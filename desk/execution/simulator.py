"""The execution simulator: orders travel with latency, match at the venue as it is then, report back late.

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
from desk.events import CancelArrived, FillReported, OrderArrived, OrderEnded, Priority, Trade
from desk.execution.costs import Fees, Slippage
from desk.execution.latency import Latency
from desk.market import InstrumentState, MarketState
from desk.orders import Order, OrderStatus, OrderType, TimeInForce
from desk.risk.engine import ApprovedOrder, is_approved

Schedule = Callable[[int, int, Any], None]
"""`schedule(ts, priority, event)`: put an event of the engine's own on the queue."""


class ExecutionSimulator:
    """Latency legs, matching (walk the book, or quote plus slippage), resting limits with a queue."""

    def __init__(self, config: ExecutionConfig, specs: dict[str, InstrumentSpec],
                 market: MarketState, journal: Journal, schedule: Schedule,
                 spendable: Callable[[Order], float], seed: int) -> None:
        self.entry = Latency(config.entry_latency, seed * 7919 + 1)
        self.response = Latency(config.response_latency, seed * 7919 + 2)
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
        self.inflight_cost = 0.0
        """Cash that buy fills already made at the venue will take once their reports arrive."""
        self._next_id = 1

    # --- from the desk ----------------------------------------------------------

    def submit(self, approved: ApprovedOrder, ts: int, order_seq: int) -> Order:
        """Send an approved order: it reaches the venue after the entry latency."""
        if not is_approved(approved):
            raise PermissionError("the execution simulator accepts only risk-approved orders")
        intent = approved.intent
        order = Order(
            order_id=self._next_id, instrument=intent.instrument, qty=intent.qty,
            order_type=intent.order_type, limit_price=intent.limit_price, tif=intent.tif,
            submit_ts=ts, decision_price=intent.decision_price, order_seq=order_seq,
        )
        if self.cash_policy == "reserve" and intent.qty > 0 and approved.reserve > 0:
            spec = self.specs[intent.instrument]
            order.reserved_price = approved.reserve / (intent.qty * spec.multiplier) \
                / (1 + self.fees.worst_rate)
        self._next_id += 1
        self.orders[order.order_id] = order
        arrive = ts + self.entry.sample()
        self.schedule(arrive, Priority.ARRIVAL, OrderArrived(arrive, order.order_id))
        return order

    def peek_next_id(self) -> int:
        return self._next_id

    def cancel(self, order_id: int, ts: int) -> bool:
        """Ask the venue to cancel; it takes the entry latency, and fills may still win the race."""
        order = self.orders.get(order_id)
        if order is None or order.done_at_venue or order.cancel_requested:
            return False
        order.cancel_requested = True
        arrive = ts + self.entry.sample()
        self.schedule(arrive, Priority.ARRIVAL, CancelArrived(arrive, order_id))
        return True

    # --- at the venue ----------------------------------------------------------

    def on_arrival(self, event: OrderArrived) -> Order:
        ts = event.ts
        order = self.orders[event.order_id]
        state = self.market.states[order.instrument]
        order.arrival_ts = ts
        order.arrival_price = state.mid or state.last
        order.status = OrderStatus.WORKING
        if order.order_type is OrderType.MARKET:
            self._take(order, state, ts, None)
            self._end_if_open(order, ts, "no more liquidity for the market order")
        else:
            assert order.limit_price is not None
            self._take(order, state, ts, order.limit_price)
            if order.venue_open != 0 and not order.done_at_venue:
                if order.tif is TimeInForce.IOC:
                    self._end_if_open(order, ts, "IOC remainder cancelled")
                else:
                    order.queue_ahead = self._displayed_at(state, order)
                    self.resting[order.instrument].append(order)
        return order

    def on_cancel_arrival(self, event: CancelArrived) -> Order:
        ts = event.ts
        order = self.orders[event.order_id]
        if not order.done_at_venue:
            self._unrest(order)
            order.status = OrderStatus.CANCELLED
            self._report_end(order, ts, "cancelled")
        return order

    def on_trade(self, trade: Trade) -> None:
        """A trade on the venue may reach our resting orders: after the queue ahead, at our price."""
        resting = self.resting[trade.instrument]
        if not resting:
            return
        for order in list(resting):
            limit = order.limit_price
            assert limit is not None
            if order.side > 0:
                through = trade.price < limit
                at = trade.price == limit
            else:
                through = trade.price > limit
                at = trade.price == limit
            if through:
                self._fill(order, trade.ts, abs(order.venue_open), limit, maker=True)
            elif at:
                left = order.queue_ahead - trade.size
                if left >= 0:
                    order.queue_ahead = left
                    continue
                order.queue_ahead = 0.0
                self._fill(order, trade.ts, min(-left, abs(order.venue_open)), limit, maker=True)
            if order.done_at_venue:
                resting.remove(order)

    def on_top_of_book(self, symbol: str, ts: int) -> None:
        """The quote moved through a resting order's price: someone would have taken it."""
        resting = self.resting[symbol]
        if not resting:
            return
        state = self.market.states[symbol]
        for order in list(resting):
            limit = order.limit_price
            assert limit is not None
            crossed = (order.side > 0 and 0 < state.ask < limit) or \
                      (order.side < 0 and state.bid > limit > 0)
            if crossed:
                self._fill(order, ts, abs(order.venue_open), limit, maker=True)
                resting.remove(order)

    # --- matching ---------------------------------------------------------------

    def _take(self, order: Order, state: InstrumentState, ts: int, limit: float | None) -> None:
        """Take liquidity for an arriving order: walk the book, or the quote plus slippage."""
        side = order.side
        want = abs(order.venue_open)
        book = state.book
        if book is not None and not book.is_empty():
            levels = book.ask_levels() if side > 0 else book.bid_levels()
            taken: list[tuple[float, float]] = []
            for price, size in levels:
                if want <= 0 or (limit is not None and (price - limit) * side > 0):
                    break
                qty = min(want, size * self.max_share)
                taken.append((price, qty))
                want -= qty
            for price, qty in taken:
                filled = self._fill(order, ts, qty, price, maker=False)
                book.take(-side, price, filled)
                if filled < qty:
                    break
            return
        touch = (state.ask if side > 0 else state.bid) or state.last
        if touch <= 0:
            return
        spec = self.specs[order.instrument]
        slip = touch * self.slippage.fraction(want)
        price = touch + side * slip
        price = _round_away(price, spec.tick_size, side)
        if limit is not None and (price - limit) * side > 0:
            if (touch - limit) * side > 0:
                return
            price = limit
        quoted = state.ask_size if side > 0 else state.bid_size
        if quoted > 0 and self.max_share < 1.0:
            want = min(want, quoted * self.max_share)
        self._fill(order, ts, want, price, maker=False)

    def _fill(self, order: Order, ts: int, qty: float, price: float, maker: bool) -> float:
        """Fill up to `qty` at `price` at the venue; returns what was filled after any cash clip."""
        spec = self.specs[order.instrument]
        lot = spec.lot_size
        qty = math.floor(qty / lot + 1e-9) * lot
        if order.side > 0 and order.reserved_price and price > order.reserved_price:
            self.journal.record(
                "cash_guard", ts, f"fill at {price:g} beyond the reserved price "
                f"{order.reserved_price:g}: remainder not filled", order.instrument,
                order.order_seq, order.order_id, policy="reserve", price=price)
            return 0.0
        if order.side > 0:
            unit = price * spec.multiplier
            unit_cost = unit + self.fees.fee(lot, price, spec.multiplier, maker) / lot
            spendable = self.spendable(order) - self.inflight_cost
            affordable = math.floor(max(spendable, 0.0) / unit_cost / lot + 1e-9) * lot
            if affordable < qty:
                self.journal.record(
                    "cash_guard", ts, f"buy of {qty:g} at {price:g} clipped to {affordable:g}: "
                    f"only {spendable:,.2f} cash spendable", order.instrument, order.order_seq,
                    order.order_id, policy="clip", wanted=qty, filled=affordable)
                qty = affordable
        if qty <= 0:
            return 0.0
        signed = qty * order.side
        fee = self.fees.fee(qty, price, spec.multiplier, maker)
        if signed > 0:
            self.inflight_cost += signed * price * spec.multiplier + fee
        order.venue_filled += signed
        order.fills.append((ts, signed, price))
        if abs(order.venue_open) < 1e-9:
            order.status = OrderStatus.FILLED
        back = ts + self.response.sample()
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

    def _end_if_open(self, order: Order, ts: int, reason: str) -> None:
        if abs(order.venue_open) > 1e-9:
            order.status = OrderStatus.ENDED
            self._report_end(order, ts, reason)

    def _report_end(self, order: Order, ts: int, reason: str) -> None:
        back = ts + self.response.sample()
        self.schedule(back, Priority.REPORT, OrderEnded(back, order.order_id, reason))

    def _unrest(self, order: Order) -> None:
        resting = self.resting[order.instrument]
        if order in resting:
            resting.remove(order)

    def _displayed_at(self, state: InstrumentState, order: Order) -> float:
        """Size shown at our price on our side when we join: we queue behind all of it."""
        price = order.limit_price
        if state.book is not None:
            levels = state.book.bids if order.side > 0 else state.book.asks
            return levels.get(price, 0.0)  # type: ignore[arg-type]
        if order.side > 0 and price == state.bid:
            return state.bid_size
        if order.side < 0 and price == state.ask:
            return state.ask_size
        return 0.0

    def working(self, symbol: str | None = None) -> list[Order]:
        """Orders not yet done at the venue."""
        return [o for o in self.orders.values()
                if not o.done_at_venue and (symbol is None or o.instrument == symbol)]

    def forget(self, order_id: int) -> None:
        """Drop a finished order so memory stays bounded over long replays."""
        self.orders.pop(order_id, None)


def _round_away(price: float, tick: float, side: int) -> float:
    """Round to the tick, against us: up for a buy, down for a sell."""
    steps = price / tick
    steps = math.ceil(steps - 1e-9) if side > 0 else math.floor(steps + 1e-9)
    return round(steps * tick, 10)
