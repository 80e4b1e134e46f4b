"""The screen shown when the engine fails: what broke, and where the journal is."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from desk.app.modal import DeskModal


class ErrorScreen(DeskModal):
    """A clear message; the desk behind it stays on the last state for inspection."""

    DEFAULT_CSS = """
    ErrorScreen > #box { border: thick $error; height: auto; max-height: 90%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_box", "Back to the desk", id="close"),
        Binding("q", "quit_desk", "Quit", id="quit", tooltip="quit desk (the journal is kept)"),
    ]

    def __init__(self, message: str, journal: str | None) -> None:
        super().__init__()
        self.message = message
        self.journal = journal

    def action_quit_desk(self) -> None:
        """Quit from here: the runner has already closed the journal, which stays on disk."""
        quit_desk = getattr(self.app, "action_quit_desk", self.app.exit)
        quit_desk()

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("The engine stopped with an error.\n\n", style="bold")
        text.append(self.message + "\n\n")
        if self.journal:
            text.append(f"The journal up to the failure is kept in {self.journal}.\n")
        else:
            text.append("This run keeps no journal file (no audit path).\n")
        text.append("Escape shows the desk as it was; q quits desk (the journal is kept).",
                    style="dim")
        with VerticalScroll(id="box") as box:
            box.border_title = "engine failure"
            yield Static(text, id="error-message")
