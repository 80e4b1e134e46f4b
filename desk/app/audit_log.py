"""The audit log's rows: a bounded list drawn line by line, with a cursor, that never changes size.

A `DataTable` grows its virtual size with every row added, and each change of
size costs a layout pass of the whole screen and a repaint of every pane; at
full speed that starved the engine and delayed keys by hundreds of
milliseconds. This widget's size comes only from the layout: adding rows
repaints this widget alone, each row is turned into a `Strip` once (cached
by seq), and a frame costs one dictionary look-up per visible line.

Rows show the time of day; the log's first row and the first row of a new day
(UTC) also show their date, so a run that spans midnight reads unambiguously.
Whether a row starts a day is decided when its strip is made (from the row
before it), so the per-frame cost is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from desk.app.frame_budget import Charged
from desk.app.look import Palette, fit
from desk.audit import TailRecord
from desk.timeutil import format_ns

MAX_ROWS = 1_000
"""Rows the log holds at most; older rows are dropped (they stay in the journal file)."""
SEQ_WIDTH, TIME_WIDTH, KIND_WIDTH = 7, 12, 16
"""Column widths; 16 fits the longest kind (`strategy_stopped`)."""
FIXED_WIDTH = SEQ_WIDTH + 1 + TIME_WIDTH + 1 + KIND_WIDTH + 1
"""Cells before the `why` column (each column is followed by one space)."""
DAY_NS = 86_400_000_000_000
"""A day in nanoseconds: days are counted in UTC, as the times are shown."""


class _Paint(NamedTuple):
    """What every line of one paint needs, worked out once for all of them."""

    width: int
    base: Style
    cursor: Style
    header: Style
    blank: Segment
    mark: Segment
    marks: tuple[int, int]
    """Rows [start, end) of the scroll thumb."""


class AuditLog(Widget, can_focus=True):
    """Journal rows under an optional header; the cursor row is the one `enter` explains."""

    DEFAULT_CSS = """
    AuditLog { height: 1fr; }
    AuditLog > .audit-log--header { color: $text-muted; text-style: bold; }
    AuditLog > .audit-log--cursor { background: $panel-lighten-1; }
    AuditLog:focus > .audit-log--cursor { background: $accent 35%; }
    AuditLog > .audit-log--thumb { color: $panel-lighten-2; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "audit-log--header", "audit-log--cursor", "audit-log--thumb",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "home", "First row", show=False),
        Binding("end", "end", "Last row (follow)", show=False),
        Binding("enter", "select", "Why", show=False),
        Binding("right", "app.step_one", "Step", show=False),
    ]

    class Selected(Message):
        """The person asked why the record under the cursor happened."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[TailRecord] = []
        self.cursor = -1
        """Index in `rows` of the selected row; -1 when the log is empty."""
        self.top = 0
        """Index in `rows` of the first row on screen."""
        self._following = True
        self.on_follow: Callable[[bool], None] | None = None
        """Told whenever the log starts or stops following (its pane says which it does)."""
        self.show_header = False
        self.palette: Palette | None = None
        self._strips: dict[int, Strip] = {}
        self._strip_for: tuple[int, Style | None] = (-1, None)
        self._paint: _Paint | None = None

    @property
    def following(self) -> bool:
        """While the cursor is on the last row, new rows move it along (the log follows)."""
        return self._following

    @following.setter
    def following(self, value: bool) -> None:
        if value != self._following:
            self._following = value
            if self.on_follow is not None:
                self.on_follow(value)

    def follow(self) -> None:
        """Back to the last row, following the new ones."""
        self.following = True
        if self.rows:
            self._place(len(self.rows) - 1, rows_changed=False)

    # --- content ------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def page(self) -> int:
        """Rows visible at once."""
        return max(1, self.size.height - (1 if self.show_header else 0))

    def set_rows(self, rows: Iterable[TailRecord], palette: Palette) -> None:
        """Replace every row (after a filter change); the cursor goes to the last row."""
        self.palette = palette
        self.rows = list(rows)[-MAX_ROWS:]
        self._strips.clear()
        self.following = True
        self._place(len(self.rows) - 1)

    def append(self, rows: list[TailRecord], palette: Palette) -> None:
        """Add rows at the bottom: one repaint of this widget, never a layout pass."""
        if palette != self.palette:
            self.palette = palette
            self._strips.clear()
            self.refresh()
        if not rows:
            return
        self.rows.extend(rows)
        excess = len(self.rows) - MAX_ROWS
        if excess > 0:
            for record in self.rows[:excess]:
                self._strips.pop(record[0], None)
            del self.rows[:excess]
            self._strips.pop(self.rows[0][0], None)  # the new first row shows its date
            self.cursor = max(0, self.cursor - excess) if self.cursor >= 0 else -1
            self.top = max(0, self.top - excess)
        if self.following or self.cursor < 0:
            self._place(len(self.rows) - 1)
        else:
            self.refresh()

    def index_of(self, seq: int) -> int | None:
        """The row index of record `seq`, if the log shows it (rows are in seq order)."""
        low, high = 0, len(self.rows)
        while low < high:
            mid = (low + high) // 2
            if self.rows[mid][0] < seq:
                low = mid + 1
            else:
                high = mid
        return low if low < len(self.rows) and self.rows[low][0] == seq else None

    def select_seq(self, seq: int) -> bool:
        index = self.index_of(seq)
        if index is None:
            return False
        self.following = index == len(self.rows) - 1
        self._place(index, rows_changed=False)
        return True

    def selected(self) -> TailRecord | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def _place(self, index: int, rows_changed: bool = True) -> None:
        """Put the cursor on row `index` and scroll just enough to show it.

        When only the cursor moved within the view, only its old and new lines repaint.
        """
        was_cursor, was_top = self.cursor, self.top
        self.cursor = min(max(index, 0), len(self.rows) - 1) if self.rows else -1
        page = self.page
        if self.cursor >= 0:
            if self.cursor < self.top:
                self.top = self.cursor
            elif self.cursor >= self.top + page:
                self.top = self.cursor - page + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - page)))
        if rows_changed or self.top != was_top:
            self.refresh()
        elif self.cursor != was_cursor:
            header = 1 if self.show_header else 0
            width = self.size.width
            self.refresh(*(Region(0, row - self.top + header, width, 1)
                           for row in (was_cursor, self.cursor) if row >= self.top))

    # --- keys and mouse ---------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * self.page)

    def action_home(self) -> None:
        self._move(0)

    def action_end(self) -> None:
        self._move(len(self.rows) - 1)

    def _move(self, index: int) -> None:
        if not self.rows:
            return
        index = min(max(index, 0), len(self.rows) - 1)
        self.following = index == len(self.rows) - 1
        self._place(index, rows_changed=False)

    def action_select(self) -> None:
        record = self.selected()
        if record is not None:
            self.post_message(self.Selected(record[0]))

    def on_click(self, event: events.Click) -> None:
        row = event.y - (1 if self.show_header else 0)
        if row < 0 or self.top + row >= len(self.rows):
            return
        self._move(self.top + row)
        if event.chain >= 2:
            self.action_select()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._scroll(3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._scroll(-3)

    def _scroll(self, delta: int) -> None:
        """Scroll the view; the cursor stays on its record while it is in view."""
        page = self.page
        self.top = max(0, min(self.top + delta, max(0, len(self.rows) - page)))
        if not self.top <= self.cursor < self.top + page and self.rows:
            self.cursor = self.top if delta < 0 else min(self.top + page, len(self.rows)) - 1
        self.following = self.cursor == len(self.rows) - 1
        self.refresh()

    def on_resize(self) -> None:
        self._place(self.cursor)

    # --- drawing ----------------------------------------------------------------------------

    def new_day(self, index: int) -> str | None:
        """The date of row `index` (`YYYY-MM-DD`) when it is the first row, or the row before
        it is of another day."""
        if not 0 <= index < len(self.rows):
            return None
        ts = self.rows[index][1]
        if index and ts // DAY_NS == self.rows[index - 1][1] // DAY_NS:
            return None
        return format_ns(ts)[:10]

    def row_text(self, record: TailRecord, width: int, date: str | None = None) -> Text:
        """One record as a line of exactly `width` cells: seq, time, kind, why (cut with …);
        `date` opens the why column on the first row of a new day."""
        palette = self.palette
        seq, ts, kind, _instrument, _cause, _order, why, _details = record
        blocked = kind == "risk" and why.startswith("blocked")
        style = palette.kind(kind, blocked) if palette is not None else ""
        label = "BLOCKED" if blocked else kind
        text = Text(no_wrap=True, end="")
        text.append(f"{seq:>{SEQ_WIDTH}} {format_ns(ts)[11:23]:<{TIME_WIDTH}} ", style="dim")
        text.append(f"{fit(label, KIND_WIDTH):<{KIND_WIDTH}}", style=style)
        text.append(" ")
        room = width - FIXED_WIDTH
        if date is not None:
            mark = fit(f"{date} ", room)
            text.append(mark, style="bold")
            room -= len(mark)
        text.append(fit(why, room), style=style if blocked else "")
        return text

    def header_text(self, width: int) -> Text:
        line = f"{'seq':>{SEQ_WIDTH}} {'time':<{TIME_WIDTH}} {'kind':<{KIND_WIDTH}} why"
        return Text(fit(line, width), no_wrap=True, end="")

    def lines(self) -> list[str]:
        """The plain text of every line on screen, as drawn (for tests)."""
        self._prepare()
        return ["".join(segment.text for segment in self.render_line(y))
                for y in range(self.size.height)]

    def render_lines(self, crop: Region) -> list[Strip]:
        with Charged(getattr(self.app, "frame_budget", None)):
            self._prepare()
            return super().render_lines(crop)

    def _prepare(self) -> None:
        """Styles and sizes once per paint, not once per line (each costs a walk of the DOM)."""
        width, height = self.size
        base = self.rich_style
        if (width, base) != self._strip_for:
            self._strip_for = (width, base)
            self._strips.clear()
        page = max(1, height - (1 if self.show_header else 0))
        thumb = base + self.get_component_rich_style("audit-log--thumb")
        total = len(self.rows)
        if total <= page:
            marks = (0, 0)
        else:
            start = round(self.top / total * page)
            marks = (start, start + max(1, round(page * page / total)))
        if len(self._strips) > 2 * page:  # keep the strips of the rows in view, no more
            shown = {record[0] for record in self.rows[self.top:self.top + page]}
            self._strips = {seq: strip for seq, strip in self._strips.items() if seq in shown}
        self._paint = _Paint(width, base, self.get_component_rich_style("audit-log--cursor"),
                             self.get_component_rich_style("audit-log--header"),
                             Segment(" ", thumb), Segment("▐", thumb), marks)

    def render_line(self, y: int) -> Strip:
        paint = self._paint
        if paint is None:
            return Strip.blank(self.size.width)
        width, base = paint.width, paint.base
        if self.show_header:
            if y == 0:
                return self._strip(self.header_text(width), width, base + paint.header)
            y -= 1
        index = self.top + y
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        record = self.rows[index]
        room = width - 1  # the last cell is the scroll thumb
        if index == self.cursor:
            strip = self._strip(self.row_text(record, room, self.new_day(index)), room,
                                base + paint.cursor)
        elif record[0] in self._strips:
            strip = self._strips[record[0]]
        else:
            strip = self._strips[record[0]] = self._strip(
                self.row_text(record, room, self.new_day(index)), room, base)
        start, end = paint.marks
        return Strip([*strip, paint.mark if start <= y < end else paint.blank], width)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        strip = Strip(text.render(self.app.console), text.cell_len).apply_style(style)
        return strip.crop_extend(0, width, style)
