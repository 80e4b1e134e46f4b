"""An L2 order book of one instrument, kept from snapshots and deltas."""

from __future__ import annotations

from desk.events import Level


class Book:
    """Price levels per side as dicts; sorted views are built only when someone walks the book.

    Updates are O(1); the best prices are cached and recomputed lazily, so a
    replay of many deltas pays for sorting only when an order or the UI looks.
    """

    __slots__ = ("_ask_cache", "_bid_cache", "asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bid_cache: list[Level] | None = None
        self._ask_cache: list[Level] | None = None

    def reset(self, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> None:
        """Replace the whole book with a snapshot."""
        self.bids = {price: size for price, size in bids if size > 0}
        self.asks = {price: size for price, size in asks if size > 0}
        self._bid_cache = self._ask_cache = None

    def apply(self, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> None:
        """Set each changed level to its new absolute size; size 0 deletes it."""
        if bids:
            side = self.bids
            for price, size in bids:
                if size > 0:
                    side[price] = size
                else:
                    side.pop(price, None)
            self._bid_cache = None
        if asks:
            side = self.asks
            for price, size in asks:
                if size > 0:
                    side[price] = size
                else:
                    side.pop(price, None)
            self._ask_cache = None

    def take(self, side: int, price: float, size: float) -> None:
        """Remove `size` at `price` from one side (+1 bids, -1 asks): liquidity our own fill consumed."""
        levels = self.bids if side > 0 else self.asks
        left = levels.get(price, 0.0) - size
        if left > 1e-12:
            levels[price] = left
        else:
            levels.pop(price, None)
        if side > 0:
            self._bid_cache = None
        else:
            self._ask_cache = None

    def bid_levels(self) -> list[Level]:
        """Bids, best (highest) first."""
        if self._bid_cache is None:
            self._bid_cache = sorted(self.bids.items(), reverse=True)
        return self._bid_cache

    def ask_levels(self) -> list[Level]:
        """Asks, best (lowest) first."""
        if self._ask_cache is None:
            self._ask_cache = sorted(self.asks.items())
        return self._ask_cache

    @property
    def best_bid(self) -> float | None:
        return max(self.bids) if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return min(self.asks) if self.asks else None

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (legitimate in auctions)."""
        if not self.bids or not self.asks:
            return False
        return max(self.bids) >= min(self.asks)

    def is_empty(self) -> bool:
        return not self.bids and not self.asks
