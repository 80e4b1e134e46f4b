"""What the desk knows of the market right now: last trade, quote, book and mark per instrument."""

from __future__ import annotations

from typing import Any

from desk.book import Book
from desk.events import Bar, BookDelta, BookSnapshot, Quote, Trade


class InstrumentState:
    """The latest market facts of one instrument. Written only by `MarketState`."""

    __slots__ = ("ask", "ask_size", "bid", "bid_size", "book", "last", "last_size", "mark", "ts",
                 "volume")

    def __init__(self) -> None:
        self.ts = 0
        self.last = 0.0
        self.last_size = 0.0
        self.bid = 0.0
        self.bid_size = 0.0
        self.ask = 0.0
        self.ask_size = 0.0
        self.mark = 0.0
        self.volume = 0.0
        self.book: Book | None = None

    @property
    def mid(self) -> float:
        if self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2
        return self.last

    @property
    def spread(self) -> float:
        if self.bid > 0 and self.ask > 0:
            return self.ask - self.bid
        return 0.0


class MarketState:
    """Instrument states by symbol. The engine updates it; everyone else reads through
    `MarketView`."""

    def __init__(self, symbols: list[str]) -> None:
        self.states: dict[str, InstrumentState] = {symbol: InstrumentState() for symbol in symbols}

    def book(self, symbol: str) -> Book:
        """The instrument's book, created on its first L2 event."""
        state = self.states[symbol]
        if state.book is None:
            state.book = Book()
        return state.book

    def sync_top_from_book(self, state: InstrumentState) -> bool:
        """After a book update, quote and mark follow the best levels; an empty side is 0.

        Returns whether the book is crossed (best bid at or above best ask), which
        the engine journals when it changes: the best prices are at hand here.
        """
        book = state.book
        assert book is not None
        bid, ask = book.best_bid, book.best_ask
        state.bid, state.bid_size = (bid, book.bids[bid]) if bid is not None else (0.0, 0.0)
        state.ask, state.ask_size = (ask, book.asks[ask]) if ask is not None else (0.0, 0.0)
        if state.bid > 0 and state.ask > 0:
            state.mark = (state.bid + state.ask) / 2
        return bid is not None and ask is not None and bid >= ask

    # --- one method per kind of market event ---------------------------------------------

    def trade(self, trade: Trade) -> InstrumentState:
        state = self.states[trade.instrument]
        state.ts = trade.ts
        state.last = trade.price
        state.last_size = trade.size
        state.volume += trade.size
        if state.bid <= 0 or state.ask <= 0:
            state.mark = trade.price
        return state

    def quote(self, quote: Quote) -> InstrumentState:
        state = self.states[quote.instrument]
        state.ts = quote.ts
        state.bid, state.bid_size, state.ask, state.ask_size = (quote.bid, quote.bid_size,
                                                                quote.ask, quote.ask_size)
        if quote.bid > 0 and quote.ask > 0:
            state.mark = (quote.bid + quote.ask) / 2
        return state

    def book_event(self, event: BookSnapshot | BookDelta) -> bool:
        """Apply a snapshot (replaces the book) or a delta (changes levels), then follow its top.

        Returns whether the book is crossed after it.
        """
        state = self.states[event.instrument]
        book = state.book
        if book is None:
            book = state.book = Book()
        if type(event) is BookSnapshot:
            book.reset(event.bids, event.asks)
        else:
            book.apply(event.bids, event.asks)
        if event.seq is not None:
            book.seq = event.seq
        state.ts = event.ts
        return self.sync_top_from_book(state)

    def bar(self, bar: Bar) -> InstrumentState:
        state = self.states[bar.instrument]
        state.ts = bar.ts
        state.last = bar.close
        state.volume += bar.volume
        if state.bid <= 0 or state.ask <= 0:
            state.mark = bar.close
        return state

    def apply(self, event: Any) -> None:
        """Any market event, by its type."""
        kind = type(event)
        if kind is Trade:
            self.trade(event)
        elif kind is Quote:
            self.quote(event)
        elif kind is Bar:
            self.bar(event)
        else:
            self.book_event(event)


class MarketView:
    """A read-only window on the market for strategies and risk rules."""

    __slots__ = ("_states",)

    def __init__(self, market: MarketState) -> None:
        self._states = market.states

    def mark(self, symbol: str) -> float:
        return self._states[symbol].mark

    def last(self, symbol: str) -> float:
        return self._states[symbol].last

    def bid(self, symbol: str) -> float:
        return self._states[symbol].bid

    def ask(self, symbol: str) -> float:
        return self._states[symbol].ask

    def mid(self, symbol: str) -> float:
        return self._states[symbol].mid

    def spread(self, symbol: str) -> float:
        return self._states[symbol].spread

    def time(self, symbol: str) -> int:
        return self._states[symbol].ts

    def depth(self, symbol: str, levels: int = 5
              ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Copies of the top `levels` bids and asks, best first; empty without a book."""
        book = self._states[symbol].book
        if book is None:
            return [], []
        return list(book.bid_levels()[:levels]), list(book.ask_levels()[:levels])

    @property
    def symbols(self) -> list[str]:
        return list(self._states)
