"""The end-of-replay summary, drawn from the final snapshot."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from desk.app.modal import DeskModal
from desk.snapshot import Snapshot


def blocked_rows(blocked_by: dict[str, int], blocked: int) -> list[tuple[str, str]]:
    """A row per rule that blocked, as `desk run`'s summary has them; and when an order was
    blocked by several rules, the line that says why the rows add up to more than the blocks."""
    rows = [(f"  blocked by {rule}", f"{count:,}") for rule, count in sorted(blocked_by.items())]
    if sum(blocked_by.values()) > blocked:
        rows.append(("  (an order blocked by several rules", ""))
        rows.append(("   counts under each)", ""))
    return rows


def summary_table(snap: Snapshot) -> Table:
    pnl = snap.pnl
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    stats = snap.stats
    rows = [
        ("events", f"{snap.events:,}"),
        ("equity", f"{pnl.equity:,.2f}"),
        ("return", f"{pnl.equity / pnl.start_cash - 1:+.2%}"),
        ("max drawdown", f"{pnl.max_drawdown:.2%}"),
        ("realized", f"{pnl.realized:,.2f}"),
        ("unrealized", f"{pnl.unrealized:,.2f}"),
        ("fees", f"{pnl.fees:,.2f}"),
        ("signals", f"{stats['signals']:,}"),
        ("orders allowed", f"{stats['approved']:,}"),
        ("orders blocked", f"{stats['blocked']:,}"),
        *blocked_rows(stats["blocked_by"], stats["blocked"]),
        ("fills", f"{stats['fills']:,}"),
        ("journal records", f"{stats['records']:,}"),
        ("final mode", snap.mode),
    ]
    faults = stats.get("strategy_faults", 0)
    if faults or not snap.strategy_active:  # as `desk run`'s summary says them
        rows.append(("strategy faults", f"{faults:,}" + ("" if snap.strategy_active
                                                          else " (the strategy was stopped)")))
    for label, value in rows:
        table.add_row(label, value)
    return table


class SummaryScreen(DeskModal):
    """Shown once when the replay ends; escape returns to the final state of the desk, and the
    keys a person ends a run with, save and quit, work here as they do on the desk."""

    DEFAULT_CSS = """
    SummaryScreen > #box { height: auto; max-height: 90%; width: auto; min-width: 62; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_box", "Back to the desk", id="close"),
        Binding("s", "save", "Save", id="save",
                tooltip="save session + your actions: a TOML that replays"),
        Binding("q", "quit_desk", "Quit", id="quit", tooltip="quit (the journal is flushed)"),
    ]

    def action_save(self) -> None:
        save = getattr(self.app, "action_save", None)
        if save is not None:
            save()

    def action_quit_desk(self) -> None:
        quit_desk = getattr(self.app, "action_quit_desk", self.app.exit)
        quit_desk()

    def __init__(self, snap: Snapshot) -> None:
        super().__init__()
        self.snap = snap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box") as box:
            box.border_title = f"replay over · {self.snap.session}"
            box.border_subtitle = "escape: back to the desk · s: save · q: quit"
            yield Static(summary_table(self.snap), id="summary")
