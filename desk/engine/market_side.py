"""The engine's market side: market events at the venue, then at the desk, and the marks."""

from __future__ import annotations

from typing import Any

from desk.book import GAP, STALE
from desk.engine.state import EngineState
from desk.events import Bar, BookDelta, BookSnapshot, MarketDelivered, Priority, Quote, Trade

_CALLBACKS = {Trade: "on_trade", Quote: "on_quote", BookSnapshot: "on_book", BookDelta: "on_book",
              Bar: "on_bar"}
"""The strategy callback of each kind of market event."""


class MarketSide(EngineState):
    """At the venue the market changes and resting orders may fill at once; the desk (marks,
    risk, strategy) hears of it after the feed latency, if any."""

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
        self.execution.on_bar(bar)
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

    def _data_issue(self, ts: int, instrument: str | None, message: str) -> None:
        self.stats.data_issues += 1
        self.journal.record("data_quality", ts, message, instrument)
