"""Any timestamp column of a source as int64 epoch nanoseconds UTC: numbers in s/ms/us/ns, ISO or
strptime text, dates, zoned or naive times; a value that does not convert is named by its row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.locator import Where, first_failing, rows_from
from desk.importers.stamps import BadTime, parse_text_times
from desk.timeutil import unit_ns


def timestamps(path: Path, column: pa.Array, opts: ImportOptions, label: str,
               where: Where | None = None) -> pa.Array:
    """Any timestamp column as int64 epoch nanoseconds UTC."""
    where = where or rows_from(f"{path}: row ", 1)
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
                numbers = _text_numbers(column, where, label)
                column = numbers if numbers is not None else _iso(column, where, label)
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
            _finite(column, where, label)
            return _storable(column, partial(_float_ns, float(scale)), where, label, hint)
        return _storable(column, partial(_int_ns, scale), where, label, hint)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise DataError(f"{path}: column {label!r}: cannot read {kind} as timestamps "
                        f"({first_line(error)}); set --ts-unit, --ts-format or --tz") from None


def at_close(column: pa.Array, offset: int, where: Where, label: str) -> pa.Array:
    """Times of bars stamped at their open moved `offset` ns on, to their close; a time that
    would leave what desk can store is named by its row."""
    return _storable(column, partial(_later, offset), where, label,
                     " once restamped at the bar's close")


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


def _text_numbers(column: pa.Array, where: Where, label: str) -> pa.Array | None:
    """Epoch times written as text (a CSV reads its time column as text, so that whole seconds
    may turn fractional after its first block) as int64, or float64 when one has a fraction;
    None when the first time is no number. A later value that is none is named."""
    first = pc.drop_null(column)[0].as_py() if len(column) > column.null_count else ""
    try:
        pc.cast(pa.array([first]), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    for kind in (pa.int64(), pa.float64()):
        try:
            return pc.cast(column, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue

    def number(values: pa.Array) -> pa.Array:
        return pc.cast(values, pa.float64())

    index = first_failing(column, number)
    raise DataError(f"{where(index)}: column {label!r}: expected a number like the times "
                    f"before it, found {column[index].as_py()!r}")


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


def _finite(column: pa.Array, where: Where, label: str) -> None:
    """Refuse a NaN or infinite time as no time at all (not as one beyond what desk stores):
    a CSV's `nan` is read as the number it writes, not as an empty field."""
    finite = pc.fill_null(pc.is_finite(column), True)
    if not pc.all(finite).as_py():
        index = pc.index(finite, False).as_py()
        raise DataError(f"{where(index)}: column {label!r}: {column[index].as_py()!r} is not a "
                        "time")
