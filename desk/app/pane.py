"""The base of every pane: lines painted from the latest snapshot, each cut to the pane's width.

Panes draw through Textual's line API: a repaint turns each line of Rich text
into a `Strip` once, cut to the width with an ellipsis. Nothing wraps (a
`Static` wraps Rich text even when told not to, which pushed rows out of line),
and the size of a pane comes from the layout alone, so a repaint never costs a
layout pass of the screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from desk.app.frame_budget import Charged
from desk.app.look import Palette
from desk.snapshot import Snapshot


def fit_line(line: Text, width: int) -> Text:
    """`line` cut to `width` cells, an ellipsis marking the cut."""
    if line.cell_len > width:
        line = line.copy()
        line.truncate(width, overflow="ellipsis")
    return line


class LineView(Widget):
    """Shows one-line texts, one per row, each cut to the width; extra lines are dropped."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines: list[Text] = []
        """What the widget shows, one Text per row, as painted (before cutting)."""
        self._strips: list[Strip | None] = []
        self._strips_for: tuple[int, object] = (-1, None)
        self._blank = Strip.blank(0)

    def set_lines(self, lines: list[Text]) -> None:
        """Show `lines`; only the rows that changed are repainted (their strips made on paint)."""
        old, self.lines = self.lines, lines
        width, height = self.size
        if self._strips_for[0] < 0 or len(old) != len(lines) or len(self._strips) != min(
                len(lines), height):
            self._strips_for = (-1, None)
            self.refresh()
            return
        changed = [y for y, (was, now) in enumerate(zip(old, lines, strict=True))
                   if y < height and was != now]
        for y in changed:
            self._strips[y] = None
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def set_text(self, text: Text) -> None:
        self.set_lines(list(text.split("\n", allow_blank=True)) if text.plain else [])

    @property
    def shown_lines(self) -> list[str]:
        """The plain text of each row as drawn: cut to the width, at most the height."""
        width, height = self.size
        return [fit_line(line, width).plain for line in self.lines[:height]]

    def render_lines(self, crop: Region) -> list[Strip]:
        # the strips are made here, once per paint: the widget's style and size are worked out
        # once, not once per line (each costs a walk of the DOM)
        with Charged(getattr(self.app, "frame_budget", None)):
            width, height = self.size
            base = self.rich_style
            if self._strips_for != (width, base):
                self._strips_for = (width, base)
                self._strips = [None] * min(len(self.lines), height)
                self._blank = Strip.blank(width, base)
            console = self.app.console
            strips = self._strips
            for y, strip in enumerate(strips):
                if strip is None:
                    cut = fit_line(self.lines[y], width)
                    made = Strip(cut.render(console), cut.cell_len).apply_style(base)
                    strips[y] = made.crop_extend(0, width, base)
            return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        strip = self._strips[y] if y < len(self._strips) else None
        return self._blank if strip is None else strip


class Pane(LineView):
    """A pane painted from a snapshot; it keeps the last one so a resize repaints at once."""

    DEFAULT_CSS = """
    Pane {
        border: round $panel-lighten-2;
        border-title-color: $accent;
        padding: 0 1;
        height: 1fr;
    }
    """

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self._snapshot: Snapshot | None = None
        self._palette: Palette | None = None
        self._key: object = None

    def show(self, snapshot: Snapshot, palette: Palette, force: bool = False) -> None:
        """Repaint from `snapshot`, unless what this pane shows of it has not changed."""
        size = self.size
        key = (self.key(snapshot), palette, size)
        if key == self._key and not force:
            return
        self._key = key
        self._snapshot, self._palette = snapshot, palette
        self.set_text(self.paint(snapshot, palette, max(size.width, 10), max(size.height, 1)))

    def retitle(self, title: str, subtitle: str = "") -> None:
        """Set the border titles only when they change (each change repaints the border)."""
        if self.border_title != title:
            self.border_title = title
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

    def key(self, snapshot: Snapshot) -> object:
        """The part of the snapshot this pane shows; a repaint is skipped while it stays equal."""
        return snapshot

    def paint(self, snapshot: Snapshot, palette: Palette, width: int, height: int) -> Text:
        raise NotImplementedError

    def on_resize(self) -> None:
        if self._snapshot is not None and self._palette is not None:
            self.show(self._snapshot, self._palette, force=True)
