"""Resting limit orders at the venue: the queue each waits in, and what reaches it.

Our orders are not in the replayed market, so whatever reaches them is shared
out as the venue would: in price-time priority, the best price first and, at
one price, the first to rest first, each behind the displayed queue ahead of
it (see `desk.execution.queue_model`) and behind our own orders ahead of it,
each taking at most `max_volume_share` of what one event offers.
"""

from __future__ import annotations

import math

from desk.config import InstrumentSpec
from desk.events import Bar, Trade
from desk.execution.queue_model import QueueModel
from desk.market import InstrumentState, MarketState
from desk.orders import Order

EPS = 1e-9


class RestingOrders:
    """The resting half of the execution simulator; it fills through the simulator's `_fill`."""

    resting: dict[str, list[Order]]
    """Limit orders waiting at their price, per instrument, in the order they came to rest."""
    queue: QueueModel
    market: MarketState
    specs: dict[str, InstrumentSpec]
    max_share: float
    bar_start: dict[str, int]
    """Per instrument, the close of its previous bar: where the next bar's range begins."""

    def _fill(self, order: Order, ts: int, qty: float, price: float, maker: bool) -> float:
        """Fill up to `qty` at `price` (with the cash guards); returns what was filled."""
        raise NotImplementedError

    def on_trade(self, trade: Trade) -> None:
        """A trade may reach our resting orders: at our price after the queue ahead, or beyond.

        The trade's size is shared out in price-time priority, our own orders
        included: the best-priced first, and at one price the first to rest
        first, each after the displayed queue ahead of it. Each order takes at
        most `max_volume_share` of the trade. A crossed book (an auction print,
        or bad data) fills nothing, as in `on_top_of_book`.
        """
        resting = self.resting[trade.instrument]
        if not resting:
            return
        price = trade.price
        aggressor = trade.aggressor
        reached: list[Order] | None = None
        for order in resting:
            limit = order.limit_price
            assert limit is not None
            side = order.side
            beyond = (price - limit) * side
            if beyond < -EPS * limit or (beyond <= EPS * limit and aggressor * side <= 0):
                if reached is None:
                    reached = [order]
                else:
                    reached.append(order)
        if reached is None or crossed(self.market.states[trade.instrument]):
            return
        if len(reached) > 1:
            reached.sort(key=_priority)  # stable: at one price, the first to rest stays first
        cap = trade.size * self.max_share
        left = {1: trade.size, -1: trade.size}  # an unknown aggressor may have hit either side
        queue = self.queue
        for order in reached:
            side = order.side
            budget = left[side]
            limit = order.limit_price
            assert limit is not None
            if (price - limit) * side < -EPS * limit:
                queue.cleared(order)  # traded through our price: the level, and the queue, are gone
                reach = budget
            elif budget > EPS:
                reach = queue.on_trade(order, budget)
            else:
                continue
            if reach > 0:
                left[side] = budget - self._fill(
                    order, trade.ts, min(reach, cap, abs(order.venue_open)), limit, maker=True)
            if order.done_at_venue:
                resting.remove(order)

    def on_bar(self, bar: Bar) -> None:
        """A bar whose range went through a resting order's limit fills it there, as maker.

        A bar stamped at its close covers the time since the previous bar, so
        it speaks only for orders resting before that began (the low may come
        before a later arrival). A price through the limit means the level and
        its queue were gone; a bar that only touches the limit says nothing of
        the queue, as a trade at an unknown queue does not. The bar's volume,
        when given, is shared out in price-time priority, `max_volume_share`
        of it per order; without one, the order fills whole.
        """
        symbol = bar.instrument
        start = self.bar_start.get(symbol)
        self.bar_start[symbol] = bar.ts
        resting = self.resting[symbol]
        if start is None or not resting:
            return
        reached = [order for order in resting if order.arrival_ts <= start
                   and _through(order, bar.low if order.side > 0 else bar.high)]
        if not reached:
            return
        reached.sort(key=_priority)
        volume = bar.volume if bar.volume > 0 else math.inf
        left = {1: volume, -1: volume}
        for order in reached:
            side = order.side
            want = min(abs(order.venue_open), left[side])
            if volume < math.inf:
                want = min(want, volume * self.max_share)
            limit = order.limit_price
            assert limit is not None
            if want > EPS:
                self.queue.cleared(order)
                left[side] -= self._fill(order, bar.ts, want, limit, maker=True)
            if order.done_at_venue:
                resting.remove(order)

    def _requeue(self, symbol: str, state: InstrumentState, ts: int) -> None:
        """The book or quote changed: each resting order's queue follows what its price shows.

        A resting order the other side has moved onto (its best price at or
        through our limit) fills at its limit, first in line there now: as
        much as is displayed at or through the limit, `max_volume_share` of
        each level, shared out in price-time priority among our orders. The
        rest keeps resting with nothing ahead of it.
        """
        resting = self.resting[symbol]
        met: list[Order] | None = None
        for order in resting:
            limit = order.limit_price
            assert limit is not None
            if (order.side > 0 and 0 < state.ask <= limit) or \
                    (order.side < 0 and state.bid >= limit > 0):
                if met is None:
                    met = [order]
                else:
                    met.append(order)
            else:
                displayed = self._level_size(state, order)
                if displayed is not None:
                    self.queue.on_depth(order, displayed)
        if met is None:
            return
        if len(met) > 1:
            met.sort(key=_priority)
        lot = self.specs[symbol].lot_size
        quoted = {1: self._share(state.ask_size, lot), -1: self._share(state.bid_size, lot)}
        for order in met:
            self._met(order, state, ts, quoted)
            if order.done_at_venue:
                resting.remove(order)

    def _met(self, order: Order, state: InstrumentState, ts: int, quoted: dict[int, float]) -> None:
        """The other side reached a resting order's limit: fill what is shown there, at the limit.

        With a book, what this fill takes leaves the venue's book (until the
        feed updates the level), so our next order sees only what is left;
        with quotes only, `quoted` is what is left of the shown size per side.
        """
        side = order.side
        limit = order.limit_price
        assert limit is not None
        lot = self.specs[order.instrument].lot_size
        want = abs(order.venue_open)
        book = state.book
        if book is not None and not book.is_empty():
            levels = book.ask_levels() if side > 0 else book.bid_levels()
            taken: list[tuple[float, float]] = []
            for price, size in levels:
                if want <= EPS or (price - limit) * side > EPS * limit:
                    break
                qty = min(want, self._share(size, lot))
                if qty > 0:
                    taken.append((price, qty))
                    want -= qty
            for price, qty in taken:
                filled = self._fill(order, ts, qty, limit, maker=True)
                book.take(-side, price, filled)
                if filled < lots(qty, lot) - EPS:
                    break
        else:
            qty = min(want, quoted[side])
            if qty > 0:
                quoted[side] -= self._fill(order, ts, qty, limit, maker=True)
        if not order.done_at_venue:
            self.queue.join(order, 0.0)

    def _share(self, size: float, lot: float) -> float:
        """What one order may take of `size` shown at one level in one event."""
        return size if self.max_share >= 1.0 else lots(size * self.max_share, lot)

    def _level_size(self, state: InstrumentState, order: Order) -> float | None:
        """Size displayed at the order's price on its side; 0 at or inside the best, None if unseen.

        A price better than the best is one nobody shows: nothing is ahead of
        us there. A price beyond the displayed depth tells us nothing.
        """
        price = order.limit_price
        assert price is not None
        side = order.side
        if state.book is not None:
            levels = state.book.bids if side > 0 else state.book.asks
            size = levels.get(price)
            if size is not None:
                return size
            if not levels:
                return None
            worst = min(levels) if side > 0 else max(levels)
            return 0.0 if (price - worst) * side > 0 else None
        best, size = (state.bid, state.bid_size) if side > 0 else (state.ask, state.ask_size)
        if best <= 0:
            return None
        if abs(price - best) <= EPS * price:
            return size
        return 0.0 if (price - best) * side > 0 else None


def _priority(order: Order) -> float:
    """Price priority among our orders on one side: the highest bid, the lowest ask, first."""
    return -order.side * (order.limit_price or 0.0)


def _through(order: Order, extreme: float) -> bool:
    """Whether a bar's low (for a buy) or high (for a sell) went strictly through the limit."""
    limit = order.limit_price
    assert limit is not None
    return (limit - extreme) * order.side > EPS * limit


def crossed(state: InstrumentState) -> bool:
    """Whether the venue's book (or, without one, its quote) is crossed: nothing should fill."""
    book = state.book
    if book is not None and not book.is_empty():
        return book.is_crossed()
    return 0 < state.ask <= state.bid


def lots(qty: float, lot: float) -> float:
    """`qty` rounded down to whole lots (and clear of float residue, as the engine rounds)."""
    return round(math.floor(qty / lot + 1e-9) * lot, 10)
