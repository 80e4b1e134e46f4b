"""What a desk-schema market-data file holds: span, instruments, kinds, gaps, disorder, crossed
books, and gaps in the venue's book update ids.

Reads the file batch by batch; the only state kept is one L2 book per instrument
(to tell whether the book is crossed after each book event, and which update id
it is at) and the few largest gaps.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from desk.book import GAP, STALE, Book
from desk.data import not_regular
from desk.data.checks import bad_bars
from desk.data.file_format import parquet_damaged, parquet_unopened
from desk.data.row_filter import DataStats
from desk.data.schema import COLUMNS
from desk.data.writer import PRICES, SIZES, bad_prices, bad_sizes
from desk.errors import DataError


@dataclass(slots=True)
class Inspection:
    """The findings of `inspect_file`."""

    path: Path
    schema: pa.Schema
    rows: int = 0
    events: int = 0
    min_ts: int | None = None
    """The earliest time (the span is min → max, whatever the order of the rows)."""
    max_ts: int | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    instruments: Counter[str] = field(default_factory=Counter)
    out_of_order: int = 0
    gaps_over: int = 0
    largest_gaps: list[tuple[int, int]] = field(default_factory=list)
    """(gap ns, ts after the gap), largest first."""
    crossed_books: int = 0
    crossed_quotes: int = 0
    first_crossed: int | None = None
    seq_gaps: int = 0
    """Book deltas whose update ids do not follow the book's (updates were lost in between)."""
    first_seq_gap: tuple[int, str, int, int] | None = None
    """(ts, instrument, the update id the delta follows, the id the book was at)."""
    stale_updates: int = 0
    """Book deltas whose update id the book already has (the replay skips them)."""
    bad_prices: int = 0
    """Rows with a price that is not positive and finite (`desk run` refuses them)."""
    bad_sizes: int = 0
    """Rows with a negative or non-finite size (`desk run` refuses them)."""
    first_bad: int | None = None
    """The row number (from 0) of the first row with a bad price or size."""
    bad_bars: int = 0
    """Bars with the high below the low, or the open or close outside that range (`desk run`
    refuses them)."""
    first_bad_bar: int | None = None
    """The row number (from 0) of the first such bar."""
    refused: int = 0
    """Rows a run skips with `data.on_bad = "skip"` (and stops at by default), for any reason:
    bad values as above, but also a value its kind needs missing, a book level with no side,
    an exact duplicate, an unknown kind, a row out of order."""
    refused_by: Counter[str] = field(default_factory=Counter)
    """Those rows by what is wrong, in the replay's words."""
    first_refused: str | None = None
    """The first such row, as the run names it (`file: row N: column: what`)."""


TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    # column: (what desk's schema has, the names of the pyarrow type tests that accept it)
    "ts": ("int64 nanoseconds", ("is_integer",)),
    "instrument": ("text", ("is_string", "is_large_string", "is_dictionary")),
    "kind": ("text", ("is_string", "is_large_string", "is_dictionary")),
    "side": ("a number", ("is_integer", "is_floating")),
    "seq": ("an integer", ("is_integer",)),
    "prev_seq": ("an integer", ("is_integer",)),
    **{name: ("a number", ("is_integer", "is_floating", "is_null")) for name in PRICES + SIZES},
}
"""The type each desk column must have for the file to be read as desk's schema."""


def open_desk_file(path: Path) -> pq.ParquetFile:
    """`path` opened as a desk-schema Parquet file, or a one-line `DataError` saying why it is
    not one (missing, a folder, not Parquet, cut short, without desk's columns or types)."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a desk-schema Parquet file")
    special = not_regular(path)
    if special is not None:
        raise DataError(f"{path}: {special}")
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowInvalid, OSError):
        raise DataError(parquet_unopened(path, "import it first with `desk data import`")) from None
    schema = parquet.schema_arrow
    missing = [c for c in ("ts", "instrument", "kind") if c not in schema.names]
    if missing:
        raise DataError(f"{path}: not in desk's schema: missing "
                        f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                        "import it first with `desk data import`")
    for name, (wanted, tests) in TYPES.items():
        if name in schema.names:
            kind = schema.field(name).type
            if not any(getattr(pa.types, test)(kind) for test in tests):
                raise DataError(f"{path}: column {name!r} is {kind}, not {wanted} as in desk's "
                                "schema; import it with `desk data import`")
    return parquet


def inspect_file(path: Path, gap_ns: int = 60_000_000_000, keep_gaps: int = 5) -> Inspection:
    """Stream through a desk-schema Parquet file and report what it holds."""
    parquet = open_desk_file(path)
    found = Inspection(path, parquet.schema_arrow)
    books: dict[str, Book] = {}
    gaps: list[tuple[int, int]] = []
    last: int | None = None
    pending: tuple[int, str, str, int | None] | None = None
    names = [c for c in COLUMNS if c in parquet.schema_arrow.names]
    _count_refused(found, parquet)

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

    for batch in _batches(parquet, path, names):
        _count_bad_values(found, batch)
        _count_bad_bars(found, batch)
        cols = {name: batch.column(name).to_pylist() for name in names}
        ts_list, symbols, kinds = cols["ts"], cols["instrument"], cols["kind"]
        found.rows += batch.num_rows
        found.kinds.update(kinds)
        found.instruments.update(symbols)
        if ts_list:
            low, high = min(ts_list), max(ts_list)
            found.min_ts = low if found.min_ts is None else min(found.min_ts, low)
            found.max_ts = high if found.max_ts is None else max(found.max_ts, high)
        seqs = cols.get("seq") or [None] * len(ts_list)
        prevs = cols.get("prev_seq") or [None] * len(ts_list)
        for i, ts in enumerate(ts_list):
            if last is not None:
                if ts < last:
                    found.out_of_order += 1
                else:
                    gap = ts - last
                    if gap > gap_ns:
                        found.gaps_over += 1
                    if gap and len(gaps) < keep_gaps:  # rows at the same time are no gap
                        heapq.heappush(gaps, (gap, ts))
                    elif gap and gap > gaps[0][0]:
                        heapq.heapreplace(gaps, (gap, ts))
            if last is None or ts >= last:
                last = ts
            kind = kinds[i]
            if kind in ("book_snapshot", "book_delta"):
                if not cols["side"][i] or cols["price"][i] is None or cols["size"][i] is None:
                    continue  # no level: the replay refuses the row (counted as refused)
                key = (ts, symbols[i], kind, seqs[i])
                if key != pending:
                    close_book_event()
                    found.events += 1
                    book = books.setdefault(symbols[i], Book())
                    if kind == "book_snapshot":
                        book.reset((), ())
                    pending = key
                    _check_seq(found, book, ts, symbols[i], kind == "book_snapshot", seqs[i],
                               prevs[i])
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
    found.largest_gaps = sorted(gaps, reverse=True)
    return found


def _count_refused(found: Inspection, parquet: pq.ParquetFile) -> None:
    """Count the rows `desk run` refuses (see `refused_rows`)."""
    stats = refused_rows(found.path, parquet)
    found.refused = stats.skipped
    found.refused_by = stats.problems
    if stats.first_rows:
        found.first_refused = min(stats.first_rows.values())[1]


def refused_rows(path: Path, parquet: pq.ParquetFile | None = None) -> DataStats:
    """The rows of a desk-schema file `desk run` refuses, found by reading it as a run does
    (`kind = "mixed"`) and skipping them, so that what inspect and import report is what the
    replay finds, rule for rule."""
    from desk.config import FileSource
    from desk.data.files import FileReader

    parquet = parquet or open_desk_file(path)
    try:
        symbols = parquet.read(columns=["instrument"]).column("instrument").unique().to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(parquet_damaged(path, 0, error)) from None
    reader = FileReader(FileSource(path=str(path), format="parquet", kind="mixed"), path,
                        None, {s for s in symbols if s is not None}, "skip", 65_536,
                        lambda ts, instrument, message: None)
    reader.check()
    return reader.stats


def _batches(parquet: pq.ParquetFile, path: Path, names: list[str]) -> Iterator[pa.RecordBatch]:
    """The file's batches; a file that breaks off is one line saying after which row."""
    rows = 0
    try:
        for batch in parquet.iter_batches(batch_size=65_536, columns=names):
            yield batch
            rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(parquet_damaged(path, rows, error)) from None


def _count_bad_values(found: Inspection, batch: pa.RecordBatch) -> None:
    """Count the rows whose prices or sizes `desk run` refuses, as the import does."""
    names = batch.schema.names
    for fields, bad, label in ((PRICES, bad_prices, "price"), (SIZES, bad_sizes, "size")):
        mask = None
        for name in fields:
            if name in names:
                found_here = bad(batch.column(name))
                mask = found_here if mask is None else pc.or_(mask, found_here)
        count = 0 if mask is None else (pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)
        if not count:
            continue
        if label == "price":
            found.bad_prices += count
        else:
            found.bad_sizes += count
        row = found.rows + pc.index(mask, True).as_py()
        if found.first_bad is None or row < found.first_bad:
            found.first_bad = row


def _count_bad_bars(found: Inspection, batch: pa.RecordBatch) -> None:
    """Count the bars that are no bars, as the replay's checks find them (`checks.bad_bars`)."""
    names = ("open", "high", "low", "close")
    if any(name not in batch.schema.names for name in names):
        return
    bad = bad_bars(*(batch.column(name) for name in names))
    count = pc.sum(pc.cast(bad, pa.int64())).as_py() or 0
    if count:
        found.bad_bars += count
        if found.first_bad_bar is None:
            found.first_bad_bar = found.rows + pc.index(bad, True).as_py()


def _check_seq(found: Inspection, book: Book, ts: int, symbol: str, snapshot: bool,
               seq: int | None, prev_seq: int | None) -> None:
    """Count a gap or a stale update as the replay will see it (`Book.sequence_issue`)."""
    if seq is None:
        return
    issue = book.sequence_issue(seq, prev_seq, snapshot)
    if issue == STALE:
        found.stale_updates += 1
        return  # the replay skips it: the book stays at its update id
    if issue == GAP:
        found.seq_gaps += 1
        if found.first_seq_gap is None:
            assert book.seq is not None
            found.first_seq_gap = (ts, symbol, prev_seq if prev_seq is not None else seq - 1,
                                   book.seq)
    book.seq = seq
