"""A file's market events, made from the rows of each batch that passed the data checks.

Trades, quotes and bars are made in one loop per kind over Python lists of the
columns; book level rows are grouped into book events by `desk.data.book_rows`;
a `mixed` file's kinds are each made from their own rows and merged back in
file order.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desk.data import checks
from desk.data.book_rows import BookRows
from desk.data.checks import BOOK_KINDS
from desk.data.column import (
    ColumnLists,
    python_list,
    side_sign,
    side_signs,
    snapshot_flags,
    update_ids,
)
from desk.data.control import control_event
from desk.data.locator import Locator
from desk.errors import DataError
from desk.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    Quote,
    RiskLimitChanged,
    RuleToggled,
    Trade,
    make_trades,
)

_new = tuple.__new__
"""Builds an event named tuple from a tuple of its fields without a Python-level call."""

MarketEvent = Trade | Quote | BookSnapshot | BookDelta | Bar | RiskLimitChanged | RuleToggled

_ROW_KINDS = ("trade", "quote", "bar", "risk_limit", "book_snapshot", "book_delta")
"""The kinds of row a `mixed` file may hold."""


class EventBuilder:
    """Events of one file from the checked rows of each of its batches, in file order.

    Args:
        kind: the file's kind (`trade`, `quote`, `bar`, `book` or `mixed`).
        known: the session's instruments; a row naming another is an error.
        default_instrument: the instrument of the rows when the file has no instrument column.
        locator: names rows and columns in the file's own terms.
    """

    def __init__(self, kind: str, known: set[str], default_instrument: str | None,
                 locator: Locator) -> None:
        self.kind = kind
        self.known = known
        self.default_instrument = default_instrument
        self.locator = locator
        self._books = BookRows()
        """Level rows grouped into book events (a level repeated in one event keeps its last
        size); an event the last batch ended in is held there until the next batch."""

    def events(self, ts: pa.Array, cols: dict[str, pa.Array], rows: pa.Array) -> list[MarketEvent]:
        """The events of a batch's kept rows (`rows`: their rows in the file, from 0)."""
        self._arrays = (ts, cols)
        return self._build(python_list(ts), ColumnLists(cols), len(ts), rows)

    def flush(self) -> MarketEvent | None:
        """The book event the file ended in, held back in case the next batch went on with it."""
        return self._books.flush()

    def _instrument_list(self, cols: Mapping[str, list[Any]], n: int, rows: pa.Array) -> list[str]:
        if "instrument" in cols:
            _, arrays = self._arrays
            coded = checks.Coded(arrays["instrument"])
            codes = coded.codes
            if "kind" in arrays:  # risk_limit rows name no instrument
                codes = codes[checks.Coded(arrays["kind"]).rows("risk_limit".__ne__)]
            names = [*coded.values, ""]  # a row without one names ""
            named = {names[code] for code in np.unique(codes).tolist()}
            unknown = named - self.known
            symbols = coded.python_list(missing="")
            if unknown:
                kinds = cols.get("kind") or [None] * n
                first = next(i for i, (s, k) in enumerate(zip(symbols, kinds, strict=True))
                             if s in unknown and k != "risk_limit")
                where = (f"{self.locator.locate(rows[first].as_py())}: "
                         f"{self.locator.column('instrument')}")
                raise DataError(f"{where}: {', '.join(sorted(unknown))} not in the session's "
                                "[[instruments]] "
                                f"({', '.join(sorted(self.known))})")
            return cast("list[str]", symbols)
        assert self.default_instrument is not None
        if self.default_instrument not in self.known:
            raise DataError(f"{self.locator.path}: instrument {self.default_instrument!r} not in "
                            "the session's [[instruments]]")
        return [self.default_instrument] * n

    def _build(self, ts: list[int], cols: Mapping[str, list[Any]], n: int,
               rows: pa.Array) -> list[MarketEvent]:
        kind = self.kind
        symbols = self._instrument_list(cols, n, rows)
        if kind == "trade":
            sides = [side_sign(s) for s in cols["side"]] if "side" in cols else [0] * n
            trades = make_trades(ts, symbols, cols["price"], cols["size"], sides)
            return cast("list[MarketEvent]", trades)  # a new list, held as nothing narrower
        if kind == "quote":
            return [Quote(t, s, b, bs, a, az) for t, s, b, bs, a, az in
                    zip(ts, symbols, cols["bid"], cols["bid_size"], cols["ask"], cols["ask_size"],
                        strict=True)]
        if kind == "bar":
            volume = cols.get("volume") or [0.0] * n
            return [Bar(t, s, o, h, lo, c, v or 0.0) for t, s, o, h, lo, c, v in
                    zip(ts, symbols, cols["open"], cols["high"], cols["low"], cols["close"], volume,
                        strict=True)]
        if kind == "book":
            _, arrays = self._arrays
            snaps = (snapshot_flags(arrays["snapshot"]) if "snapshot" in arrays
                     else np.zeros(n, dtype=bool))
            return [event for _, event in self._book_events(np.arange(n), n, ts, cols, symbols,
                                                            snaps)]
        return self._build_mixed(ts, cols, symbols, n, rows)

    def _book_events(self, at: np.ndarray, n: int, ts: list[int], cols: Mapping[str, list[Any]],
                     symbols: list[str], snaps: np.ndarray) -> list[tuple[int, MarketEvent]]:
        """The book events of the level rows at positions `at` (see `desk.data.book_rows`)."""
        ts_array, arrays = self._arrays
        none: list[Any] = [None] * n
        seqs = update_ids(arrays["seq"]) if "seq" in arrays else none
        if "prev_seq" in arrays:
            prevs = update_ids(arrays["prev_seq"])
        elif "first_seq" in arrays:
            prevs = update_ids(pc.subtract(pc.cast(arrays["first_seq"], pa.int64()), 1))
        else:
            prevs = none
        if "instrument" in arrays:
            codes = pc.dictionary_encode(arrays["instrument"]).indices.to_numpy(
                zero_copy_only=False)
        else:
            codes = np.zeros(n, dtype=np.int32)
        seq_key = (pc.cast(arrays["seq"], pa.float64()).to_numpy(zero_copy_only=False)
                   if "seq" in arrays else np.full(n, np.nan))
        return self._books.events(
            at, n, ts_array.to_numpy(zero_copy_only=False), codes, snaps, seq_key,
            side_signs(arrays["side"]), (ts, symbols, seqs, prevs,
                                         arrays["price"].to_numpy(zero_copy_only=False),
                                         arrays["size"].to_numpy(zero_copy_only=False)))

    def _build_mixed(self, ts: list[int], cols: Mapping[str, list[Any]], symbols: list[str],
                     n: int, rows: pa.Array) -> list[MarketEvent]:
        """Events of a `mixed` file; the checks have made sure each row has what its kind needs."""
        get = cols.get
        empty = [None] * n
        _, arrays = self._arrays
        kind_array = arrays["kind"]
        kinds = checks.Coded(kind_array)
        book = kinds.rows(BOOK_KINDS.__contains__)
        if book.any():
            snaps = kinds.rows("book_snapshot".__eq__)
            books = self._book_events(np.flatnonzero(book), n, ts, cols, symbols, snaps)
        else:  # no level rows: only an event held back from the last batch, ending here
            held = self._books.flush()
            books = [(-1, held)] if held is not None else []
        if not (~book).any():  # a depth file: book events alone
            return [event for _, event in books]
        # each kind's events made in one C loop over its rows, then all put back in file order
        kind_codes = np.array([_ROW_KINDS.index(k) if k in _ROW_KINDS else -1
                               for k in kinds.values] + [-1], dtype=np.int8)[kinds.codes]
        at: list[np.ndarray] = [np.fromiter((p for p, _ in books), dtype=np.int64,
                                            count=len(books))]
        made: list[Any] = [event for _, event in books]
        for code, name in enumerate(_ROW_KINDS):
            if name in ("book_snapshot", "book_delta"):
                continue
            where = np.flatnonzero(kind_codes == code)
            if not len(where):
                continue
            rows_of_kind = where.tolist()
            at.append(where)
            if name == "trade":  # the kind's own columns, taken at its rows only
                at_rows = checks.arrow_of(where)
                side = (python_list(arrays["side"].take(at_rows)) if "side" in arrays
                        else [None] * len(where))
                made.extend(map(_new, repeat(Trade), zip(
                    map(ts.__getitem__, rows_of_kind), map(symbols.__getitem__, rows_of_kind),
                    python_list(arrays["price"].take(at_rows)),
                    python_list(arrays["size"].take(at_rows)), map(side_sign, side), strict=True)))
            elif name == "quote":
                at_rows = checks.arrow_of(where)
                made.extend(map(_new, repeat(Quote), zip(
                    map(ts.__getitem__, rows_of_kind), map(symbols.__getitem__, rows_of_kind),
                    *(python_list(arrays[field].take(at_rows))
                      for field in ("bid", "bid_size", "ask", "ask_size")), strict=True)))
            elif name == "bar":
                volume = get("volume", empty)
                made.extend(Bar(ts[i], symbols[i], cols["open"][i], cols["high"][i],
                                cols["low"][i], cols["close"][i], volume[i] or 0.0)
                            for i in rows_of_kind)
            else:  # risk_limit: a control event, with where it is in the file
                locate = self.locator.locate
                made.extend(control_event(ts[i], get("rule", empty)[i], get("param", empty)[i],
                                          get("value", empty)[i], locate(rows[i].as_py()))
                            for i in rows_of_kind)
        unknown = np.flatnonzero((kind_codes < 0) & ~book)  # the checks let no other kind through
        if len(unknown):
            i = int(unknown[0])
            raise DataError(f"{self.locator.locate(rows[i].as_py())}: kind: unknown kind "
                            f"{kind_array[i].as_py()!r}")
        order = np.argsort(np.concatenate(at), kind="stable")
        return list(map(made.__getitem__, order.tolist()))

