"""Data checks of market-data files: what a bad row is, where it is, and what skipping keeps."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desk.config import FileSource
from desk.data.files import FileReader
from desk.errors import DataError
from desk.events import BookSnapshot, Quote, Trade

T0 = 1_704_205_800_000_000_000
S = 1_000_000_000


def read(path: Path, kind: str = "trade", on_bad: str = "fail", batch_rows: int = 65_536,
         **source: Any) -> tuple[list[Any], list[str], FileReader]:
    """Every event of the file and every data-quality message the reader reported."""
    issues: list[str] = []
    reader = FileReader(FileSource(path=str(path), kind=kind, **source), path, "ACME", {"ACME"},
                        on_bad, batch_rows, lambda ts, instrument, message: issues.append(message))
    events = [event for batch in reader.batches() for event in batch]
    return events, issues, reader


def csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def failure(path: Path, **kwargs: Any) -> str:
    with pytest.raises(DataError) as caught:
        read(path, **kwargs)
    return str(caught.value)


def test_skipping_a_row_without_a_timestamp_keeps_the_good_row_after_it(tmp_path: Path) -> None:
    path = csv(tmp_path / "t.csv", "ts,price,size", f"{T0},10,1", ",10,1", f"{T0 + 2 * S},11,1",
               f"{T0 + 3 * S},12,1")
    events, issues, reader = read(path, on_bad="skip")
    assert [e.price for e in events] == [10, 11, 12]
    assert issues == ["t.csv:3: ts: missing timestamp: 1 row skipped"]
    assert reader.stats.skipped == 1


def test_skipping_out_of_order_rows_measures_them_against_the_rows_kept(tmp_path: Path) -> None:
    # row 3 jumps ahead but has no price: it is dropped, so it cannot push rows 4-5 out of order
    path = csv(tmp_path / "t.csv", "ts,price,size", f"{T0},10,1", f"{T0 + 9 * S},,1",
               f"{T0 + 2 * S},11,1", f"{T0 + S},12,1", f"{T0 + 3 * S},13,1")
    events, issues, _ = read(path, on_bad="skip")
    assert [e.price for e in events] == [10, 11, 13]
    assert issues[0] == "t.csv:3: price: missing value: 1 row skipped"
    assert issues[1].startswith("t.csv:5: ts: earlier than a row before it (out of order)")


def test_a_failure_names_the_line_and_counts_only_what_this_batch_holds(tmp_path: Path) -> None:
    rows = [f"{T0 + i * S},{-1 if i % 3 == 0 else 10},1" for i in range(1, 13)]
    path = csv(tmp_path / "t.csv", "ts,price,size", *rows)
    message = failure(path)
    assert message.startswith(f"{path}:4: price: not a positive finite price: -1.0 (4 of this "
                              "batch's 12 rows share it: lines 4, 7, 10, 13);")


def test_a_bar_outside_its_own_range_is_a_bad_row_each_told_once(tmp_path: Path) -> None:
    """A bar whose high is below its low has its open or close outside too: that is one problem,
    told once; a bar whose open or close lies outside its low–high range is another."""
    path = csv(tmp_path / "b.csv", "ts,open,high,low,close", f"{T0},10,11,9,10",
               f"{T0 + S},10,9,11,10", f"{T0 + 2 * S},12,11,9,10", f"{T0 + 3 * S},10,11,9,8",
               f"{T0 + 4 * S},9,11,9,11")
    events, issues, reader = read(path, kind="bar", on_bad="skip")
    assert [(e.open, e.close) for e in events] == [(10, 10), (9, 11)]  # the bounds are in range
    assert issues == [
        "b.csv:3: high: bar high below its low: 9.0 < 11.0: 1 row skipped",
        "b.csv:4: open: bar open outside its low–high range: 12.0 not within 9.0–11.0: "
        "1 row skipped",
        "b.csv:5: close: bar close outside its low–high range: 8.0 not within 9.0–11.0: "
        "1 row skipped"]
    assert reader.stats.skipped == 3
    assert failure(path, kind="bar").startswith(f"{path}:3: high: bar high below its low")


def test_parquet_rows_are_counted_from_one_across_batches(tmp_path: Path) -> None:
    prices = [10.0] * 7 + [float("nan")]
    table = pa.table({"ts": [T0 + i * S for i in range(8)], "price": prices, "size": [1.0] * 8})
    pq.write_table(table, tmp_path / "t.parquet")
    message = failure(tmp_path / "t.parquet", batch_rows=3)
    assert message.startswith(f"{tmp_path / 't.parquet'}: row 8: price: not a positive finite "
                              "price: nan; set data.on_bad")


def test_csv_line_numbers_count_blank_lines_and_lines_set_aside(tmp_path: Path) -> None:
    path = csv(tmp_path / "t.csv", "ts,price,size", f"{T0},10,1", "", f"{T0 + S},10",
               f"{T0 + 2 * S},10,1", f"{T0 + 3 * S},10,-1")
    assert failure(path).startswith(f"{path}:4: expected 3 columns, found 2")
    events, issues, _ = read(path, on_bad="skip")
    assert len(events) == 2
    assert issues == ["t.csv:4: expected 3 columns, found 2: 1 line skipped",
                      "t.csv:6: size: negative or not finite size: -1.0: 1 row skipped"]


def test_a_quoted_value_over_two_lines_moves_the_line_numbers_of_the_rows_after_it(
        tmp_path: Path) -> None:
    path = csv(tmp_path / "t.csv", "ts,price,size,note", f'{T0},10,1,"opening', 'auction"',
               f"{T0 + S},10,1,x", f"{T0 + 2 * S},-1,1,y")
    assert failure(path).startswith(f"{path}:5: price: not a positive finite price: -1.0")
    events, issues, _ = read(path, on_bad="skip")
    assert len(events) == 2
    assert issues == ["t.csv:5: price: not a positive finite price: -1.0: 1 row skipped"]


def test_lines_set_aside_after_a_tall_row_resume_at_the_right_line(tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    """After a line that does not split, the file is read by hand from the line where pyarrow
    stopped: rows over two lines before it must not make it read a line twice or skip one."""
    monkeypatch.setattr("desk.data.csv_rows.CHUNK_LINES", 4)
    rows = [f'{T0},10,1,"a', 'b"', f"{T0 + S},11,1,c", f"{T0 + 2 * S},12", f"{T0 + 3 * S},13,1,d",
            f'{T0 + 4 * S},14,1,"e', 'f"', f"{T0 + 5 * S},15,1,g", f"{T0 + 6 * S},-1,1,h"]
    path = csv(tmp_path / "t.csv", "ts,price,size,note", *rows)
    events, issues, _ = read(path, on_bad="skip")
    assert [event.price for event in events] == [10, 11, 13, 14, 15]
    assert issues == ["t.csv:5: expected 4 columns, found 2: 1 line skipped",
                      "t.csv:10: price: not a positive finite price: -1.0: 1 row skipped"]


def test_values_a_later_block_types_otherwise_than_the_first_are_read(tmp_path: Path,
                                                                     monkeypatch: Any) -> None:
    """pyarrow types each column by the first block: whole sizes and an empty note there must
    not make a later `0.5` or a note fail; a later word in the price column is one bad row."""
    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    rows = [f"{T0 + i * S},{10 + i % 3},{1 + i % 2}," for i in range(100)]
    rows += [f"{T0 + 100 * S},10.5,0.5,late note", f"{T0 + 101 * S},abc,1,",
             f"{T0 + 102 * S},11,2,"]
    path = csv(tmp_path / "t.csv", "ts,price,size,note", *rows)
    events, issues, _ = read(path, on_bad="skip")
    assert [(event.price, event.size) for event in events[-2:]] == [(10.5, 0.5), (11, 2)]
    assert len(events) == 102
    assert issues == ["t.csv:103: price: not a number: 'abc': 1 row skipped"]
    assert failure(path).startswith(f"{path}:103: price: not a number: 'abc'")


def test_epoch_seconds_that_turn_fractional_after_the_first_block_are_read_as_times(
        tmp_path: Path, monkeypatch: Any) -> None:
    """The time column is read as text from the first fraction on; its numbers are still
    times in `ts_unit`, and only a value that is no time is a bad row."""
    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    start = T0 // S
    rows = [f"{start + i},10,1" for i in range(100)]
    rows += [f"{start + 100}.5,10,1", f"{start + 101},10,1", f"{start + 102}.5,10,1",
             "later,10,1", f"{start + 103},10,1"]
    path = csv(tmp_path / "t.csv", "ts,price,size", *rows)
    events, issues, _ = read(path, on_bad="skip", ts_unit="s")
    assert [event.ts for event in events[-4:]] == [T0 + 100 * S + S // 2, T0 + 101 * S,
                                                   T0 + 102 * S + S // 2, T0 + 103 * S]
    assert len(events) == 104
    assert issues == ["t.csv:105: ts: not a time: 'later': 1 row skipped"]


def test_a_number_too_large_for_a_time_in_its_unit_is_a_bad_row_named_by_its_line(
        tmp_path: Path, monkeypatch: Any) -> None:
    """A time in milliseconds among seconds, after the first block: a bad row like any other,
    not a file whose time column cannot be read, and a float time too."""
    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    start = T0 // S
    rows = [f"{start + i},10,1" for i in range(100)]
    rows += [f"{(start + 100) * 1000},10,1", f"{start + 101},10,1", f"{start + 102}e12,10,1",
             f"{start + 103},10,1"]
    path = csv(tmp_path / "t.csv", "ts,price,size", *rows)
    message = failure(path, ts_unit="s")
    assert message.startswith(f"{path}:102: ts: not a time desk can store (1677-09-21 to "
                              "2262-04-11 UTC; is ts_unit right?): ")
    events, issues, reader = read(path, on_bad="skip", ts_unit="s")
    assert len(events) == 102 and reader.stats.skipped == 2
    assert issues[0].startswith("t.csv:102: ts: not a time desk can store")
    assert issues[0].endswith(": 2 rows skipped")  # the float time of line 104 too


@pytest.mark.parametrize("zone", ["", "Z"])
def test_iso_times_in_a_block_read_as_text_are_times_and_only_the_bad_one_is_skipped(
        tmp_path: Path, monkeypatch: Any, zone: str) -> None:
    """A time that is no time, after the first block, makes its block text: the ISO times
    around it, naive (read as UTC) or with a zone, are still times, not bad rows."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    start = datetime.fromtimestamp(T0 // S, UTC).replace(tzinfo=None)
    rows = [f"{(start + timedelta(seconds=i)).isoformat(sep=' ')}{zone},10,1" for i in range(120)]
    rows[110] = "later,10,1"
    path = csv(tmp_path / "t.csv", "ts,price,size", *rows)
    events, issues, _ = read(path, on_bad="skip")
    assert [event.ts for event in events] == [T0 + i * S for i in range(120) if i != 110]
    assert issues == ["t.csv:112: ts: not a time: 'later': 1 row skipped"]


def test_a_header_after_a_byte_order_mark_names_its_columns_when_lines_are_set_aside(
        tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\ufeffts,price,size\n" f"{T0},10,1\n" f"{T0 + S},10\n" f"{T0 + 2 * S},11,1\n",
                    encoding="utf-8")
    events, issues, _ = read(path, on_bad="skip")
    assert [event.price for event in events] == [10, 11]
    assert issues == ["t.csv:3: expected 3 columns, found 2: 1 line skipped"]


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_line_set_aside_beyond_the_first_block_resumes_the_stream_after_it(
        tmp_path: Path, monkeypatch: Any, gzipped: bool) -> None:
    """The stream resumes from the byte after the lines read by hand: pyarrow's own row skipping
    reaches no further than its first block ("Could not skip initial rows")."""
    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    monkeypatch.setattr("desk.data.csv_rows.CHUNK_LINES", 8)
    rows = [f"{T0 + i * S},{10 + i % 3},1" for i in range(200)]
    rows[150] = f"{T0 + 150 * S},10"
    path = csv(tmp_path / "t.csv", "ts,price,size", *rows)
    if gzipped:
        zipped = tmp_path / "t.csv.gz"
        zipped.write_bytes(gzip.compress(path.read_bytes()))
        path = zipped
    events, issues, _ = read(path, on_bad="skip", format="csv")
    assert [event.ts for event in events] == [T0 + i * S for i in range(200) if i != 150]
    assert issues == [f"{path.name}:152: expected 3 columns, found 2: 1 line skipped"]


def test_a_value_its_column_type_does_not_fit_among_lines_read_by_hand_is_read(
        tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("desk.data.csv_rows.BLOCK", 1 << 10)
    monkeypatch.setattr("desk.data.csv_rows.CHUNK_LINES", 8)
    rows = [f"{T0 + i * S},10,1,{i}" for i in range(60)]
    rows[40] = f"{T0 + 40 * S},10"
    rows[42] = f"{T0 + 42 * S},10,1,a trade id that is no number"
    events, issues, _ = read(csv(tmp_path / "t.csv", "ts,price,size,id", *rows), on_bad="skip")
    assert len(events) == 59
    assert issues == ["t.csv:42: expected 4 columns, found 2: 1 line skipped"]


def test_lines_set_aside_together_are_told_apart_by_the_fields_they_split_into(
        tmp_path: Path) -> None:
    rows = [f"{T0 + i * S},10,1" for i in range(10)]
    rows[2], rows[5], rows[7] = f"{T0 + 2 * S},10", f"{T0 + 5 * S},10,1,x", f"{T0 + 7 * S},10"
    events, issues, _ = read(csv(tmp_path / "t.csv", "ts,price,size", *rows), on_bad="skip")
    assert len(events) == 7
    assert issues == ["t.csv:4: expected 3 columns, found 2: 2 lines skipped (lines 4, 9)",
                      "t.csv:7: expected 3 columns, found 4: 1 line skipped"]


def test_several_trades_at_one_time_are_not_duplicates_without_a_trade_id(tmp_path: Path) -> None:
    # one order filling two resting orders of one size at one price prints two identical trades
    path = csv(tmp_path / "t.csv", "ts,price,size", f"{T0},10,1", f"{T0},10,1", f"{T0},10.5,1",
               f"{T0},10,2")
    events, issues, _ = read(path)
    assert len(events) == 4 and not issues


def test_trades_with_the_same_trade_id_are_duplicates(tmp_path: Path) -> None:
    path = csv(tmp_path / "t.csv", "ts,price,size,id", f"{T0},10,1,7", f"{T0},10,1,8",
               f"{T0},10,1,7")
    assert failure(path).startswith(f"{path}:4: ts: exact duplicate of an earlier row: same "
                                    "values as line 2;")
    events, issues, _ = read(path, on_bad="skip")
    assert len(events) == 2 and issues == [
        "t.csv:4: ts: exact duplicate of an earlier row: same values as line 2: 1 row skipped"]
    assert len(read(path, duplicates="keep")[0]) == 3


def test_a_duplicate_across_a_batch_boundary_is_found(tmp_path: Path) -> None:
    table = pa.table({"ts": [T0, T0 + S, T0 + S, T0 + S], "bid": [9.0, 9.5, 9.6, 9.5],
                      "bid_size": [1.0] * 4, "ask": [10.0] * 4, "ask_size": [1.0] * 4})
    pq.write_table(table, tmp_path / "q.parquet")
    message = failure(tmp_path / "q.parquet", kind="quote", batch_rows=2)
    assert "q.parquet: row 4: ts: exact duplicate of an earlier row: same values as row 2" \
        in message


def test_a_column_no_row_fills_does_not_stop_the_duplicate_check(tmp_path: Path) -> None:
    # a mixed file of quotes only: its trade columns are empty, so they read as nulls
    header = "ts,kind,instrument,price,size,bid,bid_size,ask,ask_size"
    rows = (f"{T0},quote,ACME,,,9.9,5,10.1,5", f"{T0},quote,ACME,,,9.8,5,10.1,5")
    events, issues, _ = read(csv(tmp_path / "m.csv", header, *rows), kind="mixed")
    assert [type(e) for e in events] == [Quote, Quote] and not issues
    path = csv(tmp_path / "d.csv", header, *rows, rows[0])
    assert failure(path, kind="mixed").startswith(
        f"{path}:4: ts: exact duplicate of an earlier row: same values as line 2;")


def test_the_level_rows_of_one_book_event_are_not_duplicates(tmp_path: Path) -> None:
    path = csv(tmp_path / "m.csv", "ts,kind,instrument,side,price,size",
               f"{T0},book_snapshot,ACME,1,9.9,5", f"{T0},book_snapshot,ACME,1,9.9,5",
               f"{T0},book_snapshot,ACME,-1,10.1,5")
    events, issues, _ = read(path, kind="mixed")
    assert [type(e) for e in events] == [BookSnapshot] and not issues
    assert events[0].bids == ((9.9, 5.0),)


def test_mixed_rows_are_checked_for_what_their_own_kind_needs(tmp_path: Path) -> None:
    path = csv(tmp_path / "m.csv", "ts,kind,instrument,price,size,bid,bid_size,ask,ask_size",
               f"{T0},quote,ACME,,,9.9,5,10.1,5", f"{T0 + S},trade,ACME,,1,,,,",
               f"{T0 + 2 * S},quote,ACME,,,,5,10.1,5", f"{T0 + 3 * S},trade,ACME,10,1,,,,")
    assert failure(path, kind="mixed").startswith(
        f"{path}:3: price: missing value: a trade row needs it;")
    events, issues, _ = read(path, kind="mixed", on_bad="skip")
    assert [type(e) for e in events] == [Quote, Trade]
    assert issues == ["m.csv:3: price: missing value: a trade row needs it: 1 row skipped",
                      "m.csv:4: bid: missing value: a quote row needs it: 1 row skipped"]


def test_a_mixed_file_without_a_column_its_rows_need_fails_whatever_on_bad_says(
        tmp_path: Path) -> None:
    path = csv(tmp_path / "m.csv", "ts,kind,instrument,price,size", f"{T0},trade,ACME,10,1",
               f"{T0 + S},bar,ACME,,")
    for on_bad in ("fail", "skip"):
        assert failure(path, kind="mixed", on_bad=on_bad) == (
            f"{path}:3: open: a bar row needs this column, and the file has none (it has: ts, "
            "kind, instrument, price, size)")


def test_a_risk_limit_row_in_a_parquet_file_is_journaled_with_its_row(tmp_path: Path) -> None:
    table = pa.table({"ts": [T0, T0 + S], "kind": ["trade", "risk_limit"],
                      "instrument": ["ACME", None], "price": [10.0, None], "size": [1.0, None],
                      "rule": [None, "max_leverage"], "param": [None, "limit"],
                      "value": [None, "3"]})
    pq.write_table(table, tmp_path / "m.parquet")
    events, _, _ = read(tmp_path / "m.parquet", kind="mixed")
    assert events[1].source == "data m.parquet: row 2"


def test_dates_without_a_time_of_day_say_how_to_stamp_the_bars_at_their_close(
        tmp_path: Path) -> None:
    path = csv(tmp_path / "d.csv", "ts,open,high,low,close,volume", "2024-01-02,10,11,9,10.5,100",
               "2024-01-03,10.5,12,10,11,120")
    message = failure(path, kind="bar")
    assert message.startswith(f"{path}: column 'ts': cannot read as timestamps: dates without "
                              "a time of day")
    assert "--bar-stamp open --interval 1d" in message and "\n" not in message
