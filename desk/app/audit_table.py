"""The audit log's table: a DataTable whose → key steps the replay instead of moving a column."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class AuditTable(DataTable[Text]):
    """Rows only, so left/right have nothing to do here; → keeps its desk meaning (one event)."""

    BINDINGS = [Binding("right", "app.step_one", "Step", show=False)]
