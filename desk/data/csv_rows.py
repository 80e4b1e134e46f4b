"""CSV record batches with line numbers, and lines that do not split into the header's columns.

pyarrow streams the file; when it meets a line with the wrong number of fields
(a truncated last line, a stray comma) the whole block fails, so that stretch
of the file is split into lines here, the bad lines are set aside with their
line numbers, the good ones are parsed from memory, and streaming resumes after
it. No Python callback is handed to pyarrow: its background reader would call
back into an interpreter that may be shutting down. A row takes more than one
line when a quoted value holds a line end; those rows are noted
(`desk.data.csv_lines`) so that rows are still named by their line.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, BinaryIO, cast

import pyarrow as pa
import pyarrow.csv as pacsv

from desk.data.csv_lines import LineShifts, extra_lines
from desk.errors import DataError

BLOCK = 1 << 22
"""Bytes pyarrow parses at a time."""
CHUNK_LINES = 65_536
"""Lines split by hand after a parse error, before streaming resumes."""
_SPLIT_ERROR = re.compile(r"Expected \d+ columns, got \d+")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error to ")


def separator_hint(names: list[str]) -> str:
    """Why a CSV's header is one column, when another separator splits it (`desk run` reads
    commas only; `desk data import` any one separator); "" otherwise."""
    if len(names) != 1:
        return ""
    for separator, shown in ((";", "';'"), ("\t", "'\\t'"), ("|", "'|'")):
        if separator in names[0]:
            return (f"; its header is one column, split by {shown}, not commas: import it with "
                    f"`desk data import --format csv --delimiter {shown}`")
    return ""


class CsvRows:
    """Record batches of one CSV file; rows keep their line numbers even when lines are dropped.

    pyarrow types each column by the file's first block and holds later blocks to it, so a
    size column of whole numbers for 4 MB fails at its first `0.5`. The price and size columns
    are read as floats from the start, and a column whose later value does not fit its type
    is read again as text from the batch it failed in: the data checks read text as numbers
    or times, and name the rows that are neither.

    Args:
        path: the file (`.gz` is read through gzip).
        skip: set bad lines aside and go on (`data.on_bad = "skip"`); otherwise the first fails.
        numbers: the columns that hold prices and sizes.
    """

    def __init__(self, path: Path, skip: bool, numbers: Collection[str] = ()) -> None:
        self.path = path
        self.skip = skip
        self._types = {name: pa.float64() for name in numbers}
        """Column types set, not inferred: numbers as floats, and columns made text."""
        self.bad_lines: list[int] = []
        """Line numbers of every line set aside so far, in order."""
        self.pending: list[tuple[int, int, int, str]] = []
        """(line, expected fields, found fields, text) set aside and not yet reported."""
        self._consumed = 0
        """Physical lines read so far, the header included."""
        self._offset = 0
        self._offset_line = 0
        """Byte `_offset` of the file's text starts line `_offset_line + 1`."""
        self._rows = 0
        """Rows delivered so far."""
        self._shifts = LineShifts()
        """Where rows delivered start more than one line after the row before."""

    def line_of(self, row: int) -> int:
        """The line number of data row `row` (0-based, over the rows delivered); header: line 1."""
        line = row + 2 + self._shifts.before(row)
        for bad in self.bad_lines:
            if bad <= line:
                line += 1
            else:
                break
        return line

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        names: list[str] | None = None
        types: dict[str, pa.DataType] | None = None
        while True:
            try:
                for batch in self._stream(names, types):
                    if names is None:
                        names, types = batch.schema.names, dict(zip(batch.schema.names,
                                                                   batch.schema.types, strict=True))
                        self._consumed = 1
                    self._consumed += batch.num_rows + self._shifts.note(self._rows,
                                                                       extra_lines(batch))
                    self._rows += batch.num_rows
                    yield batch
                return
            except pa.ArrowInvalid as error:
                if self._as_text(str(error), names):
                    if names is None:
                        names = self.header()
                        self._consumed = 1
                    continue  # read again from the failing batch's first line
                if _SPLIT_ERROR.search(str(error)) is None:
                    raise
            if names is None:
                names = self.header()
                self._consumed = 1
            batch, ended = self._by_hand(names, types)
            if batch is not None:
                if types is None:
                    types = dict(zip(batch.schema.names, batch.schema.types, strict=True))
                self._rows += batch.num_rows
                yield batch
            if ended:
                return

    def _as_text(self, error: str, names: list[str] | None) -> bool:
        """Read as text from now on the column a conversion `error` is about; False when it is no
        conversion error, or the column is text already."""
        found = _CONVERSION.search(error)
        if found is None:
            return False
        header = names if names is not None else self.header()
        index = int(found[1])
        if index >= len(header) or self._types.get(header[index]) == pa.string():
            return False
        self._types[header[index]] = pa.string()
        return True

    def _stream(self, names: list[str] | None,
                types: dict[str, pa.DataType] | None) -> Iterator[pa.RecordBatch]:
        """pyarrow's streaming reader from the first line not yet read. It is handed the file
        from that line's byte on: pyarrow's `skip_rows` reaches no further than its first
        block."""
        read = pacsv.ReadOptions(block_size=BLOCK, use_threads=False, column_names=names)
        # blank lines stay rows (all null) so that each row is exactly one line
        parse = pacsv.ParseOptions(ignore_empty_lines=False)
        if names is None:
            yield from pacsv.open_csv(self.path, read_options=read, parse_options=parse,
                                      convert_options=self._convert(types))
            return
        self._seek_line(self._consumed)
        source = self._native_from(self._offset)
        try:
            yield from pacsv.open_csv(source, read_options=read, parse_options=parse,
                                      convert_options=self._convert(types))
        finally:
            source.close()

    def _native_from(self, offset: int) -> pa.NativeFile:
        """The file, from byte `offset` of its text on, as a stream of pyarrow's own (no Python
        callback for pyarrow's reader to call)."""
        if self.path.suffix.lower() == ".gz":
            stream = pa.CompressedInputStream(pa.OSFile(str(self.path)), "gzip")
            while offset > 0:
                offset -= len(stream.read(min(offset, 1 << 22)))
            return stream
        file = pa.OSFile(str(self.path))
        file.seek(offset)
        return file

    def _open_binary(self) -> BinaryIO:
        if self.path.suffix.lower() == ".gz":
            return cast(BinaryIO, gzip.open(self.path))
        return open(self.path, "rb")

    def _seek_line(self, line: int) -> None:
        """Find the byte where line `line + 1` starts, counting on from the last one found."""
        if line <= self._offset_line:
            return
        with self._open_binary() as raw:
            raw.seek(self._offset)
            for text in itertools.islice(_binary_lines(raw), line - self._offset_line):
                self._offset += len(text)
                self._offset_line += 1

    def _convert(self, types: dict[str, pa.DataType] | None) -> pacsv.ConvertOptions:
        """Only an empty field is missing: "NaN" stays a number (and a bad price), "NA" a name."""
        return pacsv.ConvertOptions(column_types={**(types or {}), **self._types},
                                    null_values=[""], strings_can_be_null=True)

    def _open_text(self) -> IO[str]:
        if self.path.suffix.lower() == ".gz":
            return io.TextIOWrapper(gzip.open(self.path), encoding="utf-8", errors="replace",
                                    newline="")
        return open(self.path, encoding="utf-8", errors="replace", newline="")

    def header(self) -> list[str]:
        """The header's names as pyarrow reads them: a UTF-8 byte order mark is no part of the
        first name."""
        with self._open_text() as text:
            first = text.readline().removeprefix("\ufeff")
        return next(csv.reader([first]), [])

    def first_value(self, column: str) -> str | None:
        """The first row's value in `column`, as written (stripped); None when the file has no
        such column or no row, or does not read. A few lines, read by Python's csv."""
        try:
            with self._open_text() as text:
                rows = csv.reader(text)
                header = next(rows, [])
                if header:
                    header[0] = header[0].removeprefix("\ufeff")
                if column not in header:
                    return None
                index = header.index(column)
                for row in rows:
                    if any(cell.strip() for cell in row):
                        return row[index].strip() if index < len(row) else None
        except (OSError, EOFError, csv.Error):
            return None
        return None

    def _by_hand(self, names: list[str],
                 types: dict[str, pa.DataType] | None) -> tuple[pa.RecordBatch | None, bool]:
        """Split the next lines by hand, set the bad ones aside, parse the rest: (batch, ended?)."""
        self._seek_line(self._consumed)
        with self._open_binary() as raw:
            raw.seek(self._offset)
            raw_lines = list(itertools.islice(_binary_lines(raw), CHUNK_LINES))
        lines = [line.decode("utf-8", errors="replace") for line in raw_lines]
        ended = len(lines) < CHUNK_LINES
        good: list[str] = []
        reader = csv.reader(lines)
        start = 0
        for fields in reader:
            end = reader.line_num
            if not ended and end == len(lines) and start > 0:
                break  # the last record may go on in the next chunk: read it from there
            number = self._consumed + start + 1
            record = "".join(lines[start:end])
            if record.strip() and len(fields) != len(names):
                if not self.skip:
                    if _binary(record):
                        raise DataError(f"{self.path}:{number}: not text (bytes no CSV file "
                                        "holds): is it a Parquet or Arrow file? Set the file's "
                                        "format")
                    hint = separator_hint(names) or ("; set data.on_bad = \"skip\" to skip "
                                                     "such lines")
                    raise DataError(f"{self.path}:{number}: expected {len(names)} columns, found "
                                    f"{len(fields)}: {record.rstrip()[:80]!r}{hint}")
                self.bad_lines.extend(range(number, number + end - start))
                self.pending.append((number, len(names), len(fields), record.rstrip()))
            else:
                if end - start > 1:
                    self._shifts.move(self._rows + len(good) + 1, end - start - 1)
                good.append(record if record.endswith(("\n", "\r")) else record + "\n")
            start = end
        self._consumed += start
        self._offset += sum(len(line) for line in raw_lines[:start])
        self._offset_line += start
        if not good:
            return None, ended
        text = "".join(good).encode("utf-8")
        while True:
            try:
                table = pacsv.read_csv(
                    pa.BufferReader(text),
                    read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
                    parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
                    convert_options=self._convert(types))
                return table.combine_chunks().to_batches()[0], ended
            except pa.ArrowInvalid as error:
                if not self._as_text(str(error), names):
                    raise


def _binary_lines(raw: BinaryIO) -> Iterator[bytes]:
    """The lines of a binary stream, each with its line end (CR LF, CR or LF, as pyarrow and
    Python's text files split lines)."""
    rest = b""
    while True:
        block = raw.read(1 << 20)
        data = rest + block
        if not block:
            if data:
                yield data
            return
        start = 0
        for match in _LINE_END.finditer(data):
            if match.end() == len(data) and data.endswith(b"\r"):
                break  # the LF of a CR LF may open the next block
            yield data[start:match.end()]
            start = match.end()
        rest = data[start:]


def _binary(line: str) -> bool:
    """Whether a line read as text holds what no text file does: control characters other than
    tab and line ends, or mostly bytes that are not UTF-8 (read as U+FFFD)."""
    controls = sum(ord(c) < 32 and c not in "\t\r\n" for c in line)
    return controls > 0 or line.count("\ufffd") * 10 > len(line)  # not one odd byte in a name
