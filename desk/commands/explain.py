"""`desk explain JOURNAL ORDER_ID`: the causal chain of one order, or of a blocked intent by
`--seq`."""

from __future__ import annotations

import argparse
from typing import Any

from desk.commands import given
from desk.figures import figures_say
from desk.timeutil import spans_days

_LABELS = {"market": "market event", "signal": "signal", "intent": "intent", "risk": "risk",
           "order": "order", "arrival": "arrival", "fill": "fill", "cash_guard": "cash guard",
           "cancel": "cancel", "order_end": "order end", "execution": "execution quality"}


def cmd_explain(args: argparse.Namespace) -> int:
    import sys

    from desk.audit import load_journal
    from desk.commands.audit import strict_json
    from desk.errors import JournalError
    from desk.explain import JournalIndex, explain_order, explain_seq
    from desk.report import warn

    if (args.order_id is None) == (args.seq is None):
        raise JournalError("give an ORDER_ID, or --seq SEQ of a record (e.g. a blocked intent's "
                           "risk record from `desk audit --outcome blocked`)")
    journal = load_journal(args.journal)
    if journal.warning:  # said first: an order after the cut is not in the journal
        warn(journal.warning)
    index = JournalIndex(journal.table, str(journal.path))
    chain = explain_seq(index, args.seq) if args.seq is not None else \
        explain_order(index, args.order_id)
    if args.json:  # its records as `desk audit --json` writes them: strict JSON
        print(strict_json({"subject": chain.subject, "outcome": chain.outcome,
                           "records": chain.records}))
    else:
        _check_shape(chain.records, str(journal.path))
        _render(chain, spans_days(journal.table))
    sys.stdout.flush()  # a reader that went away shows here, in the command, not at exit
    return 0


_VERDICT: dict[str, type] = {"rule": str, "passed": bool, "message": str, "value": object,
                             "limit": object, "headroom": object}
"""What each rule's verdict in a risk record holds, as the table below shows it."""

_FILL = {"position": (int, float), "qty": (int, float)}
"""The numbers a fill record's details hold, as the effect on the portfolio reads them."""

_FILL_OPTIONAL = {"realized": (int, float), "fee": (int, float), "cash": (int, float)}
"""Numbers the effect on the portfolio sums where a fill has them."""


def _check_shape(records: list[dict[str, Any]], journal: str) -> None:
    """Refuse, naming the record, details that parse but lack what `_render` reads: a damaged
    journal is one line saying so, before anything is printed, not a `KeyError`."""
    from desk.errors import JournalError

    def damaged(record: dict[str, Any], what: str) -> JournalError:
        return JournalError(f"{journal}: record {record['seq']}: its details {what}: the journal "
                            "is damaged")

    for record in records:
        details = record["details"]
        if record["kind"] == "risk":
            verdicts = details.get("verdicts", [])
            if not isinstance(verdicts, list) or not all(isinstance(v, dict) for v in verdicts):
                raise damaged(record, "have verdicts that are not a list of rules' verdicts")
            for verdict in verdicts:
                for key, kind in _VERDICT.items():
                    if key not in verdict or not isinstance(verdict[key], kind):
                        raise damaged(record, f"have a verdict without its {key}")
        elif record["kind"] == "fill":
            for key, kinds in (*_FILL.items(), *_FILL_OPTIONAL.items()):
                value = details.get(key, 0 if key in _FILL_OPTIONAL else None)
                if not isinstance(value, kinds) or isinstance(value, bool):
                    raise damaged(record, f"have no number for {key}")


def _render(chain: Any, dated: bool) -> None:
    """The chain as text; `dated`: each record's time with its date, for a journal that spans
    more than one day, where a time of day alone names several moments."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from desk.report import piped_console, visible
    from desk.timeutil import format_ns

    # the journal's words (a strategy's reason, a value quoted from a data file) are text, never
    # markup (`[/]` in a reason would fail, `[bold]` would vanish), with control characters shown
    # as escapes (an ESC or a newline in a reason would act on the terminal or fake a record)
    console = piped_console()
    start = 0 if dated else 11
    outcome = visible(chain.outcome)
    if outcome.startswith(f"{chain.subject} "):
        head = f"[bold]{chain.subject}[/bold]{escape(outcome.removeprefix(chain.subject))}"
    else:
        head = f"[bold]{chain.subject}[/bold]: {escape(outcome)}"
    console.print(head, highlight=False)
    for record in chain.records:
        kind = record["kind"]
        label = escape(_LABELS.get(kind, kind))
        when = format_ns(record["ts_ns"])[start:23]
        console.print(f"\n[dim]{record['seq']:>7}  {when}[/dim]  [bold cyan]{label}[/bold cyan]  "
                      f"{escape(visible(record['why']))}", highlight=False)
        details = record["details"]
        if kind == "signal" and details:
            console.print(Text("           evidence: " + visible(", ".join(
                f"{k}={v}" for k, v in sorted(details.items())))), highlight=False)
        elif kind == "risk":
            table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
            rows = []
            for verdict in details.get("verdicts", []):
                figures = [verdict[key] for key in ("value", "limit", "headroom")]
                if not figures_say(verdict["limit"], verdict["headroom"]):
                    figures = [None] * 3  # the kill switch: its sentence says it all
                rows.append([visible(verdict["rule"]), "pass" if verdict["passed"] else "BLOCK",
                             *map(_num, figures), visible(verdict["message"])])
            names = ("rule", "verdict", "value", "limit", "headroom", "message")
            for i, column in enumerate(names):
                # on a narrow screen the sentence folds; a rule's name and figures never shrink
                whole = max([len(column)] + [len(row[i]) for row in rows])
                sentence = column == "message"
                table.add_column(column, justify="right" if 2 <= i <= 4 else "left",
                                 no_wrap=not sentence, overflow="fold" if sentence else "ellipsis",
                                 min_width=None if sentence else whole)
            for row in rows:
                verdict = Text(row[1], style="green" if row[1] == "pass" else "bold red")
                table.add_row(Text(row[0]), verdict, *map(Text, row[2:]))
            console.print(Text(f"           mode {details.get('mode', '?')}; every enabled "
                               "rule:"))
            console.print(table)
    fills = [r["details"] for r in chain.records if r["kind"] == "fill"]
    if fills:
        last = fills[-1]
        realized = sum(f.get("realized", 0.0) for f in fills)
        console.print(f"\n[bold]effect on the portfolio[/bold]: {_position_moved(fills)}, "
                      f"realized {realized:+,.2f}, fees "
                      f"{sum(f.get('fee', 0.0) for f in fills):,.2f}, cash after "
                      f"{last.get('cash', 0.0):,.2f}", highlight=False)


def _position_moved(fills: list[dict[str, Any]]) -> str:
    """The position before the order's first fill and after its last; when other orders of the
    instrument filled in between, what this order moved apart from what they did."""
    before = fills[0]["position"] - fills[0]["qty"]
    after = fills[-1]["position"]
    moved = sum(f["qty"] for f in fills)
    others = after - before - moved
    if abs(others) < 1e-9:
        return f"position {before:g} → {after:g}"
    return (f"position {moved:+g} by this order ({before:g} → {after:g} from before its first "
            f"fill to after its last, with {others:+g} from other orders' fills in between)")


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
    return str(value)


def order_id(text: str) -> int:
    """ORDER_ID as a whole number, or as `desk audit` and the journal's sentences write it:
    `#7`."""
    try:
        return int(text.strip().removeprefix("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an order id (a whole number, as #N "
                                         "in `desk audit`'s order column)") from None


def register(sub: Any) -> None:
    explain = sub.add_parser("explain",
                             help="print the causal chain of one order or blocked intent")
    explain.add_argument("journal", type=given("a journal"),
                         help="a journal written by `desk run` (journal.arrow)")
    explain.add_argument("order_id", nargs="?", type=order_id,
                         help="the order id (#N in the journal; 7 or #7)")
    explain.add_argument("--seq", type=int,
                         help="explain through any record by its seq: a blocked intent's risk "
                              "record, a signal, a fill…")
    explain.add_argument("--json", action="store_true", help="print the chain as one JSON object")
    explain.set_defaults(func=cmd_explain)
