"""Tardis CSV: trades, quotes, incremental_book_L2 and book_snapshot_N on the real samples."""

from __future__ import annotations

from pathlib import Path

from conftest import REAL
from importing import needs_real, ns, rows, run_import

from desk.config import FileSource
from desk.data.files import FileReader
from desk.events import BookSnapshot

TARDIS = REAL / "nautilus_trader/tardis"


def events(path: Path, symbols: set[str]) -> list[object]:
    reader = FileReader(FileSource(path=str(path), kind="mixed"), path, None, symbols, "fail",
                        1_000, lambda ts, inst, msg: None)
    return [event for batch in reader.batches() for event in batch]


@needs_real
def test_trades_keep_the_taker_side_and_the_exchange_clock(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    run_import("tardis", [TARDIS / "bitmex_trades_XBTUSD.csv"], out, clock="exchange")
    got = rows(out)
    assert len(got) == 10 and {r["instrument"] for r in got} == {"XBTUSD"}
    assert got[0]["ts"] == ns("2020-03-01T00:00:03.145")
    assert got[-1]["ts"] == ns("2020-03-01T00:00:03.276")
    assert (got[0]["side"], got[0]["price"], got[0]["size"]) == (-1, 8531.5, 2152.0)


@needs_real
def test_quotes_default_to_the_receive_clock(tmp_path: Path) -> None:
    out = tmp_path / "q.parquet"
    run_import("tardis", [TARDIS / "huobi-dm-swap_quotes_BTC-USD.csv"], out, clock="exchange")
    got = rows(out)
    assert len(got) == 10
    assert (got[0]["ts"], got[-1]["ts"]) == (ns("2020-05-01T00:00:01.099"),
                                             ns("2020-05-01T00:00:01.814"))
    assert (got[0]["bid"], got[0]["bid_size"], got[0]["ask"], got[0]["ask_size"]) == \
        (8629.2, 806.0, 8629.3, 5494.0)
    local = rows(run_import("tardis", [TARDIS / "huobi-dm-swap_quotes_BTC-USD.csv"],
                            tmp_path / "l.parquet").path)
    assert local[0]["ts"] == 1588291201234268 * 1_000  # local_timestamp, µs


@needs_real
def test_incremental_l2_snapshot_rows_replay_as_one_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "b.parquet"
    run_import("tardis", [TARDIS / "deribit_incremental_book_L2_BTC-PERPETUAL.csv"], out,
               clock="exchange")
    (snapshot,) = events(out, {"BTC-PERPETUAL"})
    assert isinstance(snapshot, BookSnapshot)
    assert snapshot.ts == ns("2020-04-01T00:00:00.245")
    assert len(snapshot.bids) + len(snapshot.asks) == 15
    assert snapshot.asks[0] == (6421.5, 18640.0)
    assert snapshot.bids == ()  # the sample's first 15 rows are all asks
    assert [p for p, _ in snapshot.asks] == sorted(p for p, _ in snapshot.asks)


@needs_real
def test_top_5_snapshots_match_the_top_of_the_25_level_snapshots_where_they_line_up(
        tmp_path: Path) -> None:
    five, deep = tmp_path / "5.parquet", tmp_path / "25.parquet"
    w5 = run_import("tardis", [TARDIS / "binance-futures_book_snapshot_5_BTCUSDT.csv"], five,
                    clock="exchange")
    w25 = run_import("tardis", [TARDIS / "binance-futures_book_snapshot_25_BTCUSDT.csv"], deep,
                     clock="exchange")
    assert (w5.stats.rows, w25.stats.rows) == (10 * 5 * 2, 10 * 25 * 2)
    assert (w5.stats.min_ts, w5.stats.max_ts) == (ns("2020-09-01T00:00:03.696"),
                                                     ns("2020-09-01T00:00:04.284"))
    assert w25.stats.max_ts == ns("2020-09-01T00:00:04.005")
    by_ts = {e.ts: e for e in events(deep, {"BTCUSDT"})}
    compared = 0
    for top in events(five, {"BTCUSDT"}):
        assert isinstance(top, BookSnapshot) and len(top.bids) == len(top.asks) == 5
        full = by_ts.get(top.ts)
        if full is not None:
            assert isinstance(full, BookSnapshot)
            assert (full.bids[:5], full.asks[:5]) == (top.bids, top.asks)
            compared += 1
    assert compared >= 2
