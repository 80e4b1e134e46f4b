"""Binance: recorded WebSocket streams with the depth book synced from the REST snapshot."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REAL
from desk.book import Book
from desk.config import FileSource
from desk.data.files import FileReader
from desk.events import BookDelta, BookSnapshot, Quote, Trade
from importing import needs_real, ns, run_import

STREAMS = {
    # folder: (file, symbol, depth diffs applied, bookTicker, trades) as the data README counts them
    "usdm": ("btcusdt_20240808.gz", "BTCUSDT", 6_547, 66_089, 21_313),
    "spot": ("btcusdt_20240808.gz", "BTCUSDT", 3_449, 28_040, 9_757),
    "cm": ("btcusd_perp_20240808.gz", "BTCUSD_PERP", 26_824, 19_136, 2_286),
}


def replay(path: Path, symbol: str) -> list[Any]:
    """Every event of an imported file, through desk's own `mixed` file replay."""
    reader = FileReader(FileSource(path=str(path), kind="mixed"), path, None, {symbol}, "fail",
                        65_536, lambda ts, inst, msg: None)
    return [event for batch in reader.batches() for event in batch]


def raw_ids(path: Path) -> tuple[dict[int, int], dict[int, int]]:
    """Receive time → `u` of every diff-depth message, and of every bookTicker, read from the raw file."""
    depth: dict[int, int] = {}
    ticker: dict[int, int] = {}
    with gzip.open(path, "rt") as lines:
        for line in lines:
            stamp, _, body = line.partition(" ")
            message = json.loads(body)
            stream = message.get("stream", "")
            if "@depth" in stream:
                depth[int(stamp)] = message["data"]["u"]
            elif stream.endswith("@bookTicker"):
                ticker[int(stamp)] = message["data"]["u"]
    return depth, ticker


@needs_real
@pytest.mark.parametrize("market", ["usdm", "spot", "cm"])
def test_recorded_stream_imports_every_message_and_syncs_the_depth_without_gaps(
        market: str, tmp_path: Path) -> None:
    name, symbol, applied, tickers, trades = STREAMS[market]
    out = tmp_path / "b.parquet"
    writer = run_import("binance", [REAL / "hftbacktest" / market / name], out)
    stats = writer.stats
    assert stats.notes["depth updates applied"] == applied
    assert stats.kinds["quote"] == tickers and stats.kinds["trade"] == trades
    assert stats.kinds["book_snapshot"] == 2_000  # the REST snapshot: 1000 levels a side
    assert not stats.problems and stats.out_of_order == 0
    assert dict(stats.instruments) == {symbol: stats.rows}
    events = replay(out, symbol)
    assert sum(isinstance(e, Quote) for e in events) == tickers
    assert sum(isinstance(e, Trade) for e in events) == trades
    assert sum(isinstance(e, BookSnapshot) for e in events) == 1


@needs_real
def test_usdm_is_stamped_on_the_receive_clock_or_on_the_exchange_clock_held_monotonic(
        tmp_path: Path) -> None:
    src = REAL / "hftbacktest/usdm/btcusdt_20240808.gz"
    local = run_import("binance", [src], tmp_path / "local.parquet").stats
    # the first rows are depth diffs held until the snapshot; the last line is at 23:59:59.833
    assert local.last_ts is not None and local.first_ts is not None
    assert local.last_ts // 1_000_000 == ns("2024-08-08T23:59:59.833") // 1_000_000
    assert ns("2024-08-08T23:54:15.030") < local.first_ts < ns("2024-08-08T23:54:16")
    exchange = run_import("binance", [src], tmp_path / "exch.parquet", clock="exchange").stats
    assert exchange.out_of_order == 0 and exchange.rows == local.rows
    # the recorder's clock ran about 1.27 s behind the exchange
    assert exchange.last_ts is not None and 1.2e9 < exchange.last_ts - local.last_ts < 1.35e9
    assert exchange.problems["exchange time earlier than the row before: held at the previous time"]


@needs_real
def test_book_rebuilt_from_usdm_deltas_matches_every_bookticker_on_the_same_update(
        tmp_path: Path) -> None:
    """Where a bookTicker carries the id of the last diff applied, its top of book must equal ours."""
    src = REAL / "hftbacktest/usdm/btcusdt_20240808.gz"
    out = tmp_path / "usdm.parquet"
    run_import("binance", [src], out)
    depth_u, ticker_u = raw_ids(src)
    book = Book()
    applied: int | None = None
    compared = 0
    for event in replay(out, "BTCUSDT"):
        if isinstance(event, BookSnapshot):
            book.reset(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            book.apply(event.bids, event.asks)
            applied = depth_u.get(event.ts, applied)
        elif isinstance(event, Quote) and applied is not None and ticker_u[event.ts] == applied:
            bid, ask = book.bid_levels()[0], book.ask_levels()[0]
            assert (bid, ask) == ((event.bid, event.bid_size), (event.ask, event.ask_size)), \
                f"at {event.ts} update {applied}"
            compared += 1
        assert not book.is_crossed()
    assert compared == 126  # the data README found 126 such bookTickers
