"""Positions per instrument: quantity, average cost, mark, unrealized and realized PnL, exposure."""

from __future__ import annotations

from rich.text import Text

from desk.app.look import Palette, fit, qty
from desk.app.look import short as _short
from desk.app.pane import Pane
from desk.snapshot import PositionRow, Snapshot

WIDTHS = {"instr": 6, "qty": 8, "avg": 9, "mark": 9, "unreal": 9, "real": 9, "exposure": 9}
"""Cells per column; figures are right-aligned, a space between columns."""


class PositionsPane(Pane):
    """A row per instrument; narrow panes drop the less urgent columns (mark, realized,
    exposure)."""

    def key(self, snapshot: Snapshot) -> object:
        return snapshot.positions

    def paint(self, snap: Snapshot, palette: Palette, width: int, height: int) -> Text:
        columns = ["instr", "qty", "avg", "unreal"]
        if width >= 50:
            columns[3:3] = ["mark"]
            columns.append("real")
        if width >= 66:
            columns.append("exposure")
        # the instrument column takes what is left, so the figures line up at the right edge
        figures = sum(WIDTHS[c] + 1 for c in columns[1:])
        instr = max(WIDTHS["instr"], min(16, width - figures))
        text = Text(no_wrap=True)
        head = f"{'instr':<{instr}}" + "".join(f" {c:>{WIDTHS[c]}}" for c in columns[1:])
        text.append(head + "\n", style=f"bold {palette.muted}")
        for row in snap.positions:
            text.append(f"{fit(row.instrument, instr):<{instr}}")  # cut with …, never bare
            for name in columns[1:]:
                value, style = self._cell(row, name, palette)
                text.append(" ")
                text.append(f"{value:>{WIDTHS[name]}}", style=style)
            text.append("\n")
        text.rstrip()
        return text

    @staticmethod
    def _cell(row: PositionRow, name: str, palette: Palette) -> tuple[str, str]:
        def signed(value: float) -> tuple[str, str]:
            colour = palette.good if value > 0 else palette.bad if value < 0 else palette.text
            return _short(value), colour

        if name == "qty":
            return qty(row.qty), palette.text
        # never a price of 0: a flat position has no average, an instrument not yet priced no mark
        if name == "avg":
            return _price(row.avg_cost if row.qty else 0.0, row.price_decimals), palette.text
        if name == "mark":
            return _price(row.mark, row.price_decimals), palette.text
        if name == "unreal":
            return signed(row.unrealized)
        if name == "real":
            return signed(row.realized)
        return _short(row.exposure), palette.text


def _price(value: float, decimals: int) -> str:
    """A price with the instrument's tick decimals, or `–` where there is none."""
    return f"{value:,.{decimals}f}" if value > 0 else "–"
