"""Profit and loss: equity, cash, realized, unrealized, fees, drawdown; sparklines of the two."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from desk.app.look import Palette, fit, money, short
from desk.app.pane import Pane
from desk.snapshot import Snapshot

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as block characters scaled between their min and max."""
    if not values or width <= 0:
        return ""
    data = list(values[-width:])
    low, high = min(data), max(data)
    span = high - low
    if span <= 0:
        return _BLOCKS[0] * len(data)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[round((v - low) / span * top)] for v in data)


_SHORT_LABELS = {"drawdown": "dd", "unrealized": "unreal", "realized": "real", "leverage": "lev"}
"""Labels as the narrow layout writes them, for a cell that is tight."""


class PnLPane(Pane):
    """The money figures a desk watches, with their recent history."""

    def key(self, snapshot: Snapshot) -> object:
        return snapshot.pnl

    def paint(self, snap: Snapshot, palette: Palette, width: int, height: int) -> Text:
        pnl = snap.pnl
        change = pnl.equity - pnl.start_cash
        colour = palette.good if change >= 0 else palette.bad
        dd_style = palette.bad if pnl.drawdown > 0.02 else palette.text
        text = Text(no_wrap=True, overflow="ellipsis")
        if width >= 48:
            rows = [
                ("equity", money(pnl.equity), f"bold {colour}"),
                ("return", f"{change / pnl.start_cash:+.2%}", colour),
                ("cash", money(pnl.cash), palette.text),
                ("fees", money(pnl.fees), palette.text),
                ("realized", money(pnl.realized), palette.text),
                ("unrealized", money(pnl.unrealized), palette.text),
                ("drawdown", f"{pnl.drawdown:.2%} (max {pnl.max_drawdown:.2%})", dd_style),
                ("leverage", f"{pnl.leverage:.2f}", palette.text),
            ]
            half = (width - 2) // 2
            for left, right in zip(rows[0::2], rows[1::2], strict=True):
                self._cell(text, left, half)
                text.append("  ")
                self._cell(text, right, half)
                text.append("\n")
        else:
            lines = [
                [("equity", money(pnl.equity), f"bold {colour}"),
                 ("", f"{change / pnl.start_cash:+.2%}", colour)],
                [("cash", short(pnl.cash), palette.text), ("fees", short(pnl.fees), palette.text)],
                [("real", short(pnl.realized), palette.text),
                 ("unreal", short(pnl.unrealized), palette.text)],
                [("dd", f"{pnl.drawdown:.2%}", dd_style), ("max", f"{pnl.max_drawdown:.2%}",
                                                            palette.text),
                 ("lev", f"{pnl.leverage:.2f}", palette.text)],
            ]
            for line in lines:
                for label, value, style in line:
                    if label:
                        text.append(label + " ", style="dim")
                    text.append(value + "  ", style=style)
                text.append("\n")
        room = height - 4
        if room >= 2 and width > 8:
            text.append("eq  ", style=palette.muted)
            text.append(sparkline(pnl.equity_history, width - 4) + "\n", style=colour)
            text.append("dd  ", style=palette.muted)
            text.append(sparkline(pnl.drawdown_history, width - 4), style=palette.bad)
        elif room == 1 and width > 16:
            half = (width - 8) // 2
            text.append("eq ", style=palette.muted)
            text.append(sparkline(pnl.equity_history, half), style=colour)
            text.append("  dd ", style=palette.muted)
            text.append(sparkline(pnl.drawdown_history, half), style=palette.bad)
        text.rstrip()
        return text

    @staticmethod
    def _cell(text: Text, row: tuple[str, str, str], width: int) -> None:
        """A label and its value in exactly `width` cells: the label shortened first, so the
        cell beside it stays in the pane (`drawdown 0.00% (max 0.00%)` is `dd …` when tight)."""
        label, value, style = row
        if len(label) + 1 + len(value) > width:
            label = _SHORT_LABELS.get(label, label)
        value = fit(value, max(1, width - len(label) - 1))
        pad = max(1, width - len(label) - len(value))
        text.append(label, style="dim")
        text.append(" " * pad)
        text.append(value, style=style)
