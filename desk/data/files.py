"""Replay market data from Parquet, CSV or Arrow IPC files, streamed in record batches.

Each file is read batch by batch with pyarrow, so memory stays flat however
long the file is. Columns are mapped onto desk's fields by the session file,
checked with vectorised pyarrow compute, and turned into events row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from desk.config import FileSource
from desk.data import checks
from desk.data.book_rows import BookRows
from desk.data.checks import (
    MIXED_KINDS,
    NEEDS,
    PRICE_FIELDS,
    REPEATABLE,
    SIZE_FIELDS,
    Duplicates,
    Problem,
)
from desk.data.control import control_event
from desk.data.csv_rows import CsvRows
from desk.errors import DataError, first_line
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
from desk.timeutil import unit_ns

_new = tuple.__new__
"""Builds an event named tuple from a tuple of its fields without a Python-level call."""

FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, optional fields)
    "trade": (("ts", "price", "size"), ("instrument", "side")),
    "quote": (("ts", "bid", "bid_size", "ask", "ask_size"), ("instrument",)),
    "bar": (("ts", "open", "high", "low", "close"), ("instrument", "volume")),
    "book": (("ts", "side", "price", "size"), ("instrument", "snapshot", "seq", "prev_seq",
                                                "first_seq")),
    "mixed": (("ts", "kind"), ("instrument", "side", "price", "size", "bid", "bid_size", "ask",
                               "ask_size", "open", "high", "low", "close", "volume",
                               "rule", "param", "value", "seq", "prev_seq")),
}

Issue = Callable[[int, str | None, str], None]
"""`issue(ts, instrument, message)`: report a skipped problem (journaled as data_quality)."""

MarketEvent = Trade | Quote | BookSnapshot | BookDelta | Bar | RiskLimitChanged | RuleToggled

SKIP_HINT = 'set data.on_bad = "skip" to skip such rows'
"""How a bad row's error tells a session to go on past such rows."""

_SHOWN = 5
"""Row numbers listed in a failure's message when several rows share its problem."""


@dataclass(slots=True)
class DataStats:
    """What reading a file found: rows read and rows skipped per problem."""

    rows: int = 0
    skipped: int = 0


def file_format(path: Path, fmt: str) -> str:
    """The format named in the session, or told from the file's name."""
    if fmt != "auto":
        return fmt
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith((".parquet", ".pq")):
        return "parquet"
    if suffixes.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if suffixes.endswith((".arrow", ".feather", ".ipc", ".arrows")):
        return "arrow"
    raise DataError(f"{path}: cannot tell the format from the name; set format = "
                    "\"parquet\", \"csv\" or \"arrow\"")


def _open_batches(path: Path, fmt: str, batch_rows: int, csv_rows: CsvRows | None,
                  coded: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
    """The file's record batches; of a Parquet file, the text columns named in `coded` as
    dictionaries, as Parquet stores them (see `checks.Coded`)."""
    try:
        if fmt == "parquet":
            metadata = pq.read_metadata(path)
            schema = metadata.schema.to_arrow_schema()
            texts = [name for name in coded if name in schema.names
                     and (pa.types.is_string(schema.field(name).type)
                          or pa.types.is_large_string(schema.field(name).type))]
            # no pre-buffering: it keeps row groups' reads around, and the memory of a long
            # replay then grows with the file (measured: +55% from 1M to 10M rows)
            yield from pq.ParquetFile(path, metadata=metadata, pre_buffer=False,
                                      read_dictionary=texts).iter_batches(batch_size=batch_rows)
        elif fmt == "csv":
            assert csv_rows is not None
            yield from csv_rows
        else:
            source = pa.memory_map(str(path))
            try:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
            except pa.ArrowInvalid:
                yield from ipc.open_stream(pa.memory_map(str(path)))
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        text = first_line(error)
        raise DataError(f"{path}: cannot read as {fmt}: {text}") from None


class FileReader:
    """Events from one file, in batches, with the session's column mapping and data checks."""

    def __init__(self, source: FileSource, path: Path, default_instrument: str | None,
                 known: set[str], on_bad: str, batch_rows: int, issue: Issue,
                 go_on: str = SKIP_HINT) -> None:
        """`go_on` ends the error a bad row fails with: how the reader of it can get past."""
        self.source = source
        self.go_on = go_on
        self.path = path
        self.format = file_format(path, source.format)
        self.default_instrument = source.instrument or default_instrument
        self.known = known
        self.on_bad = on_bad
        self.batch_rows = batch_rows
        self.issue = issue
        self.stats = DataStats()
        self._last_ts: int | None = None
        self._csv = CsvRows(path, on_bad == "skip") if self.format == "csv" else None
        self._duplicates = Duplicates() if source.duplicates == "bad" and source.kind != "book" \
            else None
        self._repeatable: tuple[str, ...] = REPEATABLE
        """Kinds whose identical rows are not duplicates; trades join them when nothing in the file
        tells two trades apart (no column beyond desk's fields, such as a trade id): one order
        filling several resting orders of one size at one price prints identical trades."""
        self._books = BookRows()
        """Level rows grouped into book events (a level repeated in one event keeps its last
        size); an event the last batch ended in is held there until the next batch."""

    # --- where a row is ----------------------------------------------------------------

    def locate(self, row: int, short: bool = False) -> str:
        """Row `row` of the file (counted from 0 over the rows read) as people look for it.

        CSV: `file:LINE`, the line in a text editor (the header is line 1); Parquet
        and Arrow: `file: row N`, N counted from 1.
        """
        name = self.path.name if short else str(self.path)
        if self._csv is None:
            return f"{name}: row {self._number(row)}"
        return f"{name}:{self._number(row)}"

    def _number(self, row: int) -> int:
        """The line (CSV) or row (Parquet, Arrow) number alone, as `locate` counts it."""
        return self._csv.line_of(row) if self._csv is not None else row + 1

    def _row_word(self, row: int) -> str:
        """`line 3` (CSV) or `row 3` (Parquet, Arrow)."""
        return f"{'line' if self.format == 'csv' else 'row'} {self._number(row)}"

    def _rows_named(self, rows: list[int]) -> str:
        """`lines 3, 5, 9` (CSV) or `rows 2, 4, 8` (Parquet, Arrow)."""
        numbers = ", ".join(str(self._number(r)) for r in rows)
        return f"{'lines' if self.format == 'csv' else 'rows'} {numbers}"

    # --- columns ---------------------------------------------------------------

    def _column_names(self, schema: pa.Schema) -> dict[str, str]:
        required, optional = FIELDS[self.source.kind]
        mapping = self.source.columns
        unknown = set(mapping) - set(required) - set(optional)
        if unknown:
            raise DataError(f"{self.path}: columns: unknown desk field(s) "
                            f"{', '.join(sorted(unknown))} "
                            f"for kind {self.source.kind!r} (fields: "
                            f"{', '.join(required + optional)})")
        names: dict[str, str] = {}
        for name in required + optional:
            column = mapping.get(name, name)
            if column in schema.names:
                names[name] = column
            elif name in required:
                raise DataError(f"{self.path}: missing column {column!r} (desk field {name!r}); "
                                f"the file has: {', '.join(schema.names)}")
            elif name in mapping:
                raise DataError(f"{self.path}: missing column {column!r} mapped to {name!r}")
        if "instrument" not in names and self.default_instrument is None:
            raise DataError(f"{self.path}: no instrument column; "
                            "set instrument = \"...\" for this file")
        return names

    def _column(self, field: str) -> str:
        """The file's name for desk field `field`."""
        return self.source.columns.get(field, field)

    # --- checks --------------------------------------------------------------------

    def _problems(self, cols: dict[str, pa.Array], ts: pa.Array, raw: pa.RecordBatch,
                  first_row: int, found: list[Problem]) -> list[Problem]:
        """Every rule some rows of this batch break (added to `found`, from reading the columns)."""
        kind = self.source.kind
        row_kinds = cols.get("kind")
        flag = partial(checks.found, found)
        # a value that did not read (text in a number column) is reported as that, not as missing
        unread = {p.field: pc.invert(p.mask) for p in found}

        def missing(field: str, mask: pa.Array) -> pa.Array:
            return pc.and_(mask, unread[field]) if field in unread else mask

        flag("ts", "missing timestamp", missing("ts", pc.is_null(ts)))
        if self.on_bad == "fail":  # skipping measures order against the rows it keeps
            late, latest = checks.out_of_order(ts, self._last_ts)
            flag("ts", "earlier than a row before it (out of order)", late,
                 lambda i: f"{ts[i].as_py()} < {latest[i].as_py()}")
        # values a row's kind needs
        if row_kinds is None:
            for field in NEEDS[kind]:
                flag(field, "missing value", missing(field, pc.is_null(cols[field])))
            compare = kind not in self._repeatable
            unrepeatable = None  # every row, when compared at all
            check_side, book_rows = kind == "book", None
        else:
            kinds = checks.Coded(row_kinds)
            flag("kind", "missing kind", pc.is_null(row_kinds))
            present = kinds.present()
            unknown = [k for k in present if k not in MIXED_KINDS]
            if unknown:
                flag("kind", "unknown kind", kinds.mask(unknown.__contains__),
                     lambda i: f"{row_kinds[i].as_py()!r} (kinds: {', '.join(MIXED_KINDS)})")
            for name in present:
                if name in unknown:
                    continue
                of_kind = kinds.mask(name.__eq__)
                for field in NEEDS[name]:
                    if field not in cols:
                        row = first_row + int(pc.index(of_kind, True).as_py())
                        raise DataError(f"{self.locate(row)}: {self._column(field)}: a {name} row "
                                        f"needs this column, and the file has none (it has: "
                                        f"{', '.join(raw.schema.names)})")
                    flag(field, "missing value", missing(field, pc.and_(of_kind,
                                                                        pc.is_null(cols[field]))),
                         checks.saying(f"a {name} row needs it"))
            compare = True
            repeatable = self._repeatable
            unrepeatable = kinds.mask(lambda k: k not in repeatable, missing=True)
            books = kinds.rows(_BOOK_KIND_NAMES.__contains__)
            book_rows = checks.arrow_of(books)
            check_side = bool(books.any())
        if "instrument" in cols:
            blank = checks.Coded(cols["instrument"]).rows(lambda s: not s.strip(), missing=True)
            if row_kinds is not None:  # a risk_limit row names no instrument
                blank &= kinds.rows("risk_limit".__ne__)
            flag("instrument", "missing instrument", checks.arrow_of(blank))
        # values that are there but wrong
        for field in PRICE_FIELDS:
            if field in cols:
                values = cols[field]
                flag(field, "not a positive finite price", pc.invert(
                    pc.and_(pc.is_finite(values), pc.greater(values, 0))),
                     checks.value_of(values))
        for field in SIZE_FIELDS:
            if field in cols:
                values = cols[field]
                flag(field, "negative or not finite size", pc.invert(
                    pc.and_(pc.is_finite(values), pc.greater_equal(values, 0))),
                     checks.value_of(values))
        if "bid" in cols and "ask" in cols:
            bid, ask = cols["bid"], cols["ask"]
            flag("bid", "crossed quote: bid above ask", pc.greater(bid, ask),
                 lambda i: f"{bid[i].as_py()!r} > {ask[i].as_py()!r}")
        if "high" in cols and "low" in cols:
            high, low = cols["high"], cols["low"]
            flag("high", "bar high below its low", pc.less(high, low),
                 lambda i: f"{high[i].as_py()!r} < {low[i].as_py()!r}")
        if "side" in cols and check_side:
            side = cols["side"]
            unknown_side = pc.and_(pc.is_valid(side), pc.invert(checks.side_known(side)))
            if book_rows is not None:
                unknown_side = pc.and_(book_rows, unknown_side)
            flag("side", "a book level's side must be bid or ask", unknown_side,
                 checks.value_of(side))
        if self._duplicates is not None and compare:
            self._duplicates.find(raw, ts, unrepeatable, first_row, self._row_word, found)
        return found

    # --- events ----------------------------------------------------------------------

    def batches(self) -> Iterator[list[MarketEvent]]:
        names: dict[str, str] | None = None
        coded = (self._column("kind"), self._column("instrument"))
        for batch in _open_batches(self.path, self.format, self.batch_rows, self._csv, coded):
            if names is None:
                names = self._column_names(batch.schema)
                if not set(batch.schema.names) - set(names.values()):
                    self._repeatable = (*REPEATABLE, "trade")
            self._report_bad_lines()
            if batch.num_rows == 0:
                continue
            events = self._events(batch, names)
            if events:
                yield events
        if names is None:
            lines = self._csv.bad_lines if self._csv is not None else []
            unsplit = (f" that split into the header's columns ({len(lines)} line(s) do not, "
                       f"the first is line {lines[0]})") if lines else ""
            raise DataError(f"{self.path}: the file has no rows{unsplit}")
        self._report_bad_lines()
        tail = self._flush_book()
        if tail is not None:
            yield [tail]

    def _report_bad_lines(self) -> None:
        """Journal the CSV lines the parser skipped since the last batch (`on_bad = "skip"`)."""
        pending = self._csv.pending if self._csv is not None else None
        if not pending:
            return
        line, expected, actual, _ = pending[0]
        self.stats.skipped += len(pending)
        self.issue(self._last_ts or 0, self.default_instrument,
                   f"{self.path.name}:{line}: expected {expected} columns, found {actual}: "
                   f"{len(pending)} line(s) skipped")
        pending.clear()

    def _events(self, batch: pa.RecordBatch, names: dict[str, str]) -> list[MarketEvent]:
        first_row = self.stats.rows
        self.stats.rows += batch.num_rows
        found: list[Problem] = []
        cols: dict[str, pa.Array] = {}
        try:
            for field, column in names.items():
                array = batch.column(column)
                if field in PRICE_FIELDS or field in SIZE_FIELDS:
                    array = checks.numbers(array, field, column, found)
                elif field == "kind":  # a blank kind is a missing one
                    array = checks.Coded(array, blank_is_null=True).array
                elif field == "instrument":
                    array = checks.Coded(array).array
                cols[field] = array
        except DataError as error:
            raise DataError(f"{self.path}: {error}") from None
        try:
            ts = checks.timestamps(cols.pop("ts"), unit_ns(self.source.ts_unit), found)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise DataError(f"{self.path}: column {self._column('ts')!r}: "
                            f"cannot read as timestamps: {first_line(error)}") from None
        blank = self._blank_rows(batch)
        problems = self._problems(cols, ts, batch, first_row, found)
        if blank is not None:
            keep = pc.invert(blank)
            problems = [p for p in problems if pc.any(p.mask.filter(keep)).as_py()]
            for problem in problems:
                problem.mask = pc.and_(problem.mask, keep)
        if problems and self.on_bad == "fail":
            self._fail(problems, first_row, batch.num_rows)
        rows = checks.arrow_of(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64))
        if problems or blank is not None:
            ts, cols, rows = self._skip(problems, blank, ts, cols, rows)
        if self.on_bad == "skip" and len(ts):
            ts, cols, rows = self._skip_late(ts, cols, rows)
        if len(ts) == 0:
            return []
        self._last_ts = ts[len(ts) - 1].as_py()
        self._arrays = (ts, cols)
        return self._build(python_list(ts), _ColumnLists(cols), len(ts), rows)

    def _blank_rows(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Rows of a CSV with no value at all (blank lines): dropped without a word."""
        if self.format != "csv":
            return None
        blank = pc.is_null(batch.column(0))
        for column in batch.columns[1:]:
            blank = pc.and_(blank, pc.is_null(column))
        return blank if pc.any(blank).as_py() else None

    def _fail(self, problems: list[Problem], first_row: int, batch_size: int) -> None:
        """Raise for the earliest bad row: `file:row: column: what is wrong`, and how many share it
        in this batch (the rest of the file is not read to count them)."""
        problem = min(problems, key=lambda p: p.first)
        index = problem.first
        count = problem.count
        also = ""
        if count > 1:
            rows = pc.indices_nonzero(problem.mask).slice(0, _SHOWN).to_pylist()
            more = " …" if count > _SHOWN else ""
            also = (f" ({count:,} of this batch's {batch_size:,} rows share it: "
                    f"{self._rows_named([first_row + r for r in rows])}{more})")
        hint = f" (or {problem.hint})" if problem.hint else ""
        raise DataError(f"{self.locate(first_row + index)}: {self._column(problem.field)}: "
                        f"{problem.about(index)}{also}; {self.go_on}{hint}")

    def _skip(self, problems: list[Problem], blank: pa.Array | None, ts: pa.Array,
              cols: dict[str, pa.Array], rows: pa.Array) -> tuple[pa.Array, dict[str, pa.Array],
                                                                   pa.Array]:
        """Drop the bad rows (and blank lines), journaling one data_quality record per problem."""
        bad = blank
        for problem in problems:
            bad = problem.mask if bad is None else pc.or_(bad, problem.mask)
        assert bad is not None
        keep = pc.invert(bad)
        kept_ts = ts.filter(keep)
        when = kept_ts[0].as_py() if len(kept_ts) else (self._last_ts or 0)
        for problem in sorted(problems, key=lambda p: p.first):
            self._journal_skip(problem, when, cols, rows)
        blanks = int(pc.sum(pc.cast(blank, pa.int64())).as_py() or 0) if blank is not None else 0
        self.stats.skipped += len(ts) - len(kept_ts) - blanks
        return kept_ts, {k: v.filter(keep) for k, v in cols.items()}, rows.filter(keep)

    def _journal_skip(self, problem: Problem, when: int, cols: dict[str, pa.Array],
                      rows: pa.Array) -> None:
        index = problem.first
        symbol = self.default_instrument
        if "instrument" in cols and cols["instrument"][index].is_valid:
            symbol = str(cols["instrument"][index].as_py()) or symbol
        self.issue(when, symbol, f"{self.locate(rows[index].as_py(), short=True)}: "
                   f"{self._column(problem.field)}: {problem.about(index)}: "
                   f"{problem.count} row(s) skipped")

    def _skip_late(self, ts: pa.Array, cols: dict[str, pa.Array],
                   rows: pa.Array) -> tuple[pa.Array, dict[str, pa.Array], pa.Array]:
        """Drop rows earlier than a kept row before them: time never goes back in a replay."""
        late, latest = checks.out_of_order(ts, self._last_ts)
        if not pc.any(late).as_py():
            return ts, cols, rows
        problem = Problem("ts", "earlier than a row before it (out of order)", late,
                          lambda i: f"{ts[i].as_py()} < {latest[i].as_py()}")
        keep = pc.invert(late)
        kept = ts.filter(keep)
        when = kept[0].as_py() if len(kept) else (self._last_ts or 0)
        self._journal_skip(problem, when, cols, rows)
        self.stats.skipped += problem.count
        return kept, {k: v.filter(keep) for k, v in cols.items()}, rows.filter(keep)

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
                where = f"{self.locate(rows[first].as_py())}: {self._column('instrument')}"
                raise DataError(f"{where}: {', '.join(sorted(unknown))} not in the session's "
                                "[[instruments]] "
                                f"({', '.join(sorted(self.known))})")
            return cast("list[str]", symbols)
        assert self.default_instrument is not None
        if self.default_instrument not in self.known:
            raise DataError(f"{self.path}: instrument {self.default_instrument!r} not in the "
                            "session's [[instruments]]")
        return [self.default_instrument] * n

    def _build(self, ts: list[int], cols: Mapping[str, list[Any]], n: int,
               rows: pa.Array) -> list[MarketEvent]:
        kind = self.source.kind
        symbols = self._instrument_list(cols, n, rows)
        if kind == "trade":
            sides = [_side(s) for s in cols["side"]] if "side" in cols else [0] * n
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
            snaps = (_flags(arrays["snapshot"]) if "snapshot" in arrays
                     else np.zeros(n, dtype=bool))
            return [event for _, event in self._book_events(np.arange(n), n, ts, cols, symbols,
                                                            snaps)]
        return self._build_mixed(ts, cols, symbols, n, rows)

    def _book_events(self, at: np.ndarray, n: int, ts: list[int], cols: Mapping[str, list[Any]],
                     symbols: list[str], snaps: np.ndarray) -> list[tuple[int, MarketEvent]]:
        """The book events of the level rows at positions `at` (see `desk.data.book_rows`)."""
        ts_array, arrays = self._arrays
        none: list[Any] = [None] * n
        seqs = _ids(arrays["seq"]) if "seq" in arrays else none
        if "prev_seq" in arrays:
            prevs = _ids(arrays["prev_seq"])
        elif "first_seq" in arrays:
            prevs = _ids(pc.subtract(pc.cast(arrays["first_seq"], pa.int64()), 1))
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
            _sides(arrays["side"]), (ts, symbols, seqs, prevs,
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
        book = kinds.rows(_BOOK_KIND_NAMES.__contains__)
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
                    python_list(arrays["size"].take(at_rows)), map(_side, side), strict=True)))
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
                made.extend(control_event(ts[i], get("rule", empty)[i], get("param", empty)[i],
                                          get("value", empty)[i], self.locate(rows[i].as_py()))
                            for i in rows_of_kind)
        unknown = np.flatnonzero((kind_codes < 0) & ~book)  # the checks let no other kind through
        if len(unknown):
            i = int(unknown[0])
            raise DataError(f"{self.locate(rows[i].as_py())}: kind: unknown kind "
                            f"{kind_array[i].as_py()!r}")
        order = np.argsort(np.concatenate(at), kind="stable")
        return list(map(made.__getitem__, order.tolist()))

    def _flush_book(self) -> MarketEvent | None:
        """The book event the file ended in, held back in case the next batch went on with it."""
        return self._books.flush()


_SIDES = {"buy": 1, "b": 1, "bid": 1, "bids": 1, "1": 1, "sell": -1, "s": -1, "a": -1, "ask": -1,
          "asks": -1, "-1": -1}


_BOOK_KIND_NAMES = frozenset(("book_snapshot", "book_delta"))
_ROW_KINDS = ("trade", "quote", "bar", "risk_limit", "book_snapshot", "book_delta")
"""The kinds of row a `mixed` file may hold."""


class _ColumnLists(Mapping[str, list[Any]]):
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


def _ids(column: pa.Array) -> list[int | None]:
    """Update ids as Python ints (None where missing), whatever number type the file used."""
    if not pa.types.is_integer(column.type):
        column = pc.cast(column, pa.int64())
    return cast("list[int | None]", python_list(column))


def _flags(column: pa.Array) -> np.ndarray:
    """Snapshot flags as a boolean array: booleans, numbers (non-zero) or words as `_flag` reads."""
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


def _sides(column: pa.Array) -> np.ndarray:
    """+1 bid, −1 ask, 0 unknown, for a whole column, as `_side` reads one value."""
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


def _flag(value: Any) -> bool:
    """A snapshot flag as files write it: a bool, 0/1, or text such as "true", "snap"."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes", "snap", "snapshot")
    return bool(value)


def _side(value: Any) -> int:
    """+1 for buy/bid, −1 for sell/ask, 0 when unknown."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return -1 if value else 1  # a `buyer_maker`-style flag: True means the seller aggressed
    if isinstance(value, (int, float)):
        return 1 if value > 0 else (-1 if value < 0 else 0)
    return _SIDES.get(str(value).strip().lower(), 0)
