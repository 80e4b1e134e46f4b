"""LOBSTER: message + orderbook files, times after midnight in New York, the date from the name."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REAL
from importing import needs_real, ns, rows, run_import

from desk.errors import DataError

GOOG = REAL / "lobster/LOBSTER_SampleFile_GOOG_2012-06-21_1"
MESSAGES = GOOG / "GOOG_2012-06-21_34200000_57600000_message_1.csv"


@needs_real
def test_goog_day_gives_every_execution_as_a_trade_and_the_top_of_book_as_quotes(
        tmp_path: Path) -> None:
    out = tmp_path / "goog.parquet"
    writer = run_import("lobster", [MESSAGES], out)
    stats = writer.stats
    assert stats.kinds["trade"] == 7_765 + 3_913  # types 4 and 5
    assert stats.min_ts == ns("2012-06-21T13:30:00.015105") + 74  # 34200.015105074 s, EDT
    assert stats.max_ts == ns("2012-06-21T19:59:59.320718") + 269  # 57599.320718269 s
    assert stats.out_of_order == 0 and not stats.problems
    got = rows(out)
    quotes = [r for r in got if r["kind"] == "quote"]
    assert all(r["bid"] < r["ask"] for r in quotes)
    assert (quotes[0]["ask"], quotes[0]["ask_size"], quotes[0]["bid"], quotes[0]["bid_size"]) == \
        (580.23, 100.0, 579.4, 496.0)
    first_trade = next(r for r in got if r["kind"] == "trade")
    # a type-4 execution of a resting buy (direction 1): the aggressor sold
    assert (first_trade["price"], first_trade["size"], first_trade["side"]) == (579.4, 4.0, -1)


@needs_real
def test_amzn_zip_is_read_in_place_and_agrees_with_its_own_messages(tmp_path: Path) -> None:
    src = REAL / "lobster/LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
    with zipfile.ZipFile(src) as archive:
        name = next(n for n in archive.namelist() if "_message_" in n)
        lines = io.TextIOWrapper(archive.open(name)).read().splitlines()
    assert len(lines) == 57_515
    executions = sum(1 for line in lines if line.split(",")[1] in ("4", "5"))
    writer = run_import("lobster", [src], tmp_path / "amzn.parquet")
    assert writer.stats.kinds["trade"] == executions
    assert dict(writer.stats.instruments).keys() == {"AMZN"}
    seconds = Decimal(lines[0].split(",")[0])  # after midnight, New York (EDT, UTC-4)
    assert writer.stats.min_ts == ns("2012-06-21T04:00:00") + int(seconds * 10**9)


def test_deeper_books_become_a_snapshot_then_the_changed_levels(tmp_path: Path) -> None:
    messages = tmp_path / "XYZ_2024-01-02_34200000_57600000_message_2.csv"
    book = tmp_path / "XYZ_2024-01-02_34200000_57600000_orderbook_2.csv"
    messages.write_text("34200.5,1,1,10,1010000,-1\n34201,3,1,10,1010000,-1\n")
    book.write_text("1010000,10,1000000,5,1020000,7,990000,3\n"
                    "1020000,7,1000000,5,9999999999,0,990000,3\n")
    out = tmp_path / "x.parquet"
    run_import("lobster", [messages], out, tz="UTC")
    got = [(r["ts"], r["kind"], r["side"], r["price"], r["size"]) for r in rows(out)]
    t0 = ns("2024-01-02T09:30:00.5")
    assert sorted(got[:4]) == sorted([(t0, "book_snapshot", -1, 101.0, 10.0),
                                      (t0, "book_snapshot", -1, 102.0, 7.0),
                                      (t0, "book_snapshot", 1, 100.0, 5.0),
                                      (t0, "book_snapshot", 1, 99.0, 3.0)])
    assert got[4:] == [(t0 + 500_000_000, "book_delta", -1, 101.0, 0.0)]


def test_a_file_name_without_the_date_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "messages.csv"
    src.write_text("34200.5,1,1,10,1010000,-1\n")
    with pytest.raises(DataError, match="the date comes from the name"):
        run_import("lobster", [src], tmp_path / "o.parquet")
