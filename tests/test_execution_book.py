"""The L2 book: crossings and sequence gaps journaled, never a crash; book files replay right."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import REAL
from exec_helpers import MS, book, of_kind, run_script, trade

from desk.audit import read_journal
from desk.book import GAP, STALE, Book
from desk.config import parse_session
from desk.engine import Engine


def test_best_prices_follow_deltas_that_add_and_remove_the_top() -> None:
    side = Book()
    side.reset(((99.0, 1.0), (98.0, 2.0)), ((101.0, 1.0),))
    assert (side.best_bid, side.best_ask) == (99.0, 101.0)
    side.apply(((99.5, 3.0),), ((101.0, 0.0), (102.0, 5.0)))
    assert (side.best_bid, side.best_ask) == (99.5, 102.0)
    side.apply(((99.5, 0.0), (99.0, 0.0)), ())
    assert side.best_bid == 98.0
    side.apply(((98.0, 0.0),), ())
    assert side.best_bid is None and not side.is_crossed()
    side.apply(((102.5, 1.0),), ())
    assert side.is_crossed()


def test_sequence_check_takes_overlap_after_a_snapshot_flags_stale_and_missing_updates() -> None:
    side = Book()
    assert side.sequence_issue(5, None, snapshot=False) is None  # nothing to compare with yet
    side.seq = 100
    assert side.sequence_issue(101, None, snapshot=False) is None
    assert side.sequence_issue(105, 98, snapshot=False) is None   # overlaps what we have
    assert side.sequence_issue(100, 99, snapshot=False) == STALE
    assert side.sequence_issue(103, None, snapshot=False) == GAP
    assert side.sequence_issue(110, 104, snapshot=False) == GAP
    assert side.sequence_issue(50, None, snapshot=True) is None


def test_a_crossed_book_is_journaled_and_a_market_order_waits_for_it_to_uncross(
        tmp_path: Path) -> None:
    rows = (book(0, [(99.99, 100)], [(100.01, 100)])
            + book(10, [(100.05, 100)], [(100.01, 100)])      # crossed
            + book(20, [(99.99, 100)], [(100.02, 300)])       # uncrossed
            + trade(30, 100.02, 1, "buy"))
    engine, _, journal = run_script(tmp_path, rows, [[10, "order", 50, None]])
    issues = of_kind(journal, "data_quality")
    assert [r["ts_ns"] // MS for r in issues] == [10, 20]
    assert "crossed book: best bid 100.05 ≥ best ask 100.01" in issues[0]["why"]
    assert issues[1]["why"] == "book uncrossed"
    assert [(f["details"]["venue_ts"] // MS, f["details"]["price"])
            for f in of_kind(journal, "fill")] == [(20, 100.02)]
    assert engine.stats.data_issues == 1


def test_a_resting_order_does_not_fill_against_a_crossed_book(tmp_path: Path) -> None:
    rows = (book(0, [(99.99, 100)], [(100.01, 100)])
            + book(10, [(99.99, 100)], [(99.90, 100)])        # crossed, ask far below our bid
            + book(20, [(99.99, 100)], [(100.01, 100)]) + trade(30, 100.01, 1, "buy"))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 50, 99.99]])
    assert not of_kind(journal, "fill")


def _write_book_file(path: Path, rows: list[tuple]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "side", "price", "qty", "update_type", "last_update_id",
                         "pu"])
        writer.writerows(rows)


def _book_session(tmp_path: Path, files: list[dict]) -> Engine:
    data = {
        "session": {"name": "book", "seed": 1},
        "data": {"files": files},
        "instruments": [{"symbol": "BTC", "tick_size": 0.1, "lot_size": 0.001}],
        "strategy": {"use": "momentum"},
    }
    return Engine(parse_session(data, "book-test", tmp_path / "s.toml"), tmp_path / "j.arrow",
                  strict=True)


BINANCE_COLUMNS = {"ts": "timestamp", "size": "qty", "snapshot": "update_type",
                   "seq": "last_update_id", "prev_seq": "pu"}


def test_a_book_file_with_update_ids_replays_gaps_journaled_and_stale_updates_skipped(
        tmp_path: Path) -> None:
    _write_book_file(tmp_path / "depth.csv", [
        (1000, "b", 100.0, 1.0, "snap", 10, -1), (1000, "b", 99.9, 2.0, "snap", 10, -1),
        (1000, "a", 100.1, 1.5, "snap", 10, -1), (1000, "a", 100.2, 3.0, "snap", 10, -1),
        (1001, "b", 100.0, 0.5, "set", 12, 9),     # overlaps the snapshot: applied
        (1001, "a", 100.1, 0.0, "set", 12, 9),
        (1002, "a", 100.3, 4.0, "set", 13, 12),    # follows: applied
        (1003, "b", 99.8, 7.0, "set", 20, 17),     # 14..17 missing: a gap, applied anyway
        (1004, "b", 99.7, 9.0, "set", 19, 18),     # older than the book: skipped
        (1005, "b", 99.9, 0.0, "set", 21, 20),
    ])
    engine = _book_session(tmp_path, [{"path": "depth.csv", "kind": "book", "instrument": "BTC",
                                       "ts_unit": "ms", "columns": BINANCE_COLUMNS}])
    engine.run()
    engine.close()
    state = engine.market.states["BTC"]
    assert state.book is not None
    assert state.book.bid_levels() == [(100.0, 0.5), (99.8, 7.0)]
    assert state.book.ask_levels() == [(100.2, 3.0), (100.3, 4.0)]
    assert (state.bid, state.ask, state.mark) == (100.0, 100.2, pytest.approx(100.1))
    assert state.book.seq == 21
    issues = [r for r in read_journal(tmp_path / "j.arrow").to_pylist()
              if r["kind"] == "data_quality"]
    assert [r["ts_ns"] // MS for r in issues] == [1003, 1004]
    assert "sequence gap" in issues[0]["why"] and "stale" in issues[1]["why"]


def test_an_emptied_side_clears_the_quote_instead_of_keeping_a_stale_price(tmp_path: Path) -> None:
    _write_book_file(tmp_path / "depth.csv", [
        (1000, "b", 100.0, 1.0, "snap", 1, -1), (1000, "a", 100.1, 1.0, "snap", 1, -1),
        (1001, "b", 100.0, 0.0, "set", 2, 1),
    ])
    engine = _book_session(tmp_path, [{"path": "depth.csv", "kind": "book", "instrument": "BTC",
                                       "ts_unit": "ms", "columns": BINANCE_COLUMNS}])
    engine.run()
    engine.close()
    state = engine.market.states["BTC"]
    assert (state.bid, state.bid_size, state.ask) == (0.0, 0.0, 100.1)


BINANCE = REAL / "nautilus_trader" / "binance"


@pytest.mark.skipif(not BINANCE.exists(), reason="the shared real data folder is absent")
def test_real_binance_snapshot_and_later_updates_replay_with_the_gap_between_them_journaled(
        tmp_path: Path) -> None:
    columns = {"ts": "timestamp", "size": "qty", "snapshot": "update_type",
               "seq": "last_update_id", "prev_seq": "pu", "instrument": "symbol"}
    files = [{"path": str(BINANCE / name), "kind": "book", "ts_unit": "ms", "columns": columns}
             for name in ("btcusdt-depth-snap.csv", "btcusdt-depth-update.csv")]
    data = {"session": {"name": "real", "seed": 1}, "data": {"files": files},
            "instruments": [{"symbol": "BTCUSDT", "tick_size": 0.1, "lot_size": 0.001}],
            "strategy": {"use": "momentum"}}
    engine = Engine(parse_session(data, "real", tmp_path / "s.toml"), tmp_path / "j.arrow")
    engine.run()
    engine.close()
    issues = [r["why"] for r in read_journal(tmp_path / "j.arrow").to_pylist()
              if r["kind"] == "data_quality"]
    # the snapshot (update 2098021528332) is ten minutes older than the first update it is
    # followed by (previous id 2098041693400): updates are missing in between
    assert len(issues) == 1 and "sequence gap" in issues[0]
    state = engine.market.states["BTCUSDT"]
    assert state.book is not None and state.bid > 0
    assert state.book.seq == 2098041696700
