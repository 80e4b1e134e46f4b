"""Any CSV or Parquet file with a column mapping: timestamps in s/ms/us/ns or text, a time zone,
price scaling and side conventions. Works column-wise on pyarrow record batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.importers import ImportOptions
from desk.importers.source import Meter, check_exists, open_binary
from desk.timeutil import unit_ns

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
BUY = ("buy", "b", "bid", "bids", "1", "+1")
SELL = ("sell", "s", "ask", "asks", "a", "-1", "offer")


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    """Import each source in turn with the same mapping."""
    if opts.kind not in FIELDS:
        raise DataError(f"--kind is needed for a generic import: one of {', '.join(FIELDS)}")
    if opts.kind == "bar":
        bar_offset(opts)
    for path in sources:
        names: dict[str, str] | None = None
        for batch in _batches(path, opts, meter):
            if names is None:
                names = _names(path, opts, batch.schema)
            if batch.num_rows:
                writer.table(convert(path, batch, names, opts))
        if names is None:
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


def _batches(path: Path, opts: ImportOptions, meter: Meter) -> Iterator[pa.RecordBatch]:
    check_exists(path)
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            parquet = pq.ParquetFile(path)
            size, rows = path.stat().st_size, max(parquet.metadata.num_rows, 1)
            meter.add_total(size)
            for batch in parquet.iter_batches(batch_size=65_536):
                meter.advance(size * batch.num_rows // rows)
                yield batch
            return
        stream = open_binary(path, meter)
        read = pacsv.ReadOptions(block_size=1 << 22, autogenerate_column_names=not opts.header)
        parse = pacsv.ParseOptions(delimiter=opts.csv_delimiter)
        convert = pacsv.ConvertOptions(strings_can_be_null=True)
        yield from pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                  convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: cannot read: {text}") from None


def _names(path: Path, opts: ImportOptions, schema: pa.Schema) -> dict[str, str]:
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
            column = next((c for c in ALIASES.get(name, ()) if c in schema.names), column)
        if column in schema.names:
            names[name] = column
        elif name in required or name in opts.columns:
            raise DataError(f"{path}: missing column {column!r} (desk field {name!r}); the file "
                            f"has: {', '.join(schema.names)}; map it with --map {name}=COLUMN")
    if "instrument" not in names and not opts.instrument:
        raise DataError(f"{path}: no instrument column; give --instrument SYMBOL")
    return names


def timestamps(path: Path, column: pa.Array, opts: ImportOptions, label: str) -> pa.Array:
    """Any timestamp column as int64 epoch nanoseconds UTC."""
    kind = column.type
    try:
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if opts.ts_format:
                column = pc.strptime(column, format=opts.ts_format, unit="ns")
            else:
                column = pc.cast(column, pa.timestamp("ns"))
            kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is None:
                column = pc.assume_timezone(pc.cast(column, pa.timestamp("ns")), opts.tz or "UTC")
            return pc.cast(pc.cast(column, pa.timestamp("ns", "UTC")), pa.int64())
        if pa.types.is_date(kind):
            stamps = pc.cast(pc.cast(column, pa.date64()), pa.timestamp("ms"))
            return pc.cast(pc.cast(pc.assume_timezone(stamps, opts.tz or "UTC"), pa.timestamp("ns", "UTC")),
                           pa.int64())
        scale = unit_ns(opts.ts_unit)
        if pa.types.is_floating(kind):
            return pc.cast(pc.round(pc.multiply(column, float(scale))), pa.int64())
        return pc.multiply(pc.cast(column, pa.int64()), scale)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        first = str(error).splitlines()[0]
        raise DataError(f"{path}: column {label!r}: cannot read as timestamps ({first}); "
                        "set --ts-unit, --ts-format or --tz") from None


def sides(column: pa.Array, opts: ImportOptions) -> pa.Array:
    """+1 buy/bid, −1 sell/ask, 0 unknown, by the source's own convention when given."""
    if pa.types.is_boolean(column.type) and not (opts.buy or opts.sell):
        # a `buyer_maker`-style flag: true means the seller was the aggressor
        return pc.cast(pc.if_else(column, -1, 1), pa.int8())
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        if not (opts.buy or opts.sell):
            return pc.cast(pc.sign(column), pa.int8())
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    buy = pa.array([v.lower() for v in (opts.buy or BUY)])
    sell = pa.array([v.lower() for v in (opts.sell or SELL)])
    out = pc.if_else(pc.is_in(text, buy), 1, pc.if_else(pc.is_in(text, sell), -1, 0))
    return pc.cast(pc.fill_null(out, 0), pa.int8())


def convert(path: Path, batch: pa.RecordBatch, names: dict[str, str],
            opts: ImportOptions) -> pa.Table:
    """One source batch as desk-schema columns."""
    assert opts.kind is not None
    n = batch.num_rows
    out: dict[str, pa.Array] = {}
    out["ts"] = timestamps(path, batch.column(names["ts"]), opts, names["ts"])
    if opts.kind == "bar":
        out["ts"] = pc.add(out["ts"], bar_offset(opts))
    if "instrument" in names:
        out["instrument"] = pc.cast(batch.column(names["instrument"]), pa.string())
    else:
        out["instrument"] = pa.array([opts.instrument] * n, pa.string())
    for field in PRICES + SIZES:
        if field in names:
            try:
                values = pc.cast(batch.column(names[field]), pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(f"{path}: column {names[field]!r} (desk field {field!r}): expected "
                                f"numbers, found {batch.column(names[field]).type}") from None
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
