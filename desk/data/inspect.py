"""What a desk-schema market-data file holds: span, instruments, kinds, gaps, disorder, crossed books.

Reads the file batch by batch; the only state kept is one L2 book per instrument
(to tell whether the book is crossed after each book event) and the few largest gaps.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from desk.book import Book
from desk.data.schema import COLUMNS
from desk.errors import DataError


@dataclass(slots=True)
class Inspection:
    """The findings of `inspect_file`."""

    path: Path
    schema: pa.Schema
    rows: int = 0
    events: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    instruments: Counter[str] = field(default_factory=Counter)
    out_of_order: int = 0
    gaps_over: int = 0
    largest_gaps: list[tuple[int, int]] = field(default_factory=list)
    """(gap ns, ts after the gap), largest first."""
    crossed_books: int = 0
    crossed_quotes: int = 0
    first_crossed: int | None = None


def inspect_file(path: Path, gap_ns: int = 60_000_000_000, keep_gaps: int = 5) -> Inspection:
    """Stream through a desk-schema Parquet file and report what it holds."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path}: not a Parquet file ({str(error).splitlines()[0]}); "
                        "import it first with `desk data import`") from None
    missing = [c for c in ("ts", "instrument", "kind") if c not in parquet.schema_arrow.names]
    if missing:
        raise DataError(f"{path}: not in desk's schema: missing column(s) {', '.join(missing)}; "
                        "import it first with `desk data import`")
    found = Inspection(path, parquet.schema_arrow)
    books: dict[str, Book] = {}
    gaps: list[tuple[int, int]] = []
    last: int | None = None
    pending: tuple[int, str, str] | None = None
    names = [c for c in COLUMNS if c in parquet.schema_arrow.names]

    def close_book_event() -> None:
        nonlocal pending
        if pending is None:
            return
        book = books[pending[1]]
        if book.is_crossed():
            found.crossed_books += 1
            if found.first_crossed is None:
                found.first_crossed = pending[0]
        pending = None

    for batch in parquet.iter_batches(batch_size=65_536, columns=names):
        cols = {name: batch.column(name).to_pylist() for name in names}
        ts_list, symbols, kinds = cols["ts"], cols["instrument"], cols["kind"]
        found.rows += batch.num_rows
        found.kinds.update(kinds)
        found.instruments.update(symbols)
        if found.first_ts is None and ts_list:
            found.first_ts = ts_list[0]
        for i, ts in enumerate(ts_list):
            if last is not None:
                if ts < last:
                    found.out_of_order += 1
                else:
                    gap = ts - last
                    if gap > gap_ns:
                        found.gaps_over += 1
                    if len(gaps) < keep_gaps:
                        heapq.heappush(gaps, (gap, ts))
                    elif gap > gaps[0][0]:
                        heapq.heapreplace(gaps, (gap, ts))
            if last is None or ts >= last:
                last = ts
            kind = kinds[i]
            if kind in ("book_snapshot", "book_delta"):
                key = (ts, symbols[i], kind)
                if key != pending:
                    close_book_event()
                    found.events += 1
                    book = books.setdefault(symbols[i], Book())
                    if kind == "book_snapshot":
                        book.reset((), ())
                    pending = key
                level = ((cols["price"][i], cols["size"][i]),)
                if cols["side"][i] > 0:
                    books[symbols[i]].apply(level, ())
                else:
                    books[symbols[i]].apply((), level)
                continue
            close_book_event()
            found.events += 1
            if kind == "quote" and cols["bid"][i] is not None and cols["ask"][i] is not None \
                    and cols["bid"][i] > cols["ask"][i]:
                found.crossed_quotes += 1
    close_book_event()
    found.last_ts = last
    found.largest_gaps = sorted(gaps, reverse=True)
    return found
