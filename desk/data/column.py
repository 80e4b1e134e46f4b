"""A batch's Arrow columns as the Python lists and numpy arrays that events are made from.

The conversions give the same values as `to_pylist()` and a per-value reading
would, made once per column of a batch rather than once per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class ColumnLists(Mapping[str, list[Any]]):
    """A batch's columns as Python lists, each made when first asked for.

    Book rows never need their prices and sizes as lists (`desk.data.book_rows`
    takes them as numpy arrays); making them anyway was a tenth of an L2 file's
    reading time.
    """

    __slots__ = ("_arrays", "_lists")

    def __init__(self, arrays: dict[str, pa.Array]) -> None:
        self._arrays = arrays
        self._lists: dict[str, list[Any]] = {}

    def __getitem__(self, key: str) -> list[Any]:
        values = self._lists.get(key)
        if values is None:
            values = self._lists[key] = python_list(self._arrays[key])
        return values

    def __contains__(self, key: object) -> bool:
        return key in self._arrays

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


def python_list(column: pa.Array) -> list[Any]:
    """A column's values as a Python list, the same values as `to_pylist()` gives, made faster.

    Numbers without nulls go through numpy (its `tolist` is several times
    faster than Arrow's per-value conversion); text without nulls is decoded
    once per distinct value (an instrument column repeats a few names), and the
    rows share those strings.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):  # a text column read coded (`checks.Coded`)
        values = [*column.dictionary.to_pylist(), None]
        codes = pc.fill_null(column.indices, len(values) - 1).to_numpy(zero_copy_only=False)
        return list(map(values.__getitem__, codes.tolist()))
    if column.null_count == 0:
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return cast("list[Any]", column.to_numpy().tolist())
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            encoded = pc.dictionary_encode(column)
            return list(map(encoded.dictionary.to_pylist().__getitem__,
                            encoded.indices.to_numpy().tolist()))
    return cast("list[Any]", column.to_pylist())


def update_ids(column: pa.Array) -> list[int | None]:
    """Update ids as Python ints (None where missing), whatever number type the file used."""
    if not pa.types.is_integer(column.type):
        column = pc.cast(column, pa.int64())
    return cast("list[int | None]", python_list(column))


def snapshot_flags(column: pa.Array) -> np.ndarray:
    """Snapshot flags as a boolean array: booleans, numbers (non-zero), or words such as
    "true" and "snap"."""
    kind = column.type
    if pa.types.is_boolean(kind):
        return cast(np.ndarray, pc.fill_null(column, False).to_numpy(zero_copy_only=False))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return cast(np.ndarray, pc.fill_null(pc.not_equal(column, 0), False)
                    .to_numpy(zero_copy_only=False))
    words = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    return cast(np.ndarray, pc.fill_null(pc.is_in(words, value_set=_TRUE_WORDS), False).to_numpy(
        zero_copy_only=False))


_TRUE_WORDS = pa.array(["true", "t", "1", "yes", "snap", "snapshot"])


def side_signs(column: pa.Array) -> np.ndarray:
    """+1 bid, −1 ask, 0 unknown, for a whole column, as `side_sign` reads one value."""
    kind = column.type
    if pa.types.is_boolean(kind):  # a buyer_maker-style flag: True means the sell side
        flags = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
        return np.where(flags, -1, 1).astype(np.int8)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        return cast(np.ndarray, np.sign(values).astype(np.int8))
    words = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    bids = pc.fill_null(pc.is_in(words, value_set=_BID_WORDS), False).to_numpy(
        zero_copy_only=False)
    asks = pc.fill_null(pc.is_in(words, value_set=_ASK_WORDS), False).to_numpy(
        zero_copy_only=False)
    return cast(np.ndarray, bids.astype(np.int8) - asks.astype(np.int8))


_BID_WORDS = pa.array(["buy", "b", "bid", "bids", "1"])
_ASK_WORDS = pa.array(["sell", "s", "a", "ask", "asks", "-1"])


_SIDES = {"buy": 1, "b": 1, "bid": 1, "bids": 1, "1": 1, "sell": -1, "s": -1, "a": -1, "ask": -1,
          "asks": -1, "-1": -1}


def side_sign(value: Any) -> int:
    """+1 for buy/bid, −1 for sell/ask, 0 when unknown."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return -1 if value else 1  # a `buyer_maker`-style flag: True means the seller aggressed
    if isinstance(value, (int, float)):
        return 1 if value > 0 else (-1 if value < 0 else 0)
    return _SIDES.get(str(value).strip().lower(), 0)
