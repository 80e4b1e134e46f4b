"""The audit log: recent journal records, coloured by kind, filterable, bounded, explainable."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from desk.app.audit_filter import AuditFilter, unknown_kinds, unknown_rule
from desk.app.audit_log import MAX_ROWS, AuditLog
from desk.app.look import Palette
from desk.audit import TailRecord
from desk.timeutil import format_ns

FOLLOWING = "enter: why · /: filter"
NOT_FOLLOWING = "End: follow · enter: why"
"""The border's subtitle: the keys that matter whether new rows move the cursor along or not
(the title says which: `not following (End)`)."""
KEEP = 5_000
"""Records held in memory for filtering and for explaining (the chain walks these)."""


class AuditPane(Vertical):
    """The log of journal records with a filter line under it."""

    DEFAULT_CSS = """
    AuditPane {
        border: round $panel-lighten-2;
        border-title-color: $accent;
        height: 1fr;
    }
    AuditPane Input { display: none; height: 3; }
    AuditPane.-filtering Input { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close_filter", "Close the filter", show=False),
    ]

    class ExplainRequested(Message):
        """The person asked why record `seq` happened."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    class FilterApplied(Message):
        """The log shows other rows now: what pointed at a row may have to say otherwise."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "audit"
        self.border_subtitle = FOLLOWING
        self.records: dict[int, TailRecord] = {}
        self._order: deque[int] = deque()
        self.filter = AuditFilter()
        self._palette: Palette | None = None
        self.skipped = 0
        self.rule_names: tuple[str, ...] = ()
        """The session's risk rules, which `rule:` may name (none known: any is taken)."""
        self._log = AuditLog(id="audit-log")
        self._log.on_follow = self._followed
        self._first_day = ""
        """The date of the first record: once a record has another, the title shows dates."""
        self._day = ""

    def compose(self) -> ComposeResult:
        yield self._log
        yield Input(placeholder="filter: kind:risk,fill rule:max_position words  (enter applies, "
                    "empty clears)", id="audit-filter")

    @property
    def log_view(self) -> AuditLog:
        return self._log

    def add(self, records: Iterable[TailRecord], skipped: int, palette: Palette) -> None:
        """Take this frame's new records: keep them, and append the matching ones in one batch."""
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
        if not self._first_day and self._order:
            self._first_day = format_ns(self.records[self._order[0]][1])[:10]
        self.log_view.append(fresh, palette)
        if fresh:
            self._retitle()

    def _rebuild(self) -> None:
        """Refill the log from the latest records in memory that pass the filter."""
        palette = self._palette
        if palette is None:
            return
        shown: list[TailRecord] = []
        for seq in reversed(self._order):
            if len(shown) >= MAX_ROWS:
                break
            if self.filter.matches(self.records[seq]):
                shown.append(self.records[seq])
        shown.reverse()
        self.log_view.set_rows(shown, palette)
        self._retitle()

    def _retitle(self) -> None:
        """`audit`, the date of the newest row once the records span more than one day (the
        rows show the time of day only), the filter, and whether the log follows new rows."""
        title = "audit"
        rows = self.log_view.rows
        if rows and self._first_day:
            day = format_ns(rows[-1][1])[:10]
            if day != self._first_day or self._day:
                self._day = day
                title += f" · {day}"
        if self.filter.active:
            title += f" [{self.filter.describe()}]"
        if not self.log_view.following:  # in the title too: a short screen has no bottom border
            title += " · not following (End)"
        if title != self.border_title:
            self.border_title = title

    def _followed(self, following: bool) -> None:
        self.border_subtitle = FOLLOWING if following else NOT_FOLLOWING
        self._retitle()

    def follow(self) -> None:
        """The log follows the newest rows again (resuming the replay does this)."""
        self.log_view.follow()

    # --- filtering and explaining ------------------------------------------------

    def open_filter(self) -> None:
        self.add_class("-filtering")
        box = self.query_one("#audit-filter", Input)
        box.value = self.filter.describe()
        box.focus()

    def action_close_filter(self) -> None:
        """Escape leaves the filter box as it was, back to the log."""
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.log_view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.apply_filter(event.value):
            return  # the box stays open on the text, to be corrected (escape leaves it)
        self.remove_class("-filtering")
        self.log_view.focus()

    def apply_filter(self, text: str) -> bool:
        """Show only what `text` asks for; a kind no journal has or a rule the session has not
        (a typo) changes nothing, and the person is told the ones there are, rather than shown
        an empty log."""
        wanted = AuditFilter.parse(text)
        unknown = unknown_kinds(wanted) or (
            unknown_rule(wanted, self.rule_names) if self.rule_names else "")
        if unknown:
            self.notify(unknown, title="filter not applied", severity="error", timeout=8)
            return False
        self.filter = wanted
        self._rebuild()
        self.post_message(self.FilterApplied())
        if wanted.active and not self.log_view.rows:
            self.notify(f"no row matches {wanted.describe()!r} yet; new rows that match will "
                        "show (an emptied box shows every row)", title="filter", timeout=6)
        return True

    def select_seq(self, seq: int) -> bool:
        """Put the cursor on record `seq` if the log shows it."""
        return self.log_view.select_seq(seq)

    def selected_seq(self) -> int | None:
        record = self.log_view.selected()
        return None if record is None else record[0]

    def on_audit_log_selected(self, event: AuditLog.Selected) -> None:
        event.stop()
        self.post_message(self.ExplainRequested(event.seq))
