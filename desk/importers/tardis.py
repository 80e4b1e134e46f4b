"""Tardis.dev CSV: trades, incremental_book_L2, quotes and book_snapshot_N, told apart by header.

Times are epoch microseconds: `timestamp` is the exchange's, `local_timestamp`
when Tardis received the message (the default clock: files are ordered by it).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.importers import ImportOptions
from desk.importers.source import Meter, open_binary


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    for path in sources:
        stream = io.TextIOWrapper(open_binary(path, meter), encoding="utf-8", newline="")
        with stream:
            reader = csv.DictReader(stream)
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
            for number, row in enumerate(reader, start=2):
                try:
                    ts = int(row[clock]) * 1_000
                    symbol = opts.instrument or row["symbol"]
                    if kind == "trades":
                        side = {"buy": 1, "sell": -1}.get(row["side"], 0)
                        writer.trade(ts, symbol, float(row["price"]), float(row["amount"]), side)
                    elif kind == "quotes":
                        writer.quote(ts, symbol, _num(row["bid_price"]), _num(row["bid_amount"]),
                                     _num(row["ask_price"]), _num(row["ask_amount"]))
                    elif kind == "book_snapshot":
                        for i in range(levels):
                            for side, name in ((1, "bids"), (-1, "asks")):
                                price = row[f"{name}[{i}].price"]
                                if price:
                                    writer.level(ts, symbol, True, side, float(price),
                                                 float(row[f"{name}[{i}].amount"]))
                    else:
                        snapshot = row["is_snapshot"] == "true"
                        if snapshot:
                            # one snapshot may span several timestamps: keep it one event
                            snapshot_ts = ts if snapshot_ts is None else snapshot_ts
                            ts = snapshot_ts
                        else:
                            snapshot_ts = None
                        side = 1 if row["side"] == "bid" else -1
                        writer.level(ts, symbol, snapshot, side, float(row["price"]),
                                     float(row["amount"]))
                except (KeyError, ValueError, TypeError):
                    raise DataError(f"{path}:{number}: not a Tardis {kind} row") from None


def _num(text: str) -> float:
    return float(text) if text else 0.0
