"""A bad file of every importer family is one line naming the file (and the row), exit code 2.

Each case damages a copy of a real sample (cut short, a garbled line or value,
a column missing) or gives a file of another format, runs `desk data import`
in-process, and checks the message: never a traceback, never a partial output.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REAL
from importing import needs_real

from desk.cli import main

NT = REAL / "nautilus_trader"
GOOG = "GOOG_2012-06-21_34200000_57600000_{}_1.csv"


def lines_of(path: Path, count: int | None = None) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as stream:  # type: ignore[operator]
        return [line for _, line in zip(range(count or 10**9), stream, strict=False)]


def edited(src: Path, dst: Path, count: int, line: int, edit: Callable[[str], str]) -> Path:
    """The first `count` lines of `src` with line `line` (from 1) changed by `edit`."""
    lines = lines_of(src, count)
    lines[line - 1] = edit(lines[line - 1])
    dst.write_text("".join(lines))
    return dst


def cut(src: Path, dst: Path, size: int | None = None) -> Path:
    """The first `size` bytes of `src`: a download or copy that stopped half-way (or, without
    `size`, a whole copy under another name)."""
    data = src.read_bytes()
    assert size is None or size < len(data), "the cut must fall inside the file"
    dst.write_bytes(data[:size])
    return dst


def gzipped_then_cut(src: Path, dst: Path, size: int) -> Path:
    packed = gzip.compress(src.read_bytes())
    assert size < len(packed), "the cut must fall inside the compressed stream"
    dst.write_bytes(packed[:size])
    return dst


def field(line: str, index: int, value: str, sep: str = ",") -> str:
    parts = line.rstrip("\n").split(sep)
    parts[index] = value
    return sep.join(parts) + "\n"


def lobster_pair(tmp: Path, message_edit: Callable[[str], str] | None = None,
                 book_edit: Callable[[str], str] | None = None, book_lines: int = 40) -> Path:
    src = REAL / "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_1"
    message = tmp / GOOG.format("message")
    book = tmp / GOOG.format("orderbook")
    edited(src / GOOG.format("message"), message, 40, 7, message_edit or (lambda s: s))
    edited(src / GOOG.format("orderbook"), book, book_lines, 9, book_edit or (lambda s: s))
    return message


def lobster_message_alone(tmp: Path) -> Path:
    message = lobster_pair(tmp)
    (tmp / GOOG.format("orderbook")).unlink()
    return message


def parquet_pair(tmp: Path) -> Path:
    """Parquet files under the names of a LOBSTER pair."""
    for what in ("message", "orderbook"):
        cut(NT / "binance/btcusdt-trades.parquet", tmp / GOOG.format(what))
    return tmp / GOOG.format("message")


def bad_price_parquet(tmp: Path) -> Path:
    path = tmp / "prices.parquet"
    pq.write_table(pa.table({"ts": [1, 2, 3], "price": ["1.5", "2", "abc"],
                             "size": [1.0, 1.0, 1.0]}), path)
    return path


STREAM = NT.parent / "hftbacktest/usdm/btcusdt_20240808.gz"
TRADE = '{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":%s,"q":"1","m":true}}'

Case = tuple[str, Callable[[Path], Path], list[str], str]
"""(--format, how to make the bad file from a temporary folder, more arguments, the message
after `desk: <file>` as a regular expression)."""

CSV_TRADE = ["--kind", "trade", "--instrument", "X"]
CASES: dict[str, Case] = {
    # generic CSV
    "csv missing column": ("csv", lambda t: edited(NT / "truefx/usdjpy-ticks.csv", t / "q.csv", 5,
                                                   1, lambda s: s.replace("timestamp", "when")),
                           ["--kind", "quote", "--instrument", "USDJPY"],
                           r": missing column 'ts' \(desk field 'ts'\)"),
    "csv bad number": ("csv", lambda t: edited(NT / "truefx/usdjpy-ticks.csv", t / "q.csv", 20, 7,
                                               lambda s: field(s, 1, "8x6.1")),
                       ["--kind", "quote", "--instrument", "USDJPY"],
                       r":7: column 'bid' \(desk field 'bid'\): expected a number, found '8x6.1'"),
    "csv bad time": ("csv", lambda t: edited(NT / "truefx/usdjpy-ticks.csv", t / "q.csv", 20, 9,
                                             lambda s: field(s, 0, "2013-13-01 22:00")),
                     ["--kind", "quote", "--instrument", "USDJPY"],
                     r":9: column 'timestamp': '2013-13-01 22:00' is not an ISO 8601 time"),
    "csv cut-short gzip": ("csv", lambda t: cut(
        NT / "xcme/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", t / "bars.csv.gz", 30_000),
        ["--kind", "bar", "--instrument", "6E", "--bar-stamp", "close", "--map",
         "ts=timestamp_utc"],
        r": cannot read after row 0: Compressed file ended"),
    "csv given a Parquet file": ("csv", lambda t: cut(NT / "binance/btcusdt-trades.parquet",
                                                      t / "t.csv"), CSV_TRADE,
                                 r": a Parquet file, not a CSV file; try --format parquet"),
    # generic Parquet
    "parquet given a CSV file": ("parquet", lambda t: cut(NT / "truefx/usdjpy-ticks.csv",
                                                          t / "q.parquet"),
                                 CSV_TRADE,
                                 r": not a Parquet file; if it is CSV, use --format csv$"),
    "parquet cut short": ("parquet", lambda t: cut(NT / "binance/btcusdt-trades.parquet",
                                                   t / "t.parquet", 20_000),
                          CSV_TRADE, r": a damaged Parquet file: it begins as Parquet but its "
                          r"end is missing or broken \(a copy, download or write cut short\?\); "
                          r"copy or download it again$"),
    "parquet missing column": ("parquet", lambda t: cut(NT / "binance/btcusdt-trades.parquet",
                                                        t / "t.parquet"),
                               ["--kind", "quote", "--instrument", "X"],
                               r": missing column 'bid' \(desk field 'bid'\)"),
    "parquet bad number": ("parquet", bad_price_parquet, CSV_TRADE,
                           r": row 3: column 'price' \(desk field 'price'\): expected a number, "
                           r"found 'abc'"),
    # recorded Binance streams
    "binance cut-short gzip": ("binance", lambda t: cut(STREAM, t / "s.gz", 50_000), [],
                               r": cannot read after line \d+: Compressed file ended"),
    "binance garbled json": ("binance", lambda t: edited(STREAM, t / "s.txt", 30, 12,
                                                         lambda s: s[:70] + "\n"), [],
                             r":12: not a `<receive ns> <json>` line"),
    "binance bad number": ("binance", lambda t: _write(t / "s.txt", [
        "1 " + TRADE % '"101.5"', "2 " + TRADE % '"1o1.5"']), [],
        r":2: a message with a bad value: could not convert string to float: '1o1.5'"),
    "binance missing field": ("binance", lambda t: _write(t / "s.txt", [
        "1 " + TRADE.replace('"p":%s,', "")]), [], r":1: a message without the field 'p'"),
    "binance given a Tardis CSV": ("binance", lambda t: cut(NT / "tardis/bitmex_trades_XBTUSD.csv",
                                                            t / "x.csv"), [],
                                   r":1: not a `<receive ns> <json>` line"),
    # Binance CSV dumps
    "binance-klines bad number": ("binance-klines", lambda t: edited(
        NT / "ADABTC-1m-2021-11-27.csv", t / "ADABTC-1m.csv", 10, 4, lambda s: field(s, 4, "")),
        [], r":4: not a Binance kline row \(could not convert string to float: ''\)"),
    "binance-klines given Parquet": ("binance-klines", lambda t: cut(
        NT / "binance/btcusdt-trades.parquet", t / "ADABTC-1m.csv"), [],
        r": a Parquet file, not a Binance CSV dump; try --format parquet"),
    "binance-depth missing column": ("binance-depth", lambda t: edited(
        NT / "binance/btcusdt-depth-update.csv", t / "d.csv", 20, 3,
        lambda s: ",".join(s.split(",")[:5]) + "\n"), [],
        r":3: not a Binance order-book row \(only 5 fields\)"),
    "binance-trades cut-short gzip": ("binance-trades", lambda t: gzipped_then_cut(
        NT / "ADABTC-1m-2021-11-27.csv", t / "ADABTC-trades.csv.gz", 300), [],
        r": cannot read after line \d+: Compressed file ended"),
    "binance-bookticker bad number": ("binance-bookticker", lambda t: _write(
        t / "BTCUSDT-bookTicker.csv", ["1,100.1,2,100.2,3,1704067200000,1704067200001",
                                       "2,100.1,2,1oo.2,3,1704067200001,1704067200002"]), [],
        r":2: not a Binance bookTicker row \(could not convert string to float: '1oo.2'\)"),
    # Tardis
    "tardis bad number": ("tardis", lambda t: edited(
        NT / "tardis/bitmex_trades_XBTUSD.csv", t / "x.csv", 10, 3, lambda s: field(s, 6, "abc")),
        [], r":3: Tardis trades: column 'price': expected a number, found 'abc'"),
    "tardis bad time": ("tardis", lambda t: edited(
        NT / "tardis/bitmex_trades_XBTUSD.csv", t / "x.csv", 10, 5, lambda s: field(s, 3, "")),
        [], r":5: Tardis trades: column 'local_timestamp': expected microseconds since the "
            r"epoch, found ''"),
    "tardis short row": ("tardis", lambda t: edited(
        NT / "tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv", t / "l2.csv", 10, 4,
        lambda s: ",".join(s.split(",")[:6]) + "\n"), [],
        r":4: Tardis incremental_book_L2: column 'price': missing \(the row is short\)"),
    "tardis cut-short gzip": ("tardis", lambda t: gzipped_then_cut(
        NT / "tardis/binance-futures_book_snapshot_25_BTCUSDT.csv", t / "s.csv.gz", 500), [],
        r":\d+: cannot read: Compressed file ended"),
    "tardis missing column": ("tardis", lambda t: edited(
        NT / "tardis/huobi-dm-swap_quotes_BTC-USD.csv", t / "q.csv", 10, 1,
        lambda s: s.replace("local_timestamp", "received")), [],
        r": not a Tardis CSV: no 'local_timestamp'/'symbol' column"),
    "tardis given Parquet": ("tardis", lambda t: cut(NT / "binance/btcusdt-quotes.parquet",
                                                     t / "q.csv"), [],
                             r": a Parquet file, not a Tardis CSV; try --format parquet"),
    # Databento
    "databento DBN cut short": ("databento", lambda t: cut(
        NT / "databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst", t / "m.dbn.zst", 40_000), [],
        r": cannot decompress|: the last DBN record is cut short"),
    "databento CSV missing column": ("databento", lambda t: _write(t / "t.csv", [
        "ts_event,rtype,instrument_id,action,side,price,size,symbol",
        "1,0,5,T,A,5545250000000,2,ESU4"]), [], r":2: Databento trades: no column 'ts_recv'"),
    "databento CSV bad number": ("databento", lambda t: _write(t / "t.csv", [
        "ts_recv,ts_event,rtype,instrument_id,action,side,price,size,symbol",
        "2,1,0,5,T,A,5545250000000,2,ESU4", "3,2,0,5,T,A,55452x0000000,2,ESU4"]), [],
        r":3: Databento trades: price '55452x0000000' is not a number"),
    "databento given a Tardis CSV": ("databento", lambda t: cut(
        NT / "tardis/bitmex_trades_XBTUSD.csv", t / "x.csv"), [],
        r": not a Databento trades/mbp-1/mbo/ohlcv layout"),
    # LOBSTER
    "lobster bad message": ("lobster", lambda t: lobster_pair(
        t, message_edit=lambda s: field(s, 4, "5.8e6x")), [],
        r":7: not a LOBSTER message row \(time, type, order id, size, price, direction\)"),
    "lobster bad orderbook": ("lobster", lambda t: lobster_pair(
        t, book_edit=lambda s: field(s, 1, "lots")), [],
        r"orderbook_1.csv:9: not a LOBSTER orderbook row \(numbers\)"),
    "lobster files of different lengths": ("lobster", lambda t: lobster_pair(t, book_lines=39), [],
                                           r": the message and orderbook files have different "
                                           r"lengths"),
    "lobster cut-short zip": ("lobster", lambda t: cut(
        REAL / "lobster/LOBSTER_SampleFile_AMZN_2012-06-21_1.zip", t / "a.zip", 50_000), [],
        r": not a readable zip"),
    "lobster given Parquet": ("lobster", lambda t: parquet_pair(t), [],
                              r"message_1.csv: a Parquet file, not a LOBSTER file"),
    "lobster without its orderbook": ("lobster", lambda t: lobster_message_alone(t), [],
                                      r"orderbook_1.csv: no such file"),
}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@needs_real
@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_file_is_one_line_naming_the_file_and_exit_2(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fmt, make, extra, expected = CASES[case]
    folder = tmp_path / "in"
    folder.mkdir()
    src = make(folder)
    out = tmp_path / "out.parquet"
    code = main(["data", "import", str(src), "--format", fmt, "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("desk: ") and "Traceback" not in err
    named = err[len("desk: "):]
    assert named.startswith(str(src.parent)), err  # the file (or the zip it is in) comes first
    assert re.search(expected, named), err
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no output, no temporary file left


def test_the_zip_of_one_csv_is_read_in_place(tmp_path: Path) -> None:
    src = tmp_path / "BTCUSDT-trades-2024-01-01.zip"
    with zipfile.ZipFile(src, "w") as archive:
        archive.writestr("BTCUSDT-trades-2024-01-01.csv",
                         "1,42000.5,0.1,4200.05,1704067200000,True,True\n")
    out = tmp_path / "o.parquet"
    assert main(["data", "import", str(src), "--format", "binance-trades", "--out", str(out)]) == 0
    assert pq.read_table(out).column("price").to_pylist() == [42000.5]
    with zipfile.ZipFile(src, "a") as archive:
        archive.writestr("other.csv", "x\n")
    assert main(["data", "import", str(src), "--format", "binance-trades", "--out", str(out)]) == 2

