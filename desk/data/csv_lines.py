"""The lines a CSV row takes: one, unless a quoted value holds a line end.

pyarrow counts rows, a text editor counts lines; they differ after a quoted
field such as `"AC` / `ME"` over two lines. Errors name rows by line, so the
readers measure each batch's extra lines here, column-wise: nearly always no
text value holds a line end, and one scan per text column says so.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from desk.errors import DataError

if TYPE_CHECKING:
    from _csv import Reader

LINE_END = r"\r\n|\r|\n"
"""A line end as a CSV reader splits lines: CR LF, CR or LF."""


def extra_lines(batch: pa.RecordBatch) -> pa.Array | None:
    """Per row of `batch`, the lines it takes beyond its first (an int64 array); None when no
    text value holds a line end, the usual case."""
    total: pa.Array | None = None
    for column in batch.columns:
        counts = _line_ends(column)
        if counts is not None:
            total = counts if total is None else pc.add(total, counts)
    return total


def _line_ends(column: pa.Array) -> pa.Array | None:
    """The line ends in each value of a text column, or None when it holds none (or is no text)."""
    if pa.types.is_dictionary(column.type):
        words = _line_ends(column.dictionary)
        return None if words is None else pc.fill_null(pc.take(words, column.indices), 0)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    if not (pc.any(pc.match_substring(column, "\n")).as_py()
            or pc.any(pc.match_substring(column, "\r")).as_py()):
        return None
    return pc.fill_null(pc.cast(pc.count_substring_regex(column, LINE_END), pa.int64()), 0)


class LineShifts:
    """Where rows start more than one line after the row before, so that row numbers turn into
    line numbers.

    Rows are counted from 0 in the order they are read. A row that takes three lines moves every
    later row down by two; blank lines a reader skips move the next row. Only such moves are
    kept, so a file without them costs nothing.
    """

    def __init__(self) -> None:
        self._rows: list[int] = []
        self._lines: list[int] = []
        """Lines by which row `_rows[i]` and every later row are moved, all moves added up."""

    @property
    def total(self) -> int:
        """Lines by which every row after the last move is moved."""
        return self._lines[-1] if self._lines else 0

    def move(self, row: int, lines: int) -> None:
        """Row `row` (no earlier than any moved so far) and all after it start `lines` later."""
        if self._rows and self._rows[-1] == row:
            self._lines[-1] += lines
        else:
            self._rows.append(row)
            self._lines.append(self.total + lines)

    def note(self, first_row: int, extra: pa.Array | None) -> int:
        """Note a batch starting at row `first_row` with its `extra_lines`; its extra lines."""
        if extra is None:
            return 0
        batch_total = 0
        for index in pc.indices_nonzero(extra).to_pylist():
            lines = extra[index].as_py()
            self.move(first_row + index + 1, lines)
            batch_total += lines
        return batch_total

    def before(self, row: int) -> int:
        """Lines by which row `row` is moved."""
        index = bisect.bisect_right(self._rows, row)
        return self._lines[index - 1] if index else 0


class ScannedLines:
    """The line each row of a CSV file starts on, found by reading the file again with Python's
    `csv`, forward and only as far as asked: only an error or a problem's example asks, so a
    clean import never reads the file twice.

    Args:
        open_text: opens the file as text for `csv` (newline="").
        delimiter: the file's field delimiter.
        header: whether the first record is a header, not a row.
    """

    def __init__(self, open_text: Callable[[], IO[str]], delimiter: str, header: bool) -> None:
        self._open_text = open_text
        self._delimiter = delimiter
        self._header = header
        self._shifts = LineShifts()
        self._stream: IO[str] | None = None
        self._reader: Reader | None = None
        self._line = 0
        """Lines read so far."""
        self._rows = 0
        """Rows read so far."""
        self._first = 2 if header else 1
        """The line of the first row (a header over several lines moves it)."""
        self._done = False
        """Whether the file was read to its end, or could not be read again."""

    def line_of(self, row: int) -> int:
        """The line (from 1) that row `row` (from 0, blank lines not counted) starts on."""
        if row >= self._rows and not self._done:
            self._read_to(row)
        return self._first + row + self._shifts.before(row)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _read_to(self, row: int) -> None:
        try:
            reader = self._reader
            if reader is None:
                self._stream = self._open_text()
                reader = self._reader = csv.reader(self._stream, delimiter=self._delimiter)
                if self._header:
                    next(reader, None)
                    self._line = reader.line_num
                self._first = self._line + 1
            for fields in reader:
                start = self._line + 1
                self._line = reader.line_num
                if not fields:  # a blank line: pyarrow skips it
                    self._shifts.move(self._rows, self._line - start + 1)
                    continue
                expected = self._first + self._rows + self._shifts.before(self._rows)
                if start != expected:
                    self._shifts.move(self._rows, start - expected)
                self._rows += 1
                if self._rows > row:
                    return
        except (csv.Error, OSError, EOFError, ValueError, DataError):
            pass  # a file that does not read again: rows past here keep one line each
        self._done = True
        self.close()
