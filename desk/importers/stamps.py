"""Text timestamps in a strptime format, column-wise, including the formats pyarrow cannot parse.

pyarrow's `strptime` has no fraction-of-second token, yet vendors write times
like HistData's `20200101 170000065` (`%Y%m%d %H%M%S%f`: milliseconds glued to
the seconds). A format that ends in `%f` after fixed-width fields is split at
that width: the head goes through pyarrow, the fraction (1 to 9 digits) is
added as nanoseconds, both column-wise. Any other format pyarrow refuses is
parsed value by value with Python's `datetime.strptime`, one batch at a time,
so memory stays flat; it is slower but reads whatever Python can.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "j": 3, "%": 1}
"""Directives whose text always has the same width (zero-padded numbers)."""


class BadTime(ValueError):
    """A value that does not match the format; `index` is its row in the column."""

    def __init__(self, index: int, value: str) -> None:
        super().__init__(f"{value!r} does not match the format")
        self.index = index
        self.value = value


def fraction_head_width(fmt: str) -> int | None:
    """The width of what `fmt` writes before a final `%f`, if every field before it is fixed."""
    if not fmt.endswith("%f"):
        return None
    head, width, i = fmt[:-2], 0, 0
    while i < len(head):
        if head[i] == "%":
            if i + 1 >= len(head) or head[i + 1] not in _WIDTHS:
                return None
            width += _WIDTHS[head[i + 1]]
            i += 2
        else:
            width += 1
            i += 1
    return width


def parse_text_times(column: pa.Array, fmt: str) -> pa.Array:
    """`column` (strings) parsed with `fmt` as timestamp[ns]: naive, or UTC when `fmt` has `%z`.

    pyarrow decides when it reads some of the values: the first it cannot read
    is then an error. Only when it reads none (a format it does not know, such as
    `%b` on some builds, or `%f` where it is not last) does Python's `strptime`
    read the batch. Raises `BadTime` naming the first value that does not match.
    """
    parsed = _arrow(column, fmt)
    if parsed is not None:
        return parsed
    return _python(column, fmt)


def _first_lost(parsed: pa.Array, column: pa.Array) -> int | None:
    """The first row where parsing lost a value (a null where the text was not null), or None;
    raises `BadTime` there, unless every value was lost (the format is pyarrow's problem)."""
    lost = pc.and_(pc.is_null(parsed), pc.is_valid(column))
    count = pc.sum(pc.cast(lost, pa.int64())).as_py() or 0
    if count == 0:
        return None
    if count == len(column) - column.null_count:
        return -1
    index = pc.index(lost, True).as_py()
    raise BadTime(index, column[index].as_py())


def _arrow(column: pa.Array, fmt: str) -> pa.Array | None:
    """Column-wise parse, or None if pyarrow cannot read a single value with this format."""
    width = fraction_head_width(fmt)
    try:
        if width is None:
            if "%f" in fmt:
                return None
            parsed = pc.strptime(column, format=fmt, unit="ns", error_is_null=True)
            return None if _first_lost(parsed, column) == -1 else parsed
        head = pc.utf8_slice_codeunits(column, 0, width)
        fraction = pc.utf8_slice_codeunits(column, width, 64)
        digits = pc.and_(pc.utf8_is_digit(fraction), pc.less_equal(pc.utf8_length(fraction), 9))
        parsed = pc.strptime(head, format=fmt[:-2], unit="ns", error_is_null=True)
        parsed = pc.if_else(pc.fill_null(digits, False), parsed, pa.scalar(None, parsed.type))
        if _first_lost(parsed, column) == -1:
            return None
        nanos = pc.cast(pc.utf8_rpad(pc.if_else(digits, fraction, "0"), 9, "0"), pa.int64())
        return pc.cast(pc.add(pc.cast(parsed, pa.int64()), nanos), parsed.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _python(column: pa.Array, fmt: str) -> pa.Array:
    """Value by value with `datetime.strptime`: naive times as wall-clock nanoseconds."""
    values: list[int | None] = []
    aware: bool | None = None
    for index, text in enumerate(column.to_pylist()):
        if text is None:
            values.append(None)
            continue
        try:
            moment = datetime.strptime(text.strip(), fmt)
        except ValueError:
            raise BadTime(index, text) from None
        if aware is None:
            aware = moment.tzinfo is not None
        elif aware != (moment.tzinfo is not None):
            raise BadTime(index, text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        naive = moment.replace(tzinfo=None)
        whole = int(naive.replace(microsecond=0, tzinfo=UTC).timestamp())
        values.append(whole * 1_000_000_000 + naive.microsecond * 1_000)
    return pa.array(values, pa.timestamp("ns", "UTC" if aware else None))

