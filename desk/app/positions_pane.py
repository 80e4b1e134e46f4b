"""Positions per instrument: quantity, average cost, mark, unrealized and realized PnL, exposure."""

from __future__ import annotations

from rich.table import Table

from desk.app.look import Palette, qty
from desk.app.look import short as _short
from desk.app.pane import Pane
from desk.snapshot import PositionRow, Snapshot


class PositionsPane(Pane):
    """A row per instrument; narrow panes drop the less urgent columns (mark, realized, exposure)."""

    def key(self, snapshot: Snapshot) -> object:
        return snapshot.positions

    def paint(self, snap: Snapshot, palette: Palette, width: int, height: int) -> Table:
        columns = ["instr", "qty", "avg", "unreal"]
        if width >= 50:
            columns[3:3] = ["mark"]
            columns.append("real")
        if width >= 66:
            columns.append("exposure")
        table = Table(box=None, expand=True, padding=(0, 1), header_style=f"bold {palette.muted}")
        for name in columns:
            table.add_column(name, justify="left" if name == "instr" else "right", no_wrap=True)
        for row in snap.positions:
            table.add_row(*(self._cell(row, name, palette) for name in columns))
        return table

    @staticmethod
    def _cell(row: PositionRow, name: str, palette: Palette) -> str:
        def signed(value: float) -> str:
            colour = palette.good if value > 0 else palette.bad if value < 0 else palette.text
            return f"[{colour}]{_short(value)}[/]"

        if name == "instr":
            return row.instrument
        if name == "qty":
            return qty(row.qty)
        if name == "avg":
            return f"{row.avg_cost:,.2f}"
        if name == "mark":
            return f"{row.mark:,.2f}"
        if name == "unreal":
            return signed(row.unrealized)
        if name == "real":
            return signed(row.realized)
        return _short(row.exposure)
