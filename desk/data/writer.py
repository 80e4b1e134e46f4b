"""Write desk-schema Parquet row group by row group, keeping the statistics a summary needs.

Importers append rows one event at a time (or whole Arrow tables when they can
work column-wise); the writer buffers at most `group_rows` rows, so memory
stays flat however long the source is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from desk.data.schema import COLUMNS, SCHEMA, conform
from desk.errors import DataError


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
    first_disorder: tuple[int, int, int] | None = None
    """(row number from 1, its time, the time of the row before) of the first row out of order."""
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

    def __init__(self, path: Path, group_rows: int = 65_536) -> None:
        self.path = path
        self.group_rows = group_rows
        self.stats = ImportStats()
        self._cols: list[list[Any]] = [[] for _ in COLUMNS]
        self._writer: pq.ParquetWriter | None = None
        self._examples: dict[str, str] = {}
        path.parent.mkdir(parents=True, exist_ok=True)

    # --- rows ----------------------------------------------------------------------

    def _row(self, ts: int, instrument: str, kind: str, values: tuple[Any, ...]) -> None:
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
                stats.first_disorder = (stats.rows + 1, ts, last)
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

    def trade(self, ts: int, instrument: str, price: float, size: float, side: int) -> None:
        self._row(ts, instrument, "trade", (price, size, side) + (None,) * 11)

    def quote(self, ts: int, instrument: str, bid: float, bid_size: float, ask: float,
              ask_size: float) -> None:
        self._row(ts, instrument, "quote", (None, None, None, bid, bid_size, ask, ask_size)
                  + (None,) * 7)

    def bar(self, ts: int, instrument: str, open_: float, high: float, low: float, close: float,
            volume: float | None) -> None:
        self._row(ts, instrument, "bar",
                  (None,) * 7 + (open_, high, low, close, volume, None, None))

    def level(self, ts: int, instrument: str, snapshot: bool, side: int, price: float,
              size: float, seq: int | None = None, prev_seq: int | None = None) -> None:
        """One L2 level; consecutive levels with the same ts/instrument/kind/seq form one book
        event. `seq` and `prev_seq` let the replay tell a gap in the venue's update ids."""
        kind = "book_snapshot" if snapshot else "book_delta"
        self._row(ts, instrument, kind, (price, size, side) + (None,) * 9 + (seq, prev_seq))

    def table(self, table: pa.Table) -> None:
        """Append a whole table (any subset of desk's columns); statistics are taken column-wise."""
        if table.num_rows == 0:
            return
        self.flush()
        table = conform(table)
        ts = table.column("ts")
        if ts.null_count:
            raise DataError(f"{self.path}: {ts.null_count} row(s) without a timestamp")
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
                                    previous[index].as_py())
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

    # --- problems ----------------------------------------------------------------------

    def problem(self, what: str, example: str = "") -> None:
        """Count one problem of kind `what`; the first `example` is kept for the summary."""
        self.stats.problems[what] += 1
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
        arrays = [pa.array(values, type=SCHEMA.field(i).type)
                  for i, values in enumerate(self._cols)]
        self._write(pa.Table.from_arrays(arrays, schema=SCHEMA))
        self._cols = [[] for _ in COLUMNS]

    def _write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, SCHEMA, compression="zstd")
        self._writer.write_table(table, row_group_size=self.group_rows)

    def close(self) -> None:
        """Write what is buffered and the file footer; an import that wrote nothing is an error."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif self.stats.rows == 0:
            raise DataError(f"{self.path}: nothing to write: the source gave no rows")

    def abort(self) -> None:
        """Drop what is buffered and remove the partial file (an import that failed half-way)."""
        self._cols = [[] for _ in COLUMNS]
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)
