"""The end-of-run summary: figures from the engine, as a dict and as a Rich table; and what
the reading commands print with."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from desk.engine import Engine


def summarize(engine: Engine, wall_seconds: float) -> dict[str, Any]:
    """The figures a person wants after a run; all derived from the engine's own state."""
    p = engine.portfolio
    s = engine.stats
    equity = p.equity
    filled = s.filled_qty
    return {
        "session": engine.config.session.name,
        "seed": engine.seed,
        "events": s.events,
        "market_events": s.market_events,
        "start_cash": p.start_cash,
        "equity": equity,
        "return": equity / p.start_cash - 1.0,
        "max_drawdown": p.max_drawdown,
        "realized": p.realized,
        "unrealized": p.unrealized,
        "fees": p.fees,
        "cash": p.cash,
        "positions": engine.portfolio_view.positions(),
        "mode": engine.risk.mode,
        "signals": s.signals,
        "orders_allowed": s.approved,
        "orders_blocked": s.blocked,
        "blocked_by": dict(sorted(s.blocked_by.items())),
        "fills": s.fills,
        "filled_qty": filled,
        "filled_by": dict(sorted(s.filled_by.items())),
        "latency_cost": s.latency_cost,
        "impact_cost": s.impact_cost,
        "fee_cost": s.fee_cost,
        "shortfall": s.latency_cost + s.impact_cost + s.fee_cost,
        "shortfall_bps": ((s.latency_cost + s.impact_cost + s.fee_cost) / s.decided_notional * 1e4
                          if s.decided_notional else 0.0),
        "traded_notional": s.decided_notional,
        "data_issues": s.data_issues,
        "rows_skipped": sum(reader.stats.skipped for reader in engine.readers),
        "strategy_faults": s.strategy_faults,
        "strategy_active": engine.strategy_active,
        "journal_records": engine.journal.seq,
        "journal_writer_peak_mib": engine.journal.writer_peak_kib / 1024,
        "wall_seconds": wall_seconds,
        "events_per_second": s.events / wall_seconds if wall_seconds > 0 else 0.0,
    }


def summary_table(summary: dict[str, Any]) -> Table:
    """The summary as a two-column Rich table."""
    from rich.table import Table
    from rich.text import Text

    from desk.figures import signed

    # the session's and instruments' names are text, never markup (`[/]` in one would fail)
    table = Table(title=Text(f"desk · {summary['session']} · seed {summary['seed']}"),
                  show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")

    def money(value: float) -> str:
        return f"{value:,.2f}"

    rows = [
        ("events", f"{summary['events']:,}"),
        ("equity", f"{money(summary['equity'])} (start {money(summary['start_cash'])})"),
        ("return", f"{summary['return']:+.2%}"),
        ("max drawdown", f"{summary['max_drawdown']:.2%}"),
        ("realized / unrealized", f"{money(summary['realized'])} / {money(summary['unrealized'])}"),
        ("positions", ", ".join(f"{k} {signed(v)}" for k, v in summary["positions"].items())
         or "flat"),
        ("risk mode", summary["mode"]),
        ("signals", f"{summary['signals']:,}"),
        ("orders allowed", f"{summary['orders_allowed']:,}"),
        ("orders blocked", f"{summary['orders_blocked']:,}"),
    ]
    blocked_by = summary["blocked_by"]
    for rule, count in blocked_by.items():
        rows.append((f"  blocked by {rule}", f"{count:,}"))
    if sum(blocked_by.values()) > summary["orders_blocked"]:  # the rows would not add up
        rows.append(("  (an order blocked by several rules counts under each)", ""))
    rows += [
        ("fills", f"{summary['fills']:,} ({_units(summary)})"),
        ("fees", money(summary["fee_cost"])),
        ("slippage cost (latency + impact)",
         f"{money(summary['latency_cost'] + summary['impact_cost'])} "
         f"(latency {money(summary['latency_cost'])}, impact {money(summary['impact_cost'])})"),
        ("implementation shortfall", f"{money(summary['shortfall'])} "
         f"({summary['shortfall_bps']:.2f} bps of {money(summary['traded_notional'])})"),
    ]
    if summary["data_issues"]:
        rows.append(("data issues / rows skipped",
                     f"{summary['data_issues']:,} / {summary.get('rows_skipped', 0):,}"))
    if summary["strategy_faults"]:
        rows.append(("strategy faults", f"{summary['strategy_faults']:,}"
                     + ("" if summary["strategy_active"] else " (stopped)")))
    rows += [
        ("journal records", f"{summary['journal_records']:,}"),
        ("wall time", f"{summary['wall_seconds']:.2f} s"),
        ("events/s", f"{summary['events_per_second']:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, Text(value))
    return table


def _units(summary: dict[str, Any]) -> str:
    """The units filled: one figure for one instrument, one per instrument for several (a share
    and a future's contract do not add up)."""
    from desk.figures import num

    by = summary.get("filled_by") or {}
    if len(by) <= 1:
        return f"{num(summary['filled_qty'])} units"
    return "units: " + ", ".join(f"{symbol} {num(qty)}" for symbol, qty in by.items())


def stdout_console(**options: Any) -> Console:
    """A Rich console on stdout whose closed pipe raises `BrokenPipeError`, as `print` does.

    Rich's own answer to a reader that went away (`desk audit j | head -1`) is
    to exit with status 1 at once; raised instead, the CLI ends the command the
    way it ends every other, with 141.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to write; the error says why
            raise BrokenPipeError

    return _Console(**options)


PIPED_WIDTH = 1_000
"""Columns of a console that is not a terminal: a pipe or a file gets whole lines."""


def piped_console() -> Console:
    """`stdout_console()`, as wide as a terminal is, or (piped, `COLUMNS` unset) wide enough
    that a line is never folded: `desk audit j > f` and `| grep` see each sentence whole."""
    console = stdout_console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return stdout_console(width=PIPED_WIDTH)
    return console


_UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters (a newline, ESC) and the marks that reorder text shown right to left."""


def visible(text: str) -> str:
    """Words from a file (a strategy's reason, an instrument's name) as a terminal should show
    them: each control character written as its escape (`\\n`, `\\x1b`, `\\u202e`).

    Printed raw, ESC starts a sequence the terminal obeys (colour, clearing a line, a title),
    a newline starts what reads as another record, and a right-to-left override turns the
    text after it around: a journal's words could then hide or fake what an auditor reads.
    """
    return _UNSEEN.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


def warn(message: str) -> None:
    """One line on stderr that something read is not as it should be, beside the output, not in
    it."""
    print(f"desk: warning: {message}", file=sys.stderr, flush=True)
