"""Where a row of a source batch is, and which value of a column a conversion fails on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pyarrow as pa

Where: TypeAlias = Callable[[int], str]
"""Row `i` of a batch → where it is in the source (`file:line` or `file: row n`), for errors."""


def rows_from(prefix: str, first: int) -> Where:
    """Where row `i` of a batch is: a CSV line number, or a Parquet row number."""
    return lambda i: f"{prefix}{first + i}"


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
