"""Level rows grouped into book events a batch at a time: the L2 replay's hot path, with numpy.

A file holds one L2 level per row; a book event is the run of consecutive level
rows sharing timestamp, instrument, snapshot flag and update id. Doing that
row by row in Python costs a few microseconds per level, and real depth feeds
carry hundreds of thousands of levels a minute. Here the group boundaries, the
split into bids and asks and the slices of each group are found with numpy
for the whole batch, and Python touches each group once (a level repeated
within one event keeps its last size, as before).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from desk.events import BookDelta, BookSnapshot

Key = tuple[int, str, bool, int | None]
"""What a book event's rows share: timestamp, instrument, snapshot flag, update id."""


def levels(side: dict[float, float], descending: bool) -> tuple[tuple[float, float], ...]:
    """A side's (price, size) levels in book order."""
    return tuple(sorted(side.items(), reverse=descending))


class BookRows:
    """Turns level rows into `BookSnapshot`/`BookDelta` events, carrying a group across batches."""

    def __init__(self) -> None:
        self._key: Key | None = None
        self._prev: int | None = None
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}

    def flush(self) -> BookSnapshot | BookDelta | None:
        """The event held back at the end of the last batch, if any (at the end of the file)."""
        if self._key is None:
            return None
        ts, symbol, snapshot, seq = self._key
        bids, asks = levels(self._bids, True), levels(self._asks, False)
        prev = self._prev
        self._key, self._prev, self._bids, self._asks = None, None, {}, {}
        if snapshot:
            return BookSnapshot(ts, symbol, bids, asks, seq)
        return BookDelta(ts, symbol, bids, asks, seq, prev)

    def events(self, rows: np.ndarray, size_of_batch: int, ts: np.ndarray, symbol: np.ndarray,
               snapshot: np.ndarray, seq_key: np.ndarray, side: np.ndarray,
               columns: tuple[list[int], list[str], list[int | None], list[int | None],
                              list[float], list[float]]) -> list[tuple[int, Any]]:
        """(position in the batch, event) for the book rows at `rows` (sorted positions).

        The arrays hold one value per row of the batch: `ts`, an integer code
        per instrument (`symbol`), the snapshot flag, the update id as a float
        (NaN when there is none: ids below 2**53 are exact), the side. `columns`
        are the batch's lists of timestamps, instruments, update ids, previous
        ids, prices and sizes. Each event is placed at its first row (the held
        back one of the last batch at -1), so merging with the other rows by
        position keeps file order. A last group that ends the batch is held
        back: the next batch may continue it.
        """
        out: list[tuple[int, Any]] = []
        if not len(rows):
            return out
        ts_list, symbols, seq, prev, price, size = columns
        n = len(rows)
        row_ts, row_sym, row_snap = ts[rows], symbol[rows], snapshot[rows]
        row_seq = seq_key[rows]
        new = np.ones(n, dtype=bool)
        same_seq = (row_seq[1:] == row_seq[:-1]) | (np.isnan(row_seq[1:]) & np.isnan(row_seq[:-1]))
        new[1:] = ((rows[1:] != rows[:-1] + 1) | (row_ts[1:] != row_ts[:-1])
                   | (row_sym[1:] != row_sym[:-1]) | (row_snap[1:] != row_snap[:-1])
                   | ~same_seq)
        group = np.cumsum(new) - 1
        groups = int(group[-1]) + 1
        # one stable sort puts each group's bids (best first) before its asks (best first);
        # a price repeated within a group keeps its last size, as level rows are meant
        row_side = side[rows]
        row_price = np.asarray(price, dtype=np.float64)[rows]
        row_size = np.asarray(size, dtype=np.float64)[rows]
        two = np.where(row_side > 0, 0, 1)
        keep_side = row_side != 0
        order = np.lexsort((np.where(two == 0, -row_price, row_price), two, group))
        order = order[keep_side[order]]
        g_sorted, t_sorted, p_sorted = group[order], two[order], row_price[order]
        last_of_run = np.ones(len(order), dtype=bool)
        last_of_run[:-1] = ((g_sorted[1:] != g_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])
                            | (p_sorted[1:] != p_sorted[:-1]))
        order = order[last_of_run]
        slot = (group[order] * 2 + two[order])
        bounds = np.searchsorted(slot, np.arange(2 * groups + 1)).tolist()
        prices, sizes = row_price[order].tolist(), row_size[order].tolist()
        first_rows = rows[np.flatnonzero(new)].tolist()
        last = groups - 1 if int(rows[-1]) == size_of_batch - 1 else -1
        for g, first in enumerate(first_rows):
            key = (ts_list[first], symbols[first], bool(snapshot[first]), seq[first])
            b0, b1, b2 = bounds[2 * g], bounds[2 * g + 1], bounds[2 * g + 2]
            bids = tuple(zip(prices[b0:b1], sizes[b0:b1], strict=True))
            asks = tuple(zip(prices[b1:b2], sizes[b1:b2], strict=True))
            group_prev = prev[first]
            if g == 0 and self._key is not None:
                if first == 0 and key == self._key:  # the held-back event goes on here
                    self._bids.update(bids)
                    self._asks.update(asks)
                    group_prev = self._prev
                    bids = levels(self._bids, True)
                    asks = levels(self._asks, False)
                    self._key = None
                else:
                    out.append((-1, self.flush()))
            if g == last:  # may go on in the next batch
                self._key, self._prev = key, group_prev
                self._bids, self._asks = dict(bids), dict(asks)
                break
            if key[2]:
                out.append((first, BookSnapshot(key[0], key[1], bids, asks, key[3])))
            else:
                out.append((first, BookDelta(key[0], key[1], bids, asks, key[3], group_prev)))
        return out
