"""Any CSV or Parquet file with a column mapping: timestamps in s/ms/us/ns or text, a time zone,
price scaling and side conventions. Works column-wise on pyarrow record batches."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from desk.data.writer import MarketWriter
from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.source import READ_ERRORS, Meter, magic, open_binary, text_stream
from desk.importers.stamps import BadTime, parse_text_times
from desk.timeutil import unit_ns

Where: TypeAlias = Callable[[int], str]
"""Row `i` of a batch → where it is in the source (`file:line` or `file: row n`), for errors."""

FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trade": (("ts", "price", "size"), ("instrument", "side")),
    "quote": (("ts", "bid", "ask"), ("instrument", "bid_size", "ask_size")),
    "bar": (("ts", "open", "high", "low", "close"), ("instrument", "volume")),
    "book": (("ts", "side", "price", "size"), ("instrument", "snapshot")),
}
PRICES = ("price", "bid", "ask", "open", "high", "low", "close")
SIZES = ("size", "bid_size", "ask_size", "volume")
ALIASES: dict[str, tuple[str, ...]] = {
    # column names tried, in order, when --map does not name a field's column
    "ts": ("ts", "timestamp", "time", "datetime", "date", "ts_event"),
    "instrument": ("instrument", "symbol"),
    "size": ("size", "qty", "quantity", "amount"),
    "bid": ("bid", "bid_price"),
    "ask": ("ask", "ask_price"),
    "bid_size": ("bid_size", "bid_qty", "bid_amount"),
    "ask_size": ("ask_size", "ask_qty", "ask_amount"),
}
NULL_WORDS = ("NA", "N/A", "#N/A", "NULL", "NONE")
"""Words a CSV writes for a missing value (read as nulls, not as a header's names)."""
BUY = ("buy", "b", "bid", "bids", "1", "+1")
SELL = ("sell", "s", "ask", "asks", "a", "-1", "offer")


def run_csv(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    """Import CSV sources (plain, gzip, or a zip of one file) with the same mapping."""
    _run(sources, writer, opts, meter, _csv_batches)


def run_parquet(sources: list[Path], writer: MarketWriter, opts: ImportOptions,
                meter: Meter) -> None:
    """Import Parquet sources with the same mapping."""
    _run(sources, writer, opts, meter, _parquet_batches)


Batches: TypeAlias = \
    "Callable[[Path, ImportOptions, Meter], Iterator[tuple[pa.RecordBatch, Where]]]"


def _run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter,
         batches: Batches) -> None:
    if opts.kind not in FIELDS:
        raise DataError(f"--kind is needed for a generic import: one of {', '.join(FIELDS)}")
    if opts.kind == "bar":
        bar_offset(opts)
    if opts.tz is not None:
        try:
            ZoneInfo(opts.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise DataError(f"--tz: unknown time zone {opts.tz!r} (e.g. UTC, America/New_York, "
                            "Etc/GMT+5)") from None
    for path in sources:
        empty = True
        for batch, where in batches(path, opts, meter):
            if batch.num_rows:
                empty = False
                writer.table(convert(path, batch, _names(path, opts, batch.schema.names), opts,
                                     where), where)
        if empty:
            raise DataError(f"{path}: the file has no rows")


def bar_offset(opts: ImportOptions) -> int:
    """Nanoseconds to add to a source's bar stamp so that the bar is stamped at its close."""
    if opts.bar_stamp == "close":
        return 0
    if opts.bar_stamp == "open":
        if not opts.interval_ns:
            raise DataError("bars stamped at their open need --interval (e.g. 1m) to be "
                            "restamped at their close")
        return opts.interval_ns
    raise DataError("say how the source stamps its bars: --bar-stamp open (with --interval) "
                    "or --bar-stamp close; desk replays every bar at its close")


def _parquet_batches(path: Path, opts: ImportOptions,
                     meter: Meter) -> Iterator[tuple[pa.RecordBatch, Where]]:
    found = magic(path)
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as error:
        if found is not None and found[1] != "parquet":
            raise DataError(f"{path}: {found[0]}, not a Parquet file; try --format {found[1]}") \
                from None
        hint = "" if found else "; if it is CSV, use --format csv"
        raise DataError(f"{path}: not a Parquet file, or cut short ({first_line(error)}){hint}") \
            from None
    size, total = path.stat().st_size, max(parquet.metadata.num_rows, 1)
    meter.add_total(size)
    names = set(parquet.schema_arrow.names)
    columns = sorted(set(_names(path, opts, list(names)).values()))
    before = 0
    try:
        for batch in parquet.iter_batches(batch_size=65_536, columns=columns):
            meter.advance(size * batch.num_rows // total)
            yield batch, _rows_from(f"{path}: row ", before + 1)
            before += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(f"{path}: cannot read after row {before}: {first_line(error)}") from None


def _csv_batches(path: Path, opts: ImportOptions,
                 meter: Meter) -> Iterator[tuple[pa.RecordBatch, Where]]:
    header, first = _csv_header(path, opts)
    names = _names(path, opts, header)
    if not opts.header:
        _no_header_row(path, first, names)
    columns = sorted(set(names.values()))
    stream = open_binary(path, meter, text="a CSV file")
    read = pacsv.ReadOptions(block_size=1 << 22, autogenerate_column_names=not opts.header)
    parse = pacsv.ParseOptions(delimiter=opts.csv_delimiter)
    convert_ = pacsv.ConvertOptions(strings_can_be_null=True, include_columns=columns)
    before = 0
    first_data_line = 2 if opts.header else 1
    try:
        with stream:
            for batch in pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                        convert_options=convert_):
                yield batch, _rows_from(f"{path}:", first_data_line + before)
                before += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise DataError(_csv_error(path, opts, header, names_of(path, opts, header), before,
                                   first_line(error))) from None
    except READ_ERRORS as error:
        raise DataError(f"{path}: cannot read after row {before}: {first_line(error)}") from None


def names_of(path: Path, opts: ImportOptions, header: list[str]) -> dict[str, str]:
    """Source column → desk field, for error messages."""
    return {column: field for field, column in _names(path, opts, header).items()}


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


_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to (\w+): "
                         r"invalid value '(.*)'$")
_WIDTH = re.compile(r"Expected (\d+) columns, got (\d+)")


def _csv_error(path: Path, opts: ImportOptions, header: list[str], fields: dict[str, str],
               before: int, message: str) -> str:
    """pyarrow's CSV error, with the row it is about found by reading the file again with
    Python's `csv` from the first row of the failing block (pyarrow does not say the row)."""
    conversion, width = _CONVERSION.search(message), _WIDTH.search(message)
    if conversion is None and width is None:
        return f"{path}: cannot read after row {before}: {message}"
    with text_stream(path, Meter(), "a CSV file") as stream:
        reader = csv.reader(stream, delimiter=opts.csv_delimiter)
        skip = before + (1 if opts.header else 0)
        try:
            for number, row in enumerate(reader):
                if number < skip:
                    continue
                if conversion is not None:
                    index, value = int(conversion[1]), conversion[3]
                    if index < len(row) and row[index] == value:
                        column = header[index]
                        field = f" (desk field {fields[column]!r})" if column in fields else ""
                        kind = "a number" if conversion[2] in ("double", "int64") else conversion[2]
                        return (f"{path}:{reader.line_num}: column {column!r}{field}: expected "
                                f"{kind} like the rows before, found {value!r}")
                elif width is not None and len(row) != int(width[1]):
                    return (f"{path}:{reader.line_num}: {len(row)} fields, expected "
                            f"{width[1]} like the header")
        except (csv.Error, *READ_ERRORS):
            pass
    return f"{path}: cannot read after row {before}: {message}"


def _rows_from(prefix: str, first: int) -> Where:
    """Where row `i` of a batch is: a CSV line number, or a Parquet row number."""
    return lambda i: f"{prefix}{first + i}"


def _names(path: Path, opts: ImportOptions, columns: list[str]) -> dict[str, str]:
    """desk field → source column, checked against the file's columns."""
    assert opts.kind is not None
    required, optional = FIELDS[opts.kind]
    unknown = set(opts.columns) - set(required) - set(optional)
    if unknown:
        raise DataError(f"--map: unknown field(s) {', '.join(sorted(unknown))} for kind "
                        f"{opts.kind!r} (fields: {', '.join(required + optional)})")
    names: dict[str, str] = {}
    for name in required + optional:
        column = opts.columns.get(name, name)
        if column.isdigit() and not opts.header:
            column = f"f{column}"
        if name not in opts.columns:
            column = next((c for c in ALIASES.get(name, ()) if c in columns), column)
        if column in columns:
            names[name] = column
        elif name in required or name in opts.columns:
            raise DataError(f"{path}: missing column {column!r} (desk field {name!r}); the file "
                            f"has: {', '.join(columns)}; map it with --map {name}=COLUMN")
    if "instrument" not in names and not opts.instrument:
        raise DataError(f"{path}: no instrument column; give --instrument SYMBOL")
    return names


def first_failing(column: pa.Array, attempt: Callable[[pa.Array], object]) -> int:
    """The index of the first value `attempt` fails on, by halving (`attempt` fails on the whole
    column): a few column-wise calls instead of one call per value."""
    lo, hi = 0, len(column)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            attempt(column.slice(lo, mid - lo))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            hi = mid
        else:
            lo = mid
    return lo


def timestamps(path: Path, column: pa.Array, opts: ImportOptions, label: str,
               where: Where | None = None) -> pa.Array:
    """Any timestamp column as int64 epoch nanoseconds UTC."""
    where = where or _rows_from(f"{path}: row ", 1)
    if column.null_count:
        index = pc.index(pc.is_null(column), True).as_py()
        raise DataError(f"{where(index)}: column {label!r}: no timestamp")
    kind = column.type
    if opts.ts_format and not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = pc.cast(column, pa.string())  # `%Y%m%d` dates are read by CSV as numbers
        kind = column.type
    try:
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if opts.ts_format:
                try:
                    column = parse_text_times(column, opts.ts_format)
                except BadTime as bad:
                    raise DataError(f"{where(bad.index)}: column {label!r}: {bad.value!r} does "
                                    f"not match --ts-format {opts.ts_format!r}") from None
            else:
                column = _iso(column, where, label)
            kind = column.type
        if pa.types.is_date(kind):
            column = pc.cast(pc.cast(column, pa.date64()), pa.timestamp("ms"))
            kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is None:
                column = _zoned(_storable(column, _naive_ns, where, label, ""), opts.tz or "UTC",
                                where, label)
            return _storable(column, _utc_ns, where, label, "")
        scale = unit_ns(opts.ts_unit)
        hint = f"; is --ts-unit {opts.ts_unit} right?"
        if pa.types.is_floating(kind):
            return _storable(column, partial(_float_ns, float(scale)), where, label, hint)
        return _storable(column, partial(_int_ns, scale), where, label, hint)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise DataError(f"{path}: column {label!r}: cannot read {kind} as timestamps "
                        f"({first_line(error)}); set --ts-unit, --ts-format or --tz") from None


def _naive_ns(values: pa.Array) -> pa.Array:
    return pc.cast(values, pa.timestamp("ns"))


def _utc_ns(values: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(values, pa.timestamp("ns", "UTC")), pa.int64())


def _float_ns(scale: float, values: pa.Array) -> pa.Array:
    return pc.cast(pc.round(pc.multiply(values, scale)), pa.int64())


def _int_ns(scale: int, values: pa.Array) -> pa.Array:
    return pc.multiply_checked(pc.cast(values, pa.int64()), scale)


def _later(offset: int, values: pa.Array) -> pa.Array:
    return pc.add_checked(values, pa.scalar(offset, pa.int64()))


def _storable(column: pa.Array, convert: Callable[[pa.Array], pa.Array], where: Where,
              label: str, hint: str) -> pa.Array:
    """`convert(column)`; when a value does not fit desk's int64 nanoseconds, its row is named."""
    try:
        return convert(column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        index = first_failing(column, convert)
        raise DataError(f"{where(index)}: column {label!r}: {_shown(column[index].as_py())} is "
                        f"not a time desk can store (1677-09-21 to 2262-04-11 UTC){hint}") \
            from None


def _shown(value: object) -> str:
    """A source value as an error shows it: a time as ISO text, anything else as Python's."""
    return repr(value.isoformat()) if isinstance(value, datetime) else repr(value)


def _iso(column: pa.Array, where: Where, label: str) -> pa.Array:
    """ISO 8601 text as timestamps: naive, or UTC when the times carry a zone (`Z`, `+01:00`),
    as the first time does; the first one that does not read is named."""
    first = pc.drop_null(column)[0].as_py() if len(column) > column.null_count else ""
    unit = pa.timestamp("ns")
    for candidate in (pa.timestamp("ns"), pa.timestamp("ns", "UTC")):
        try:
            pc.cast(pa.array([first]), candidate)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        unit = candidate
        break

    def cast(values: pa.Array) -> pa.Array:
        return pc.cast(values, unit)

    try:
        return cast(column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        index = first_failing(column, cast)
        value = column[index].as_py()
        try:
            pc.cast(pa.array([value]), pa.timestamp("s", unit.tz))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            raise DataError(f"{where(index)}: column {label!r}: {value!r} is not a time desk can "
                            "store (1677-09-21 to 2262-04-11 UTC)") from None
        raise DataError(f"{where(index)}: column {label!r}: {value!r} is not an "
                        "ISO 8601 time; give its layout with --ts-format (strptime codes, e.g. "
                        "'%Y%m%d %H%M%S%f') or its unit with --ts-unit") from None


def _zoned(column: pa.Array, zone: str, where: Where, label: str) -> pa.Array:
    def assume(values: pa.Array) -> pa.Array:
        return pc.assume_timezone(values, zone)

    try:
        return assume(column)
    except pa.ArrowInvalid as error:
        index = first_failing(column, assume)
        raise DataError(f"{where(index)}: column {label!r}: {column[index]} in {zone}: "
                        f"{first_line(error)}") from None


def sides(column: pa.Array, opts: ImportOptions) -> pa.Array:
    """+1 buy/bid, -1 sell/ask, 0 unknown, by the source's own convention when given."""
    if pa.types.is_boolean(column.type) and not (opts.buy or opts.sell):
        # a `buyer_maker`-style flag: true means the seller was the aggressor
        return pc.cast(pc.if_else(column, -1, 1), pa.int8())
    numeric = pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
    if numeric and not (opts.buy or opts.sell):
        return pc.cast(pc.sign(column), pa.int8())
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    buy = pa.array([v.lower() for v in (opts.buy or BUY)])
    sell = pa.array([v.lower() for v in (opts.sell or SELL)])
    out = pc.if_else(pc.is_in(text, buy), 1, pc.if_else(pc.is_in(text, sell), -1, 0))
    return pc.cast(pc.fill_null(out, 0), pa.int8())


def convert(path: Path, batch: pa.RecordBatch, names: dict[str, str], opts: ImportOptions,
            where: Where | None = None) -> pa.Table:
    """One source batch as desk-schema columns; `where(i)` says where row `i` is in the source."""
    assert opts.kind is not None
    where = where or _rows_from(f"{path}: row ", 1)
    n = batch.num_rows
    out: dict[str, pa.Array] = {}
    out["ts"] = timestamps(path, batch.column(names["ts"]), opts, names["ts"], where)
    if opts.kind == "bar":
        out["ts"] = _storable(out["ts"], partial(_later, bar_offset(opts)), where,
                              names["ts"], " once restamped at the bar's close")
    if "instrument" in names:
        out["instrument"] = pc.cast(batch.column(names["instrument"]), pa.string())
    else:
        out["instrument"] = pa.array([opts.instrument] * n, pa.string())
    required = FIELDS[opts.kind][0]
    for field in PRICES + SIZES:
        if field in names:
            values = _numbers(batch.column(names[field]), names[field], field, where)
            if values.null_count and field in required and field not in ("bid", "ask"):
                index = pc.index(pc.is_null(values), True).as_py()
                raise DataError(f"{where(index)}: column {names[field]!r} (desk field "
                                f"{field!r}): no value (empty, or a null word like NA)")
            scale = opts.price_scale if field in PRICES else opts.size_scale
            out[field] = pc.multiply(values, scale) if scale != 1.0 else values
    if opts.kind == "quote":
        for field in ("bid_size", "ask_size"):
            out[field] = pc.fill_null(out[field], 0.0) if field in out else pa.array([0.0] * n)
    if "side" in names:
        out["side"] = sides(batch.column(names["side"]), opts)
    if opts.kind == "book":
        snap = batch.column(names["snapshot"]) if "snapshot" in names else pa.array([False] * n)
        snap = pc.fill_null(pc.cast(snap, pa.bool_()), False)
        out["kind"] = pc.if_else(snap, "book_snapshot", "book_delta")
    else:
        out["kind"] = pa.array([opts.kind] * n, pa.string())
    return pa.table(out)


def _numbers(column: pa.Array, label: str, field: str, where: Where) -> pa.Array:
    """A price or size column as float64; the first value that is not a number is named."""
    def cast(values: pa.Array) -> pa.Array:
        return pc.cast(values, pa.float64())

    try:
        return cast(column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        index = first_failing(column, cast)
        raise DataError(f"{where(index)}: column {label!r} (desk field {field!r}): expected a "
                        f"number, found {column[index].as_py()!r}") from None
