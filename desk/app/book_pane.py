"""The order-book ladder: asks over bids, depth bars, spread, last trade, our orders marked."""

from __future__ import annotations

from rich.text import Text

from desk.app.look import Palette
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
        if book is None or (not book.bids and not book.asks):
            text.append("no market yet", style=palette.muted)
            return text
        how = ""
        if len(snap.instruments) > 1:
            how = "pinned · i: next" if snap.book_pinned else "follows · i: pin"
        self.retitle(f"book {book.instrument}", how)
        extra = 1 if book.in_flight else 0
        per_side = max(1, (height - 1 - extra) // 2)
        asks = list(book.asks[:per_side])
        bids = list(book.bids[:per_side])
        biggest = max((lvl.size for lvl in asks + bids), default=1.0) or 1.0
        bar_room = max(0, width - 17)
        for level in reversed(asks):
            self._row(text, level, biggest, bar_room, palette.bad, palette)
        spread = f"sprd {book.spread:.4g} last {book.last:g}×{book.last_size:g}"
        if width >= 36:
            spread = f"spread {book.spread:.4g}   last {book.last:g} × {book.last_size:g}"
        text.append(spread[:width] + "\n", style=f"bold {palette.text}")
        for level in bids:
            self._row(text, level, biggest, bar_room, palette.good, palette)
        if book.in_flight:
            text.append(("ours: " + ", ".join(book.in_flight))[:width], style=palette.accent)
        text.rstrip()
        return text

    @staticmethod
    def _row(text: Text, level: LadderLevel, biggest: float, bar_room: int, colour: str,
             palette: Palette) -> None:
        marker = f"◀{level.ours:+g}" if level.ours else ""
        room = bar_room - len(marker) - (1 if marker else 0)
        text.append(f"{level.price:>8.2f} ", style=f"bold {colour}")
        text.append(f"{level.size:>7,.0f} ")
        text.append("█" * max(1, round(room * level.size / biggest)) if room > 0 else "",
                    style=colour)
        text.append(f" {marker}" if marker else "", style=f"bold reverse {palette.accent}")
        text.append("\n")
