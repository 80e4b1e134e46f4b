"""Replay market data from Parquet, CSV or Arrow IPC files, streamed in record batches.

Each file is read batch by batch with pyarrow, so memory stays flat however
long the file is. Columns are mapped onto desk's fields by the session file,
checked with vectorised pyarrow compute, and turned into events row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from desk.config import FileSource
from desk.data.control import control_event
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
from desk.timeutil import unit_ns

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
PRICE_FIELDS = ("price", "bid", "ask", "open", "high", "low", "close")
SIZE_FIELDS = ("size", "bid_size", "ask_size", "volume")
MIXED_KINDS = ("trade", "quote", "bar", "book_snapshot", "book_delta", "risk_limit")

Issue = Callable[[int, str | None, str], None]
"""`issue(ts, instrument, message)`: report a skipped problem (journaled as data_quality)."""

MarketEvent = Trade | Quote | BookSnapshot | BookDelta | Bar | RiskLimitChanged | RuleToggled


@dataclass(slots=True)
class DataStats:
    """What reading a file found: rows read and rows skipped per problem."""

    rows: int = 0
    skipped: int = 0


def _open_batches(path: Path, fmt: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    if fmt == "auto":
        suffixes = "".join(path.suffixes).lower()
        if suffixes.endswith((".parquet", ".pq")):
            fmt = "parquet"
        elif suffixes.endswith((".csv", ".csv.gz", ".txt")):
            fmt = "csv"
        elif suffixes.endswith((".arrow", ".feather", ".ipc", ".arrows")):
            fmt = "arrow"
        else:
            raise DataError(f"{path}: cannot tell the format from the name; set format = "
                            "\"parquet\", \"csv\" or \"arrow\"")
    try:
        if fmt == "parquet":
            yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
        elif fmt == "csv":
            reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 22))
            yield from reader
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
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: cannot read as {fmt}: {text}") from None


class FileReader:
    """Events from one file, in batches, with the session's column mapping and data checks."""

    def __init__(self, source: FileSource, path: Path, default_instrument: str | None,
                 known: set[str], on_bad: str, batch_rows: int, issue: Issue) -> None:
        self.source = source
        self.path = path
        self.default_instrument = source.instrument or default_instrument
        self.known = known
        self.on_bad = on_bad
        self.batch_rows = batch_rows
        self.issue = issue
        self.stats = DataStats()
        self._last_ts: int | None = None
        self._book_key: tuple[int, str, bool, int | None] | None = None
        self._book_prev: int | None = None
        # price → size: a level repeated within one event keeps its last size
        self._book_bids: dict[float, float] = {}
        self._book_asks: dict[float, float] = {}

    # --- columns ---------------------------------------------------------------

    def _column_names(self, schema: pa.Schema) -> dict[str, str]:
        required, optional = FIELDS[self.source.kind]
        mapping = self.source.columns
        unknown = set(mapping) - set(required) - set(optional)
        if unknown:
            raise DataError(f"{self.path}: columns: unknown desk field(s) {', '.join(sorted(unknown))} "
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
            raise DataError(f"{self.path}: no instrument column; set instrument = \"...\" for this file")
        return names

    def _ts(self, column: pa.Array) -> pa.Array:
        """Timestamps as int64 epoch nanoseconds, whatever the file holds."""
        kind = column.type
        try:
            if pa.types.is_timestamp(kind):
                return pc.cast(pc.cast(column, pa.timestamp("ns", kind.tz)), pa.int64())
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                stamps = pc.cast(column, pa.timestamp("ns", "UTC"))
                return pc.cast(stamps, pa.int64())
            scale = unit_ns(self.source.ts_unit)
            if pa.types.is_floating(kind):
                return pc.cast(pc.round(pc.multiply(column, float(scale))), pa.int64())
            return pc.multiply(pc.cast(column, pa.int64()), scale)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise DataError(f"{self.path}: column {self.source.columns.get('ts', 'ts')!r}: "
                            f"cannot read as timestamps: {str(error).splitlines()[0]}") from None

    # --- checks --------------------------------------------------------------------

    def _problems(self, cols: dict[str, pa.Array], ts: pa.Array) -> list[tuple[str, str, pa.Array]]:
        """(field, what is wrong, boolean mask of offending rows) for every check that finds rows."""
        found: list[tuple[str, str, pa.Array]] = []

        def flag(field: str, what: str, mask: pa.Array) -> None:
            mask = pc.fill_null(mask, True)
            if pc.any(mask).as_py():
                found.append((field, what, mask))

        flag("ts", "missing timestamp", pc.is_null(ts))
        previous = pa.array([self._last_ts if self._last_ts is not None else -(2**63)], pa.int64())
        shifted = pa.concat_arrays([previous, ts.slice(0, len(ts) - 1)]) if len(ts) else ts
        flag("ts", "timestamp earlier than the row before (out of order)", pc.less(ts, shifted))
        for field in PRICE_FIELDS:
            if field in cols:
                values = cols[field]
                if field in ("bid", "ask") or self.source.kind == "mixed":
                    present = pc.is_valid(values)
                    bad = pc.and_kleene(present, pc.invert(pc.and_(pc.is_finite(values),
                                                                    pc.greater(values, 0))))
                else:
                    bad = pc.invert(pc.and_(pc.is_finite(values), pc.greater(values, 0)))
                flag(field, "price is not a positive finite number", bad)
        for field in SIZE_FIELDS:
            if field in cols:
                values = cols[field]
                bad = pc.and_kleene(pc.is_valid(values), pc.invert(
                    pc.and_(pc.is_finite(values), pc.greater_equal(values, 0))))
                flag(field, "size is negative or not finite", bad)
        if "bid" in cols and "ask" in cols:
            # rows without a quote (other kinds in a mixed file) are not crossed
            crossed = pc.fill_null(pc.greater(cols["bid"], cols["ask"]), False)
            flag("bid", "crossed quote: bid above ask", crossed)
        return found

    def _numeric(self, column: pa.Array, field: str) -> pa.Array:
        if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            return pc.cast(column, pa.float64())
        try:
            return pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(f"{self.path}: column {self.source.columns.get(field, field)!r}: "
                            f"expected numbers, found {column.type}") from None

    # --- events ----------------------------------------------------------------------

    def batches(self) -> Iterator[list[MarketEvent]]:
        names: dict[str, str] | None = None
        for batch in _open_batches(self.path, self.source.format, self.batch_rows):
            if names is None:
                names = self._column_names(batch.schema)
            if batch.num_rows == 0:
                continue
            events = self._events(batch, names)
            if events:
                yield events
        if names is None:
            raise DataError(f"{self.path}: the file has no rows")
        tail = self._flush_book()
        if tail is not None:
            yield [tail]

    def _events(self, batch: pa.RecordBatch, names: dict[str, str]) -> list[MarketEvent]:
        first_row = self.stats.rows
        self.stats.rows += batch.num_rows
        cols: dict[str, pa.Array] = {}
        for field, column in names.items():
            array = batch.column(column)
            if field in PRICE_FIELDS or field in SIZE_FIELDS:
                array = self._numeric(array, field)
            cols[field] = array
        ts = self._ts(cols.pop("ts"))
        problems = self._problems(cols, ts)
        if problems:
            ts, cols = self._handle(problems, ts, cols, first_row)
            if len(ts) == 0:
                return []
        self._last_ts = ts[len(ts) - 1].as_py()
        return self._build(ts.to_pylist(), {k: v.to_pylist() for k, v in cols.items()}, len(ts))

    def _handle(self, problems: list[tuple[str, str, pa.Array]], ts: pa.Array,
                cols: dict[str, pa.Array], first_row: int) -> tuple[pa.Array, dict[str, pa.Array]]:
        if self.on_bad == "fail":
            field, what, mask = problems[0]
            rows = pc.indices_nonzero(mask)
            row = first_row + rows[0].as_py() + 1
            count = len(rows)
            column = self.source.columns.get(field, field)
            also = f" ({count} rows in this batch share the problem)" if count > 1 else ""
            raise DataError(f"{self.path}:{row}: {column}: {what}{also}; "
                            "set data.on_bad = \"skip\" to skip such rows")
        bad = problems[0][2]
        for _, _, mask in problems[1:]:
            bad = pc.or_(bad, mask)
        # a row out of order is measured against the last good row, not the last row read
        keep_mask = pc.invert(bad)
        for field, what, mask in problems:
            count = pc.sum(pc.cast(mask, pa.int64())).as_py()
            row = first_row + pc.indices_nonzero(mask)[0].as_py() + 1
            ts_first = ts.filter(keep_mask)
            when = ts_first[0].as_py() if len(ts_first) else (self._last_ts or 0)
            self.issue(when, self.default_instrument,
                       f"{self.path.name}:{row}: {self.source.columns.get(field, field)}: {what}: "
                       f"{count} row(s) skipped")
        self.stats.skipped += len(ts) - pc.sum(pc.cast(keep_mask, pa.int64())).as_py()
        ts = ts.filter(keep_mask)
        cols = {k: v.filter(keep_mask) for k, v in cols.items()}
        # after dropping, rows may still be out of order relative to each other: keep a running max
        values = ts.to_pylist()
        keep = []
        last = self._last_ts if self._last_ts is not None else -(2**63)
        for value in values:
            keep.append(value >= last)
            if value >= last:
                last = value
        if not all(keep):
            mask = pa.array(keep)
            self.stats.skipped += keep.count(False)
            self.issue(values[0], self.default_instrument,
                       f"{self.path.name}: {keep.count(False)} more row(s) out of order skipped")
            ts = ts.filter(mask)
            cols = {k: v.filter(mask) for k, v in cols.items()}
        return ts, cols

    def _instrument_list(self, cols: dict[str, list[Any]], n: int) -> list[str]:
        if "instrument" in cols:
            symbols = [str(s) if s is not None else "" for s in cols["instrument"]]
            kinds = cols.get("kind") or [None] * n  # risk_limit rows name no instrument
            named = {s for s, k in zip(symbols, kinds, strict=True) if k != "risk_limit"}
            unknown = named - self.known
            if unknown:
                raise DataError(f"{self.path}: instrument(s) {', '.join(sorted(unknown))} not in the "
                                "session's [[instruments]]")
            return symbols
        assert self.default_instrument is not None
        if self.default_instrument not in self.known:
            raise DataError(f"{self.path}: instrument {self.default_instrument!r} not in the "
                            "session's [[instruments]]")
        return [self.default_instrument] * n

    def _build(self, ts: list[int], cols: dict[str, list[Any]], n: int) -> list[MarketEvent]:
        kind = self.source.kind
        symbols = self._instrument_list(cols, n)
        if kind == "trade":
            sides = [_side(s) for s in cols["side"]] if "side" in cols else [0] * n
            return make_trades(ts, symbols, cols["price"], cols["size"], sides)
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
            snaps = cols.get("snapshot") or [False] * n
            none = [None] * n
            seqs, prevs = cols.get("seq", none), cols.get("prev_seq", none)
            if "first_seq" in cols and "prev_seq" not in cols:
                prevs = [None if first is None else first - 1 for first in cols["first_seq"]]
            out: list[MarketEvent] = []
            for i in range(n):
                event = self._book_row(ts[i], symbols[i], _side(cols["side"][i]), cols["price"][i],
                                       cols["size"][i], _flag(snaps[i]), seqs[i], prevs[i])
                if event is not None:
                    out.append(event)
            return out
        return self._build_mixed(ts, cols, symbols, n)

    def _build_mixed(self, ts: list[int], cols: dict[str, list[Any]], symbols: list[str],
                     n: int) -> list[MarketEvent]:
        get = cols.get
        empty = [None] * n
        kinds, price, size, side = cols["kind"], get("price", empty), get("size", empty), get("side", empty)
        seqs, prevs = get("seq", empty), get("prev_seq", empty)
        out: list[MarketEvent] = []
        for i in range(n):
            kind = kinds[i]
            if kind in ("book_snapshot", "book_delta"):
                event = self._book_row(ts[i], symbols[i], _side(side[i]), price[i], size[i],
                                       kind == "book_snapshot", seqs[i], prevs[i])
                if event is not None:
                    out.append(event)
                continue
            pending = self._flush_book()
            if pending is not None:
                out.append(pending)
            if kind == "risk_limit":
                where = f"{self.path}:{self.stats.rows - n + i + 1}"
                out.append(control_event(ts[i], get("rule", empty)[i], get("param", empty)[i],
                                         get("value", empty)[i], where))
            elif kind == "trade":
                out.append(Trade(ts[i], symbols[i], price[i], size[i], _side(side[i])))
            elif kind == "quote":
                out.append(Quote(ts[i], symbols[i], cols["bid"][i], cols["bid_size"][i],
                                 cols["ask"][i], cols["ask_size"][i]))
            elif kind == "bar":
                volume = get("volume", empty)[i] or 0.0
                out.append(Bar(ts[i], symbols[i], cols["open"][i], cols["high"][i], cols["low"][i],
                               cols["close"][i], volume))
            else:
                raise DataError(f"{self.path}:{self.stats.rows - n + i + 1}: kind: unknown kind "
                                f"{kind!r} (kinds: {', '.join(MIXED_KINDS)})")
        return out

    def _book_row(self, ts: int, symbol: str, side: int, price: float, size: float,
                  snapshot: bool, seq: int | None = None,
                  prev_seq: int | None = None) -> MarketEvent | None:
        """Group consecutive level rows of one (ts, instrument, snapshot?, seq) into one book event."""
        key = (ts, symbol, snapshot, seq)
        done = None
        if self._book_key is not None and key != self._book_key:
            done = self._flush_book()
        if self._book_key is None:
            self._book_prev = prev_seq
        self._book_key = key
        if side > 0:
            self._book_bids[price] = size
        elif side < 0:
            self._book_asks[price] = size
        return done

    def _flush_book(self) -> MarketEvent | None:
        if self._book_key is None:
            return None
        ts, symbol, snapshot, seq = self._book_key
        bids = tuple(sorted(self._book_bids.items(), reverse=True))
        asks = tuple(sorted(self._book_asks.items()))
        self._book_key = None
        self._book_bids, self._book_asks = {}, {}
        seq = None if seq is None else int(seq)
        if snapshot:
            return BookSnapshot(ts, symbol, bids, asks, seq)
        prev = None if self._book_prev is None else int(self._book_prev)
        return BookDelta(ts, symbol, bids, asks, seq, prev)


_SIDES = {"buy": 1, "b": 1, "bid": 1, "bids": 1, "1": 1, "sell": -1, "s": -1, "a": -1, "ask": -1,
          "asks": -1, "-1": -1}


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
