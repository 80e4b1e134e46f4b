"""`desk data import`, `inspect` and `replay` on inputs that must not lose data or end in a
traceback: each is one line naming the file, option or line, exit code 2, and every source
left as it was."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from cli_run import run_cli
from conftest import ROOT

from desk.data.schema import SCHEMA

TRADES = "".join(f"{1_700_000_000 + i},{100 + i}.5,{i + 1}\n" for i in range(5))
"""Five trades without a header: epoch seconds, price, size."""
CSV_TRADE = ["--format", "csv", "--no-header", "--kind", "trade", "--instrument", "X",
             "--map", "ts=0,price=1,size=2", "--ts-unit", "s"]


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Summaries printed unwrapped, so that a problem's text and example read as one line."""
    monkeypatch.setenv("COLUMNS", "1000")


def desk(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(argv)
    out, err = capsys.readouterr()
    return code, out, err


def failed(code: int, err: str, *fragments: str) -> str:
    """Assert a clean failure: exit 2, one `desk:` line holding every fragment; the line."""
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("desk: "), err
    for fragment in fragments:
        assert fragment in lines[0], f"expected {fragment!r} in {lines[0]!r}"
    return lines[0]


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: what an import must leave alone."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def trades_csv(path: Path) -> Path:
    path.write_text(TRADES)
    return path


# --- the output and its temporary file ------------------------------------------------


def test_a_source_named_like_the_old_temporary_output_is_not_consumed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "z.partial")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "z")], capsys)
    assert code == 0, err
    assert source.read_text() == TRADES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z", "z.partial"]
    assert pq.read_table(tmp_path / "z").num_rows == 5


def test_an_existing_file_named_like_a_temporary_output_is_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    other = tmp_path / "o.parquet.partial"
    other.write_text("someone else's")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    assert code == 0, err
    assert other.read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.parquet", "o.parquet.partial",
                                                         "t.csv"]


def test_the_output_gets_the_permissions_of_a_new_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    out = tmp_path / "o.parquet"
    mask = os.umask(0o022)
    try:
        code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out", str(out)],
                            capsys)
    finally:
        os.umask(mask)
    assert code == 0, err
    assert out.stat().st_mode & 0o777 == 0o644


def test_an_out_that_is_a_folder_is_refused_and_nothing_is_left_behind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    (tmp_path / "data").mkdir()
    before = files(tmp_path)
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "data")], capsys)
    failed(code, err, f"{tmp_path / 'data'}: --out is a folder")
    assert files(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "t.csv"]


def test_an_out_that_is_not_a_regular_file_is_refused_and_left_in_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out", str(fifo)], capsys)
    failed(code, err, f"{fifo}: --out exists and is not a regular file")
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "t.csv"]


def desk_env() -> dict[str, str]:
    """The environment of a `desk` process started by a test: this checkout's desk first."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH",
                                                                                   "")])}


def desk_process(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`desk ARGV` in a process of its own, stopped after a minute: a command that waits on a
    fifo fails its test instead of stalling the suite."""
    return subprocess.run([sys.executable, "-m", "desk", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, env=desk_env())


@pytest.mark.parametrize("command", ["import", "inspect", "replay", "run", "bench"])
def test_a_fifo_given_as_data_is_refused_at_once_naming_it(command: str, tmp_path: Path) -> None:
    """Opening a fifo blocks until something writes to it: desk would wait for ever."""
    fifo = tmp_path / "feed.parquet"
    os.mkfifo(fifo)
    (tmp_path / "s.toml").write_text('[[data.files]]\npath = "feed.parquet"\nkind = "mixed"\n'
                                      '[[instruments]]\nsymbol = "X"\n')
    argv = {"import": ["data", "import", str(fifo), "--format", "parquet", "--kind", "trade",
                       "--out", str(tmp_path / "o.parquet")],
            "inspect": ["data", "inspect", str(fifo)], "replay": ["data", "replay", str(fifo)],
            "run": ["run", str(tmp_path / "s.toml"), "--out", "out"],
            "bench": ["bench", "--data", str(fifo), "--dir", "bench"]}[command]
    done = desk_process(argv, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{fifo}: not a regular file (a fifo)" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.parquet", "s.toml"]


def _partial_size(folder: Path) -> int:
    """Bytes written so far to the import's temporary file in `folder` (0 until it has rows)."""
    total = 0
    for path in folder.glob(".*.partial"):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def test_an_import_ended_by_sigterm_removes_its_partial_file_as_ctrl_c_does(
        tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("".join(f"{1_700_000_000 + i},{100 + i % 7}.5,{1 + i % 5}\n"
                              for i in range(100_000)))
    # the file a hundred times: ten million rows, far more than are written when the signal comes
    process = subprocess.Popen(
        [sys.executable, "-m", "desk", "data", "import", *[str(source)] * 100, *CSV_TRADE,
         "--sort", "--out", str(tmp_path / "o.parquet")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=desk_env())
    try:
        deadline = time.monotonic() + 60
        while _partial_size(tmp_path) == 0:  # rows are being written
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the import wrote nothing in a minute"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_full_disk_is_one_line_naming_the_output_and_leaves_no_partial_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = trades_csv(tmp_path / "t.csv")
    out = tmp_path / "o.parquet"

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space "
                                    "left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out", str(out)], capsys)
    failed(code, err, f"{out}: cannot write: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    assert source.read_text() == TRADES


# --- options -------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "value"), [("--price-scale", "0"), ("--price-scale", "-1"),
                                             ("--price-scale", "nan"), ("--price-scale", "inf"),
                                             ("--size-scale", "-1")])
def test_a_scale_that_is_not_positive_and_finite_is_refused(
        flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, f"{flag}={value}", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{flag}: ", "is not a positive finite number")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.parametrize(("value", "said"), [
    (";;", "';;' is 2 characters; give one character"), ("", "'' is empty; give one character"),
    ("\\x", "is not a character or an escape"), ("§", "cannot separate CSV fields"),
    ('"', "cannot separate CSV fields"), ("\\n", "cannot separate CSV fields")])
def test_a_delimiter_that_is_not_one_character_is_refused_naming_the_option(
        value: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--delimiter", value,
                         "--out", str(tmp_path / "o.parquet")], capsys)
    failed(code, err, "desk: --delimiter: ", said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_tab_delimiter_is_given_as_an_escape(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.tsv"
    source.write_text(TRADES.replace(",", "\t"))
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--delimiter", "\\t",
                         "--out", str(tmp_path / "o.parquet")], capsys)
    assert code == 0, err
    assert pq.read_table(tmp_path / "o.parquet").column("size").to_pylist() == [1, 2, 3, 4, 5]


def test_a_field_mapped_twice_is_refused_not_the_last_mapping_taken(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--map", "size=1",
                         "--out", str(tmp_path / "o.parquet")], capsys)
    failed(code, err, "desk: --map: size mapped twice ('2' and '1')")


def test_latin1_text_and_a_header_naming_a_column_twice_are_one_line_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_bytes(b"ts,instrument,price,size\n1700000000,ACME,100.5,1\n"
                       b"1700000001,ACM\xc9,100.5,1\n")
    options = ["--format", "csv", "--kind", "trade", "--ts-unit", "s"]
    code, _, err = desk(["data", "import", str(source), *options, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"desk: {source}:3: column 'instrument' (desk field 'instrument'): not "
                      "UTF-8 text: b'ACM\\xc9'; save the file as UTF-8")
    source.write_text("ts,price,price,size,instrument\n1700000000,100.5,100.5,1,ACME\n")
    code, _, err = desk(["data", "import", str(source), *options, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"desk: {source}: column 'price' appears twice (columns 2, 3)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_bar_interval_beyond_a_year_is_refused_as_an_option(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    code, _, err = desk(["data", "import", str(source), "--format", "csv", "--no-header",
                         "--kind", "bar", "--instrument", "X", "--map",
                         "ts=0,open=1,high=1,low=1,close=1", "--ts-unit", "s", "--bar-stamp",
                         "open", "--interval", "300000d", "--out", str(tmp_path / "o.parquet")],
                        capsys)
    failed(code, err, "--interval: '300000d' is longer than 366 days")


@pytest.mark.parametrize("spelled", ["apart", "joined"])
@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--interval", "-1m", "--interval: '-1m' must be a positive duration"),
    ("--price-scale", "-1e-4", "--price-scale: -0.0001 is not a positive finite number"),
    ("--size-scale", "-.5", "--size-scale: -0.5 is not a positive finite number"),
])
def test_an_import_option_given_a_negative_value_says_what_is_wrong_with_the_value(
        flag: str, value: str, says: str, spelled: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    option = [flag, value] if spelled == "apart" else [f"{flag}={value}"]
    code, _, err = desk(["data", "import", str(source), "--format", "csv", "--no-header",
                         "--kind", "bar", "--instrument", "X", "--map",
                         "ts=0,open=1,high=1,low=1,close=1", "--ts-unit", "s", "--bar-stamp",
                         "open", "--interval", "1m", *option, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, says)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.parametrize("option", [["--gap", "-1m"], ["--gap=-1m"]])
def test_inspect_with_a_negative_gap_says_the_gap_must_be_positive(
        option: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.parquet"
    assert desk(["data", "import", str(trades_csv(tmp_path / "t.csv")), *CSV_TRADE, "--out",
                 str(out)], capsys)[0] == 0
    code, _, err = desk(["data", "inspect", str(out), *option], capsys)
    failed(code, err, "--gap: '-1m' must be zero or a positive duration")


def test_a_bar_restamped_beyond_the_storable_times_names_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "b.csv"
    source.write_text("1,1\n9223372036,1\n")  # the second bar's close is after 2262
    code, _, err = desk(["data", "import", str(source), "--format", "csv", "--no-header",
                         "--kind", "bar", "--instrument", "X", "--map",
                         "ts=0,open=1,high=1,low=1,close=1", "--ts-unit", "s", "--bar-stamp",
                         "open", "--interval", "300d", "--out", str(tmp_path / "o.parquet")],
                        capsys)
    failed(code, err, f"{source}:2: column 'f0'", "not a time desk can store")


# --- times out of range ---------------------------------------------------------------


def test_a_binance_receive_time_out_of_range_names_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    trade = {"stream": "btcusdt@trade", "data": {"e": "trade", "E": 1, "T": 1, "s": "BTCUSDT",
                                                 "p": "1.5", "q": "1", "m": False}}
    source.write_text(f"1 {json.dumps(trade)}\n99999999999999999999999 {json.dumps(trade)}\n")
    code, _, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:2: time ", "outside the times desk can store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.txt"]


def test_a_binance_stream_update_id_beyond_64_bits_names_its_line_not_the_last_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    snapshot = {"lastUpdateId": 10, "bids": [["100", "1"]], "asks": [["101", "1"]]}

    def diff(first: int, last: int) -> dict[str, object]:
        return {"stream": "btcusdt@depth", "data": {
            "e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last,
            "b": [["100", "2"]], "a": []}}

    lines = [diff(9, 11), snapshot, diff(12, 2**64), diff(2**64 + 1, 2**64 + 2),
             diff(2**64 + 3, 2**64 + 4)]
    source.write_text("".join(f"{i + 1} {json.dumps(m)}\n" for i, m in enumerate(lines)))
    code, _, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:3: update id {2**64} does not fit desk's 64-bit update ids")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.txt"]


@pytest.mark.parametrize(("row", "says"), [
    ("BTCUSDT,1667346579146,1,18446744073709551616,b,set,20377.0,1,5", "update id"),
    ("BTCUSDT,1667346579146,1,6,b,set,20377.0,1,-9223372036854775809", "previous update id"),
])
def test_a_binance_depth_csv_update_id_beyond_64_bits_names_its_line(
        row: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "BTCUSDT-depth.csv"
    source.write_text("symbol,timestamp,first_update_id,last_update_id,side,update_type,price,"
                      "qty,pu\nBTCUSDT,1667346579146,1,5,b,snap,20377.0,1,0\n" + row + "\n"
                      + "BTCUSDT,1667346579147,7,8,a,set,20378.0,1,6\n" * 3)
    code, _, err = desk(["data", "import", str(source), "--format", "binance-depth", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:3: {says} ", "does not fit desk's 64-bit update ids")


def test_a_tardis_exchange_time_out_of_range_names_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "trades.csv"
    source.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                      "bitmex,XBTUSD,1583020803145000,1583020803307160,a,sell,8531.5,2\n"
                      "bitmex,XBTUSD,99999999999999999999,1583020803307161,b,sell,8531.5,1\n")
    code, _, err = desk(["data", "import", str(source), "--format", "tardis", "--clock",
                         "exchange", "--out", str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:3: time ", "outside the times desk can store")


@pytest.mark.parametrize("year", ["2300", "1500"])
def test_a_csv_time_out_of_range_names_its_line(
        year: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text(f"ts,price,size\n2020-01-01T00:00:00Z,5,1\n{year}-01-01T00:00:00Z,5,1\n")
    code, _, err = desk(["data", "import", str(source), "--format", "csv", "--kind", "trade",
                         "--instrument", "X", "--out", str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:3: column 'ts': '{year}-01-01T00:00:00Z' is not a time "
                      "desk can store")


def test_numeric_times_that_overflow_in_nanoseconds_name_their_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text("1,5,1\n99999999999,5,1\n")
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:2: column 'f0': 99999999999 is not a time desk can store",
           "--ts-unit s")


def test_a_lobster_file_name_with_a_date_that_is_no_date_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = tmp_path / "GOOG_2012-13-45_34200000_57600000_message_1.csv"
    message.write_text("34200.0,1,1,100,5800000,1\n")
    (tmp_path / "GOOG_2012-13-45_34200000_57600000_orderbook_1.csv").write_text(
        "5800100,100,5800000,200\n")
    code, _, err = desk(["data", "import", str(message), "--format", "lobster", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{message}: the date in the file name, '2012-13-45', is not a date")


# --- values desk run refuses ------------------------------------------------------------


def test_csv_prices_and_sizes_desk_run_refuses_are_kept_and_reported_by_import_and_inspect(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text("1,5,1\n2,-5,1\n3,0,1\n4,1e400,2\n5,5,-1\n6,5,1\n")
    out = tmp_path / "o.parquet"
    code, summary, err = desk(["data", "import", str(source), *CSV_TRADE, "--out", str(out)],
                              capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "price that is not positive and finite" in text and f"{source}:2: price -5.0" in text
    assert "negative or non-finite size" in text and f"{source}:5: size -1.0" in text
    assert "problems │ none" not in text
    assert pq.read_table(out).num_rows == 6  # kept: the session decides with data.on_bad
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err
    report = " ".join(report.split())
    assert "3 rows with a price not positive and finite, 1 with a negative" in report
    assert "first: row 2" in report


def test_crossed_csv_quotes_are_kept_and_reported_by_import_as_inspect_counts_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.csv"
    source.write_text("ts,bid,bid_size,ask,ask_size\n1,10,1,11,1\n2,10,1,10,1\n3,12,1,11,1\n"
                      "4,10,1,11,1\n5,13,2,12.5,1\n")
    out = tmp_path / "o.parquet"
    code, summary, err = desk(["data", "import", str(source), "--format", "csv", "--kind",
                               "quote", "--instrument", "X", "--out", str(out)], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "quotes with the bid above the ask" in text and ": 2 (first:" in text
    assert f"{source}:4: bid 12.0 > ask 11.0" in text  # the header is line 1; bid == ask is not
    assert pq.read_table(out).num_rows == 5  # kept: the session decides with data.on_bad
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err
    assert "0 book events, 2 quotes" in " ".join(report.split())


def test_bars_that_are_no_bars_are_reported_by_import_and_inspect_as_the_replay_refuses_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "b.csv"
    source.write_text("ts,open,high,low,close\n60,10,11,9,10.5\n120,10,9,11,10\n180,12,11,9,10\n"
                      "240,10,11,9,8\n300,10,11,9,11\n")
    out = tmp_path / "o.parquet"
    code, summary, err = desk(["data", "import", str(source), "--format", "csv", "--kind", "bar",
                               "--instrument", "X", "--bar-stamp", "close", "--ts-unit", "s",
                               "--out", str(out)], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "bars with the high below the low, or the open or close outside that range" in text
    assert f": 3 (first: {source}:3: open 10.0 high 9.0 low 11.0 close 10.0)" in text
    assert pq.read_table(out).num_rows == 5  # kept: the session decides with data.on_bad
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err
    assert ("bad bars │ 3 bars with the high below the low, or the open or close outside that "
            "range "
            "(first: row 2;") in " ".join(report.split())
    code, _, err = desk(["data", "replay", str(out)], capsys)
    failed(code, err, f"{out}: row 2: high: bar high below its low: 9.0 < 11.0")
    for row, field, words in ((3, "open", "12.0 not within 9.0–11.0"),
                              (4, "close", "8.0 not within 9.0–11.0")):
        table = pq.read_table(out)
        kept = table.filter(pa.array([i in (0, row - 1) for i in range(table.num_rows)]))
        single = tmp_path / f"row{row}.parquet"
        pq.write_table(kept, single)
        code, _, err = desk(["data", "replay", str(single)], capsys)
        failed(code, err, f"{single}: row 2: {field}: bar {field} outside its low–high range: "
                          f"{words}")


def test_a_csv_nan_is_kept_as_nan_and_reported_not_read_as_an_empty_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.csv"
    source.write_text("ts,bid,bid_size,ask,ask_size\n1,10,1,11,1\n2,10,NaN,11,1\n"
                      "3,nan,1,11,1\n4,10,NA,11,1\n")
    out = tmp_path / "o.parquet"
    code, summary, err = desk(["data", "import", str(source), "--format", "csv", "--kind",
                               "quote", "--instrument", "X", "--out", str(out)], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert f"{source}:3: bid_size nan" in text and f"{source}:4: bid nan" in text
    table = pq.read_table(out)
    sizes, bids = table.column("bid_size").to_pylist(), table.column("bid").to_pylist()
    assert sizes[1] != sizes[1] and bids[2] != bids[2]  # NaN, not 0 nor missing
    assert sizes[3] == 0.0  # a null word is a size the source does not have
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err
    assert "rows desk run refuses │ 2 rows" in " ".join(report.split())
    trades = tmp_path / "t.csv"
    trades.write_text("ts,price,size\n1,nan,1\n")
    code, summary, err = desk(["data", "import", str(trades), "--format", "csv", "--kind",
                               "trade", "--instrument", "X", "--out", str(out)], capsys)
    assert code == 0, err
    assert f"{trades}:2: price nan" in " ".join(summary.split())
    trades.write_text("ts,price,size\n1,1,1\nnan,1,1\n")
    code, _, err = desk(["data", "import", str(trades), "--format", "csv", "--kind", "trade",
                         "--instrument", "X", "--ts-unit", "s", "--out", str(out)], capsys)
    failed(code, err, f"{trades}:3: column 'ts': nan is not a time")


def test_rows_missing_what_their_kind_needs_are_reported_by_import_and_inspect(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quotes = tmp_path / "q.csv"
    quotes.write_text("ts,bid,ask\n1,10,11\n2,,11\n3,10,11\n")
    book = tmp_path / "b.csv"
    book.write_text("ts,side,price,size\n1,bid,10,1\n2,xyz,11,1\n3,,12,1\n4,ask,13,1\n")
    for source, kind, words in ((quotes, "quote", f"{quotes}:3: no bid (a quote row needs it)"),
                                (book, "book", f"{book}:3)")):
        out = tmp_path / f"{kind}.parquet"
        code, summary, err = desk(["data", "import", str(source), "--format", "csv", "--kind",
                                   kind, "--instrument", "X", "--out", str(out)], capsys)
        assert code == 0, err
        text = " ".join(summary.split())
        assert "problems │ none" not in text and words in text
        code, report, err = desk(["data", "inspect", str(out)], capsys)
        assert code == 0, err
        report = " ".join(report.split())
        count = "1 row (missing value: 1" if kind == "quote" else \
            "2 rows (a book level's side must be bid or ask: 2"
        assert f"rows desk run refuses │ {count}; first: {out}: row 2:" in report
        code, _, err = desk(["data", "replay", str(out)], capsys)
        failed(code, err, f"{out}: row 2:")


@pytest.mark.parametrize("sort", [False, True])
def test_rows_repeated_exactly_are_reported_by_import_as_the_replay_refuses_them(
        sort: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.csv"
    rows = ["1,10,1,11,1", "2,10,1,11,1", "2,10,1,11,1", "3,10,1,11,1"]
    if sort:  # the repeat is found in the rows as sorted, as the replay reads them
        rows = ["2,10,1,11,1", "1,10,1,11,1", "3,10,1,11,1", "2,10,1,11,1"]
    source.write_text("ts,bid,bid_size,ask,ask_size\n" + "\n".join(rows) + "\n")
    out = tmp_path / "o.parquet"
    code, summary, err = desk(["data", "import", str(source), "--format", "csv", "--kind",
                               "quote", "--instrument", "X", "--out", str(out),
                               *(["--sort"] if sort else [])], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "rows that repeat an earlier row exactly" in text
    assert f": 1 (first: {out}: row 3)" in text
    assert pq.read_table(out).num_rows == 4  # kept: the session decides
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert "rows desk run refuses │ 1 row (exact duplicate of an earlier row: 1" in \
        " ".join(report.split())
    code, _, err = desk(["data", "replay", str(out)], capsys)
    failed(code, err, f"{out}: row 3: ts: exact duplicate of an earlier row")


def test_inspect_counts_the_rows_the_replay_refuses_whatever_the_rule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.parquet"
    quote = {"instrument": "X", "kind": "quote", "bid": 1.0, "bid_size": 1.0, "ask": 2.0,
             "ask_size": 1.0}
    level = {"instrument": "X", "kind": "book_delta", "price": 1.0, "size": 1.0}
    rows = [{"ts": 1, **quote}, {"ts": 2, **quote}, {"ts": 2, **quote},  # a repeated quote
            {"ts": 3, **level, "side": None}, {"ts": 4, **level, "side": 1},
            {"ts": 5, **quote, "kind": "tick"}]
    pq.write_table(pa.Table.from_pylist([{**dict.fromkeys(SCHEMA.names), **row} for row in rows],
                                        schema=SCHEMA), out)
    code, report, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err  # a book level without a side is no crash
    report = " ".join(report.split())
    assert "rows desk run refuses │ 3 rows" in report
    for words in ("exact duplicate of an earlier row: 1", "missing value: 1", "unknown kind: 1",
                  f"first: {out}: row 3: ts: exact duplicate"):
        assert words in report
    code, _, err = desk(["data", "replay", str(out)], capsys)
    failed(code, err, f"{out}: row 3: ts: exact duplicate of an earlier row")


def test_a_crossed_binance_book_ticker_is_reported_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    tickers = [{"stream": "btcusdt@bookTicker",
                "data": {"u": u, "s": "BTCUSDT", "b": b, "B": "1", "a": a, "A": "1"}}
               for u, b, a in ((1, "100", "101"), (2, "102", "101"))]
    source.write_text("".join(f"{i + 1} {json.dumps(t)}\n" for i, t in enumerate(tickers)))
    code, summary, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                               str(tmp_path / "o.parquet")], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "quotes with the bid above the ask" in text and ": 1 (first:" in text
    assert f"{source}:2: bid 102.0 > ask 101.0" in text


def test_a_binance_trade_with_a_negative_price_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    trade = {"stream": "btcusdt@trade", "data": {"e": "trade", "E": 1, "T": 1, "s": "BTCUSDT",
                                                 "p": "-3", "q": "1", "m": False}}
    source.write_text(f"1 {json.dumps(trade)}\n")
    code, summary, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                               str(tmp_path / "o.parquet")], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert "price that is not positive and finite" in text and f"{source}:1: price -3.0" in text


# --- Binance messages that are not what they should be ---------------------------------


def test_a_binance_message_without_data_is_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    trade = {"stream": "btcusdt@trade", "data": {"e": "trade", "E": 1, "T": 1, "s": "BTCUSDT",
                                                 "p": "3", "q": "1", "m": False}}
    source.write_text(f"1 {json.dumps(trade)}\n2 {json.dumps({'stream': 'x', 'data': None})}\n")
    code, summary, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                               str(tmp_path / "o.parquet")], capsys)
    assert code == 0, err
    text = " ".join(summary.split())
    assert f"stream messages without data: skipped: 1 (first: {source}:2)" in text


@pytest.mark.parametrize(("line", "what"), [("[1, 2]", "the message is a JSON list"),
                                            ('{"stream": "x@trade", "data": [1]}',
                                             "the message's data is a JSON list")])
def test_a_binance_message_that_is_not_an_object_names_its_line(
        line: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "rec.txt"
    source.write_text(f"1 {line}\n")
    code, _, err = desk(["data", "import", str(source), "--format", "binance", "--out",
                         str(tmp_path / "o.parquet")], capsys)
    failed(code, err, f"{source}:1: {what}, expected an object")


# --- empty sources ----------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "text"), [
    ("binance", ""),
    ("tardis", "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")])
def test_an_empty_source_is_named_not_the_temporary_output(
        fmt: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "src.txt"
    source.write_text(text)
    code, _, err = desk(["data", "import", str(source), "--format", fmt, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    line = failed(code, err, f"desk: {source}: nothing to import")
    assert ".partial" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.txt"]


# --- where a problem is -------------------------------------------------------------------


def test_rows_out_of_order_across_a_source_given_twice_name_the_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = trades_csv(tmp_path / "t.csv")
    code, _, err = desk(["data", "import", str(source), str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    line = failed(code, err, f"desk: {source}:1: 1 row earlier than the row before",
                  "--sort")
    assert "of the import" not in line


def test_a_header_given_as_data_says_to_drop_no_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text("ts,price,size\n" + TRADES)
    code, _, err = desk(["data", "import", str(source), *CSV_TRADE, "--out",
                         str(tmp_path / "o.parquet")], capsys)
    line = failed(code, err, f"{source}:1: the first line looks like a header", "--no-header")
    assert "--ts-unit" not in line


# --- replay and inspect on files that are not desk's ---------------------------------------


def _not_desk_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (a file replay and inspect must refuse, what the line must say)."""
    good = folder / "good.parquet"
    pq.write_table(pa.table({"ts": pa.array([1, 2], pa.int64()), "instrument": ["X", "X"],
                             "kind": ["trade", "trade"], "price": [1.0, 2.0],
                             "size": [1.0, 1.0]}), good)
    cut = folder / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:100])
    empty = folder / "empty.parquet"
    empty.write_bytes(b"")
    csv = folder / "t.csv"
    csv.write_text("ts,instrument,kind,price,size\n1,X,trade,1,1\n")
    journal = folder / "journal.arrow"
    with ipc.new_file(journal, pa.schema([("seq", pa.int64())])) as writer:
        writer.write_table(pa.table({"seq": [1]}))
    raw = folder / "raw.parquet"
    pq.write_table(pa.table({"a": [1]}), raw)
    text_ts = folder / "text_ts.parquet"
    pq.write_table(pa.table({"ts": ["1", "2"], "instrument": ["X", "X"],
                             "kind": ["trade", "trade"], "price": [1.0, 2.0],
                             "size": [1.0, 1.0]}), text_ts)
    (folder / "dir").mkdir()
    return {
        "cut": (cut, "a damaged Parquet file: it begins as Parquet but its end is missing or broken"
                     " (a copy, download or write cut short?); copy it again, or import its source "
                     "again with `desk data import`"),
        "empty": (empty, "an empty file, not a Parquet file"),
        "csv": (csv, "not a Parquet file"), "journal": (journal, "not a Parquet file"),
        "raw": (raw, "missing columns ts, instrument, kind"),
        "text_ts": (text_ts, "column 'ts' is string, not int64 nanoseconds"),
        "dir": (folder / "dir", "is a folder"),
        "missing": (folder / "nonexist.parquet", "no such file"),
    }


@pytest.mark.parametrize("verb", ["replay", "inspect"])
@pytest.mark.parametrize("name", ["cut", "empty", "csv", "journal", "raw", "text_ts", "dir",
                                  "missing"])
def test_replay_and_inspect_refuse_what_is_not_a_desk_file_in_one_line(
        verb: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, expected = _not_desk_files(tmp_path)[name]
    code, out, err = desk(["data", verb, str(path)], capsys)
    failed(code, err, f"desk: {path}: {expected}" if name != "raw" else f"desk: {path}: ",
           expected)
    assert out == ""


def test_a_bad_row_stops_replay_with_advice_for_a_replay(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text("1,5,1\n2,-5,1\n")
    out = tmp_path / "o.parquet"
    assert desk(["data", "import", str(source), *CSV_TRADE, "--out", str(out)], capsys)[0] == 0
    code, _, err = desk(["data", "replay", str(out)], capsys)
    line = failed(code, err, f"{out}: row 2: price: not a positive finite price",
                  "the replay stops at the first bad row")
    assert 'set data.on_bad = "skip" to skip' not in line


def test_names_from_the_file_are_printed_as_written_not_as_markup(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an instrument named `[/]x` failed import and inspect with exit 1 (Rich read it as markup)
    src = tmp_path / "trades.csv"
    src.write_text(TRADES)
    out = tmp_path / "trades.parquet"
    argv = ["data", "import", str(src), "--out", str(out), *CSV_TRADE]
    argv[argv.index("X")] = "[/]x"
    code, printed, err = desk(argv, capsys)
    assert code == 0, err
    assert "[/]x (5)" in printed
    code, printed, err = desk(["data", "inspect", str(out)], capsys)
    assert code == 0, err
    assert "[/]x (5)" in printed
