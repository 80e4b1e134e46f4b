"""The audit log: recent journal records, coloured by kind, filterable, bounded, each row explainable."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input
from textual.widgets.data_table import RowDoesNotExist

from desk.app.audit_filter import AuditFilter
from desk.app.audit_table import AuditTable
from desk.app.look import Palette
from desk.audit import TailRecord
from desk.timeutil import format_ns

KEEP = 5_000
"""Records held in memory for filtering and for explaining (the chain walks these)."""
MAX_ROWS = 1_000
"""Rows the table shows at most; older rows are dropped (they stay in the journal file)."""
ROWS_PER_FRAME = 60
"""New rows added per frame at most: at full speed nobody reads faster, and rows cost paint time.
The records left out stay in memory (filter and explain see them)."""


class AuditPane(Vertical):
    """A DataTable of journal records with a filter line under it."""

    DEFAULT_CSS = """
    AuditPane {
        border: round $panel-lighten-2;
        border-title-color: $accent;
        height: 1fr;
    }
    AuditPane DataTable { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    AuditPane Input { display: none; height: 3; }
    AuditPane.-filtering Input { display: block; }
    """

    class ExplainRequested(Message):
        """The person asked why record `seq` happened."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "audit"
        self.records: dict[int, TailRecord] = {}
        self._order: deque[int] = deque()
        self.filter = AuditFilter()
        self._palette: Palette | None = None
        self.skipped = 0
        self._why_width = 60

    def compose(self) -> ComposeResult:
        table = AuditTable(cursor_type="row", zebra_stripes=False, id="audit-table")
        table.add_column("seq", key="seq", width=7)
        table.add_column("time", key="time", width=12)
        table.add_column("kind", key="kind", width=12)
        table.add_column("why", key="why", width=60)
        yield table
        yield Input(placeholder="filter: kind:risk,fill rule:max_position words  (enter applies, "
                    "empty clears)", id="audit-filter")

    def on_resize(self) -> None:
        """Fit the `why` column to the pane: rows are never wider than the screen (cheaper to paint)."""
        table = self.table
        column = table.columns.get("why")  # type: ignore[call-overload]
        width = max(20, self.content_size.width - 31 - 2 * table.cell_padding - 2)
        if column is not None and column.width != width:
            column.width = width
            column.auto_width = False
            self._why_width = width
            self._rebuild()

    @property
    def table(self) -> AuditTable:
        return self.query_one("#audit-table", AuditTable)

    def add(self, records: Iterable[TailRecord], skipped: int, palette: Palette) -> None:
        """Take this frame's new records: keep them, and add the matching ones in one batch."""
        self._palette = palette
        self.skipped += skipped
        fresh = []
        for record in records:
            self.records[record[0]] = record
            self._order.append(record[0])
            if self.filter.matches(record):
                fresh.append(record)
        while len(self._order) > KEEP:
            self.records.pop(self._order.popleft(), None)
        if not fresh:
            return
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        fresh = fresh[-ROWS_PER_FRAME:]
        if table.row_count + len(fresh) > MAX_ROWS:
            self._rebuild(MAX_ROWS // 2)
        else:
            for record in fresh:
                table.add_row(*self._row(record, palette), key=str(record[0]))
        if following:
            table.move_cursor(row=table.row_count - 1, animate=False)
        self._title()

    def _row(self, record: TailRecord, palette: Palette) -> list[Text]:
        seq, ts, kind, _instrument, _cause, _order, why, _details = record
        blocked = kind == "risk" and why.startswith("blocked")
        style = palette.kind(kind, blocked)
        label = "BLOCKED" if blocked else kind
        # cut to the column: a cell of a few hundred characters costs far more to paint
        width = self._why_width
        shown = why if len(why) <= width else why[: width - 1] + "…"
        return [Text(str(seq), style="dim"), Text(format_ns(ts)[11:23], style="dim"),
                Text(label, style=style), Text(shown, style=style if blocked else "")]

    def _rebuild(self, rows: int = MAX_ROWS) -> None:
        """Refill the table from the latest records in memory that pass the filter."""
        palette = self._palette
        if palette is None:
            return
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        selected = None if following else self.selected_seq()
        table.clear()
        shown: list[TailRecord] = []
        for seq in reversed(self._order):
            if len(shown) >= rows:
                break
            if self.filter.matches(self.records[seq]):
                shown.append(self.records[seq])
        shown.reverse()
        for record in shown:
            table.add_row(*self._row(record, palette), key=str(record[0]))
        if (selected is None or not self.select_seq(selected)) and table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)
        self._title()

    def _title(self) -> None:
        title = "audit"
        if self.filter.active:
            title += f" [{self.filter.describe()}]"
        if self.border_title != title:
            self.border_title = title
        if not self.border_subtitle:
            self.border_subtitle = "enter: why · /: filter"

    # --- filtering and explaining ------------------------------------------------

    def open_filter(self) -> None:
        self.add_class("-filtering")
        box = self.query_one("#audit-filter", Input)
        box.value = self.filter.describe()
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value)
        self.remove_class("-filtering")
        self.table.focus()

    def apply_filter(self, text: str) -> None:
        self.filter = AuditFilter.parse(text)
        self._rebuild()
        table = self.table
        if table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)

    def select_seq(self, seq: int) -> bool:
        """Put the cursor on record `seq` if the table shows it."""
        table = self.table
        try:
            index = table.get_row_index(str(seq))
        except RowDoesNotExist:  # filtered out, or dropped from the bounded table
            return False
        table.move_cursor(row=index, animate=False)
        return True

    def selected_seq(self) -> int | None:
        table = self.table
        if table.row_count == 0:
            return None
        cell = table.get_row_at(table.cursor_row)[0]
        return int(cell.plain)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        seq = self.selected_seq()
        if seq is not None:
            self.post_message(self.ExplainRequested(seq))
