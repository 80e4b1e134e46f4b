"""Generic CSV/Parquet imports with a column mapping, time order, `mixed` replay, CLI errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
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
    assert sorted(tmp_path.iterdir()) == [src]  # no output, no temporary file left


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


# --- timestamps with a fraction of a second, and the row of a bad one ----------------------------

@needs_real
def test_histdata_ticks_with_milliseconds_glued_to_the_seconds_import_in_est(
        tmp_path: Path) -> None:
    """HistData writes `20200101 170000065` (`%f` after `%S`, no separator), EST all year."""
    out = tmp_path / "eurusd.parquet"
    writer = run_import("csv", [REAL / "nautilus_trader/quote_tick_data.csv"], out, kind="quote",
                        instrument="EURUSD", header=False, ts_format="%Y%m%d %H%M%S%f",
                        tz="Etc/GMT+5", columns={"ts": "0", "bid": "1", "ask": "2"})
    got = rows(out)
    assert writer.stats.rows == len(got) == 9_500 and writer.stats.out_of_order == 0
    assert got[0]["ts"] == writer.stats.min_ts == ns("2020-01-01T22:00:00.065")  # 17:00 EST
    assert got[-1]["ts"] == writer.stats.max_ts == ns("2020-01-02T04:00:52.125")
    assert (got[0]["bid"], got[0]["ask"]) == (1.1212, 1.12172)


@pytest.mark.parametrize(("fmt", "text", "expected"), [
    ("%Y%m%d %H%M%S%f", "20200101 170000065", "2020-01-01T17:00:00.065"),
    ("%Y-%m-%d %H:%M:%S.%f", "2020-01-01 17:00:00.5", "2020-01-01T17:00:00.5"),
    ("%Y-%m-%d %H:%M:%S.%f", "2020-01-01 17:00:00.123456789", "2020-01-01T17:00:00.123456"),
    ("%d %b %Y %H:%M:%S.%f", "01 Jan 2020 17:00:00.25", "2020-01-01T17:00:00.25"),  # Python's
    ("%Y%m%d", "20200101", "2020-01-01T00:00:00"),  # read by CSV as a number, parsed as text
])
def test_ts_format_reads_fractions_of_a_second_column_wise_or_through_python(
        fmt: str, text: str, expected: str, tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text(f"ts,price,size\n{text},1,1\n")
    run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X", ts_format=fmt)
    extra = 789 if text.endswith("456789") else 0  # nanoseconds beyond ns()'s microseconds
    assert rows(tmp_path / "o.parquet")[0]["ts"] == ns(expected) + extra


def test_a_time_that_does_not_match_the_format_names_its_line(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("ts,price,size\n20200101 170000065,1,1\n20200101 1700,1,1\n")
    with pytest.raises(DataError, match=r"t.csv:3: column 'ts': '20200101 1700' does not match "
                                        r"--ts-format"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
                   ts_format="%Y%m%d %H%M%S%f")
    src.write_text("ts,price,size\n2020-01-01T00:00:00,1,1\n2020-01-01T00:00:01,1,1\nnoon,1,1\n")
    with pytest.raises(DataError, match=r"t.csv:4: column 'ts': 'noon' is not an ISO 8601 time"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X")


# --- rows out of time order -----------------------------------------------------------------

ORCL = ["--format", "csv", "--kind", "bar", "--instrument", "ORCL", "--bar-stamp", "open",
        "--map", "ts=Date,open=Open,high=High,low=Low,close=Close,volume=Volume"]


@needs_real
def test_a_newest_first_source_is_reversed_and_its_span_is_min_to_max(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Yahoo's ORCL daily bars run 2000-12-29 → 2000-01-03: imported oldest first, `1d` bars."""
    from desk.cli import main
    from desk.data.inspect import inspect_file

    out = tmp_path / "orcl.parquet"
    src = REAL / "pyalgotrade/orcl-2000-yahoofinance.csv"
    assert main(["data", "import", str(src), "--out", str(out), "--interval", "1d", *ORCL]) == 0
    summary = capsys.readouterr().out
    assert "2000-01-04 00:00:00.000000 → 2000-12-30 00:00:00.000000 UTC" in summary
    assert "rows reversed (the source lists the newest first): 252" in summary
    got = rows(out)
    assert len(got) == 252 and [r["ts"] for r in got] == sorted(r["ts"] for r in got)
    assert (got[0]["ts"], got[0]["close"]) == (ns("2000-01-04"), 118.12)  # the 01-03 bar
    assert (got[-1]["ts"], got[-1]["close"]) == (ns("2000-12-30"), 29.06)  # the 12-29 bar
    found = inspect_file(out)
    assert (found.min_ts, found.max_ts, found.out_of_order) == (ns("2000-01-04"),
                                                                ns("2000-12-30"), 0)
    assert main(["data", "import", str(src), "--out", str(tmp_path / "w.parquet"), "--interval",
                 "1w", *ORCL]) == 0  # weeks too (a wrong length for daily bars, but a length)
    assert rows(tmp_path / "w.parquet")[0]["ts"] == ns("2000-01-10")


def _two_instruments(tmp_path: Path) -> list[Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("ts,price,size\n" + "".join(f"{t},1,{t}\n" for t in (0, 2, 2, 4)))
    b.write_text("ts,price,size\n" + "".join(f"{t},2,{t}\n" for t in (1, 2, 3)))
    return [a, b]


def test_interleaved_sources_are_refused_with_a_hint_or_sorted_stably_with_sort(
        tmp_path: Path) -> None:
    sources = _two_instruments(tmp_path)
    with pytest.raises(DataError, match=r"b.csv:2: 1 row earlier than the row before "
                                        r"\(first here: 1970-01-01 00:00:01.000000 "
                                        r"after 1970-01-01 00:00:04.000000 UTC\).*add --sort"):
        run_import("csv", sources, tmp_path / "o.parquet", kind="trade", instrument="X",
                   ts_unit="s")
    writer = run_import("csv", sources, tmp_path / "o.parquet", kind="trade", instrument="X",
                        sort=True)
    got = [(r["ts"], r["price"]) for r in rows(tmp_path / "o.parquet")]
    # equal times keep the order of the sources: a's two rows at 2 before b's
    assert got == [(0, 1.0), (1, 2.0), (2, 1.0), (2, 1.0), (2, 2.0), (3, 2.0), (4, 1.0)]
    assert writer.stats.notes["rows sorted by time (stable)"] == 7


def test_the_external_sort_merges_many_runs_into_a_stable_order(tmp_path: Path) -> None:
    import random

    from desk.data.writer import MarketWriter
    from desk.importers.chronology import sort_file

    rng = random.Random(8)
    out = tmp_path / "m.parquet"
    writer = MarketWriter(out, group_rows=97)
    written = [(rng.randrange(300), i) for i in range(5_000)]  # many equal times
    for ts, i in written:
        writer.trade(ts, "X", 1.0, float(i), 0)
    writer.close()
    sort_file(out, group_rows=97, run_rows=500, merge_rows=64)  # 10 runs, read 64 rows at a time
    assert [(r["ts"], int(r["size"])) for r in rows(out)] == sorted(written, key=lambda w: w[0])


def test_a_book_event_cut_by_a_run_boundary_stays_whole_and_in_order(tmp_path: Path) -> None:
    from desk.data.writer import MarketWriter
    from desk.importers.chronology import sort_file

    out = tmp_path / "b.parquet"
    writer = MarketWriter(out, group_rows=4)
    writer.trade(9, "X", 1.0, 1.0, 0)
    for price in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0):  # one event at ts 5, across two runs
        writer.level(5, "X", False, 1, price, 1.0)
    writer.trade(5, "X", 7.0, 1.0, 0)
    writer.close()
    sort_file(out, group_rows=4, run_rows=4, merge_rows=2)
    assert [(r["ts"], r["kind"], r["price"]) for r in rows(out)] == \
        [(5, "book_delta", p) for p in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)] + \
        [(5, "trade", 7.0), (9, "trade", 1.0)]


# --- values that are not numbers, files that are not what --format says --------------------------

def test_a_value_that_is_not_a_number_names_its_line_and_column(tmp_path: Path) -> None:
    src = tmp_path / "badprice.csv"
    src.write_text("ts,price,size\n1,100.5,1\n2,abc,1\n3,101,1\n")
    with pytest.raises(DataError, match=r"badprice.csv:3: column 'price' \(desk field 'price'\): "
                                        r"expected a number, found 'abc'"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X")


def test_rows_after_a_quoted_value_over_two_lines_and_blank_lines_keep_their_line(
        tmp_path: Path) -> None:
    """pyarrow counts rows; the lines are counted again, only when a message names one."""
    src = tmp_path / "notes.csv"
    src.write_text('ts,price,size,note\n1,100.5,1,"two\r\nlines"\n\n2,-1,1,x\n3,abc,1,y\n')
    with pytest.raises(DataError, match=r"notes.csv:6: column 'price' \(desk field 'price'\): "
                                        r"expected a number, found 'abc'"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X")
    src.write_text(src.read_text().replace("abc", "101"))
    writer = run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X")
    assert any("(first: " + f"{src}:5: price -1.0)" in line for line in writer.problem_lines())


def _long_csv(path: Path, last: str) -> Path:
    """A CSV longer than pyarrow's first 4 MB block (where it settles the column types)."""
    body = "".join(f"{i},{100 + i % 7}.25,1,{i % 10}\n" for i in range(300_000))
    path.write_text("ts,price,size,note\n" + body + last)
    assert path.stat().st_size > 4 << 20
    return path


def test_fractions_after_a_first_block_of_whole_numbers_and_whole_seconds_import(
        tmp_path: Path) -> None:
    """pyarrow types a column by its first 4 MB: whole sizes and whole-second times there must
    not make a later `0.5` or `.25` fail."""
    src = tmp_path / "late.csv"
    start = datetime(2024, 1, 2, tzinfo=UTC)
    body = "".join(f"{start + timedelta(seconds=i):%Y-%m-%dT%H:%M:%SZ},{100 + i % 7},{1 + i % 3}\n"
                   for i in range(170_000))
    src.write_text("time,price,size\n" + body + "2024-01-04T00:00:00.25Z,100.5,0.5\n")
    assert src.stat().st_size > 4 << 20
    run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
               columns={"ts": "time"})
    last = rows(tmp_path / "o.parquet")[-1]
    assert (last["ts"], last["price"], last["size"]) == (ns("2024-01-04T00:00:00.25Z"), 100.5, 0.5)


def test_epoch_seconds_that_turn_fractional_after_the_first_block_import(tmp_path: Path) -> None:
    """Whole epoch seconds for 4 MB, then a fraction: a time, not a bad value."""
    src = _long_csv(tmp_path / "long.csv", "300000.5,100,1,7\n")
    run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X", ts_unit="s")
    got = rows(tmp_path / "o.parquet")
    assert len(got) == 300_001
    assert [row["ts"] for row in got[-2:]] == [299_999 * 10**9, 300_000 * 10**9 + 5 * 10**8]
    src = _long_csv(tmp_path / "long.csv", "300000.5,100,1,7\nsoon,100,1,7\n")
    with pytest.raises(DataError, match=r"long.csv:300003: column 'ts': expected a number like "
                                        r"the times before it, found 'soon'$"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
                   ts_unit="s")


def test_a_bad_number_beyond_the_first_block_still_names_its_line(tmp_path: Path) -> None:
    """pyarrow does not say the row of a value that misfits a column typed by the first block."""
    src = _long_csv(tmp_path / "long.csv", "300000,1O1.5,1,7\n")
    with pytest.raises(DataError, match=r"long.csv:300002: column 'price' \(desk field 'price'\): "
                                        r"expected a number, found '1O1.5'"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
                   ts_unit="s")
    src = _long_csv(tmp_path / "long.csv", "300000,n/a,1,7\n")  # a null word: no price at all
    with pytest.raises(DataError, match=r"long.csv:300002: column 'price' \(desk field 'price'\): "
                                        r"no value"):
        run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
                   ts_unit="s")


def test_format_is_honoured_whatever_the_file_is_named(tmp_path: Path) -> None:
    csv_named_parquet = tmp_path / "trades.parquet"
    csv_named_parquet.write_text("ts,price,size\n1,1,1\n")
    run_import("csv", [csv_named_parquet], tmp_path / "o.parquet", kind="trade", instrument="X",
               ts_unit="s")
    assert rows(tmp_path / "o.parquet")[0]["ts"] == 1_000_000_000
    text = tmp_path / "t.csv"
    text.write_text("ts,price,size\n1,1,1\n")
    with pytest.raises(DataError, match=r"t.csv: not a Parquet file.*use --format csv"):
        run_import("parquet", [text], tmp_path / "p.parquet", kind="trade", instrument="X")
    with pytest.raises(DataError, match=r"o.parquet: a Parquet file, not a CSV file; try "
                                        r"--format parquet"):
        run_import("csv", [tmp_path / "o.parquet"], tmp_path / "q.parquet", kind="trade",
                   instrument="X")


def test_columns_the_mapping_does_not_use_are_not_read(tmp_path: Path) -> None:
    src = _long_csv(tmp_path / "long.csv", "300000,101,1,see note\n")  # `note` was numbers
    writer = run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X",
                        ts_unit="s")
    assert writer.stats.rows == 300_001


def test_inspect_counts_update_id_gaps_and_stale_updates_per_instrument(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from desk.cli import main
    from desk.data.inspect import inspect_file
    from desk.data.writer import MarketWriter

    monkeypatch.setenv("COLUMNS", "200")  # the table's cells on one line each
    out = tmp_path / "seq.parquet"
    w = MarketWriter(out)
    w.level(1, "A", True, 1, 99.0, 1.0, seq=10)
    w.level(1, "B", True, 1, 9.0, 1.0, seq=500)
    w.level(2, "A", False, 1, 99.0, 2.0, seq=11, prev_seq=10)   # follows
    w.level(3, "B", False, 1, 9.0, 2.0, seq=501, prev_seq=500)  # follows (B's own ids)
    w.level(4, "A", False, 1, 99.0, 3.0, seq=15, prev_seq=14)   # 12..14 lost: a gap
    w.level(5, "A", False, 1, 99.0, 4.0, seq=15, prev_seq=14)   # already applied: stale
    w.level(6, "A", False, 1, 99.0, 5.0, seq=16)                # no prev_seq: follows 15
    w.level(7, "A", True, 1, 99.0, 1.0, seq=40)                 # a snapshot resyncs
    w.level(8, "A", False, 1, 99.0, 2.0, seq=42, prev_seq=40)
    w.close()
    found = inspect_file(out)
    assert (found.seq_gaps, found.stale_updates) == (1, 1)
    assert found.first_seq_gap == (4, "A", 14, 11)
    assert main(["data", "inspect", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "update-id gaps │ 1 (first: A at 1970-01-01 00:00:00.000000, update after 14 on a " \
           "book at 11); 1 stale updates" in text


def test_disorder_without_sort_is_exit_2_and_leaves_no_output_and_sort_imports_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desk.cli import main

    sources = [str(p) for p in _two_instruments(tmp_path)]
    out = tmp_path / "o.parquet"
    argv = ["data", "import", *sources, "--format", "csv", "--kind", "trade", "--instrument", "X",
            "--ts-unit", "s", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "add --sort" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]  # nothing left
    assert main([*argv, "--sort"]) == 0
    summary = capsys.readouterr().out
    assert "1970-01-01 00:00:00.000000 → 1970-01-01 00:00:04.000000 UTC" in summary
    assert "rows sorted by time (stable): 7" in summary and "earlier than" not in summary
    assert [r["ts"] for r in rows(out)] == [t * 10**9 for t in (0, 1, 2, 2, 2, 3, 4)]



def test_a_byte_order_mark_before_the_header_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    src = tmp_path / "excel.csv"
    src.write_bytes(b"\xef\xbb\xbfts,price,size\r\n1,1.5,2\r\n")
    run_import("csv", [src], tmp_path / "o.parquet", kind="trade", instrument="X", ts_unit="s")
    assert rows(tmp_path / "o.parquet")[0]["price"] == 1.5


@needs_real
def test_a_byte_order_mark_before_a_first_data_row_is_dropped(tmp_path: Path) -> None:
    klines = tmp_path / "ADABTC-1m.csv"
    klines.write_bytes(b"\xef\xbb\xbf" +
                       (REAL / "nautilus_trader/ADABTC-1m-2021-11-27.csv").read_bytes())
    # the first row is data, not a header, once the mark is dropped
    assert run_import("binance-klines", [klines], tmp_path / "k.parquet").stats.rows == 10
