"""Tardis.dev CSV: trades, incremental_book_L2, quotes and book_snapshot_N, told apart by header.

Times are epoch microseconds: `timestamp` is the exchange's, `local_timestamp`
when Tardis received the message (the default clock: files are ordered by it).
"""

from __future__ import annotations

import csv
from pathlib import Path

from desk.data.writer import MarketWriter
from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.source import READ_ERRORS, Meter, text_stream


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    for path in sources:
        with text_stream(path, meter, "a Tardis CSV") as stream:
            reader = csv.DictReader(stream)
            try:
                _file(path, reader, writer, opts)
            except (csv.Error, *READ_ERRORS) as error:
                text = first_line(error)
                raise DataError(f"{path}:{reader.line_num}: cannot read: {text}") from None


def _file(path: Path, reader: csv.DictReader[str], writer: MarketWriter,
          opts: ImportOptions) -> None:
    """One Tardis CSV, its kind told by its header."""
    header = reader.fieldnames or []
    clock = "local_timestamp" if opts.clock == "local" else "timestamp"
    if clock not in header or "symbol" not in header:
        raise DataError(f"{path}: not a Tardis CSV: no {clock!r}/'symbol' column in the "
                        f"header ({', '.join(header[:8])})")
    if "is_snapshot" in header:
        kind = "incremental_book_L2"
    elif "asks[0].price" in header:
        kind = "book_snapshot"
    elif "ask_price" in header:
        kind = "quotes"
    elif "side" in header and "amount" in header:
        kind = "trades"
    else:
        raise DataError(f"{path}: a Tardis CSV of a kind desk does not read "
                        f"(columns: {', '.join(header)})")
    levels = sum(1 for name in header if name.startswith("asks[") and
                 name.endswith(".price"))
    snapshot_ts: int | None = None
    writer.locate = lambda: f"{path}:{reader.line_num}"
    for row in reader:
        try:
            ts = _micros(row, clock) * 1_000
            symbol = opts.instrument or _text(row, "symbol")
            if kind == "trades":
                side = {"buy": 1, "sell": -1}.get(row["side"], 0)
                writer.trade(ts, symbol, _num(row, "price"), _num(row, "amount"), side)
            elif kind == "quotes":
                writer.quote(ts, symbol, _num(row, "bid_price", 0.0), _num(row, "bid_amount", 0.0),
                             _num(row, "ask_price", 0.0), _num(row, "ask_amount", 0.0))
            elif kind == "book_snapshot":
                for i in range(levels):
                    for side, name in ((1, "bids"), (-1, "asks")):
                        if row.get(f"{name}[{i}].price"):
                            writer.level(ts, symbol, True, side, _num(row, f"{name}[{i}].price"),
                                         _num(row, f"{name}[{i}].amount"))
            else:
                snapshot = row["is_snapshot"] == "true"
                if snapshot:
                    # one snapshot may span several timestamps: keep it one event
                    snapshot_ts = ts if snapshot_ts is None else snapshot_ts
                    ts = snapshot_ts
                else:
                    snapshot_ts = None
                side = 1 if row["side"] == "bid" else -1
                writer.level(ts, symbol, snapshot, side, _num(row, "price"), _num(row, "amount"))
        except ValueError as error:
            raise DataError(f"{path}:{reader.line_num}: Tardis {kind}: {error}") from None


def _text(row: dict[str, str | None], column: str) -> str:
    value = row.get(column)
    if value is None:
        raise ValueError(f"column {column!r}: missing (the row is short)")
    return value


def _micros(row: dict[str, str | None], column: str) -> int:
    text = _text(row, column)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"column {column!r}: expected microseconds since the epoch, found "
                         f"{text!r}") from None


def _num(row: dict[str, str | None], column: str, empty: float | None = None) -> float:
    """A number from `column`; `empty` stands for an empty cell when the format allows one."""
    text = _text(row, column)
    if not text and empty is not None:
        return empty
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"column {column!r}: expected a number, found {text!r}") from None
