"""The explanation of the risk decision a seek (`d`) stopped at, shown until the replay moves on."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from desk.app.look import Palette
from desk.snapshot import Decision


class DecisionBar(Static):
    """A few lines under the log: the decision's verdict and every rule's sentence."""

    DEFAULT_CSS = """
    DecisionBar {
        display: none;
        height: auto;
        max-height: 5;
        background: $boost;
        padding: 0 1;
    }
    DecisionBar.-shown { display: block; }
    """

    def show_decision(self, decision: Decision, palette: Palette) -> None:
        text = Text()
        if decision.approved:
            text.append(" ALLOWED ", style=f"bold reverse {palette.good}")
        else:
            text.append(" BLOCKED ", style=f"bold reverse {palette.bad}")
            text.append(f" by {', '.join(decision.blocked_by)}", style=f"bold {palette.bad}")
        text.append(f"  #{decision.seq} (enter on it in the log: full chain)\n", style="dim")
        text.append(decision.why)
        self.update(text)
        self.add_class("-shown")

    def hide(self) -> None:
        if self.has_class("-shown"):
            self.remove_class("-shown")
