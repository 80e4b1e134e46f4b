"""`desk data import`, `inspect` and `replay`: bring market data into desk's schema, look at it."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from desk.commands import given
from desk.errors import DataError, one_line
from desk.figures import counted


def _mapping(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        for pair in item.split(","):
            field, sep, column = pair.partition("=")
            if not sep or not field.strip() or not column.strip():
                raise DataError(f"--map: {pair!r} is not FIELD=COLUMN "
                                "(e.g. --map ts=time,size=qty)")
            if field.strip() in out:
                raise DataError(f"--map: {field.strip()} mapped twice ({out[field.strip()]!r} "
                                f"and {column.strip()!r})")
            out[field.strip()] = column.strip()
    return out


def _delimiter(text: str | None) -> str:
    """`--delimiter`: one ASCII character, escapes such as `\\t` read as the character they
    stand for; not a line end nor the quote, which CSV gives other meanings."""
    if text is None:
        return ","
    value = text
    if "\\" in text:
        try:
            value = text.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            raise DataError(f"--delimiter: {text!r} is not a character or an escape like "
                            "'\\t'") from None
    if len(value) != 1:
        what = "empty" if not value else f"{len(value)} characters"
        raise DataError(f"--delimiter: {text!r} is {what}; give one character, e.g. ';' or "
                        "'\\t'")
    if not value.isascii() or value in "\r\n\"":
        raise DataError(f"--delimiter: {text!r} cannot separate CSV fields; give one ASCII "
                        "character other than a line end or the quote, e.g. ';' or '\\t'")
    return value


LONGEST_NS = 366 * 86_400_000_000_000
"""The longest duration an option takes (a year's bar): longer ones are typing mistakes, and
would carry times beyond what desk's nanoseconds can hold."""


def _duration_ns(text: str | None, flag: str, zero: bool = False) -> int | None:
    """A duration option in nanoseconds: positive, or with `zero` also 0 (`0`, `0s`), and at most
    a year; anything else is one line saying what is wrong with it."""
    from desk.timeutil import parse_duration_ns

    if text is None:
        return None
    try:
        value = parse_duration_ns(text)
    except (ValueError, OverflowError):  # 1e999d: a float that is no number of nanoseconds
        value = None
    if value is None:
        number = _bare_number(text)
        if number is None:
            raise DataError(f"{flag}: {text!r} is not a duration like 1m, 60s, 500ms, 1h, 1d")
        if number > 0:  # the unit is missing: 5 what?
            raise DataError(f"{flag}: {text!r} has no unit; give a duration like {text.strip()}s "
                            f"or {text.strip()}m")
        value = -1 if number < 0 else 0  # zero is zero in any unit
    if value == 0 and zero:
        return 0
    if value <= 0:
        what = "zero or a positive duration" if zero else "a positive duration"
        raise DataError(f"{flag}: {text!r} must be {what} like 1m, 60s, 500ms, 1h")
    if value > LONGEST_NS:
        raise DataError(f"{flag}: {text!r} is longer than 366 days")
    return value


def _bare_number(text: str) -> float | None:
    """`text` as a finite number without a unit (`0`, `-1`, `5`), or None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _scale(value: float, flag: str) -> float:
    """A scale factor must be positive and finite: any other turns every value into one that
    `desk run` refuses (or flips prices' signs)."""
    if not 0 < value < math.inf:
        raise DataError(f"{flag}: {value!r} is not a positive finite number (e.g. 1e-4)")
    return value


def _options(args: argparse.Namespace) -> Any:
    from desk.importers import ImportOptions

    delimiter = _delimiter(args.delimiter)
    return ImportOptions(
        instrument=args.instrument, kind=args.kind, columns=_mapping(args.map or []),
        ts_unit=args.ts_unit, ts_format=args.ts_format, tz=args.tz,
        price_scale=_scale(args.price_scale, "--price-scale"),
        size_scale=_scale(args.size_scale, "--size-scale"),
        buy=tuple(v for v in (args.buy or "").split(",") if v),
        sell=tuple(v for v in (args.sell or "").split(",") if v),
        bar_stamp=args.bar_stamp, interval_ns=_duration_ns(args.interval, "--interval"),
        clock=args.clock, csv_delimiter=delimiter, header=not args.no_header, sort=args.sort)


def cmd_import(args: argparse.Namespace) -> int:
    """Import SRC into desk's Parquet schema with a progress bar, then print a summary.

    The rows go to a temporary file of a fresh name beside `--out` (so it can never be a
    source, nor an earlier import's leftovers), renamed over `--out` only when all went well;
    an import stopped by an error, Ctrl-C or SIGTERM removes it.
    """
    from desk.data.writer import MarketWriter, temporary_beside
    from desk.importers import importer
    from desk.importers.chronology import settle
    from desk.importers.source import check_exists
    from desk.report import stdout_console
    from desk.termination import terminate_as_interrupt

    run = importer(args.format)
    options = _options(args)
    sources = [Path(s) for s in args.src]
    for source in sources:  # all of them before any is read: a fifo among them would block
        check_exists(source)
    out = Path(args.out)
    _check_out(out, sources)
    with terminate_as_interrupt():  # a kill cleans up as Ctrl-C does: no partial file left
        temporary = temporary_beside(out)
        writer = MarketWriter(temporary, label=out)
        try:
            _read_sources(run, sources, writer, options, args.format)
            if writer.stats.rows == 0:
                raise DataError(_nothing(sources, writer))
            writer.close()
            settle(writer, sources, options.sort)
            _count_duplicates(writer, temporary, out)
            _replace(temporary, out)
        except BaseException:
            writer.abort()
            raise
    _print_summary(stdout_console(), out, writer)
    return 0


def _count_duplicates(writer: Any, written: Path, out: Path) -> None:
    """Count among the problems the rows that repeat an earlier row exactly, as `desk run` and
    `desk data inspect` find them in the file written (sorted, if it was): a source's repeated
    quote or bar is kept, and the replay refuses it."""
    from desk.data.checks import DUPLICATE
    from desk.data.inspect import refused_rows
    from desk.data.writer import DUPLICATES

    stats = refused_rows(written)
    count = stats.problems.get(DUPLICATE, 0)
    if count:
        row = stats.first_rows[DUPLICATE][0]
        writer.problem(DUPLICATES, f"{out}: row {row + 1:,}", count)


def _nothing(sources: list[Path], writer: Any) -> str:
    """Why an import wrote no row, naming the sources and what was skipped in them."""
    problems = "; ".join(writer.problem_lines())
    return (f"{_names(sources)}: nothing to import: the source gave no rows"
            + (f" ({problems})" if problems else ""))


def _names(sources: list[Path]) -> str:
    """The sources named in one line (the first three, each once)."""
    unique = list(dict.fromkeys(str(s) for s in sources))
    return ", ".join(unique[:3]) + (", ..." if len(unique) > 3 else "")


def _check_out(out: Path, sources: list[Path]) -> None:
    """Refuse an `--out` that is a source or that exists and is not a regular file (a folder,
    a device, a fifo): the import replaces what is there."""
    if out.resolve() in {s.resolve() for s in sources}:
        raise DataError(f"{out}: --out would overwrite the source")
    if out.is_dir():
        raise DataError(f"{out}: --out is a folder; give the Parquet file to write "
                        f"(e.g. {out / 'data.parquet'})")
    if out.exists() and not out.is_file():
        raise DataError(f"{out}: --out exists and is not a regular file (a device, a fifo or "
                        "a socket); give the Parquet file to write")


def _read_sources(run: Any, sources: list[Path], writer: Any, options: Any, name: str) -> None:
    """Run the importer with a progress bar on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from desk.importers.source import Meter

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]import {task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(name, total=None, rows=0)
        meter = Meter()

        def advance(_: int) -> None:
            progress.update(task, completed=meter.read, total=meter.total or None,
                            rows=writer.stats.rows)

        meter._on_advance = advance
        run(sources, writer, options, meter)


def _replace(temporary: Path, out: Path) -> None:
    """Put the finished import at `out` (one rename, in the same folder)."""
    try:
        temporary.replace(out)
    except OSError as error:
        raise DataError(f"{out}: cannot write the import there: "
                        f"{error.strerror or type(error).__name__}") from None


def _print_summary(console: Any, out: Path, writer: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from desk.timeutil import format_ns

    stats = writer.stats
    table = Table(title=Text(f"imported → {out}"), show_header=False, title_justify="left")
    _row(table, "rows", f"{stats.rows:,}")
    if stats.min_ts is not None and stats.max_ts is not None:
        _row(table, "span", f"{format_ns(stats.min_ts)} → {format_ns(stats.max_ts)} UTC")
    _row(table, "instruments", _counts(stats.instruments))
    _row(table, "kinds", _counts(stats.kinds))
    if stats.notes:
        _row(table, "notes", "\n".join(f"{k}: {v:,}" for k, v in stats.notes.items()))
    problems = writer.problem_lines()
    _row(table, "problems", "\n".join(problems) if problems else "none")
    console.print(table)


def _row(table: Any, name: str, value: str) -> None:
    """One row of a summary: its value (names and values read from the file among them) as
    text, never Rich markup: an instrument named `[/]x` would fail the command."""
    from rich.text import Text

    table.add_row(name, Text(value))


def _counts(counter: Any) -> str:
    """Names and their counts, most common first; a name's control characters escaped, so
    that each stays on its line of the table."""
    return ", ".join(f"{one_line(str(k))} ({v:,})" for k, v in counter.most_common())


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print what a desk-schema file holds."""
    from rich.table import Table
    from rich.text import Text

    from desk.data.inspect import inspect_file
    from desk.report import stdout_console
    from desk.timeutil import format_ns

    gap = _duration_ns(args.gap, "--gap", zero=True)  # 0: every gap between two times
    assert gap is not None
    found = inspect_file(Path(args.file), gap_ns=gap)
    console = stdout_console()
    table = Table(title=Text(str(found.path)), show_header=False, title_justify="left")
    _row(table, "schema", ", ".join(f"{f.name}: {f.type}" for f in found.schema))
    _row(table, "rows", f"{found.rows:,} ({counted(found.events, 'event')})")
    if found.min_ts is not None and found.max_ts is not None:
        _row(table, "span", f"{format_ns(found.min_ts)} → {format_ns(found.max_ts)} UTC "
                              f"({(found.max_ts - found.min_ts) / 1e9:,.3f} s)")
    _row(table, "instruments", _counts(found.instruments))
    _row(table, "kinds", _counts(found.kinds))
    _row(table, f"gaps > {args.gap}", f"{found.gaps_over:,}")
    _row(table, "largest gaps", "\n".join(f"{g / 1e9:,.3f} s before {format_ns(t)}"
                                            for g, t in found.largest_gaps) or "none")
    _row(table, "out-of-order rows", f"{found.out_of_order:,}")
    crossed = f"{counted(found.crossed_books, 'book event')}, " \
              f"{counted(found.crossed_quotes, 'quote')}"
    if found.first_crossed is not None:
        crossed += f" (first book at {format_ns(found.first_crossed)})"
    _row(table, "crossed/locked", crossed)
    gaps = f"{found.seq_gaps:,}"
    if found.first_seq_gap is not None:
        ts, symbol, follows, at = found.first_seq_gap
        gaps += f" (first: {symbol} at {format_ns(ts)}, update after {follows} on a book at {at})"
    if found.stale_updates:
        gaps += f"; {found.stale_updates:,} stale updates (ids the book already has)"
    _row(table, "update-id gaps", gaps)
    bad = f"{counted(found.bad_prices, 'row')} with a price not positive and finite, " \
          f"{found.bad_sizes:,} with a negative or non-finite size"
    if found.first_bad is not None:
        bad += f" (first: row {found.first_bad + 1:,}; `desk run` stops there unless " \
               "data.on_bad = \"skip\")"
    _row(table, "bad prices/sizes", bad)
    bars = f"{counted(found.bad_bars, 'bar')} with the high below the low, or the open or close " \
           "outside that range"
    if found.first_bad_bar is not None:
        bars += f" (first: row {found.first_bad_bar + 1:,}; `desk run` stops there unless " \
                "data.on_bad = \"skip\")"
    _row(table, "bad bars", bars)
    refused = counted(found.refused, "row")
    if found.refused:
        refused += " (" + ", ".join(f"{what}: {count:,}" for what, count
                                    in found.refused_by.most_common())
        refused += f"; first: {one_line(found.first_refused or '')}; `desk run` stops there " \
                   "unless data.on_bad = \"skip\", which skips them all)"
    _row(table, "rows desk run refuses", refused)
    console.print(table)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a desk-schema file with the L2 books kept and print the rates."""
    from desk.data.throughput import measure

    found = measure(Path(args.file))
    print(f"{args.file}: {counted(found.events, 'event')} "
          f"({counted(found.book_events, 'book event')}, {counted(found.levels, 'level')}) in "
          f"{found.seconds:.3f} s: "
          f"{found.events_per_second:,.0f} events/s, "
          f"{found.book_events_per_second:,.0f} book updates/s")
    return 0


def register(sub: Any) -> None:
    from desk.data.formats import IMPORT_FORMATS as FORMATS

    data = sub.add_parser("data", help="import market data into desk's schema, inspect and "
                                       "replay it")
    verbs = data.add_subparsers(dest="verb", required=True)
    imp = verbs.add_parser(
        "import", help="convert SRC to desk's Parquet schema",
        epilog="formats: " + "; ".join(f"{k}: {v[1]}" for k, v in FORMATS.items()))
    imp.add_argument("src", nargs="+", type=given("a source file"), help="source file(s)")
    imp.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    imp.add_argument("--out", "-o", required=True, type=given("the Parquet file to write"),
                     help="the desk-schema Parquet file to write")
    imp.add_argument("--instrument", help="symbol for rows without an instrument column")
    imp.add_argument("--kind", choices=["trade", "quote", "bar", "book"],
                     help="what a generic file holds")
    imp.add_argument("--map", action="append", metavar="FIELD=COLUMN[,...]",
                     help="desk field → source column (generic formats; a number without a header)")
    imp.add_argument("--ts-unit", default="ns", choices=["s", "ms", "us", "ns"],
                     help="unit of numeric timestamps (default ns)")
    imp.add_argument("--ts-format", help="strptime format of text timestamps (default ISO 8601)")
    imp.add_argument("--tz", help="time zone of naive timestamps (default UTC; LOBSTER: "
                                   "America/New_York)")
    imp.add_argument("--price-scale", type=float, default=1.0, help="multiply prices by this")
    imp.add_argument("--size-scale", type=float, default=1.0, help="multiply sizes by this")
    imp.add_argument("--buy", help="comma-separated side values meaning buy/bid")
    imp.add_argument("--sell", help="comma-separated side values meaning sell/ask")
    imp.add_argument("--bar-stamp", choices=["open", "close"],
                     help="whether the source stamps bars at their open or close")
    imp.add_argument("--interval", help="bar length, e.g. 1m (needed with --bar-stamp open)")
    imp.add_argument("--clock", default="local", choices=["local", "exchange"],
                     help="recorded streams: the recorder's receive time (default) or the "
                          "exchange's event time")
    imp.add_argument("--delimiter", help="CSV field separator (default ,)")
    imp.add_argument("--no-header", action="store_true", help="the CSV has no header row")
    imp.add_argument("--sort", action="store_true",
                     help="sort rows that are out of time order (stable; by default they are "
                          "refused, and a newest-first source is reversed)")
    imp.set_defaults(func=cmd_import)
    ins = verbs.add_parser("inspect", help="schema, rows, span, instruments, gaps, disorder, "
                                           "crossed books of a desk-schema file")
    ins.add_argument("file", type=given("a desk-schema Parquet file"))
    ins.add_argument("--gap", default="1m", help="count gaps longer than this (default 1m; 0 "
                                                 "counts every gap between two times)")
    ins.set_defaults(func=cmd_inspect)
    rep = verbs.add_parser("replay", help="replay a desk-schema file with its L2 books kept and "
                                          "report events and book updates per second")
    rep.add_argument("file", type=given("a desk-schema Parquet file"))
    rep.set_defaults(func=cmd_replay)
