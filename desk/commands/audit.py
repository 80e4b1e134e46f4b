"""`desk audit JOURNAL`: list and filter journal records, as a Rich table or JSON lines."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import textwrap
from collections.abc import Iterable
from typing import Any

from desk.commands import given
from desk.figures import counted
from desk.timeutil import spans_days


def cmd_audit(args: argparse.Namespace) -> int:
    from desk.audit import load_journal
    from desk.errors import JournalError
    from desk.query import Query, selection
    from desk.report import warn

    kinds = _kinds(args.kind)
    if args.limit is not None and args.limit < 1:
        raise JournalError(f"--limit: {args.limit} is not a positive number of records (for all "
                           "of them: --json or --csv, or a limit at least their count)")
    journal = load_journal(args.journal)
    if journal.warning:  # said first, so that it also explains an empty result or an error
        warn(journal.warning)
    query = Query(kinds=kinds, rule=args.rule, instrument=args.instrument, outcome=args.outcome,
                  since=args.since, until=args.until)
    found = selection(journal.table, query, str(journal.path))
    total = found.count()  # damage is said before anything is printed
    whole = args.json or args.csv  # for scripts: every record unless --limit
    limit = args.limit if args.limit is not None else (None if whole else 200)
    # a limit beyond the count (even beyond what a slice can stop at) keeps every record
    shown = iter(found) if limit is None else itertools.islice(found, min(limit, total))
    if args.json:  # written as read: a large journal never waits whole in memory
        out = sys.stdout
        for record in shown:
            out.write(strict_json(record) + "\n")
    elif args.csv:
        _csv(shown)
    else:
        _table(list(shown), total, spans_days(journal.table))
    sys.stdout.flush()  # a reader that went away shows here, in the command, not at exit
    return 0


def strict_json(record: dict[str, Any]) -> str:
    """A record (or `desk explain`'s chain) as strict JSON: a value that is no finite number (a
    strategy's `nan` evidence, a leverage of `inf`) is written "NaN", "Infinity" or "-Infinity",
    as Protocol Buffers' JSON writes them, since JSON has no such numbers and strict readers
    refuse Python's `NaN`."""
    try:
        return json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(_spelled(record), sort_keys=True, ensure_ascii=False, allow_nan=False)


def _spelled(value: Any) -> Any:
    """`value` with every float that is no finite number as its JSON spelling."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _spelled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_spelled(item) for item in value]
    return value


def _kinds(given: list[str] | None) -> tuple[str, ...] | None:
    """The kinds of `--kind`, repeated or comma-separated; an empty name is refused, not read as
    "every kind"."""
    if given is None:
        return None
    kinds = tuple(part.strip() for text in given for part in text.split(","))
    if not all(kinds):
        from desk.errors import JournalError

        shown = " ".join(f"--kind {text!r}" for text in given)
        raise JournalError(f"{shown}: an empty kind name; give kinds such as risk or "
                           "mode,limit_change")
    return kinds


CSV_COLUMNS = ("seq", "time", "ts_ns", "kind", "outcome", "instrument", "order_id", "cause",
               "why", "details")
"""`--csv`'s columns: the journal's, the time also as ISO text, and a risk decision's outcome."""


def _csv(records: Iterable[dict[str, Any]]) -> None:
    """The records as CSV for a spreadsheet: a header, then one row per record, written as
    read; `details` as the journal's compact JSON, `time` ISO UTC to the nanosecond."""
    import csv

    from desk.audit import encode_details
    from desk.timeutil import iso_ns

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        details = record["details"]
        outcome = ("allowed" if details.get("approved") else "blocked") \
            if record["kind"] == "risk" else ""
        writer.writerow((record["seq"], iso_ns(record["ts_ns"]), record["ts_ns"], record["kind"],
                         outcome, _cell(record["instrument"] or ""), _blank(record["order_id"]),
                         _blank(record["cause"]), _cell(record["why"]),
                         encode_details(details) if details else ""))


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula: OWASP's list for CSV injection."""


def _cell(text: str) -> str:
    """Text from a strategy or a data file (a reason, an instrument's name) as a spreadsheet
    shows it: one that would start a formula there (`=HYPERLINK(…)`, `-2σ move`) is kept as
    text by a leading `'`, which the spreadsheet hides."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


MIN_WHY = 24
"""The narrowest `why` column worth a table; on a narrower screen each record's sentence gets
lines of its own below its figures, rather than a column a few letters wide."""

_STYLE = {"allowed": "green", "blocked": "bold red"}


def _table(records: list[dict[str, Any]], total: int, dated: bool) -> None:
    """The records as a table; `dated`: with the date in the time column, for a journal that
    spans more than one day, where a time of day alone names several moments."""
    from rich.table import Table
    from rich.text import Text

    from desk.report import piped_console, visible
    from desk.timeutil import format_ns

    start = 0 if dated else 11
    heads = ("seq", "time (UTC)" if dated else "time", "kind", "instr", "order")
    rows = []
    for record in records:
        kind = record["kind"]
        if kind == "risk":
            kind = "allowed" if record["details"].get("approved") else "blocked"
        order = record["order_id"]
        rows.append((str(record["seq"]), format_ns(record["ts_ns"])[start:23], kind,
                     visible(record["instrument"] or ""), f"#{order}" if order is not None else ""))
    widths = [max([len(head)] + [len(row[i]) for row in rows]) for i, head in enumerate(heads)]
    console = piped_console()
    # a box table pads each column by one on each side and draws a border between them
    if console.width - (sum(widths) + 3 * len(heads) + 4) >= MIN_WHY:
        table = Table(show_lines=False, header_style="bold")
        for i, head in enumerate(heads):
            table.add_column(head, justify="right" if head in ("seq", "order") else "left",
                             no_wrap=True, min_width=widths[i])
        table.add_column("why", overflow="fold")
        for row, record in zip(rows, records, strict=True):
            kind = Text(row[2], style=_STYLE.get(row[2], ""))
            # the journal's words are text, never markup (`[/]` in a reason would fail)
            table.add_row(*map(Text, row[:2]), kind, *map(Text, row[3:]),
                          Text(visible(record["why"])))
        console.print(table)
    else:  # narrow: the figures on one line, the sentence folded below them
        for row, record in zip(rows, records, strict=True):
            line = Text(f"{row[0]:>{widths[0]}}  {row[1]}  ")
            line.append(row[2], style=_STYLE.get(row[2], "bold"))
            line.append("".join(f"  {part}" for part in row[3:] if part))
            console.print(line, highlight=False)
            console.print(Text(textwrap.fill(visible(record["why"]), max(console.width, 20),
                                             initial_indent="    ", subsequent_indent="    ",
                                             break_on_hyphens=False)),
                          highlight=False, soft_wrap=True)
    more = (f" (first {len(records):,} shown; --limit {total} or --json for all)"
            if total > len(records) else "")
    console.print(f"{counted(total, 'record')}{more}")


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="list and filter a journal's records")
    audit.add_argument("journal", type=given("a journal"),
                       help="a journal written by `desk run` (journal.arrow)")
    audit.add_argument("--kind", action="append",
                       help="keep these kinds (repeat or comma-separate): risk, signal, intent, "
                            "order, arrival, fill, execution, mode, limit_change, rule_toggle…")
    audit.add_argument("--rule", help="decisions this rule blocked (with --outcome allowed: "
                                      "passed), and the rule's limit changes and switches")
    audit.add_argument("--instrument", help="keep records of this instrument")
    audit.add_argument("--outcome", choices=("allowed", "blocked"),
                       help="keep risk decisions with this outcome")
    audit.add_argument("--since", help="from this time: ISO, or an offset from the start (+90s)")
    audit.add_argument("--until", help="up to this time: ISO, or an offset from the start (+2h)")
    audit.add_argument("--limit", type=int,
                       help="show at most N records, N ≥ 1 (default 200 in the table, all in "
                            "JSON)")
    output = audit.add_mutually_exclusive_group()  # each is the whole output
    output.add_argument("--json", action="store_true",
                        help="one JSON object per line, every record (or --limit)")
    output.add_argument("--csv", action="store_true",
                        help="CSV with a header, for a spreadsheet: every record (or --limit)")
    audit.set_defaults(func=cmd_audit)
