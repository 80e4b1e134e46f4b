"""Binance: recorded WebSocket streams with the depth book synced from the REST snapshot."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL
from importing import needs_real, ns, rows, run_import

from desk.book import Book
from desk.config import FileSource
from desk.data.files import FileReader
from desk.errors import DataError
from desk.events import BookDelta, BookSnapshot, Quote, Trade

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
    """Receive time → `u` of every diff-depth message and of every bookTicker, from the raw file."""
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
    deltas = [e for e in events if isinstance(e, BookDelta)]
    assert len(deltas) == applied  # one book event per diff applied, each with its update ids
    assert all(b.prev_seq is not None and a.seq is not None and b.prev_seq <= a.seq
               for a, b in pairwise(deltas))


@needs_real
def test_usdm_is_stamped_on_the_receive_clock_or_on_the_exchange_clock_held_monotonic(
        tmp_path: Path) -> None:
    src = REAL / "hftbacktest/usdm/btcusdt_20240808.gz"
    local = run_import("binance", [src], tmp_path / "local.parquet").stats
    # the first rows are depth diffs held until the snapshot; the last line is at 23:59:59.833
    assert local.max_ts is not None and local.min_ts is not None
    assert local.max_ts // 1_000_000 == ns("2024-08-08T23:59:59.833") // 1_000_000
    assert ns("2024-08-08T23:54:15.030") < local.min_ts < ns("2024-08-08T23:54:16")
    exchange = run_import("binance", [src], tmp_path / "exch.parquet", clock="exchange").stats
    assert exchange.out_of_order == 0 and exchange.rows == local.rows
    # the recorder's clock ran about 1.27 s behind the exchange
    assert exchange.max_ts is not None and 1.2e9 < exchange.max_ts - local.max_ts < 1.35e9
    assert exchange.problems["exchange time earlier than the row before: held at the previous time"]


@needs_real
def test_book_rebuilt_from_usdm_deltas_matches_every_bookticker_on_the_same_update(
        tmp_path: Path) -> None:
    """Where a bookTicker carries the id of the last diff applied, its top must equal ours."""
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
            assert event.seq == depth_u.get(event.ts, event.seq)  # the diff's own id is kept
            applied = event.seq
        elif isinstance(event, Quote) and applied is not None and ticker_u[event.ts] == applied:
            bid, ask = book.bid_levels()[0], book.ask_levels()[0]
            assert (bid, ask) == ((event.bid, event.bid_size), (event.ask, event.ask_size)), \
                f"at {event.ts} update {applied}"
            compared += 1
        assert not book.is_crossed()
    assert compared == 126  # the data README found 126 such bookTickers


@needs_real
def test_futures_order_book_csv_snapshot_then_updates_reports_the_sequence_gap(
        tmp_path: Path) -> None:
    folder = REAL / "nautilus_trader/binance"
    out = tmp_path / "d.parquet"
    writer = run_import("binance-depth", [folder / "btcusdt-depth-snap.csv",
                                          folder / "btcusdt-depth-update.csv"], out)
    assert writer.stats.kinds == {"book_snapshot": 100, "book_delta": 100}
    assert writer.stats.min_ts == ns("2022-11-01T23:49:39.146")
    assert writer.stats.max_ts == ns("2022-11-01T23:59:59.939")
    # the two sample files are ten minutes apart: the update does not continue the snapshot
    assert list(writer.stats.problems) == ["depth sequence gaps (pu is not the previous update id)"]
    events = replay(out, "BTCUSDT")
    assert [type(e) for e in events] == [BookSnapshot, BookDelta]
    snapshot, delta = events
    assert len(snapshot.bids) == 100 and not snapshot.asks
    assert snapshot.bids[0] == (20377.0, 1.77)
    # the 100 rows repeat some levels (21 rows with qty 0): one update of 63 distinct levels
    assert len(delta.bids + delta.asks) == 63
    assert sum(1 for _, size in delta.bids + delta.asks if size == 0) == 13


@needs_real
def test_binance_klines_are_stamped_at_the_end_of_their_minute(tmp_path: Path) -> None:
    out = tmp_path / "k.parquet"
    writer = run_import("binance-klines", [REAL / "nautilus_trader/ADABTC-1m-2021-11-27.csv"], out)
    got = rows(out)
    assert len(got) == 10 and writer.stats.instruments == {"ADABTC": 10}
    assert got[0]["ts"] == ns("2021-11-27T00:01:00")  # the bar that opened at 00:00
    assert got[-1]["ts"] == ns("2021-11-27T00:10:00")
    assert (got[0]["open"], got[0]["close"], got[0]["volume"]) == (0.00002853, 0.00002854, 36304.2)


def test_trades_and_aggtrades_dumps_with_and_without_header(tmp_path: Path) -> None:
    spot = tmp_path / "BTCUSDT-trades-2024-01-01.csv"  # spot: no header, 7 columns
    spot.write_text("1,42000.5,0.1,4200.05,1704067200000,True,True\n"
                    "2,42001.0,0.2,8400.2,1704067200001,False,True\n")
    agg = tmp_path / "ETHUSDT-aggTrades-2024-01-01.csv"  # futures: header, 7 columns
    agg.write_text("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
                   "is_buyer_maker\n9,2300.1,1.5,10,12,1704067200002000,false\n")
    out = tmp_path / "t.parquet"
    run_import("binance-trades", [spot, agg], out)
    got = [(r["ts"], r["instrument"], r["price"], r["size"], r["side"]) for r in rows(out)]
    base = ns("2024-01-01T00:00:00")
    assert got == [(base, "BTCUSDT", 42000.5, 0.1, -1),
                   (base + 1_000_000, "BTCUSDT", 42001.0, 0.2, 1),
                   (base + 2_000_000, "ETHUSDT", 2300.1, 1.5, 1)]  # microsecond times told apart


def test_bookticker_dump_becomes_quotes(tmp_path: Path) -> None:
    src = tmp_path / "BTCUSDT-bookTicker-2024-01-01.csv"
    src.write_text("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
                   "transaction_time,event_time\n7,100.1,2,100.2,3,1704067200000,1704067200001\n")
    out = tmp_path / "q.parquet"
    run_import("binance-bookticker", [src], out)
    (row,) = rows(out)
    assert (row["kind"], row["bid"], row["bid_size"], row["ask"], row["ask_size"]) == \
        ("quote", 100.1, 2.0, 100.2, 3.0)


def test_a_garbled_stream_line_names_the_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "rec.txt"
    src.write_text('1 {"stream":"x@trade","data":{"e":"trade","s":"X","p":"1","q":"1","m":true}}\n'
                   "oops\n")
    with pytest.raises(DataError, match=r"rec.txt:2: not a `<receive ns> <json>` line"):
        run_import("binance", [src], tmp_path / "o.parquet")
