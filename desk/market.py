"""What the desk knows of the market right now: last trade, quote, book and mark per instrument."""

from __future__ import annotations

from desk.book import Book


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
    """Instrument states by symbol. The engine updates it; everyone else reads through `MarketView`."""

    def __init__(self, symbols: list[str]) -> None:
        self.states: dict[str, InstrumentState] = {symbol: InstrumentState() for symbol in symbols}

    def book(self, symbol: str) -> Book:
        """The instrument's book, created on its first L2 event."""
        state = self.states[symbol]
        if state.book is None:
            state.book = Book()
        return state.book

    def sync_top_from_book(self, state: InstrumentState) -> None:
        """After a book update, the quote and mark follow the book's best levels."""
        book = state.book
        assert book is not None
        bids, asks = book.bids, book.asks
        if bids:
            state.bid = best = max(bids)
            state.bid_size = bids[best]
        if asks:
            state.ask = best = min(asks)
            state.ask_size = asks[best]
        if bids and asks:
            state.mark = (state.bid + state.ask) / 2


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

    def depth(self, symbol: str, levels: int = 5) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Copies of the top `levels` bids and asks, best first; empty without a book."""
        book = self._states[symbol].book
        if book is None:
            return [], []
        return list(book.bid_levels()[:levels]), list(book.ask_levels()[:levels])

    @property
    def symbols(self) -> list[str]:
        return list(self._states)
