"""The order-book ladder: asks over bids, depth bars, spread, last trade, our orders marked."""

from __future__ import annotations

from rich.text import Text

from desk.app.look import Palette, fit
from desk.app.pane import Pane
from desk.snapshot import LadderLevel, Snapshot


class BookPane(Pane):
    """The top levels of one instrument's book, as many as the pane's height allows.

    It follows the instrument of the latest risk decision or fill, so the book shown
    is the one the action is in; `i` pins an instrument instead.
    """

    def key(self, snapshot: Snapshot) -> object:
        return snapshot.book, snapshot.book_pinned, len(snapshot.instruments)

    def paint(self, snap: Snapshot, palette: Palette, width: int, height: int) -> Text:
        book = snap.book
        text = Text(no_wrap=True, overflow="crop")
        if book is None:
            text.append("no market yet", style=palette.muted)
            return text
        how = ""
        if len(snap.instruments) > 1:
            how = "pinned · i: next" if snap.book_pinned else "follows · i: pin"
        self.retitle(f"book {book.instrument}", how)
        px, qty = book.price_decimals, book.size_decimals
        if not book.bids and not book.asks:
            if book.last > 0:  # bars or trades only: no depth to draw, the last price is known
                text.append(f"last {book.last:,.{px}f}\n", style=f"bold {palette.text}")
                text.append("no depth in this data", style=palette.muted)
            else:
                text.append("no market yet", style=palette.muted)
            return text
        extra = 1 if book.in_flight else 0
        per_side = max(1, (height - 1 - extra) // 2)
        asks = list(book.asks[:per_side])
        bids = list(book.bids[:per_side])
        biggest = max((lvl.size for lvl in asks + bids), default=1.0) or 1.0
        price_w = max(8, len(f"{max(lvl.price for lvl in asks + bids):,.{px}f}"))
        size_w = max(7, len(f"{biggest:,.{qty}f}"))
        bar_room = max(0, width - price_w - size_w - 2)
        for level in reversed(asks):
            self._row(text, level, biggest, bar_room, palette.bad, palette, (px, price_w),
                      (qty, size_w))
        # quotes or a book without trades have no last price, a one-sided book no spread
        last = f"{book.last:,.{px}f}×{book.last_size:g}" if book.last > 0 else "–"
        gap = f"{book.spread:.{px}f}" if book.bid > 0 and book.ask > 0 else "–"
        spread = f"sprd {gap} last {last}"
        if width >= 36:
            spread = f"spread {gap}   last {last.replace('×', ' × ')}"
        text.append(spread + "\n", style=f"bold {palette.text}")
        for level in bids:
            self._row(text, level, biggest, bar_room, palette.good, palette, (px, price_w),
                      (qty, size_w))
        if book.in_flight:
            text.append(fit("ours: " + ", ".join(book.in_flight), width), style=palette.accent)
        text.rstrip()
        return text

    @staticmethod
    def _row(text: Text, level: LadderLevel, biggest: float, bar_room: int, colour: str,
             palette: Palette, price: tuple[int, int], size: tuple[int, int]) -> None:
        """One level: price and size with the instrument's tick and lot decimals, a depth bar."""
        marker = f"◀{level.ours:+g}" if level.ours else ""
        room = bar_room - len(marker) - (1 if marker else 0)
        text.append(f"{level.price:>{price[1]},.{price[0]}f} ", style=f"bold {colour}")
        text.append(f"{level.size:>{size[1]},.{size[0]}f} ")
        text.append("█" * max(1, round(room * level.size / biggest)) if room > 0 else "",
                    style=colour)
        text.append(f" {marker}" if marker else "", style=f"bold reverse {palette.accent}")
        text.append("\n")
