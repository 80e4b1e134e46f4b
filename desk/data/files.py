"""Replay market data from Parquet, CSV or Arrow IPC files, streamed in record batches.

Each file is read batch by batch with pyarrow, so memory stays flat however
long the file is. Columns are mapped onto desk's fields by the session file,
checked with vectorised pyarrow compute (`desk.data.row_filter`), and turned
into events (`desk.data.event_builder`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from desk.config import FileSource
from desk.data import checks, not_regular
from desk.data.checks import PRICE_FIELDS, REPEATABLE, SIZE_FIELDS, Problem
from desk.data.csv_rows import CsvRows, separator_hint
from desk.data.event_builder import EventBuilder, MarketEvent
from desk.data.file_format import file_format, open_batches
from desk.data.locator import Locator
from desk.data.row_filter import DataStats, Issue, RowFilter
from desk.errors import DataError, first_line
from desk.figures import counted
from desk.timeutil import unit_ns

FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, optional fields)
    "trade": (("ts", "price", "size"), ("instrument", "side")),
    "quote": (("ts", "bid", "bid_size", "ask", "ask_size"), ("instrument",)),
    "bar": (("ts", "open", "high", "low", "close"), ("instrument", "volume")),
    "book": (("ts", "side", "price", "size"), ("instrument", "snapshot", "seq", "prev_seq",
                                                "first_seq")),
    "mixed": (("ts", "kind"), ("instrument", "side", "price", "size", "bid", "bid_size", "ask",
                               "ask_size", "open", "high", "low", "close", "volume",
                               "rule", "param", "value", "seq", "prev_seq")),
}

_SHOWN = 5
"""Line numbers listed in a record of lines set aside for the same reason."""

SKIP_HINT = 'set data.on_bad = "skip" to skip such rows'
"""How a bad row's error tells a session to go on past such rows."""


class FileReader:
    """Events from one file, in batches, with the session's column mapping and data checks."""

    def __init__(self, source: FileSource, path: Path, default_instrument: str | None,
                 known: set[str], on_bad: str, batch_rows: int, issue: Issue,
                 go_on: str = SKIP_HINT) -> None:
        """`go_on` ends the error a bad row fails with: how the reader of it can get past."""
        self.source = source
        self.go_on = go_on
        self.path = path
        special = not_regular(path)  # checked when the session loads; this is what is read
        if special is not None:
            raise DataError(f"{path}: {special}")
        self.format = file_format(path, source.format)
        self.default_instrument = source.instrument or default_instrument
        self.known = known
        self.on_bad = on_bad
        self.batch_rows = batch_rows
        self.issue = issue
        self.stats = DataStats()
        required, optional = FIELDS[source.kind]
        numbers = [source.columns.get(field, field) for field in required + optional
                   if field in PRICE_FIELDS or field in SIZE_FIELDS]
        self._csv = CsvRows(path, on_bad == "skip", numbers) if self.format == "csv" else None
        self.locator = Locator(path, self.format, self._csv, source.columns)
        """Names rows and columns in the file's own terms."""
        self._filter = RowFilter(source, on_bad, go_on, self.locator, issue, self.stats,
                                 self.default_instrument)
        self._builder = EventBuilder(source.kind, known, self.default_instrument, self.locator)
        self._build = True
        """Whether rows that pass become events (not when the file is only `check`ed)."""

    # --- columns ---------------------------------------------------------------

    def _column_names(self, schema: pa.Schema) -> dict[str, str]:
        required, optional = FIELDS[self.source.kind]
        mapping = self.source.columns
        unknown = set(mapping) - set(required) - set(optional)
        if unknown:
            raise DataError(f"{self.path}: columns: unknown desk "
                            f"field{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(sorted(unknown))} "
                            f"for kind {self.source.kind!r} (fields: "
                            f"{', '.join(required + optional)})")
        names: dict[str, str] = {}
        for name in required + optional:
            column = mapping.get(name, name)
            places = [index + 1 for index, found in enumerate(schema.names) if found == column]
            if len(places) > 1:
                where = "the header" if self.format == "csv" else "the file's columns"
                times = "twice" if len(places) == 2 else f"{len(places)} times"
                raise DataError(f"{self.path}: column {column!r} appears {times} in {where} "
                                f"(columns {', '.join(map(str, places))}): desk cannot tell which "
                                f"holds {name!r}; rename all but one")
            if column in schema.names:
                names[name] = column
            elif name in required:
                raise DataError(f"{self.path}: missing column {column!r} (desk field {name!r}); "
                                f"the file has: {', '.join(schema.names)}"
                                f"{separator_hint(schema.names) if self.format == 'csv' else ''}")
            elif name in mapping:
                raise DataError(f"{self.path}: missing column {column!r} mapped to {name!r}")
        if "instrument" not in names and self.default_instrument is None:
            raise DataError(f"{self.path}: no instrument column; "
                            "set instrument = \"...\" for this file")
        return names

    # --- events ----------------------------------------------------------------------

    def batches(self) -> Iterator[list[MarketEvent]]:
        names: dict[str, str] | None = None
        coded = (self.locator.column("kind"), self.locator.column("instrument"))
        for batch in open_batches(self.path, self.format, self.batch_rows, self._csv, coded):
            if names is None:
                names = self._column_names(batch.schema)
                if not set(batch.schema.names) - set(names.values()):
                    self._filter.repeatable = (*REPEATABLE, "trade")
            self._report_bad_lines()
            if batch.num_rows == 0:
                continue
            events = self._events(batch, names)
            if events:
                yield events
        if names is None:
            lines = self._csv.bad_lines if self._csv is not None else []
            do = "does" if len(lines) == 1 else "do"
            unsplit = (f" that split into the header's columns ({counted(len(lines), 'line')} "
                       f"{do} not, the first is line {lines[0]})") if lines else ""
            hint = separator_hint(self._csv.header()) if self._csv is not None else ""
            raise DataError(f"{self.path}: the file has no rows{unsplit}{hint}")
        self._report_bad_lines()
        tail = self._builder.flush()
        if tail is not None:
            yield [tail]

    def check(self) -> None:
        """Read the whole file through the data checks alone, making no event: `desk data
        inspect` counts the rows a run would skip (`stats`) at the cost of the checks only."""
        self._build = False
        for _ in self.batches():
            pass

    def _report_bad_lines(self) -> None:
        """Journal the CSV lines the parser skipped since the last batch (`on_bad = "skip"`)."""
        pending = self._csv.pending if self._csv is not None else None
        if not pending:
            return
        self.stats.skipped += len(pending)
        # one record per field count found, in the order of their first lines: lines that split
        # otherwise are told apart, not counted under the first one's words
        groups: dict[tuple[int, int], list[int]] = {}
        for line, expected, actual, _ in pending:
            groups.setdefault((expected, actual), []).append(line)
        for (expected, actual), lines in groups.items():
            shown = ", ".join(map(str, lines[:_SHOWN])) + (", …" if len(lines) > _SHOWN else "")
            also = f" (lines {shown})" if len(lines) > 1 else ""
            self.issue(self._filter.last_ts or 0, self.default_instrument,
                       f"{self.path.name}:{lines[0]}: expected {expected} columns, found "
                       f"{actual}: {counted(len(lines), 'line')} skipped{also}")
        pending.clear()

    def _text_checked(self, batch: pa.RecordBatch, names: dict[str, str], first_row: int) -> None:
        """Fail on a value that is not UTF-8 text in a column desk reads (a Latin-1 CSV, damaged
        Arrow data), naming the row and the column, before any check or event reads it.

        pyarrow reads such a CSV column as bytes, and a text column of an Arrow file or a
        coded Parquet column unchecked; an Arrow file's batch is checked whole (it is mapped
        from the disk as it is: damaged data would be read as it lies)."""
        damaged = None
        if self.format == "arrow":
            try:
                batch.validate(full=True)
            except pa.ArrowInvalid as error:
                damaged = first_line(error)
        for column in names.values():
            array = batch.column(column)
            kind = array.type
            if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                    or pa.types.is_dictionary(kind) or damaged is not None):
                continue
            row = checks.first_not_utf8(array)
            if row is not None:
                value = array[row].as_buffer() if not pa.types.is_dictionary(kind) \
                    else array.dictionary[array.indices[row].as_py()].as_buffer()
                raw = value.to_pybytes() if value is not None else b""
                hint = "save the file as UTF-8" if self.format == "csv" else "is the file damaged?"
                raise DataError(f"{self.locator.locate(first_row + row)}: column {column!r}: not "
                                f"UTF-8 text: {raw[:40]!r}; {hint}")
        if damaged is not None:
            raise DataError(f"{self.path}: damaged Arrow data: {damaged}")

    def _events(self, batch: pa.RecordBatch, names: dict[str, str]) -> list[MarketEvent]:
        first_row = self.stats.rows
        self._text_checked(batch, names, first_row)
        self.stats.rows += batch.num_rows
        found: list[Problem] = []
        cols: dict[str, pa.Array] = {}
        try:
            for field, column in names.items():
                array = batch.column(column)
                if field in PRICE_FIELDS or field in SIZE_FIELDS:
                    array = checks.numbers(array, field, column, found)
                elif field == "kind":  # a blank kind is a missing one
                    array = checks.Coded(array, blank_is_null=True).array
                elif field == "instrument":
                    array = checks.Coded(array).array
                cols[field] = array
        except DataError as error:
            raise DataError(f"{self.path}: {error}") from None
        try:
            ts = checks.timestamps(cols.pop("ts"), unit_ns(self.source.ts_unit), found)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise DataError(f"{self.path}: column {self.locator.column('ts')!r}: "
                            f"cannot read as timestamps: {first_line(error)}") from None
        ts, cols, rows = self._filter.screen(batch, ts, cols, first_row, found)
        if len(ts) == 0 or not self._build:
            return []
        return self._builder.events(ts, cols, rows)
