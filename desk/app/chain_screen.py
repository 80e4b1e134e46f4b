"""The screen that explains one journal record: the chain of causes before it and what followed."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from desk.app.chain import Chain
from desk.app.look import Palette
from desk.app.modal import DeskModal
from desk.audit import TailRecord, details_of
from desk.timeutil import format_ns


def chain_text(chain: Chain, seq: int, palette: Palette) -> Table:
    """The chain as a table: a row per record, the asked-about one marked, verdicts spelled out."""
    table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
    table.add_column("seq", justify="right", style="dim", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("why", ratio=1)
    if chain.missing is not None:
        table.add_row(f"#{chain.missing}", Text("…", style="dim"),
                      Text("earlier causes are no longer in memory; `desk explain` reads the "
                           "journal file", style="dim"))
    for record in chain.ancestors:
        _row(table, record, palette, here=record[0] == seq)
    if chain.outcome:
        table.add_row("", Text("outcome", style="bold"), Text(chain.outcome, style="bold"))
    if chain.consequences:
        table.add_row("", "", Text("what followed", style=f"bold {palette.muted}"))
        for record in chain.consequences:
            _row(table, record, palette, here=False)
    return table


def _row(table: Table, record: TailRecord, palette: Palette, here: bool) -> None:
    seq, ts, kind, _instrument, _cause, _order, why, details = record
    blocked = kind == "risk" and why.startswith("blocked")
    style = palette.kind(kind, blocked)
    body = Text(f"{format_ns(ts)[11:23]}  ", style="dim")
    body.append(why, style="bold" if here else "")
    if kind == "risk":
        for verdict in details_of(details).get("verdicts", []):
            mark, colour = ("✓", palette.good) if verdict["passed"] else ("✗", palette.bad)
            body.append(f"\n  {mark} {verdict['rule']}: {verdict['message']}", style=colour)
    table.add_row(("▶ " if here else "") + f"#{seq}", Text(kind, style=style), body)


class ChainScreen(DeskModal):
    """Why record `seq` happened: its causes back to the market event, then its consequences."""

    def __init__(self, chain: Chain, seq: int, palette: Palette) -> None:
        super().__init__()
        self.chain = chain
        self.seq = seq
        self.palette = palette

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box") as box:
            box.border_title = f"why #{self.seq}: {self.chain.title}  (escape closes)"
            yield Static(chain_text(self.chain, self.seq, self.palette), id="chain")
