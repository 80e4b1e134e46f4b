"""Databento: the CSV layouts (trades, mbp-1, mbo, ohlcv) on small files written from the
documented columns, and the real .dbn.zst samples through desk's own DBN decoder."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REAL
from importing import needs_real, ns, rows, run_import

from desk.book import Book
from desk.config import FileSource
from desk.data.files import FileReader
from desk.data.inspect import inspect_file
from desk.errors import DataError
from desk.events import BookDelta, BookSnapshot


def replay(path: Path, symbol: str) -> list[object]:
    reader = FileReader(FileSource(path=str(path), kind="mixed"), path, None, {symbol}, "fail",
                        65_536, lambda ts, inst, msg: None)
    return [event for batch in reader.batches() for event in batch]

T0 = ns("2024-07-01T23:58:01")
E9 = 1_000_000_000


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


def test_trades_keep_the_aggressor_and_use_ts_recv(tmp_path: Path) -> None:
    src = write(tmp_path / "trades.csv",
                "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,"
                "flags,ts_in_delta,sequence,symbol",
                [f"{T0 + 10},{T0},0,1,5602,T,A,0,5545250000000,2,0,100,1,ESU4",
                 f"{T0 + 20},{T0 + 15},0,1,5602,T,B,0,5545500000000,1,0,100,2,ESU4"])
    out = tmp_path / "t.parquet"
    run_import("databento", [src], out)
    got = [(r["ts"], r["instrument"], r["price"], r["size"], r["side"]) for r in rows(out)]
    assert got == [(T0 + 10, "ESU4", 5545.25, 2.0, -1), (T0 + 20, "ESU4", 5545.5, 1.0, 1)]
    run_import("databento", [src], tmp_path / "e.parquet", clock="exchange")
    assert [r["ts"] for r in rows(tmp_path / "e.parquet")] == [T0, T0 + 15]


def test_mbp1_with_pretty_prices_and_times_gives_trades_and_changed_quotes(tmp_path: Path) -> None:
    src = write(tmp_path / "mbp1.csv",
                "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,"
                "flags,ts_in_delta,sequence,bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_ct_00,"
                "ask_ct_00,symbol",
                ["2024-07-01T23:58:01.218000001Z,2024-07-01T23:58:01.218Z,1,1,5602,A,B,0,"
                 "5545.25,3,130,0,1,5545.25,5545.5,3,4,1,1,ESU4",
                 "2024-07-01T23:58:01.300000000Z,2024-07-01T23:58:01.3Z,1,1,5602,T,A,0,"
                 "5545.25,1,130,0,2,5545.25,5545.5,3,4,1,1,ESU4",
                 "2024-07-01T23:58:01.300000001Z,2024-07-01T23:58:01.3Z,1,1,5602,C,B,0,"
                 "5545.25,1,130,0,3,5545.25,5545.5,2,4,1,1,ESU4"])
    out = tmp_path / "q.parquet"
    writer = run_import("databento", [src], out)
    assert writer.stats.kinds == {"quote": 2, "trade": 1}  # the trade left the top unchanged
    got = rows(out)
    assert got[0]["ts"] == ns("2024-07-01T23:58:01.218") + 1
    assert (got[0]["bid"], got[0]["bid_size"], got[0]["ask"], got[0]["ask_size"]) == \
        (5545.25, 3.0, 5545.5, 4.0)
    assert (got[1]["kind"], got[1]["side"]) == ("trade", -1)
    assert got[2]["bid_size"] == 2.0


def test_mbo_orders_aggregate_into_l2_and_replay_to_the_same_book(tmp_path: Path) -> None:
    header = ("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,"
              "channel_id,order_id,flags,ts_in_delta,sequence,symbol")
    px = lambda p: int(p * E9)  # noqa: E731
    lines = [
        f"{T0},{T0},160,1,1,R,N,{2**63 - 1},0,0,0,8,0,0,ESM4",
        f"{T0},{T0},160,1,1,A,B,{px(100)},5,0,11,40,0,0,ESM4",
        f"{T0},{T0},160,1,1,A,B,{px(100)},2,0,12,40,0,0,ESM4",
        f"{T0},{T0},160,1,1,A,A,{px(101)},4,0,13,168,0,0,ESM4",   # LAST | SNAPSHOT: event 1
        f"{T0 + 5},{T0 + 5},160,1,1,C,B,{px(100)},2,0,12,128,0,1,ESM4",  # cancel 2 of order 12
        f"{T0 + 6},{T0 + 6},160,1,1,M,A,{px(102)},4,0,13,128,0,2,ESM4",  # move 13 to 102
        f"{T0 + 7},{T0 + 7},160,1,1,T,B,{px(101)},1,0,0,0,0,3,ESM4",    # trade print
        f"{T0 + 7},{T0 + 7},160,1,1,C,B,{px(100)},3,0,11,128,0,4,ESM4",  # partial cancel of 11
        f"{T0 + 8},{T0 + 8},160,1,1,C,A,{px(102)},1,0,99,128,0,5,ESM4",  # unknown order
    ]
    src = write(tmp_path / "mbo.csv", header, lines)
    out = tmp_path / "b.parquet"
    writer = run_import("databento", [src], out)
    assert writer.stats.problems == {"cancels/modifies of orders not in the book": 1}
    reader = FileReader(FileSource(path=str(out), kind="mixed"), out, None, {"ESM4"}, "fail",
                        1_000, lambda ts, inst, msg: None)
    events = [e for batch in reader.batches() for e in batch]
    assert [type(e).__name__ for e in events] == ["BookSnapshot", "BookDelta", "BookDelta",
                                                  "Trade", "BookDelta"]
    book = Book()
    tops = []
    for event in events:
        if isinstance(event, BookSnapshot):
            book.reset(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            book.apply(event.bids, event.asks)
        tops.append((book.bid_levels()[:1], book.ask_levels()[:1]))
    assert tops[0] == ([(100.0, 7.0)], [(101.0, 4.0)])
    assert tops[1] == ([(100.0, 5.0)], [(101.0, 4.0)])
    assert tops[2] == ([(100.0, 5.0)], [(102.0, 4.0)])
    assert events[3].aggressor == 1 and events[3].price == 101.0
    assert tops[4] == ([(100.0, 2.0)], [(102.0, 4.0)])


def test_ohlcv_bars_of_two_symbols_are_stamped_at_their_close(tmp_path: Path) -> None:
    src = write(tmp_path / "ohlcv.csv",
                "ts_event,rtype,publisher_id,instrument_id,open,high,low,close,volume,symbol",
                [f"{T0 - 1 * E9},33,1,5602,5545000000000,5546000000000,5544000000000,"
                 f"5545500000000,120,ESU4",
                 f"{T0 - 1 * E9},33,1,9999,20100000000000,20110000000000,20090000000000,"
                 f"20105000000000,40,NQU4"])
    out = tmp_path / "bars.parquet"
    writer = run_import("databento", [src], out)
    got = rows(out)
    assert [(r["ts"], r["instrument"], r["close"]) for r in got] == [
        (T0 + 59 * E9, "ESU4", 5545.5), (T0 + 59 * E9, "NQU4", 20105.0)]
    assert writer.stats.instruments == {"ESU4": 1, "NQU4": 1}


# --- the real DBN samples, decoded by desk.importers.dbn ---------------------------------------

DBN = REAL / "nautilus_trader/databento"
BARS = DBN / "historical_bars_catalog/databento"


@needs_real
def test_esh4_holiday_mbo_replays_with_no_unknown_orders_and_crosses_only_in_the_preopen(
        tmp_path: Path) -> None:
    out = tmp_path / "esh4.parquet"
    writer = run_import("databento", [DBN / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"], out)
    stats = writer.stats
    assert stats.notes["DBN mbo records"] == 68_792
    assert not stats.problems and stats.out_of_order == 0  # 0 references to unknown orders
    assert stats.min_ts == ns("2023-12-25T00:00:00")  # the replayed snapshot
    assert stats.max_ts is not None and stats.max_ts // 1_000_000 == \
        ns("2023-12-25T23:59:59.446") // 1_000_000
    found = inspect_file(out)
    assert found.crossed_books == 891  # as the data README counts them, book checked at LAST
    assert found.first_crossed is not None and found.first_crossed >= ns("2023-12-25T22:39:55")
    crossed_after_open = 0
    book = Book()
    first_trade = None
    for event in replay(out, "ESH4"):
        if isinstance(event, BookSnapshot):
            book.reset(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            book.apply(event.bids, event.asks)
            crossed_after_open += book.is_crossed() and first_trade is not None
        elif first_trade is None:
            first_trade = event.ts
    assert crossed_after_open == 0  # crossed only in the pre-open auction, never once it trades
    assert first_trade is not None and first_trade // 1_000_000 == \
        ns("2023-12-25T23:00:00.105") // 1_000_000


@needs_real
def test_esm4_mbo_starts_with_a_clear_and_snapshot_and_never_crosses(tmp_path: Path) -> None:
    src = (DBN / "order_book_deltas_catalog/databento/"
           "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst")
    out = tmp_path / "esm4.parquet"
    writer = run_import("databento", [src], out)
    assert writer.stats.notes["DBN mbo records"] == 13_796 and not writer.stats.problems
    events = replay(out, "ESM4")
    assert isinstance(events[0], BookSnapshot) and events[0].ts == ns("2024-05-08T00:00:00")
    assert inspect_file(out).crossed_books == 0


@needs_real
def test_mbp1_trades_are_the_trades_file_and_its_quotes_follow_the_top_of_book(
        tmp_path: Path) -> None:
    window = "2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
    mbp = run_import("databento", [BARS / f"futures_mbp-1_{window}"],
                     tmp_path / "mbp.parquet")
    trades = run_import("databento", [BARS / f"futures_trades_{window}"],
                        tmp_path / "trades.parquet")
    assert mbp.stats.notes["DBN mbp-1 records"] == 2_288
    assert trades.stats.notes["DBN trades records"] == trades.stats.rows == 120
    assert trades.stats.min_ts // 1_000_000 == ns("2024-07-01T23:58:01.218") // 1_000_000
    assert trades.stats.max_ts // 1_000_000 == ns("2024-07-02T00:01:52.813") // 1_000_000
    assert mbp.stats.max_ts // 1_000_000 == ns("2024-07-02T00:01:59.824") // 1_000_000
    key = ("ts", "instrument", "price", "size", "side")
    from_mbp = [tuple(r[k] for k in key) for r in rows(tmp_path / "mbp.parquet")
                if r["kind"] == "trade"]
    assert from_mbp == [tuple(r[k] for k in key) for r in rows(tmp_path / "trades.parquet")]
    quotes = [r for r in rows(tmp_path / "mbp.parquet") if r["kind"] == "quote"]
    assert quotes and all(0 < r["bid"] < r["ask"] for r in quotes)


@needs_real
def test_dbn_ohlcv_bars_of_two_contracts_are_stamped_at_their_close(tmp_path: Path) -> None:
    out = tmp_path / "bars.parquet"
    writer = run_import("databento",
                        [BARS / "futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst"], out)
    assert writer.stats.instruments == {"ESU4": 30, "NQU4": 30}
    assert writer.stats.min_ts == ns("2024-07-01T23:41:00")  # the 23:40 bar, at its close
    assert writer.stats.max_ts == ns("2024-07-02T00:10:00")
    assert writer.stats.out_of_order == 0


def test_a_file_that_is_not_dbn_is_one_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "x.dbn"
    src.write_bytes(b"PK\x03\x04 not dbn")
    with pytest.raises(DataError, match="not a DBN file"):
        run_import("databento", [src], tmp_path / "o.parquet")


@needs_real
def test_dbn_is_told_by_its_first_bytes_whatever_its_name(tmp_path: Path) -> None:
    src = tmp_path / "trades.bin"
    src.write_bytes((BARS / "futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst")
                    .read_bytes())
    writer = run_import("databento", [src], tmp_path / "t.parquet")
    assert writer.stats.notes["DBN trades records"] == writer.stats.rows == 120
