"""A doubt about a data file's time unit, told before a run starts.

Integer times read as nanoseconds (the default `ts_unit`) that fall in 1970
were most likely written in seconds, milliseconds or microseconds: the replay
would run, in 1970, and nothing would look wrong but the dates.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from desk.config import LoadedSession
from desk.data.file_format import file_format
from desk.timeutil import format_ns, unit_ns

_PLAUSIBLE = (631_152_000 * 10**9, 4_102_444_800 * 10**9)
"""1990-01-01 to 2100-01-01 in epoch nanoseconds: where market data's times fall."""


def unit_doubts(loaded: LoadedSession) -> list[str]:
    """One line per data file whose first time, read in its `ts_unit`, falls in 1970 while
    another unit would put it in 1990–2100 (Parquet files from their statistics, CSV files from
    their first row)."""
    doubts = []
    for source in loaded.config.data.files:
        path = loaded.resolve(source.path)
        kind = file_format(path, source.format)
        if source.ts_unit != "ns" or kind not in ("parquet", "csv"):
            continue
        column = source.columns.get("ts", "ts")
        first = _first_time(path, column) if kind == "parquet" else _first_csv_time(path, column)
        if first is None or first >= _PLAUSIBLE[0]:
            continue
        unit = next((u for u in ("s", "ms", "us")
                     if _PLAUSIBLE[0] <= first * unit_ns(u) <= _PLAUSIBLE[1]), None)
        if unit is not None:
            doubts.append(f"{path}: {column}: the times, read as nanoseconds, begin at "
                          f"{format_ns(first)}; in {unit} they would begin at "
                          f"{format_ns(first * unit_ns(unit))}: set ts_unit = \"{unit}\" on "
                          "this file if so")
    return doubts


def _first_csv_time(path: Path, column: str) -> int | None:
    """The first row's time of a CSV file when it is a whole number; None otherwise."""
    from desk.data.csv_rows import CsvRows

    value = CsvRows(path, skip=True).first_value(column)
    try:
        return int(value) if value else None
    except ValueError:  # ISO text, a fraction: no unit to doubt
        return None


def _first_time(path: Path, column: str) -> int | None:
    """The smallest integer time of the file's first row group, from its statistics; None when
    the file has no such statistics (or cannot be read: the replay will say why)."""
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
        if metadata.num_row_groups == 0 or column not in schema.names \
                or not pa.types.is_integer(schema.field(column).type):
            return None
        stats = metadata.row_group(0).column(schema.get_field_index(column)).statistics
    except (OSError, pa.ArrowException):
        return None
    if stats is None or not stats.has_min_max:
        return None
    return int(stats.min)
