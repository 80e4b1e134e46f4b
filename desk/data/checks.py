"""Row checks of market-data batches, column-wise with pyarrow compute: what makes a row bad.

Each check gives a `Problem`: the desk field, what is wrong, and a boolean mask
of the offending rows. `desk.data.row_filter` decides what happens to them (fail
with the first one, or skip and journal them). A row is bad when a value its
kind needs is missing, a price is not a positive finite number, a size is
negative or not finite, a quote is crossed, a bar's high is below its low or its
open or close lies outside that range, a book level names no side, its time
goes back, or it repeats an earlier row exactly. A file that lacks a column its
rows need is not a bad row but a bad file: that is a `DataError` at once,
whatever `data.on_bad` says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desk.errors import DataError

NEEDS: dict[str, tuple[str, ...]] = {
    # a row kind: the values it cannot do without (besides ts)
    "trade": ("price", "size"),
    "quote": ("bid", "bid_size", "ask", "ask_size"),
    "bar": ("open", "high", "low", "close"),
    "book": ("side", "price", "size"),
    "book_snapshot": ("side", "price", "size"),
    "book_delta": ("side", "price", "size"),
    "risk_limit": (),  # checked by desk.data.control, which always fails on a bad one
}
MIXED_KINDS = ("trade", "quote", "bar", "book_snapshot", "book_delta", "risk_limit")
PRICE_FIELDS = ("price", "bid", "ask", "open", "high", "low", "close")
SIZE_FIELDS = ("size", "bid_size", "ask_size", "volume")
REPEATABLE = ("book", "book_snapshot", "book_delta", "risk_limit")
"""Kinds whose identical rows are not duplicates: a book level set twice to the same size in
one event, or a control row repeated, changes nothing."""
BOOK_KINDS = frozenset(("book_snapshot", "book_delta"))
"""The kinds of a `mixed` file's book level rows."""

SIDES = ("buy", "b", "bid", "bids", "1", "+1", "sell", "s", "a", "ask", "asks", "-1")
_NUMBER = r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$"
_INT64_MIN = -(2**63)

Locate = Callable[[int], str]
"""Batch row index → `file:line` (CSV) or `file: row N` (Parquet, Arrow)."""


@dataclass(slots=True)
class Problem:
    """Rows of one batch that break one rule."""

    field: str
    """The desk field at fault (reported under the file's own column name)."""
    what: str
    mask: pa.Array
    """Boolean, no nulls: True for each offending row."""
    detail: Callable[[int], str] | None = None
    """Words about one offending row, by its index in the batch (the value, the earlier row)."""
    hint: str = ""
    """What the user can set to accept such rows, besides `data.on_bad = "skip"`."""

    @property
    def first(self) -> int:
        return int(pc.index(self.mask, True).as_py())

    @property
    def count(self) -> int:
        return int(pc.sum(pc.cast(self.mask, pa.int64())).as_py() or 0)

    def about(self, index: int) -> str:
        return f"{self.what}: {self.detail(index)}" if self.detail is not None else self.what


def value_of(column: pa.Array) -> Callable[[int], str]:
    """A problem's detail: the offending row's value, as the file holds it."""
    return lambda i: repr(column[i].as_py())


def saying(text: str) -> Callable[[int], str]:
    """A problem's detail that is the same for every row."""
    return lambda i: text


def found(problems: list[Problem], field: str, what: str, mask: pa.Array,
          detail: Callable[[int], str] | None = None, hint: str = "") -> None:
    """Add a problem if `mask` (nulls counted as False) flags any row."""
    mask = pc.fill_null(mask, False)
    if pc.any(mask).as_py():
        problems.append(Problem(field, what, mask, detail, hint))


def numbers(column: pa.Array, field: str, name: str,
            problems: list[Problem]) -> pa.Array:
    """`column` as float64. Text that is not a number is a bad row (its value becomes null);
    blank text is a missing value; a column of another type is a `DataError` (true and false
    too, which pyarrow would read as 1 and 0: as `desk data inspect` says, not numbers)."""
    if pa.types.is_boolean(column.type):
        raise DataError(f"column {name!r} is bool, not a number")
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type) \
            or pa.types.is_null(column.type):
        return pc.cast(column, pa.float64())
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = pc.utf8_trim_whitespace(column)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
        number = pc.match_substring_regex(text, _NUMBER, ignore_case=True)
        found(problems, field, "not a number", pc.and_(pc.is_valid(text), pc.invert(number)),
              value_of(column))
        try:
            return pc.cast(pc.if_else(number, text, pa.scalar(None, text.type)), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    try:
        return pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(f"column {name!r}: expected numbers, found {column.type}") from None


def first_not_utf8(column: pa.Array) -> int | None:
    """The index of the first value of a text column that is not UTF-8 (a Latin-1 CSV, damaged
    Arrow data), or None when every one is, or the column holds no text.

    The values are checked in C++; only a column that fails is looked at value by value.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        bad = _not_utf8(column.dictionary)
        if not bad:
            return None
        codes = column.indices.to_numpy(zero_copy_only=False)
        hits = np.flatnonzero(np.isin(codes, bad) & np.asarray(
            pc.is_valid(column.indices).to_numpy(zero_copy_only=False)))
        return int(hits[0]) if len(hits) else None
    found = _not_utf8(column)
    return found[0] if found else None


def _not_utf8(column: pa.Array) -> list[int]:
    """The indices of the values of `column` that are not UTF-8; [] for a column of no text."""
    kind = column.type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            pc.cast(column, pa.string() if pa.types.is_binary(kind) else pa.large_string())
            return []
        except pa.ArrowInvalid:
            pass
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            column.validate(full=True)
            return []
        except pa.ArrowInvalid as error:
            if "UTF8" not in str(error):
                return []  # damaged otherwise (offsets out of bounds): not read value by value
            column = column.view(pa.binary() if pa.types.is_string(kind) else pa.large_binary())
    else:
        return []
    bad = []
    for index, value in enumerate(column.to_pylist()):
        try:
            if value is not None:
                value.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(index)
    return bad


DUPLICATE = "exact duplicate of an earlier row"
"""The words of the duplicate rule, by which an import's summary finds its count."""
_BEYOND = "not a time desk can store (1677-09-21 to 2262-04-11 UTC; is ts_unit right?)"
"""A number whose time in nanoseconds overflows int64: a bad row named by its line, as the
import names it, not a column that cannot be read at all."""
_ISO = (pa.timestamp("ns", "UTC"), pa.timestamp("ns"))
"""ISO-8601 text with a zone, or naive and read as UTC: as a CSV column of either is read."""


def timestamps(column: pa.Array, scale: int, problems: list[Problem]) -> pa.Array:
    """`column` as int64 epoch nanoseconds; text that is not a time and NaN are bad rows.

    Numbers are in units of `scale` nanoseconds; text is ISO-8601 (UTC unless it says), or
    numbers written as text: a CSV column of whole seconds whose later value has a fraction
    is read as text from there on, and its numbers are still times in `scale`.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
        kind = column.type
    if pa.types.is_null(kind):  # a CSV column with no value at all
        return pa.nulls(len(column), pa.int64())
    if pa.types.is_timestamp(kind):
        return pc.cast(pc.cast(column, pa.timestamp("ns", kind.tz)), pa.int64())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        for stamp in _ISO:
            try:
                return pc.cast(pc.cast(column, stamp), pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        for number in (pa.int64(), pa.float64()):
            try:
                return timestamps(pc.cast(column, number), scale, problems)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        return _text_times(column, scale, problems)
    if pa.types.is_floating(kind):
        finite = pc.is_finite(column)
        found(problems, "ts", "not a finite time", pc.invert(finite), value_of(column))
        clean = pc.if_else(finite, column, pa.scalar(None, kind))
        stamps = pc.round(pc.multiply(clean, float(scale)))
        beyond = pc.greater_equal(pc.abs(stamps), float(2**63))
        found(problems, "ts", _BEYOND, beyond, value_of(column))
        return pc.cast(pc.if_else(pc.fill_null(beyond, False), pa.scalar(None, stamps.type),
                                  stamps), pa.int64())
    if pa.types.is_integer(kind):
        values = pc.cast(column, pa.int64())
        limit = (2**63 - 1) // scale
        beyond = pc.or_(pc.greater(values, limit), pc.less(values, -limit))
        found(problems, "ts", _BEYOND, beyond, value_of(column))
        values = pc.if_else(pc.fill_null(beyond, False), pa.scalar(None, pa.int64()), values)
        return pc.multiply_checked(values, scale)
    if pa.types.is_date(kind):  # `2024-01-02`: the start of a day, or its end? desk cannot know
        raise pa.ArrowInvalid("dates without a time of day; a bar is replayed at its close, "
                              "so import the file with `desk data import --format csv --kind bar "
                              "--bar-stamp open --interval 1d` (or write the close's time)")
    raise pa.ArrowInvalid(f"a column of {kind}")


def _text_times(column: pa.Array, scale: int, problems: list[Problem]) -> pa.Array:
    """Text times one by one, when the column as a whole does not read (a bad batch's slow path)."""
    out: list[int | None] = []
    bad: list[bool] = []
    for value in column.to_pylist():
        stamp = None
        if value is not None and value.strip():
            stamp = _text_time(value.strip(), scale)
        out.append(stamp)
        bad.append(stamp is None and value is not None and bool(value.strip()))
    found(problems, "ts", "not a time", pa.array(bad), value_of(column))
    return pa.array(out, pa.int64())


def _text_time(text: str, scale: int) -> int | None:
    """One text time as epoch nanoseconds, read as the whole column would be (ISO-8601, or a
    number in units of `scale` nanoseconds); None when it is neither, or beyond int64."""
    for iso in _ISO:
        try:
            return cast(int, pc.cast(pa.scalar(text), iso).value)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    stamp: float | int
    try:
        stamp = pc.cast(pa.scalar(text), pa.int64()).as_py() * scale
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        try:
            number = pc.cast(pa.scalar(text), pa.float64()).as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if not math.isfinite(number):
            return None
        stamp = round(number * float(scale))
    return int(stamp) if -(1 << 63) <= stamp < (1 << 63) else None


def arrow_of(values: np.ndarray) -> pa.Array:
    """A numpy array of integers, floats or booleans as an Arrow array (integers and floats
    share numpy's buffer).

    Not `pa.array(ndarray)`: it looks for numpy's masked arrays, and the first
    look imports `numpy.ma`, 20 ms of a short replay or of a start-up.
    """
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        return pc.cast(arrow_of(values.view(np.uint8)), pa.bool_())
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


class Coded:
    """A text column (a row's kind, its instrument) as its distinct values and a code per row.

    Such a column repeats a few names over thousands of rows. Parquet stores it
    that way, and read so (`read_dictionary`) it is never spelled out row by row;
    a test of the values (is this a book row? is the name blank?) is then made
    once per distinct value and spread over the rows by their codes, where the
    same test on the text would read every row's characters, as pyarrow's
    compute functions do even for a dictionary column.
    """

    __slots__ = ("array", "codes", "values")

    def __init__(self, column: pa.Array, blank_is_null: bool = False) -> None:
        """`column` as text (numbers, say, as their digits), encoded; with `blank_is_null`,
        values are trimmed of white space and a blank one is missing."""
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        dictionary = column.dictionary
        if not blank_is_null and pa.types.is_string(dictionary.type) \
                and dictionary.null_count == 0 and len(pc.unique(dictionary)) == len(dictionary):
            # coded already (as Parquet stores it, or by an earlier `Coded`)
            self.values: list[str | None] = dictionary.to_pylist()
            self.codes = pc.fill_null(column.indices, len(dictionary)).to_numpy(
                zero_copy_only=False)
            self.array = column
            return
        if not pa.types.is_string(dictionary.type):
            dictionary = pc.cast(dictionary, pa.string())
        if blank_is_null:
            dictionary = pc.utf8_trim_whitespace(dictionary)
        # one code per distinct value (trimming can make two values one), a missing value
        # coded len(values)
        distinct = pc.dictionary_encode(dictionary)
        values = distinct.dictionary.to_pylist()
        gone = len(values)
        if blank_is_null:
            values = [None if v is not None and not v else v for v in values]
        remap = np.array([c if c < gone and values[c] is not None else gone for c in
                          pc.fill_null(distinct.indices, gone).to_numpy().tolist()] + [gone],
                         dtype=np.int32)
        codes = remap[pc.fill_null(column.indices, len(dictionary)).to_numpy(
            zero_copy_only=False)]
        self.values = values
        self.codes = codes
        missing = codes == gone
        if missing.any():  # a null row's index is 0, unread
            valid = arrow_of(~missing).buffers()[1]
            codes = np.where(missing, 0, codes).astype(np.int32)
        else:
            valid = None
        indices = pa.Array.from_buffers(pa.int32(), len(codes), [valid, pa.py_buffer(codes)])
        # a blank value stays in the dictionary as "" (no row has it): it has no nulls
        self.array = pa.DictionaryArray.from_arrays(
            indices, pa.array(["" if v is None else v for v in values], pa.string()))

    def rows(self, test: Callable[[str], bool], missing: bool = False) -> np.ndarray:
        """True for each row whose value passes `test`; a missing value gives `missing`."""
        passed = [v is not None and test(v) for v in self.values]
        return cast(np.ndarray, np.array([*passed, missing], dtype=bool)[self.codes])

    def mask(self, test: Callable[[str], bool], missing: bool = False) -> pa.Array:
        """`rows` as an Arrow boolean array, for a `Problem`."""
        return arrow_of(self.rows(test, missing))

    def present(self) -> list[str]:
        """The values that some row has, in the order of their first rows (as `pc.unique`)."""
        codes, first = np.unique(self.codes, return_index=True)
        gone = len(self.values)
        return [cast(str, self.values[code]) for _, code in
                sorted(zip(first.tolist(), codes.tolist(), strict=True)) if code < gone]

    def python_list(self, missing: Any = None) -> list[Any]:
        """Each row's value, `missing` where it has none."""
        return list(map([*self.values, missing].__getitem__, self.codes.tolist()))


def bar_outside(value: pa.Array, high: pa.Array, low: pa.Array) -> pa.Array:
    """Where a bar's open or close (`value`) lies outside its low–high range. A bar whose high
    is below its low is not counted here (that is its problem), nor a missing value."""
    outside = pc.or_(pc.less(value, low), pc.greater(value, high))
    return pc.fill_null(pc.and_(pc.greater_equal(high, low), outside), False)


def bad_bars(open_: pa.Array, high: pa.Array, low: pa.Array, close: pa.Array) -> pa.Array:
    """Where a row's bar is no bar: its high below its low, or its open or close outside the
    low–high range (what the replay refuses; rows without a bar are not)."""
    inverted = pc.fill_null(pc.less(high, low), False)
    return pc.or_(inverted, pc.or_(bar_outside(open_, high, low), bar_outside(close, high, low)))


def out_of_order(ts: pa.Array, last: int | None) -> tuple[pa.Array, pa.Array]:
    """(mask of rows earlier than a row before them, the latest time before each row).

    Rows without a time are neither in nor out of order, and do not move the latest time.
    """
    start = pa.array([_INT64_MIN if last is None else last], pa.int64())
    before = pa.concat_arrays([start, ts.slice(0, len(ts) - 1)])
    latest = pc.cumulative_max(pc.fill_null_forward(before))
    return pc.fill_null(pc.less(ts, latest), False), latest


def side_known(column: pa.Array) -> pa.Array:
    """True where a side reads as buy/bid or sell/ask (as `desk.data.column.side_sign` reads it)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
        kind = column.type
    if pa.types.is_boolean(kind):
        return pc.is_valid(column)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pc.fill_null(pc.not_equal(column, 0), False)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.utf8_lower(pc.utf8_trim_whitespace(column))
        return pc.fill_null(pc.is_in(text, value_set=pa.array(SIDES)), False)
    return arrow_of(np.zeros(len(column), dtype=bool))


class Duplicates:
    """Finds rows equal in every column of the file to an earlier row, across batch boundaries.

    Only rows that share a timestamp with a neighbour can repeat one another (the
    rows are in time order), so only those are sorted and compared; the rows of
    a batch's last timestamp are kept to compare with the next batch.
    """

    def __init__(self) -> None:
        self._carry: pa.Table | None = None
        self._carry_rows: np.ndarray = np.zeros(0, dtype=np.int64)
        self._carry_ts: int | None = None

    def find(self, raw: pa.RecordBatch, ts: pa.Array, eligible: pa.Array | None, first_row: int,
             locate_abs: Callable[[int], str], problems: list[Problem]) -> None:
        """Add a problem for the rows of `raw` that repeat an earlier row; `first_row` is the
        file's index of the batch's first row."""
        n = raw.num_rows
        valid = pc.is_valid(ts) if eligible is None else pc.and_(pc.is_valid(ts), eligible)
        rows = np.flatnonzero(pc.fill_null(valid, False).to_numpy(zero_copy_only=False))
        if len(rows) == 0:
            return
        stamps = ts.take(arrow_of(rows)).to_numpy(zero_copy_only=False)
        pairs = stamps[1:] == stamps[:-1]
        candidate = np.zeros(len(rows), dtype=bool)
        candidate[1:] |= pairs
        candidate[:-1] |= pairs
        if self._carry_ts is not None:
            candidate |= stamps == self._carry_ts
        picked = rows[candidate]
        last = stamps[-1]
        tail = rows[stamps == last]
        try:  # only the rows compared are made comparable (a coded column spelled out)
            sub = _comparable(raw.take(arrow_of(picked)))
            carried = _comparable(raw.take(arrow_of(tail)))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return  # nested columns cannot be compared cheaply: no duplicate check for this file
        if len(picked):
            absolute = picked + first_row
            carry = self._carry if self._carry_ts is not None else None
            if carry is not None and carry.schema.equals(sub.schema):
                sub = pa.concat_tables([carry, sub])
                absolute = np.concatenate([self._carry_rows, absolute])
            repeats = _repeats(sub)
            mask = np.zeros(n, dtype=bool)
            earlier: dict[int, int] = {}
            for later, before in repeats:
                row = int(absolute[later]) - first_row
                if row >= 0:  # a carried row was judged with its own batch
                    mask[row] = True
                    earlier[row] = int(absolute[before])
            found(problems, "ts", DUPLICATE, arrow_of(mask),
                  lambda i: f"same values as {locate_abs(earlier[i])}",
                  hint="duplicates = \"keep\" on this file if such rows are genuine")
        if self._carry_ts == last and self._carry is not None \
                and self._carry.schema.equals(carried.schema):
            carried = pa.concat_tables([self._carry, carried])  # one timestamp spans batches
            self._carry_rows = np.concatenate([self._carry_rows, tail + first_row])
        else:
            self._carry_rows = tail + first_row
        self._carry, self._carry_ts = carried, int(last)


def _comparable(raw: pa.RecordBatch) -> pa.Table:
    """Rows of a batch with positional column names and plain (not dictionary) types, to sort."""
    arrays = []
    for column in raw.columns:
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_nested(column.type):
            raise pa.ArrowNotImplementedError("nested column")
        arrays.append(column)
    return pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))])


def _repeats(table: pa.Table) -> list[tuple[int, int]]:
    """(index of a row, index of the earlier row it equals) for every repeated row of `table`."""
    if table.num_rows < 2:
        return []
    order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in table.column_names])
    ordered = table.take(order)
    same = np.ones(table.num_rows - 1, dtype=bool)
    for column in ordered.columns:
        if pa.types.is_null(column.type):
            continue  # a column no row fills (all empty in a CSV) is the same in every row
        column = column.combine_chunks()
        a, b = column.slice(1), column.slice(0, len(column) - 1)
        equal = pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))
        same &= equal.to_numpy(zero_copy_only=False)
    positions = order.to_numpy()
    # a stable sort keeps equal rows in file order: each one repeats the one just before it
    out = []
    for k in np.flatnonzero(same):
        out.append((int(positions[k + 1]), int(positions[k])))
    return out
