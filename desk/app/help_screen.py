"""The help screen: every key of the desk and what it does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from desk.app.modal import DeskModal


def keys_table(bindings: list[Binding]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does")
    for binding in bindings:
        table.add_row(binding.key_display or binding.key, binding.tooltip or binding.description)
    return table


class HelpScreen(DeskModal):
    """Lists the desk's keys; the same actions are in the command palette (ctrl+p)."""

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box") as box:
            box.border_title = "keys  (escape closes; ctrl+p: command palette)"
            yield Static(keys_table(self.bindings))
