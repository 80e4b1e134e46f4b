"""Binance's downloadable CSV dumps: trades, aggTrades, bookTicker, futures order book, klines.

Their layouts (data.binance.vision): spot files have no header, futures files
have one; times are epoch milliseconds (spot switched to microseconds in 2025,
told apart by size). The instrument comes from --instrument or the file name
(`BTCUSDT-trades-2024-01-01.csv`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.importers import ImportOptions
from desk.importers.source import Meter, text_lines


def _epoch_ns(value: str) -> int:
    """Binance epoch times: milliseconds, or microseconds when the number is that large."""
    number = int(float(value))
    return number * 1_000 if number > 10**14 else number * 1_000_000


def _rows(path: Path, meter: Meter, writer: MarketWriter) -> Iterator[tuple[str, list[str]]]:
    """(where, fields) of every data row; a header row (non-numeric first field) is skipped."""
    lines = text_lines(path, meter, what="a Binance CSV dump")
    number = 0
    writer.locate = lambda: f"{path}:{number}"
    for number, line in lines:
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line]))
        except csv.Error as error:
            raise DataError(f"{path}:{number}: not CSV: {error}") from None
        if number == 1 and not fields[0].strip().lstrip("-").replace(".", "", 1).isdigit():
            continue  # a header
        yield f"{path}:{number}", fields


def _symbol(path: Path, opts: ImportOptions) -> str:
    if opts.instrument:
        return opts.instrument
    stem = path.name.split("-")[0].split("_")[0].split(".")[0]
    if not stem.isalnum():
        raise DataError(f"{path}: cannot tell the instrument from the file name; give --instrument")
    return stem.upper()


def _bad(where: str, what: str, fields: list[str], error: Exception) -> DataError:
    """A row that is not of the layout: what is wrong with it, and how it starts."""
    reason = f"only {len(fields)} fields" if isinstance(error, IndexError) else str(error)
    return DataError(f"{where}: not a Binance {what} row ({reason}): {','.join(fields)[:60]!r}")


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1")


def run_binance_trades(sources: list[Path], writer: MarketWriter, opts: ImportOptions,
                       meter: Meter) -> None:
    """trades (`id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]`) or aggTrades
    (`agg_id,price,qty,first_id,last_id,time,is_buyer_maker[,is_best_match]`)."""
    for path in sources:
        symbol = _symbol(path, opts)
        agg = "aggtrade" in path.name.lower()
        for where, f in _rows(path, meter, writer):
            try:
                if agg or len(f) == 8:
                    ts, maker = f[5], f[6]
                else:
                    ts, maker = f[4], f[5]
                # is_buyer_maker: the buyer rested, so the seller was the aggressor
                writer.trade(_epoch_ns(ts), symbol, float(f[1]), float(f[2]),
                             -1 if _bool(maker) else 1)
            except (IndexError, ValueError) as error:
                raise _bad(where, "trades/aggTrades", f, error) from None


def run_binance_bookticker(sources: list[Path], writer: MarketWriter, opts: ImportOptions,
                           meter: Meter) -> None:
    """`update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time`."""
    for path in sources:
        symbol = _symbol(path, opts)
        for where, f in _rows(path, meter, writer):
            try:
                writer.quote(_epoch_ns(f[5]), symbol, float(f[1]), float(f[2]), float(f[3]),
                             float(f[4]))
            except (IndexError, ValueError) as error:
                raise _bad(where, "bookTicker", f, error) from None


def run_binance_klines(sources: list[Path], writer: MarketWriter, opts: ImportOptions,
                       meter: Meter) -> None:
    """`open_time,open,high,low,close,volume,close_time,...`: stamped at close_time + 1 ms,
    the end of the bar, so a strategy never sees a bar before it has closed."""
    for path in sources:
        symbol = _symbol(path, opts)
        for where, f in _rows(path, meter, writer):
            try:
                close_ns = _epoch_ns(f[6])
                step = 1_000 if int(float(f[6])) > 10**14 else 1_000_000
                writer.bar(close_ns + step, symbol, float(f[1]), float(f[2]), float(f[3]),
                           float(f[4]), float(f[5]))
            except (IndexError, ValueError) as error:
                raise _bad(where, "kline", f, error) from None


def run_binance_depth(sources: list[Path], writer: MarketWriter, opts: ImportOptions,
                      meter: Meter) -> None:
    """`symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu`.

    `snap` rows make a snapshot, `set` rows set a level's absolute size (0 deletes).
    A `set` group whose `pu` is not the previous group's last id is a sequence gap:
    the levels are still written (the file has no later snapshot to resync from),
    and the gap is reported.
    """
    last_id: int | None = None
    started = False
    for path in sources:
        for where, f in _rows(path, meter, writer):
            try:
                symbol = opts.instrument or f[0].upper()
                ts, last_u = _epoch_ns(f[1]), int(f[3])
                side = 1 if f[4].strip().lower() in ("b", "bid") else -1
                kind, price, qty, pu = f[5].strip().lower(), float(f[6]), float(f[7]), int(f[8])
            except (IndexError, ValueError) as error:
                raise _bad(where, "order-book", f, error) from None
            if kind == "snap":
                started = True
                writer.level(ts, symbol, True, side, price, qty, last_u)
                last_id = last_u
                continue
            if kind != "set":
                raise DataError(f"{where}: update_type {kind!r} is neither snap nor set")
            if not started:
                writer.problem("book rows with no snapshot before them: the book starts empty",
                               where)
            elif last_id is not None and pu != last_id and last_u != last_id:
                writer.problem("depth sequence gaps (pu is not the previous update id)",
                               f"{where}: expected pu {last_id}, got {pu}")
            last_id = last_u
            writer.level(ts, symbol, False, side, price, qty, last_u, pu)
