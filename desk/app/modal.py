"""The base of desk's pop-up screens: a framed box over the desk that escape closes."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen


class DeskModal(ModalScreen[None]):
    """A centred, framed, scrollable box; escape or q closes it."""

    DEFAULT_CSS = """
    DeskModal { align: center middle; }
    DeskModal > #box {
        width: 90%;
        max-width: 140;
        height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_box", "Close", id="close"),
    ]

    def action_dismiss_box(self) -> None:
        self.dismiss(None)
