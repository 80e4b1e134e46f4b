"""The base of every pane: a Static that repaints itself from the latest snapshot."""

from __future__ import annotations

from rich.console import RenderableType

from textual.widgets import Static

from desk.app.look import Palette
from desk.snapshot import Snapshot


class Pane(Static):
    """A pane painted from a snapshot; it keeps the last one so a resize can repaint without waiting."""

    DEFAULT_CSS = """
    Pane {
        border: round $panel-lighten-2;
        border-title-color: $accent;
        padding: 0 1;
        height: 1fr;
    }
    """

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.border_title = title
        self._snapshot: Snapshot | None = None
        self._palette: Palette | None = None
        self._key: object = None

    def show(self, snapshot: Snapshot, palette: Palette, force: bool = False) -> None:
        """Repaint from `snapshot`, unless what this pane shows of it has not changed."""
        size = self.content_size
        key = (self.key(snapshot), palette, size)
        if key == self._key and not force:
            return
        self._key = key
        self._snapshot, self._palette = snapshot, palette
        # a pane's size comes from the layout, never from its content: skip the layout pass
        self.update(self.paint(snapshot, palette, max(size.width, 10), max(size.height, 1)),
                    layout=False)

    def retitle(self, title: str, subtitle: str = "") -> None:
        """Set the border titles only when they change (each change repaints the border)."""
        if self.border_title != title:
            self.border_title = title
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

    def key(self, snapshot: Snapshot) -> object:
        """The part of the snapshot this pane shows; a repaint is skipped while it stays equal."""
        return snapshot

    def paint(self, snapshot: Snapshot, palette: Palette, width: int, height: int) -> RenderableType:
        raise NotImplementedError

    def on_resize(self) -> None:
        if self._snapshot is not None and self._palette is not None:
            self.show(self._snapshot, self._palette, force=True)
