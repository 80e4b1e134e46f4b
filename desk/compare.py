"""Several sessions side by side over many seeds: distributions, survival, cost, equity curves.

One run proves nothing; a distribution over seeded worlds does. These helpers
turn the rows of `desk.batch.run_cell` into per-session statistics, a Rich
table and text sparklines of the equity curves on one shared scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

BARS = "▁▂▃▄▅▆▇█"


def aggregate(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per label (in first-seen order): the distribution of the figures over its seeds."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["label"], []).append(row)
    out: dict[str, dict[str, Any]] = {}
    for label, group in groups.items():
        group.sort(key=lambda r: r["seed"])
        equity = np.array([r["equity"] for r in group])
        drawdown = np.array([r["max_drawdown"] for r in group])
        out[label] = {
            "label": label,
            "runs": len(group),
            "seeds": [r["seed"] for r in group],
            "equity_median": float(np.median(equity)),
            "equity_p10": float(np.percentile(equity, 10)),
            "equity_p90": float(np.percentile(equity, 90)),
            "equity_mean": float(equity.mean()),
            "return_mean": float(np.mean([r["return"] for r in group])),
            "profitable": sum(r["equity"] > r["start_cash"] for r in group) / len(group),
            "max_drawdown_median": float(np.median(drawdown)),
            "max_drawdown_worst": float(drawdown.max()),
            "survival": sum(bool(r["survived"]) for r in group) / len(group),
            "ruined": sum(bool(r["ruined"]) for r in group),
            "halted": sum(bool(r["halted"]) for r in group),
            "shortfall_mean": float(np.mean([r["shortfall"] for r in group])),
            "latency_cost_mean": float(np.mean([r["latency_cost"] for r in group])),
            "impact_cost_mean": float(np.mean([r["impact_cost"] for r in group])),
            "fee_cost_mean": float(np.mean([r["fee_cost"] for r in group])),
            "fills_mean": float(np.mean([r["fills"] for r in group])),
            "blocked_mean": float(np.mean([r["orders_blocked"] for r in group])),
            "curves": [list(r["equity_curve"]) for r in group],
        }
    return out


RUN_HIDDEN = frozenset(("equity_curve", "wall_seconds", "key", "overrides"))
"""Row fields a per-run line leaves out: the curve (long), the wall time (differs every run)
and the cell's id and overrides (a compare has none; the id names this machine's paths)."""


def run_lines(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per run (session × seed): the figures the table's distributions are made of."""
    return [{k: v for k, v in row.items() if k not in RUN_HIDDEN} for row in rows]


FIGURES: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("runs (seeds)", lambda s: f"{s['runs']}"),
    ("final equity, median", lambda s: f"{s['equity_median']:,.0f}"),
    ("final equity, p10 – p90", lambda s: f"{s['equity_p10']:,.0f} – {s['equity_p90']:,.0f}"),
    ("return, mean", lambda s: f"{s['return_mean']:+.2%}"),
    ("profitable runs", lambda s: f"{s['profitable']:.0%}"),
    ("max drawdown, median", lambda s: f"{s['max_drawdown_median']:.2%}"),
    ("max drawdown, worst", lambda s: f"{s['max_drawdown_worst']:.2%}"),
    ("survival (no ruin, no halt)", lambda s: f"{s['survival']:.0%}"),
    ("  ruined / halted runs", lambda s: f"{s['ruined']} / {s['halted']}"),
    ("shortfall per run, mean", lambda s: f"{s['shortfall_mean']:,.0f}"),
    ("  latency / impact / fees", lambda s: f"{s['latency_cost_mean']:,.0f} / "
     f"{s['impact_cost_mean']:,.0f} / {s['fee_cost_mean']:,.0f}"),
    ("fills per run, mean", lambda s: f"{s['fills_mean']:,.0f}"),
    ("orders blocked by risk, mean", lambda s: f"{s['blocked_mean']:,.0f}"),
)
"""The table's rows: each figure's name and how a session's statistics give its value."""

MIN_FIGURE_WIDTH = 12
"""The narrowest the figure names may fold to in the side-by-side table."""


def _widest_value(stat: dict[str, Any]) -> int:
    return max(len(fmt(stat)) for _, fmt in FIGURES)


def comparison_table(stats: dict[str, dict[str, Any]], title: str) -> Table:
    """One column per session, one row per figure."""
    table = Table(title=title, title_justify="left")
    table.add_column("figure", style="bold")
    for label in stats:  # a session's name is text, never markup (`[/]` in it would fail)
        table.add_column(Text(label), justify="right")
    for name, fmt in FIGURES:
        table.add_row(name, *(fmt(s) for s in stats.values()))
    return table


def table_fits(stats: dict[str, dict[str, Any]], width: int) -> bool:
    """Whether the side-by-side table shows every value whole in `width` columns.

    Rich cuts a cell that does not fit with an ellipsis (`100,5…`): a figure
    that reads as another number. A box table pads each column by one on each
    side and draws a border between them.
    """
    values = sum(_widest_value(stat) for stat in stats.values())
    return MIN_FIGURE_WIDTH + values + 3 * (len(stats) + 1) + 1 <= width


def session_blocks(stats: dict[str, dict[str, Any]], title: str) -> list[RenderableType]:
    """For a screen too narrow for the table: per session, its name, then a figure a line,
    every value whole (the names of the figures fold)."""
    blocks: list[RenderableType] = [Text(title)]
    for label, stat in stats.items():
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold")
        grid.add_column(justify="right", no_wrap=True, min_width=_widest_value(stat))
        for name, fmt in FIGURES:
            grid.add_row(name.strip(), fmt(stat))
        blocks += [Text(""), Text(label, style="bold underline"), grid]
    return blocks


def resample(values: list[float], width: int) -> list[float]:
    """`width` points spread evenly over `values` (the last one always included)."""
    if not values:
        return []
    if len(values) <= width:
        return list(values)
    idx = np.linspace(0, len(values) - 1, width).round().astype(int)
    return [values[i] for i in idx]


def sparkline(values: list[float], lo: float, hi: float) -> str:
    """Values as block characters on the scale lo..hi."""
    span = hi - lo
    if span <= 0:
        return BARS[len(BARS) // 2] * len(values)
    top = len(BARS) - 1
    return "".join(BARS[max(0, min(top, round((v - lo) / span * top)))] for v in values)


def curve_bands(curves: list[list[float]], width: int) -> dict[str, list[float]]:
    """p10, median and p90 of the equity curves per sample (short curves hold their last value)."""
    length = max(len(c) for c in curves)
    padded = np.array([c + [c[-1]] * (length - len(c)) for c in curves])
    return {name: resample(list(np.percentile(padded, q, axis=0)), width)
            for name, q in (("p90", 90), ("median", 50), ("p10", 10))}


def equity_chart(stats: dict[str, dict[str, Any]], width: int = 60) -> list[str]:
    """Text lines: per session, the p90 / median / p10 equity curves on one scale shared by all."""
    bands = {label: curve_bands(s["curves"], width) for label, s in stats.items() if s["curves"]}
    if not bands:
        return []
    lo = min(min(b["p10"]) for b in bands.values())
    hi = max(max(b["p90"]) for b in bands.values())
    name_width = max(len(label) for label in bands)
    lines = [f"equity over time, p90 / median / p10 over seeds; scale {lo:,.0f} … {hi:,.0f}"]
    for label, band in bands.items():
        for i, key in enumerate(("p90", "median", "p10")):
            name = label if i == 1 else ""
            lines.append(f"{name:<{name_width}} {key:>6} {sparkline(band[key], lo, hi)} "
                         f"{band[key][-1]:,.0f}")
    return lines
