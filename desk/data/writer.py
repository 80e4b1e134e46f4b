"""Write desk-schema Parquet row group by row group, keeping the statistics a summary needs.

Importers append rows one event at a time (or whole Arrow tables when they can
work column-wise); the writer buffers at most `group_rows` rows, so memory
stays flat however long the source is.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from desk.data.checks import BOOK_KINDS, MIXED_KINDS, NEEDS, bad_bars
from desk.data.schema import COLUMNS, SCHEMA, conform
from desk.errors import DataError, first_line
from desk.figures import counted

INF = math.inf
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The update ids desk's `seq` and `prev_seq` columns hold."""
BAD_PRICE = ("rows with a price that is not positive and finite (kept: `desk run` stops at them "
             "unless data.on_bad = \"skip\")")
BAD_SIZE = ("rows with a negative or non-finite size (kept: `desk run` stops at them unless "
            "data.on_bad = \"skip\")")
CROSSED_QUOTE = ("quotes with the bid above the ask (kept: `desk run` stops at them unless "
                 "data.on_bad = \"skip\")")
BAD_BAR = ("bars with the high below the low, or the open or close outside that range (kept: "
           "`desk run` stops at them unless data.on_bad = \"skip\")")
MISSING_VALUE = ("rows without a value their kind needs (kept: `desk run` stops at them unless "
                 "data.on_bad = \"skip\")")
NO_SIDE = ("book levels whose side is neither bid nor ask (kept: `desk run` stops at them unless "
           "data.on_bad = \"skip\")")
DUPLICATES = ("rows that repeat an earlier row exactly (kept: `desk run` stops at them unless "
              "data.on_bad = \"skip\" or the file's duplicates = \"keep\")")
PRICES = ("price", "bid", "ask", "open", "high", "low", "close")
SIZES = ("size", "bid_size", "ask_size", "volume")


def temporary_beside(path: Path) -> Path:
    """A new, empty file of a name no other file has, in `path`'s folder (made if need be), with
    the permissions a new file gets: where an import writes before it is renamed to `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{path}: cannot make its folder {path.parent}: "
                        f"{error.strerror or type(error).__name__}") from None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                        dir=path.parent)
        os.close(handle)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)
    except OSError as error:
        raise DataError(f"{path}: cannot write there: "
                        f"{error.strerror or type(error).__name__}") from None
    return Path(name)


@dataclass(slots=True)
class ImportStats:
    """What was written: rows, time span, kinds, instruments, and the problems met on the way."""

    rows: int = 0
    min_ts: int | None = None
    """The earliest time written (the span is min → max whatever the order of the rows)."""
    max_ts: int | None = None
    out_of_order: int = 0
    """Rows earlier than the row before them."""
    in_order: int = 0
    """Rows later than the row before them: none, with rows out of order, means newest first."""
    first_disorder: tuple[int, int, int, str] | None = None
    """(row number from 1, its time, the time of the row before, where it is in the source) of
    the first row out of order."""
    last_ts: int | None = None
    """The time of the last row written (not the latest time: see `max_ts`)."""
    kinds: Counter[str] = field(default_factory=Counter)
    instruments: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    """Problem description → how many times it was met (the first example is in the text)."""
    notes: Counter[str] = field(default_factory=Counter)
    """Facts of the import worth a line in the summary that are not problems."""


class MarketWriter:
    """Rows in desk's schema, buffered into Parquet row groups."""

    def __init__(self, path: Path, group_rows: int = 65_536, label: Path | None = None) -> None:
        self.path = path
        self.label = label or path
        """The file named in errors: the output, when `path` is a temporary file."""
        self.locate: Callable[[], str] | None = None
        """Where the row being written is in the source (`file:line`), set by an importer that
        writes row by row; asked only when a problem needs an example."""
        self.group_rows = group_rows
        self.stats = ImportStats()
        self._cols: list[list[Any]] = [[] for _ in COLUMNS]
        self._writer: pq.ParquetWriter | None = None
        self._examples: dict[str, str] = {}
        path.parent.mkdir(parents=True, exist_ok=True)

    # --- rows ----------------------------------------------------------------------

    def where(self) -> str:
        """Where the next row comes from: the importer's `file:line`, or its row number."""
        return self.locate() if self.locate is not None else \
            f"row {self.stats.rows + 1:,} of the import"

    def _row(self, ts: int, instrument: str, kind: str, values: tuple[Any, ...]) -> None:
        # int64 nanoseconds, written out so that the test costs no name lookup on this hot path
        if not -9_223_372_036_854_775_808 <= ts <= 9_223_372_036_854_775_807:
            raise DataError(f"{self.where()}: time {ts:,} ns is outside the times desk can store "
                            "(1677-09-21 to 2262-04-11 UTC)")
        stats = self.stats
        last = stats.last_ts
        if last is None:
            stats.min_ts = stats.max_ts = ts
        elif ts > last:
            stats.in_order += 1
            if stats.max_ts is None or ts > stats.max_ts:
                stats.max_ts = ts
        elif ts < last:
            stats.out_of_order += 1
            if stats.first_disorder is None:
                stats.first_disorder = (stats.rows + 1, ts, last, self.where())
            if stats.min_ts is None or ts < stats.min_ts:
                stats.min_ts = ts
        stats.last_ts = ts
        stats.rows += 1
        stats.kinds[kind] += 1
        stats.instruments[instrument] += 1
        cols = self._cols
        cols[0].append(ts)
        cols[1].append(instrument)
        cols[2].append(kind)
        for i, value in enumerate(values, start=3):
            cols[i].append(value)
        if len(cols[0]) >= self.group_rows:
            self.flush()

    def _bad_value(self, prices: tuple[tuple[str, float], ...],
                   sizes: tuple[tuple[str, float | None], ...]) -> None:
        """Count a row whose prices or sizes `desk run` refuses (the row is still written)."""
        for name, value in prices:
            if not 0 < value < INF:
                self.problem(BAD_PRICE, f"{self.where()}: {name} {value!r}")
                break
        for name, size in sizes:
            if size is not None and not 0 <= size < INF:
                self.problem(BAD_SIZE, f"{self.where()}: {name} {size!r}")
                break

    def trade(self, ts: int, instrument: str, price: float, size: float, side: int) -> None:
        if not (0 < price < INF and 0 <= size < INF):
            self._bad_value((("price", price),), (("size", size),))
        self._row(ts, instrument, "trade", (price, size, side) + (None,) * 11)

    def quote(self, ts: int, instrument: str, bid: float, bid_size: float, ask: float,
              ask_size: float) -> None:
        if not (0 < bid < INF and 0 < ask < INF and 0 <= bid_size < INF and 0 <= ask_size < INF):
            self._bad_value((("bid", bid), ("ask", ask)),
                            (("bid_size", bid_size), ("ask_size", ask_size)))
        if bid > ask:  # crossed: counted as `desk data inspect` and the replay's checks do
            self.problem(CROSSED_QUOTE, f"{self.where()}: bid {bid!r} > ask {ask!r}")
        self._row(ts, instrument, "quote", (None, None, None, bid, bid_size, ask, ask_size)
                  + (None,) * 7)

    def bar(self, ts: int, instrument: str, open_: float, high: float, low: float, close: float,
            volume: float | None) -> None:
        if not (0 < open_ < INF and 0 < high < INF and 0 < low < INF and 0 < close < INF
                and (volume is None or 0 <= volume < INF)):
            self._bad_value((("open", open_), ("high", high), ("low", low), ("close", close)),
                            (("volume", volume),))
        if high < low or (high >= low and not (low <= open_ <= high and low <= close <= high)):
            self.problem(BAD_BAR, f"{self.where()}: {_bar_words(open_, high, low, close)}")
        self._row(ts, instrument, "bar",
                  (None,) * 7 + (open_, high, low, close, volume, None, None))

    def level(self, ts: int, instrument: str, snapshot: bool, side: int, price: float,
              size: float, seq: int | None = None, prev_seq: int | None = None) -> None:
        """One L2 level; consecutive levels with the same ts/instrument/kind/seq form one book
        event. `seq` and `prev_seq` let the replay tell a gap in the venue's update ids."""
        if not (0 < price < INF and 0 <= size < INF):
            self._bad_value((("price", price),), (("size", size),))
        if (seq is not None and not INT64_MIN <= seq <= INT64_MAX) or (
                prev_seq is not None and not INT64_MIN <= prev_seq <= INT64_MAX):
            self._wide_id(seq, prev_seq)
        kind = "book_snapshot" if snapshot else "book_delta"
        self._row(ts, instrument, kind, (price, size, side) + (None,) * 9 + (seq, prev_seq))

    def _wide_id(self, seq: int | None, prev_seq: int | None) -> NoReturn:
        """Refuse an update id beyond 64 bits here, where its row is known (the conversion of
        the buffer at `flush` would know only the batch it ends)."""
        wide = seq is not None and not INT64_MIN <= seq <= INT64_MAX
        name, value = ("update id", seq) if wide else ("previous update id", prev_seq)
        raise DataError(f"{self.where()}: {name} {value} does not fit desk's 64-bit update ids "
                        "(-2**63 to 2**63 - 1)")

    def table(self, table: pa.Table, where: Callable[[int], str] | None = None) -> None:
        """Append a whole table (any subset of desk's columns); statistics are taken column-wise.
        `where(i)` says where row `i` is in the source, for problems and disorder."""
        if table.num_rows == 0:
            return
        self.flush()
        table = conform(table)
        ts = table.column("ts")
        if ts.null_count:
            raise DataError(f"{self.label}: {counted(ts.null_count, 'row')} without a timestamp")
        first = self.stats.rows
        where = where or (lambda i: f"row {first + i + 1:,} of the import")
        self._missing_values(table, where)
        self._bad_values(table, where)
        self._crossed_quotes(table, where)
        self._bad_bars(table, where)
        stats = self.stats
        column = ts.combine_chunks()
        previous = pa.concat_arrays([pa.array([stats.last_ts if stats.last_ts is not None
                                               else column[0].as_py()], pa.int64()),
                                     column.slice(0, len(column) - 1)])
        earlier = pc.less(column, previous)
        stats.out_of_order += pc.sum(pc.cast(earlier, pa.int64())).as_py() or 0
        stats.in_order += pc.sum(pc.cast(pc.greater(column, previous), pa.int64())).as_py() or 0
        if stats.first_disorder is None and pc.any(earlier).as_py():
            index = pc.index(earlier, True).as_py()
            stats.first_disorder = (stats.rows + index + 1, column[index].as_py(),
                                    previous[index].as_py(), where(index))
        low, high = pc.min(column).as_py(), pc.max(column).as_py()
        stats.min_ts = low if stats.min_ts is None else min(stats.min_ts, low)
        stats.max_ts = high if stats.max_ts is None else max(stats.max_ts, high)
        stats.last_ts = column[len(column) - 1].as_py()
        stats.rows += table.num_rows
        for name, counter in (("kind", stats.kinds), ("instrument", stats.instruments)):
            counts = pc.value_counts(table.column(name).combine_chunks())
            for item in counts.to_pylist():
                counter[item["values"]] += item["counts"]
        self._write(table)

    def _missing_values(self, table: pa.Table, where: Callable[[int], str]) -> None:
        """Count, column-wise, the rows without a value their kind needs (a quote without its
        bid, a book level whose side the source does not say): the replay refuses them as it
        refuses a bad price, so the summary must not say "none"."""
        kinds = table.column("kind")
        masks = {(kind, name): pc.fill_null(pc.and_(pc.equal(kinds, kind),
                                                    pc.is_null(table.column(name))), False)
                 for kind in MIXED_KINDS for name in NEEDS[kind]}
        masks = {key: mask for key, mask in masks.items() if pc.any(mask).as_py()}
        if masks:
            any_missing = functools.reduce(pc.or_, masks.values())
            index = pc.index(any_missing, True).as_py()
            kind, name = next(key for key, mask in masks.items() if mask[index].as_py())
            self.problem(MISSING_VALUE, f"{where(index)}: no {name} (a {kind} row needs it)",
                         pc.sum(pc.cast(any_missing, pa.int64())).as_py() or 0)
        side = pc.and_(pc.is_in(kinds, pa.array(sorted(BOOK_KINDS))),
                       pc.equal(pc.fill_null(table.column("side"), 0), 0))
        side = pc.fill_null(side, False)
        count = pc.sum(pc.cast(side, pa.int64())).as_py() or 0
        if count:
            index = pc.index(side, True).as_py()
            self.problem(NO_SIDE, where(index), count)

    def _bad_values(self, table: pa.Table, where: Callable[[int], str]) -> None:
        """Count, column-wise, the rows whose prices or sizes `desk run` refuses."""
        for what, fields, bad in ((BAD_PRICE, PRICES, bad_prices), (BAD_SIZE, SIZES, bad_sizes)):
            mask = None
            for name in fields:
                found = bad(table.column(name))
                mask = found if mask is None else pc.or_(mask, found)
            assert mask is not None
            count = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
            if count:
                index = pc.index(mask, True).as_py()
                name = next(n for n in fields if bad(table.column(n).slice(index, 1))[0].as_py())
                example = f"{where(index)}: {name} {table.column(name)[index].as_py()!r}"
                self.problem(what, example, count)

    def _bad_bars(self, table: pa.Table, where: Callable[[int], str]) -> None:
        """Count, column-wise, the bars `desk run` refuses as no bars (see `checks.bad_bars`)."""
        names = ("open", "high", "low", "close")
        columns = [table.column(name).combine_chunks() for name in names]
        if columns[1].null_count == len(columns[1]):
            return  # no bars
        bad = bad_bars(*columns)
        count = pc.sum(pc.cast(bad, pa.int64())).as_py() or 0
        if count:
            index = pc.index(bad, True).as_py()
            self.problem(BAD_BAR, f"{where(index)}: "
                         f"{_bar_words(*(column[index].as_py() for column in columns))}", count)

    def _crossed_quotes(self, table: pa.Table, where: Callable[[int], str]) -> None:
        """Count, column-wise, the quotes whose bid is above their ask, as `desk data inspect`
        counts them (a quote without both is a missing value to the replay, not crossed)."""
        bid, ask = table.column("bid"), table.column("ask")
        crossed = pc.fill_null(pc.and_(pc.equal(table.column("kind"), "quote"),
                                       pc.greater(bid, ask)), False)
        count = pc.sum(pc.cast(crossed, pa.int64())).as_py() or 0
        if count:
            index = pc.index(crossed, True).as_py()
            self.problem(CROSSED_QUOTE, f"{where(index)}: bid {bid[index].as_py()!r} > ask "
                         f"{ask[index].as_py()!r}", count)

    # --- problems ----------------------------------------------------------------------

    def problem(self, what: str, example: str = "", count: int = 1) -> None:
        """Count `count` problems of kind `what`; the first `example` is kept for the summary."""
        self.stats.problems[what] += count
        if what not in self._examples and example:
            self._examples[what] = example

    def note(self, what: str, count: int = 1) -> None:
        """Count a fact of the import (e.g. depth updates applied) for the summary."""
        self.stats.notes[what] += count

    def problem_lines(self) -> list[str]:
        lines = []
        for what, count in self.stats.problems.most_common():
            example = self._examples.get(what)
            lines.append(f"{what}: {count:,}" + (f" (first: {example})" if example else ""))
        if self.stats.out_of_order:
            lines.append(f"rows earlier than the row before: {self.stats.out_of_order:,}")
        return lines

    # --- output --------------------------------------------------------------------------

    def flush(self) -> None:
        if not self._cols[0]:
            return
        try:
            arrays = [pa.array(values, type=SCHEMA.field(i).type)
                      for i, values in enumerate(self._cols)]
        except (OverflowError, pa.ArrowInvalid) as error:  # an update id beyond 64 bits
            raise DataError(f"{self.label}: a value does not fit desk's schema, in the "
                            f"{counted(len(self._cols[0]), 'row')} up to {self.where()}: "
                            f"{first_line(error)}") from None
        self._write(pa.Table.from_arrays(arrays, schema=SCHEMA))
        self._cols = [[] for _ in COLUMNS]

    def _write(self, table: pa.Table) -> None:
        try:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, SCHEMA, compression="zstd")
            self._writer.write_table(table, row_group_size=self.group_rows)
        except OSError as error:
            raise write_error(self.label, error) from None

    def close(self) -> None:
        """Write what is buffered and the file footer; an import that wrote nothing is an error."""
        self.flush()
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError as error:
                raise write_error(self.label, error) from None
            finally:
                self._writer = None
        elif self.stats.rows == 0:
            raise DataError(f"{self.label}: nothing to write: the source gave no rows")

    def abort(self) -> None:
        """Drop what is buffered and remove the partial file (an import that failed half-way)."""
        self._cols = [[] for _ in COLUMNS]
        if self._writer is not None:
            with contextlib.suppress(OSError):  # the file is removed next: a full disk is moot
                self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)


def _bar_words(open_: float, high: float, low: float, close: float) -> str:
    """A bar's four prices, for the example of a bad one."""
    return f"open {open_!r} high {high!r} low {low!r} close {close!r}"


def write_error(path: Path, error: OSError) -> DataError:
    """An output that cannot be written (a full disk) as one line naming it."""
    reason = os.strerror(error.errno) if error.errno else \
        first_line(error)
    return DataError(f"{path}: cannot write: {reason}")


def bad_prices(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Where a price column holds a value that is not positive and finite (nulls are not)."""
    return pc.fill_null(pc.invert(pc.and_(pc.is_finite(column), pc.greater(column, 0))), False)


def bad_sizes(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Where a size column holds a negative or non-finite value (nulls are not)."""
    return pc.fill_null(pc.invert(pc.and_(pc.is_finite(column), pc.greater_equal(column, 0))),
                        False)
