"""CSV sources of a generic import as Arrow batches, with pyarrow's errors put on their line."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from desk.data.csv_lines import ScannedLines
from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.locator import Where
from desk.importers.mapping import PRICES, SIZES, column_fields, field_columns
from desk.importers.source import READ_ERRORS, Meter, open_binary, text_stream

NULL_WORDS = ("NA", "N/A", "#N/A", "NULL", "NONE")
"""Words a CSV writes for a missing value (read as nulls, not as a header's names)."""
NAN_WORDS = ("NaN", "nan", "-NaN", "-nan")
"""Written numbers, not missing values: pyarrow reads them as nulls by default, which made a
quote's NaN size 0 and a trade's NaN price "no value"; as NaN they are kept and reported
among the problems, as `desk run` refuses them."""


def csv_batches(path: Path, opts: ImportOptions,
                meter: Meter) -> Iterator[tuple[pa.RecordBatch, Where]]:
    """The mapped columns of a CSV source (plain, gzip, or a zip of one file), batch by batch,
    each with where its rows are (their line numbers)."""
    header, first = _csv_header(path, opts)
    names = field_columns(path, opts, header)
    if not opts.header:
        _no_header_row(path, first, names)
    columns = sorted(set(names.values()))
    stream = open_binary(path, meter, text="a CSV file")
    read = pacsv.ReadOptions(block_size=1 << 22, autogenerate_column_names=not opts.header)
    parse = pacsv.ParseOptions(delimiter=opts.csv_delimiter)
    types = _column_types(names)
    nulls = [word for word in pacsv.ConvertOptions().null_values if word not in NAN_WORDS]
    convert_ = pacsv.ConvertOptions(strings_can_be_null=True, include_columns=columns,
                                    null_values=nulls,
                                    column_types=types)
    before = 0
    lines = ScannedLines(lambda: text_stream(path, Meter(), "a CSV file"), opts.csv_delimiter,
                         opts.header)
    try:
        with stream:
            for batch in pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                        convert_options=convert_):
                yield batch, _lines_from(path, lines, before)
                before += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise DataError(_csv_error(path, opts, header, column_fields(path, opts, header), before,
                                   first_line(error), types)) from None
    except READ_ERRORS as error:
        raise DataError(f"{path}: cannot read after row {before}: {first_line(error)}") from None
    finally:
        lines.close()


def _lines_from(path: Path, lines: ScannedLines, before: int) -> Where:
    """Where row `i` of a batch that follows `before` rows is: its line, a quoted value over
    several lines and blank lines counted."""
    return lambda i: f"{path}:{lines.line_of(before + i)}"


def _no_header_row(path: Path, first: list[str], names: dict[str, str]) -> None:
    """With --no-header, refuse a first line whose price or size fields are not numbers: it is
    a header, and would otherwise fail as a bad value with an irrelevant hint."""
    for field, column in names.items():
        if field not in PRICES + SIZES:
            continue
        text = first[int(column[1:])].strip()
        try:
            float(text)
        except ValueError:
            if text and text.upper() not in NULL_WORDS:
                raise DataError(f"{path}:1: the first line looks like a header ({field} is "
                                f"{text!r}, not a number); drop --no-header") from None


def _csv_header(path: Path, opts: ImportOptions) -> tuple[list[str], list[str]]:
    """The column names (the header row's, or f0, f1, ... (pyarrow's) for a file without one),
    and the first row's fields."""
    with text_stream(path, Meter(), "a CSV file") as stream:
        try:
            first = next(csv.reader(stream, delimiter=opts.csv_delimiter), None)
        except csv.Error as error:
            raise DataError(f"{path}:1: not CSV: {error}") from None
        except READ_ERRORS as error:
            raise DataError(f"{path}: cannot read: {first_line(error)}") from None
    if not first:
        raise DataError(f"{path}: the file has no rows")
    return (first if opts.header else [f"f{i}" for i in range(len(first))]), first


def _column_types(names: dict[str, str]) -> dict[str, pa.DataType]:
    """Types set before reading, not inferred from the first block and then held to: a size
    column of whole numbers for 4 MB would fail at its first `0.5`, text times of whole
    seconds at their first fraction, and so would epoch times of whole seconds. Prices and
    sizes are floats; times stay text, numbers or not (the time column reads them: whole
    numbers exactly, as int64 nanoseconds beyond a float's 53 bits need)."""
    types = {column: pa.float64() for field, column in names.items() if field in PRICES + SIZES}
    if "ts" in names:
        types[names["ts"]] = pa.string()
    return types


_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to (\w+): "
                         r"invalid value '(.*)'$")
_WIDTH = re.compile(r"Expected (\d+) columns, got (\d+)")


def _csv_error(path: Path, opts: ImportOptions, header: list[str], fields: dict[str, str],
               before: int, message: str, types: dict[str, pa.DataType]) -> str:
    """pyarrow's CSV error, with the row it is about found by reading the file again with
    Python's `csv` from the first row of the failing block (pyarrow does not say the row)."""
    conversion, width = _CONVERSION.search(message), _WIDTH.search(message)
    if conversion is None and width is None:
        return f"{path}: cannot read after row {before}: {message}"
    with text_stream(path, Meter(), "a CSV file") as stream:
        reader = csv.reader(stream, delimiter=opts.csv_delimiter)
        skip = before + (1 if opts.header else 0)
        number, line = 0, 0
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row:
                    continue  # a blank line: pyarrow skips it
                number += 1
                if number <= skip:
                    continue
                if conversion is not None:
                    index, value = int(conversion[1]), conversion[3]
                    if index < len(row) and row[index] == value:
                        column = header[index]
                        field = f" (desk field {fields[column]!r})" if column in fields else ""
                        kind = "a number" if conversion[2] in ("double", "int64") else conversion[2]
                        inferred = "" if column in types else " like the rows before"
                        return (f"{path}:{start}: column {column!r}{field}: expected "
                                f"{kind}{inferred}, found {value!r}")
                elif width is not None and len(row) != int(width[1]):
                    return (f"{path}:{start}: {len(row)} fields, expected "
                            f"{width[1]} like the header")
        except (csv.Error, *READ_ERRORS):
            pass
    return f"{path}: cannot read after row {before}: {message}"
