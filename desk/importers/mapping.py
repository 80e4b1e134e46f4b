"""The column mapping of a generic import: which source column holds each desk field."""

from __future__ import annotations

from pathlib import Path

from desk.errors import DataError
from desk.importers import ImportOptions

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


def field_columns(path: Path, opts: ImportOptions, columns: list[str]) -> dict[str, str]:
    """desk field → source column, checked against the file's columns."""
    assert opts.kind is not None
    required, optional = FIELDS[opts.kind]
    unknown = set(opts.columns) - set(required) - set(optional)
    if unknown:
        raise DataError(f"--map: unknown field{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(sorted(unknown))} for kind "
                        f"{opts.kind!r} (fields: {', '.join(required + optional)})")
    names: dict[str, str] = {}
    for name in required + optional:
        column = opts.columns.get(name, name)
        if column.isdigit() and not opts.header:
            column = f"f{column}"
        if name not in opts.columns:
            column = next((c for c in ALIASES.get(name, ()) if c in columns), column)
        places = [index + 1 for index, found in enumerate(columns) if found == column]
        if len(places) > 1:
            times = "twice" if len(places) == 2 else f"{len(places)} times"
            raise DataError(f"{path}: column {column!r} appears {times} (columns "
                            f"{', '.join(map(str, places))}): desk cannot tell which holds "
                            f"{name!r}; rename all but one")
        if column in columns:
            names[name] = column
        elif name in required or name in opts.columns:
            raise DataError(f"{path}: missing column {column!r} (desk field {name!r}); the file "
                            f"has: {', '.join(columns)}; map it with --map {name}=COLUMN")
    if "instrument" not in names and not opts.instrument:
        raise DataError(f"{path}: no instrument column; give --instrument SYMBOL")
    return names


def column_fields(path: Path, opts: ImportOptions, header: list[str]) -> dict[str, str]:
    """Source column → desk field, for error messages."""
    return {column: field for field, column in field_columns(path, opts, header).items()}
