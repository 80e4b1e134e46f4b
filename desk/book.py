"""An L2 order book of one instrument, kept from snapshots and deltas."""

from __future__ import annotations

from desk.events import Level

STALE, GAP = "stale", "gap"


def _sorted_levels(side: dict[float, float], descending: bool) -> list[Level]:
    """(price, size) in book order."""
    return sorted(side.items(), reverse=descending)


class Book:
    """Price levels per side as dicts; sorted views are built only when someone walks the book.

    Updates are O(1); the best prices and the sorted sides are cached and
    recomputed lazily, so a replay of many deltas pays for a scan only when
    a level at the top goes away, and for sorting only when an order or the
    UI walks the book.
    """

    __slots__ = ("_ask_cache", "_best_ask", "_best_bid", "_bid_cache", "asks", "bids", "crossed",
                 "seq")

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bid_cache: list[Level] | None = None
        self._ask_cache: list[Level] | None = None
        self._best_bid: float | None = None
        self._best_ask: float | None = None
        self.seq: int | None = None
        """The last update id applied, when the feed carries ids."""
        self.crossed = False
        """Whether the book was crossed when last looked at (the engine journals changes)."""

    def reset(self, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> None:
        """Replace the whole book with a snapshot."""
        self.bids = {price: size for price, size in bids if size > 0}
        self.asks = {price: size for price, size in asks if size > 0}
        self._bid_cache = self._ask_cache = None
        self._best_bid = self._best_ask = None

    def apply(self, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> None:
        """Set each changed level to its new absolute size; size 0 deletes it."""
        if bids:
            side = self.bids
            best = self._best_bid
            for price, size in bids:
                if size > 0:
                    side[price] = size
                    if best is not None and price > best:
                        best = price
                else:
                    side.pop(price, None)
                    if price == best:
                        best = None
            self._best_bid = best
            self._bid_cache = None
        if asks:
            side = self.asks
            best = self._best_ask
            for price, size in asks:
                if size > 0:
                    side[price] = size
                    if best is not None and price < best:
                        best = price
                else:
                    side.pop(price, None)
                    if price == best:
                        best = None
            self._best_ask = best
            self._ask_cache = None

    def take(self, side: int, price: float, size: float) -> None:
        """Remove `size` at `price` from one side (+1 bids, -1 asks): liquidity our own fill
        consumed."""
        levels = self.bids if side > 0 else self.asks
        left = levels.get(price, 0.0) - size
        if left > 1e-12:
            levels[price] = left
        else:
            levels.pop(price, None)
            if side > 0 and price == self._best_bid:
                self._best_bid = None
            elif side < 0 and price == self._best_ask:
                self._best_ask = None
        if side > 0:
            self._bid_cache = None
        else:
            self._ask_cache = None

    def sequence_issue(self, seq: int, prev_seq: int | None, snapshot: bool) -> str | None:
        """STALE if an update is already in the book, GAP if updates between are missing, else None.

        A snapshot is always taken. A delta whose ids overlap the last one
        applied (the first delta after a REST snapshot) is fine; only a delta
        that starts beyond the next id means updates were lost.
        """
        last = self.seq
        if snapshot or last is None:
            return None
        if seq <= last:
            return STALE
        follows = prev_seq if prev_seq is not None else seq - 1
        return GAP if follows > last else None

    def bid_levels(self) -> list[Level]:
        """Bids, best (highest) first."""
        if self._bid_cache is None:
            self._bid_cache = _sorted_levels(self.bids, True)
        return self._bid_cache

    def ask_levels(self) -> list[Level]:
        """Asks, best (lowest) first."""
        if self._ask_cache is None:
            self._ask_cache = _sorted_levels(self.asks, False)
        return self._ask_cache

    @property
    def best_bid(self) -> float | None:
        if self._best_bid is None and self.bids:
            self._best_bid = max(self.bids)
        return self._best_bid

    @property
    def best_ask(self) -> float | None:
        if self._best_ask is None and self.asks:
            self._best_ask = min(self.asks)
        return self._best_ask

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (legitimate in auctions)."""
        bid, ask = self.best_bid, self.best_ask
        return bid is not None and ask is not None and bid >= ask

    def is_empty(self) -> bool:
        return not self.bids and not self.asks
