"""Databento CSV (the layout `dbn --csv` and `DBNStore.to_csv` write) and DBN binary (decoded
in `desk.importers.dbn`): trades, mbp-1, mbo, ohlcv-*.

The schema is told apart by the columns. Prices are fixed-point integers
(times 1e-9) or decimals (`pretty_px`); times are epoch nanoseconds or ISO text
(`pretty_ts`). The clock is `ts_recv` (Databento's own index and sort key) or,
with `--clock exchange`, `ts_event`. Bars are stamped at `ts_event` (their
open) plus their length, i.e. at their close. MBO is aggregated into L2: one
book event per record flagged LAST, carrying the levels that changed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from desk.data.writer import MarketWriter
from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.source import READ_ERRORS, Meter, magic, text_stream
from desk.timeutil import parse_iso_ns

UNDEF_PRICE = 2**63 - 1
F_LAST = 128
F_SNAPSHOT = 32
BAR_NS = {32: 1_000_000_000, 33: 60_000_000_000, 34: 3_600_000_000_000, 35: 86_400_000_000_000}
"""ohlcv rtype → bar length (ohlcv-1s, -1m, -1h, -1d)."""
AGGRESSOR = {"B": 1, "A": -1, "N": 0}
"""For trades, Databento's `side` is the aggressor's: B(id) buys, A(sk) sells."""

Record = dict[str, Any]


def price(value: Any) -> float | None:
    """A Databento price (fixed-point int times 1e-9, or decimal text) as a float, None if unset."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and ("." in value or "e" in value.lower()):
            return float(value)
        number = int(value)
    except ValueError:
        raise ValueError(f"price {value!r} is not a number") from None
    return None if number == UNDEF_PRICE else number / 1e9


def stamp(value: Any) -> int:
    """Epoch nanoseconds from an int, digits, or ISO text with up to nine fraction digits."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    main, _, rest = text.partition(".")
    digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(digits):]
    return parse_iso_ns(main + zone) + int((digits + "000000000")[:9])


def schema_of(columns: Sequence[str]) -> str:
    names = set(columns)
    if "order_id" in names:
        return "mbo"
    if "bid_px_00" in names:
        return "mbp-1"
    if {"open", "high", "low", "close"} <= names:
        return "ohlcv"
    if {"action", "price", "size"} <= names:
        return "trades"
    raise DataError("not a Databento trades/mbp-1/mbo/ohlcv layout "
                    f"(columns: {', '.join(columns)})")


def _csv_records(path: Path, meter: Meter) -> tuple[str, Iterator[Record]]:
    stream = text_stream(path, meter, "a Databento CSV")
    reader = csv.DictReader(stream)
    try:
        schema = schema_of(reader.fieldnames or [])
    except (DataError, csv.Error, *READ_ERRORS) as error:
        stream.close()
        raise DataError(f"{path}: {error}") from None

    def rows() -> Iterator[Record]:
        with stream:
            try:
                yield from reader
            except (csv.Error, *READ_ERRORS) as error:
                text = first_line(error)
                raise DataError(f"{path}:{reader.line_num}: cannot read: {text}") from None

    return schema, rows()


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    """Each source as DBN binary when its first bytes say so (or it is named `.dbn`,
    `.dbn.zst`), else as CSV."""
    from desk.importers import dbn

    for path in sources:
        found = magic(path)
        if path.name.endswith((".dbn", ".dbn.zst")) or (found and found[1] == "databento"):
            dbn.run([path], writer, opts, meter)
            continue
        schema, records = _csv_records(path, meter)
        import_records(str(path), schema, records, writer, opts)


def import_records(where: str, schema: str, records: Iterator[Record], writer: MarketWriter,
                   opts: ImportOptions, first: int = 2) -> None:
    """Write one Databento schema's records (CSV rows or decoded DBN) in desk's schema.

    Errors say `where:N`, N counted from `first`: the CSV line, or the DBN record.
    """
    clock = "ts_recv" if opts.clock == "local" else "ts_event"
    book = _MboBook(writer) if schema == "mbo" else None
    top: tuple[Any, ...] | None = None
    number = first
    writer.locate = lambda: f"{where}:{number}"
    for number, r in enumerate(records, start=first):
        try:
            symbol = opts.instrument or str(r.get("symbol") or r["instrument_id"])
            if schema == "ohlcv":
                length = opts.interval_ns or BAR_NS.get(int(r["rtype"]))
                if length is None:
                    raise DataError(f"{where}:{number}: rtype {r['rtype']} is not an ohlcv bar "
                                    "length desk knows; give --interval")
                writer.bar(stamp(r["ts_event"]) + length, symbol, _p(r["open"]), _p(r["high"]),
                           _p(r["low"]), _p(r["close"]), float(r["volume"]))
                continue
            ts = stamp(r[clock])
            action = str(r["action"])
            if action == "T":
                writer.trade(ts, symbol, _p(r["price"]), float(r["size"]),
                             AGGRESSOR.get(str(r["side"]), 0))
            if schema == "mbp-1":
                quote = (price(r["bid_px_00"]), float(r["bid_sz_00"]), price(r["ask_px_00"]),
                         float(r["ask_sz_00"]))
                if quote != top:
                    top = quote
                    if quote[0] is None or quote[2] is None:
                        writer.problem("top of book with an empty side: no quote written",
                                       f"{where}:{number}")
                    else:
                        writer.quote(ts, symbol, quote[0], quote[1], quote[2], quote[3])
            elif book is not None:
                book.record(ts, symbol, action, str(r["side"]), price(r["price"]),
                            float(r["size"]), int(r["order_id"]), int(r["flags"]), where, number)
        except KeyError as error:
            raise DataError(f"{where}:{number}: Databento {schema}: no column {error}") from None
        except (ValueError, TypeError) as error:
            raise DataError(f"{where}:{number}: Databento {schema}: {error}") from None


def _p(value: Any) -> float:
    result = price(value)
    if result is None:
        raise ValueError("undefined price")
    return result


class _MboBook:
    """Orders by id, aggregated to price levels; changed levels are written at each LAST record."""

    def __init__(self, writer: MarketWriter) -> None:
        self.writer = writer
        self.orders: dict[int, tuple[int, float, float]] = {}
        self.levels: dict[int, dict[float, float]] = {1: {}, -1: {}}
        self.changed: dict[tuple[int, float], None] = {}
        self.snapshot = True  # the first event written is always a snapshot
        self.in_snapshot = False
        self.last_ts = 0

    def _level(self, side: int, px: float, delta: float) -> None:
        levels = self.levels[side]
        size = levels.get(px, 0.0) + delta
        if size > 1e-9:
            levels[px] = size
        else:
            levels.pop(px, None)
        self.changed[(side, px)] = None

    def record(self, ts: int, symbol: str, action: str, side_code: str, px: float | None,
               size: float, order_id: int, flags: int, where: str, number: int) -> None:
        side = 1 if side_code == "B" else (-1 if side_code == "A" else 0)
        snapshot_record = bool(flags & F_SNAPSHOT)
        if self.in_snapshot and not snapshot_record:
            # a replayed snapshot need not end with a LAST record: it ends where its records do
            self.flush(self.last_ts, symbol)
        self.in_snapshot, self.last_ts = snapshot_record, ts
        if action == "R":
            self.orders.clear()
            self.levels = {1: {}, -1: {}}
            self.changed.clear()
            self.snapshot = True
        elif action == "A" and side and px is not None:
            self.orders[order_id] = (side, px, size)
            self._level(side, px, size)
        elif action in ("C", "M"):
            old = self.orders.get(order_id)
            if old is None:
                self.writer.problem("cancels/modifies of orders not in the book",
                                    f"{where}:{number}: order {order_id}")
            elif action == "C":
                left = old[2] - size
                self._level(old[0], old[1], -min(size, old[2]))
                if left > 1e-9:
                    self.orders[order_id] = (old[0], old[1], left)
                else:
                    del self.orders[order_id]
            elif px is not None:
                self._level(old[0], old[1], -old[2])
                self.orders[order_id] = (old[0], px, size)
                self._level(old[0], px, size)
        if flags & F_LAST:
            self.flush(ts, symbol)

    def flush(self, ts: int, symbol: str) -> None:
        write = self.writer.level
        if self.snapshot:
            if not self.levels[1] and not self.levels[-1]:
                return
            for side in (1, -1):
                for px, size in self.levels[side].items():
                    write(ts, symbol, True, side, px, size)
            self.snapshot = False
        else:
            for side, px in self.changed:
                write(ts, symbol, False, side, px, self.levels[side].get(px, 0.0))
        self.changed.clear()
