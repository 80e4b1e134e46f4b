"""Level rows become the same book events whatever the batch size: the grouping against a plain
one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.config import FileSource
from desk.data.files import FileReader
from desk.events import BookDelta, BookSnapshot, Trade

row = st.one_of(
    st.fixed_dictionaries({"kind": st.sampled_from(["book_delta", "book_delta", "book_snapshot"]),
                           "instrument": st.sampled_from(["A", "B"]),
                           "price": st.sampled_from([99.0, 99.5, 100.0, 100.5, 101.0]),
                           "size": st.sampled_from([0.0, 1.0, 2.0, 5.0]),
                           "side": st.sampled_from([1, -1]),
                           "seq": st.one_of(st.none(), st.integers(1, 3)),
                           "next": st.booleans()}),
    st.fixed_dictionaries({"kind": st.just("trade"), "instrument": st.sampled_from(["A", "B"]),
                           "price": st.just(100.0), "size": st.just(1.0), "side": st.just(1),
                           "seq": st.none(), "next": st.booleans()}),
)


def _rows(drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timestamps that only move forward; `next` moves them on by one microsecond."""
    ts = 1_700_000_000_000_000_000
    out = []
    seq = 10
    for r in drawn:
        ts += 1_000 if r["next"] else 0
        item = {k: v for k, v in r.items() if k != "next"}
        item["ts"] = ts
        if item["seq"] is not None:
            seq += item["seq"] if r["next"] else 0
            item["seq"] = seq
        out.append(item)
    return out


def _plain(rows: list[dict[str, Any]]) -> list[Any]:
    """The grouping spelled out row by row: consecutive level rows of one key make one event."""
    events: list[Any] = []
    key: tuple[Any, ...] | None = None
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}

    def flush() -> None:
        nonlocal key, bids, asks
        if key is None:
            return
        ts, symbol, snapshot, seq = key
        b = tuple(sorted(bids.items(), reverse=True))
        a = tuple(sorted(asks.items()))
        events.append(BookSnapshot(ts, symbol, b, a, seq) if snapshot
                      else BookDelta(ts, symbol, b, a, seq, None))
        key, bids, asks = None, {}, {}

    for r in rows:
        if r["kind"] == "trade":
            flush()
            events.append(Trade(r["ts"], r["instrument"], r["price"], r["size"], r["side"]))
            continue
        this = (r["ts"], r["instrument"], r["kind"] == "book_snapshot", r["seq"])
        if key is not None and this != key:
            flush()
        key = this
        (bids if r["side"] > 0 else asks)[r["price"]] = r["size"]
    flush()
    return events


def _read(path: Path, batch_rows: int) -> list[Any]:
    reader = FileReader(FileSource(path=str(path), kind="mixed", duplicates="keep"), path, None,
                        {"A", "B"}, "fail", batch_rows, lambda *args: None)
    return [event for batch in reader.batches() for event in batch]


@settings(max_examples=60, deadline=None)
@given(drawn=st.lists(row, min_size=1, max_size=60), batch_rows=st.integers(1, 9))
def test_book_events_are_the_same_for_any_batch_size_and_as_the_plain_grouping(
        tmp_path_factory: Any, drawn: list[dict[str, Any]], batch_rows: int) -> None:
    rows = _rows(drawn)
    path = tmp_path_factory.mktemp("rows") / "rows.parquet"
    table = pa.table({
        "ts": pa.array([r["ts"] for r in rows], pa.int64()),
        "instrument": [r["instrument"] for r in rows], "kind": [r["kind"] for r in rows],
        "price": pa.array([r["price"] for r in rows], pa.float64()),
        "size": pa.array([r["size"] for r in rows], pa.float64()),
        "side": pa.array([r["side"] for r in rows], pa.int8()),
        "seq": pa.array([r["seq"] for r in rows], pa.int64())})
    pq.write_table(table, path)
    expected = _plain(rows)
    assert _read(path, 100_000) == expected
    assert _read(path, batch_rows) == expected  # events that span batches come out whole
