"""Any CSV or Parquet file with a column mapping: timestamps in s/ms/us/ns or text, a time zone,
price scaling and side conventions. Works column-wise on pyarrow record batches.

Its parts: the mapping (`mapping`), CSV batches (`csv_reader`), the time column
(`time_column`); here, Parquet batches and each batch made into desk's columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from desk.data.file_format import parquet_damaged, parquet_unopened
from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.importers import ImportOptions
from desk.importers.csv_reader import csv_batches
from desk.importers.locator import Where, first_failing, rows_from
from desk.importers.mapping import FIELDS, PRICES, SIZES, field_columns
from desk.importers.source import Meter, magic
from desk.importers.time_column import at_close, timestamps

BUY = ("buy", "b", "bid", "bids", "1", "+1")
SELL = ("sell", "s", "ask", "asks", "a", "-1", "offer")


def run_csv(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    """Import CSV sources (plain, gzip, or a zip of one file) with the same mapping."""
    _run(sources, writer, opts, meter, csv_batches)


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
                names = field_columns(path, opts, batch.schema.names)
                writer.table(convert(path, batch, names, opts, where), where)
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
    except (pa.ArrowInvalid, OSError):
        if found is not None and found[1] != "parquet":
            raise DataError(f"{path}: {found[0]}, not a Parquet file; try --format {found[1]}") \
                from None
        raise DataError(parquet_unopened(path, "" if found else "if it is CSV, use --format csv",
                                         redo="copy or download it again")) from None
    size, total = path.stat().st_size, max(parquet.metadata.num_rows, 1)
    meter.add_total(size)
    names = set(parquet.schema_arrow.names)
    columns = sorted(set(field_columns(path, opts, list(names)).values()))
    before = 0
    try:
        for batch in parquet.iter_batches(batch_size=65_536, columns=columns):
            meter.advance(size * batch.num_rows // total)
            yield batch, rows_from(f"{path}: row ", before + 1)
            before += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(parquet_damaged(path, before, error, redo="copy or download it again")) \
            from None


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
    where = where or rows_from(f"{path}: row ", 1)
    n = batch.num_rows
    out: dict[str, pa.Array] = {}
    out["ts"] = timestamps(path, batch.column(names["ts"]), opts, names["ts"], where)
    if opts.kind == "bar":
        out["ts"] = at_close(out["ts"], bar_offset(opts), where, names["ts"])
    if "instrument" in names:
        out["instrument"] = _text(batch.column(names["instrument"]), names["instrument"],
                                  "instrument", where)
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
        side = batch.column(names["side"])
        if pa.types.is_binary(side.type) or pa.types.is_large_binary(side.type):
            side = _text(side, names["side"], "side", where)
        out["side"] = sides(side, opts)
    if opts.kind == "book":
        snap = batch.column(names["snapshot"]) if "snapshot" in names else pa.array([False] * n)
        snap = pc.fill_null(pc.cast(snap, pa.bool_()), False)
        out["kind"] = pc.if_else(snap, "book_snapshot", "book_delta")
    else:
        out["kind"] = pa.array([opts.kind] * n, pa.string())
    return pa.table(out)


def _text(column: pa.Array, label: str, field: str, where: Where) -> pa.Array:
    """A text column as UTF-8 strings; the first value that is not UTF-8 (a Latin-1 CSV, which
    pyarrow reads as bytes) is named."""
    def cast(values: pa.Array) -> pa.Array:
        return pc.cast(values, pa.string())

    try:
        return cast(column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        index = first_failing(column, cast)
        value = column[index].as_py()
        what = f"not UTF-8 text: {value[:40]!r}; save the file as UTF-8" \
            if isinstance(value, bytes) else f"not text: {value!r}"
        raise DataError(f"{where(index)}: column {label!r} (desk field {field!r}): {what}") \
            from None


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
