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

_new = tuple.__new__
"""Builds an event named tuple from its fields without a Python-level call."""
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
        if not len(rows):  # other rows only: an event held back from the last batch ends here
            if self._key is not None:
                out.append((-1, self.flush()))
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
        starts = np.flatnonzero(new)
        first_rows = rows[starts].tolist()
        lows, middles, highs = bounds[0:-1:2], bounds[1::2], bounds[2::2]
        keep_last = int(rows[-1]) == size_of_batch - 1  # the last event may go on next batch
        done = groups - 1 if keep_last else groups
        g = 0
        if self._key is not None:  # the event held back at the end of the last batch
            first = first_rows[0]
            key = (ts_list[first], symbols[first], bool(snapshot[first]), seq[first])
            if first == 0 and key == self._key:  # it goes on here
                a, b, c = lows[0], middles[0], highs[0]
                self._bids.update(zip(prices[a:b], sizes[a:b], strict=True))
                self._asks.update(zip(prices[b:c], sizes[b:c], strict=True))
                if done == 0:  # and may go on further still
                    return out
                out.append((first, self.flush()))
                g = 1
            else:
                out.append((-1, self.flush()))
        pairs = tuple(zip(prices, sizes, strict=True))  # every group's levels are a slice of this
        firsts = first_rows[g:done]
        append = out.append
        new_tuple = _new
        for first, snap, a, b, c in zip(firsts, snapshot[rows[starts[g:done]]].tolist(),
                                        lows[g:done], middles[g:done], highs[g:done], strict=True):
            if snap:
                append((first, new_tuple(BookSnapshot, (ts_list[first], symbols[first], pairs[a:b],
                                                        pairs[b:c], seq[first]))))
            else:
                append((first, new_tuple(BookDelta, (ts_list[first], symbols[first], pairs[a:b],
                                                     pairs[b:c], seq[first], prev[first]))))
        if keep_last and done >= g:
            first = first_rows[done]
            a, b, c = lows[done], middles[done], highs[done]
            self._key = (ts_list[first], symbols[first], bool(snapshot[first]), seq[first])
            self._prev = prev[first]
            self._bids = dict(zip(prices[a:b], sizes[a:b], strict=True))
            self._asks = dict(zip(prices[b:c], sizes[b:c], strict=True))
        return out
