"""Generic CSV/Parquet imports with a column mapping, desk's schema replayed as `mixed`, CLI errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from conftest import REAL, make_session, run_engine
from importing import needs_real, ns, rows, run_import

from desk.engine import Engine
from desk.errors import DataError


@needs_real
def test_binance_parquet_trades_map_buyer_maker_onto_the_aggressor_side(tmp_path: Path) -> None:
    src = REAL / "nautilus_trader/binance/btcusdt-trades.parquet"
    out = tmp_path / "t.parquet"
    writer = run_import("parquet", [src], out, kind="trade", instrument="BTCUSDT",
                        columns={"side": "buyer_maker"}, buy=("False",), sell=("True",))
    got = rows(out)
    assert writer.stats.rows == len(got) == 2_001
    assert got[0]["ts"] == ns("2021-01-08T00:00:00.278")
    assert got[-1]["ts"] == ns("2021-01-08T00:00:46.355")
    import pyarrow.parquet as pq

    makers = pq.read_table(src).column("buyer_maker").to_pylist()
    assert [r["side"] for r in got] == [-1 if m == "True" else 1 for m in makers]
    assert writer.stats.out_of_order == 0 and not writer.stats.problems


@needs_real
def test_truefx_iso_quotes_with_offsets_import_without_sizes(tmp_path: Path) -> None:
    out = tmp_path / "q.parquet"
    run_import("csv", [REAL / "nautilus_trader/truefx/usdjpy-ticks.csv"], out, kind="quote",
               instrument="USDJPY")
    got = rows(out)
    assert len(got) == 1_000
    assert got[0]["ts"] == ns("2013-01-01T22:00:00.295")
    assert got[-1]["ts"] == ns("2013-01-01T22:35:13.494")
    assert all(r["kind"] == "quote" and r["bid_size"] == 0.0 for r in got)


def test_naive_times_are_read_in_the_given_zone_and_prices_scaled(tmp_path: Path) -> None:
    src = tmp_path / "ny.csv"
    src.write_text("time;px;qty;who\n2024-03-11 09:30:00;1234500;10;B\n"
                   "2024-03-11 09:30:01;1234600;5;S\n")
    out = tmp_path / "o.parquet"
    run_import("csv", [src], out, kind="trade", instrument="XYZ", tz="America/New_York",
               csv_delimiter=";", price_scale=1e-4,
               columns={"price": "px", "size": "qty", "side": "who"})
    got = rows(out)
    assert got[0]["ts"] == ns("2024-03-11T13:30:00")  # EDT is UTC-4 after the March switch
    assert got[0]["price"] == pytest.approx(123.45)
    assert [r["side"] for r in got] == [1, -1]


def test_epoch_seconds_and_milliseconds_give_the_same_nanoseconds(tmp_path: Path) -> None:
    a, b = tmp_path / "s.csv", tmp_path / "ms.csv"
    a.write_text("t,price,size\n1700000000.5,1,1\n")
    b.write_text("t,price,size\n1700000000500,1,1\n")
    for src, unit in ((a, "s"), (b, "ms")):
        run_import("csv", [src], tmp_path / f"{unit}.parquet", kind="trade", instrument="X",
                   ts_unit=unit, columns={"ts": "t"})
    assert rows(tmp_path / "s.parquet")[0]["ts"] == rows(tmp_path / "ms.parquet")[0]["ts"] \
        == 1_700_000_000_500_000_000


@needs_real
def test_open_stamped_bars_are_replayed_at_their_close_and_never_seen_early(tmp_path: Path) -> None:
    src = REAL / "nautilus_trader/fxcm/gbpusd-m1-bid-2012.csv"
    out = tmp_path / "bars.parquet"
    run_import("csv", [src], out, kind="bar", instrument="GBPUSD", bar_stamp="open",
               interval_ns=60_000_000_000)
    got = rows(out)
    assert len(got) == 30_117
    assert got[0]["ts"] == ns("2012-02-01T00:01:00")  # the 00:00 bar closes at 00:01
    source = pacsv.read_csv(src).to_pylist()
    close_by_open = {int(r["timestamp"].timestamp()) * 10**9: r["close"] for r in source}
    session = make_session(tmp_path, data={"synthetic": None, "files": [
        {"path": str(out), "kind": "mixed"}]}, instruments=[{"symbol": "GBPUSD",
                                                             "tick_size": 0.00001}])
    engine = Engine(session, None, strict=True)
    seen: list[tuple[int, float]] = []
    engine.strategy.on_bar = lambda bar: seen.append((engine.now, bar.close))  # type: ignore
    engine.run()
    engine.close()
    assert len(seen) == 30_117
    # at time t the strategy holds the bar that opened at t - 1m: it closed at t, not later
    assert all(close_by_open[now - 60_000_000_000] == close for now, close in seen)


def test_bars_without_a_stated_stamp_convention_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "b.csv"
    src.write_text("ts,open,high,low,close\n2024-01-01 00:00,1,2,0.5,1.5\n")
    with pytest.raises(DataError, match="--bar-stamp"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="bar", instrument="X")
    with pytest.raises(DataError, match="--interval"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="bar", instrument="X",
                   bar_stamp="open")


def test_desk_schema_with_every_kind_and_two_instruments_replays_as_mixed(tmp_path: Path) -> None:
    from desk.data.writer import MarketWriter

    out = tmp_path / "m.parquet"
    w = MarketWriter(out)
    w.level(1, "A", True, 1, 99.0, 5.0)
    w.level(1, "A", True, -1, 101.0, 5.0)
    w.quote(2, "B", 10.0, 1.0, 10.5, 2.0)
    w.trade(3, "A", 100.0, 1.0, 1)
    w.level(4, "A", False, 1, 99.0, 0.0)
    w.level(4, "A", False, 1, 99.5, 3.0)
    w.level(4, "A", False, 1, 99.5, 4.0)  # the same level twice in one event: the last size wins
    w.bar(5, "B", 10.0, 11.0, 9.0, 10.2, 7.0)
    w.close()
    session = make_session(tmp_path, data={"synthetic": None, "files": [
        {"path": "m.parquet", "kind": "mixed"}]}, instruments=[{"symbol": "A"}, {"symbol": "B"}])
    engine = run_engine(session)
    assert engine.stats.market_events == 5
    book = engine.market.states["A"].book
    assert book is not None
    assert book.bid_levels() == [(99.5, 4.0)] and book.ask_levels() == [(101.0, 5.0)]
    assert engine.market.states["B"].last == 10.2 and engine.market.states["B"].bid == 10.0


def test_two_files_with_different_instruments_merge_by_time_streaming(tmp_path: Path) -> None:
    from desk.data.writer import MarketWriter

    for name, symbol, start in (("a.parquet", "A", 0), ("b.parquet", "B", 1)):
        w = MarketWriter(tmp_path / name, group_rows=7)
        for i in range(100):
            w.trade(start + 2 * i, symbol, 100.0 + i % 3, 1.0, 0)
        w.close()
    session = make_session(tmp_path, data={"synthetic": None, "batch_rows": 16, "files": [
        {"path": "a.parquet", "kind": "mixed"}, {"path": "b.parquet", "kind": "mixed"}]},
        instruments=[{"symbol": "A"}, {"symbol": "B"}])
    engine = Engine(session, None)
    order: list[tuple[int, str]] = []
    engine.strategy.on_trade = lambda t: order.append((t.ts, t.instrument))  # type: ignore
    engine.run()
    engine.close()
    assert order == [(t, "A" if t % 2 == 0 else "B") for t in range(200)]


def test_a_bad_file_is_one_line_naming_the_file_and_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("when,price\n2024-01-01,1\n")
    out = tmp_path / "o.parquet"
    result = subprocess.run([sys.executable, "-m", "desk", "data", "import", str(src), "--format",
                             "csv", "--kind", "trade", "--instrument", "X", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(src) in result.stderr
    assert "missing column 'ts'" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_inspect_reports_span_kinds_disorder_and_crossed_books(tmp_path: Path) -> None:
    from desk.data.inspect import inspect_file
    from desk.data.writer import MarketWriter

    out = tmp_path / "x.parquet"
    w = MarketWriter(out)
    w.level(10, "A", True, 1, 101.0, 1.0)
    w.level(10, "A", True, -1, 100.0, 1.0)  # crossed snapshot
    w.quote(5, "B", 2.0, 1.0, 1.0, 1.0)  # out of order and crossed
    w.trade(200_000_000_000, "A", 100.0, 1.0, 0)
    w.close()
    found = inspect_file(out, gap_ns=60_000_000_000)
    assert (found.rows, found.events) == (4, 3)
    assert (found.min_ts, found.max_ts) == (5, 200_000_000_000)  # the span is min → max
    assert found.out_of_order == 1 and found.crossed_books == 1 and found.crossed_quotes == 1
    assert found.gaps_over == 1 and found.largest_gaps[0] == (200_000_000_000 - 10, 200_000_000_000)
    assert dict(found.instruments) == {"A": 3, "B": 1}


def test_inspect_and_replay_commands_print_their_findings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desk.cli import main
    from desk.data.writer import MarketWriter

    out = tmp_path / "x.parquet"
    w = MarketWriter(out)
    w.level(1, "A", True, 1, 99.0, 1.0, seq=5)
    w.level(1, "A", True, -1, 101.0, 1.0, seq=5)
    w.level(2, "A", False, 1, 100.0, 2.0, seq=6, prev_seq=5)
    w.trade(3, "A", 100.5, 1.0, 1)
    w.close()
    assert main(["data", "inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 (3 events)" in text and "book_snapshot (2)" in text and "0 book events" in text
    assert main(["data", "replay", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 events (2 book events, 3 levels)" in text and "book updates/s" in text
    assert main(["data", "inspect", str(tmp_path / "nope.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
