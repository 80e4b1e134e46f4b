"""The help screen: every key of the desk and what it does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from desk.app.modal import DeskModal


def keys_table(bindings: list[Binding]) -> Table:
    """One row per key; the nine rule keys share one row, so the rest fits on a short screen."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does")
    rules_shown = False
    for binding in bindings:
        if (binding.id or "").removeprefix("rule").isdigit():  # rule1…rule9, not "rules"
            if not rules_shown:
                rules_shown = True
                table.add_row("1…9", "switch risk rule N on/off (see the risk pane)")
            continue
        if binding.id == "slower":  # on the row of `+`: one row per pair, so all fit 80×24
            continue
        if binding.id == "faster":
            table.add_row("+ / -", "speed up / down: 1× 10× 100× 1000× max")
            continue
        table.add_row(binding.key_display or binding.key, binding.tooltip or binding.description)
    return table


class HelpScreen(DeskModal):
    """Lists the desk's keys; the same actions are in the command palette (ctrl+p)."""

    DEFAULT_CSS = """
    HelpScreen > #box { width: 100%; max-width: 90; height: 100%; max-height: 26; }
    """

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box") as box:
            box.border_title = "keys"
            box.border_subtitle = "escape closes · ctrl+p: command palette"
            yield Static(keys_table(self.bindings))
