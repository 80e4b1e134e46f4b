"""How fast desk replays a desk-schema file with the L2 book kept: the data path alone, no engine.

Wall-clock time is read here only to report a rate; it never enters a simulation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from desk.book import Book
from desk.config import FileSource
from desk.data.files import FileReader
from desk.data.inspect import open_desk_file
from desk.errors import DataError, first_line
from desk.events import BookDelta, BookSnapshot


@dataclass(frozen=True, slots=True)
class Throughput:
    """Counts of one replay and the seconds it took."""

    events: int
    book_events: int
    levels: int
    seconds: float

    @property
    def book_events_per_second(self) -> float:
        return self.book_events / self.seconds if self.seconds > 0 else 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


REPLAY_HINT = ('the replay stops at the first bad row (`desk data inspect` counts them; a '
               'session skips them with data.on_bad = "skip")')


def measure(path: Path, batch_rows: int = 65_536) -> Throughput:
    """Read `path` through desk's file replay (`kind = "mixed"`) and apply every book event.

    The file is checked as `desk data inspect` checks it first, so that what is not a
    desk-schema file is one line saying why; the reader's own errors speak of a replay.
    """
    parquet = open_desk_file(path)
    try:
        symbols = set(parquet.read(columns=["instrument"]).column("instrument")
                      .unique().to_pylist())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(f"{path}: cannot read: {first_line(error)}") from None
    reader = FileReader(FileSource(path=str(path), kind="mixed"), path, None, symbols, "fail",
                        batch_rows, lambda ts, instrument, message: None, go_on=REPLAY_HINT)
    books: dict[str, Book] = {symbol: Book() for symbol in symbols}
    events = book_events = levels = 0
    started = time.perf_counter()
    event: Any  # told apart by its exact type below, which mypy does not narrow on
    for batch in reader.batches():
        events += len(batch)
        for event in batch:
            kind = type(event)
            if kind is BookDelta:
                books[event.instrument].apply(event.bids, event.asks)
            elif kind is BookSnapshot:
                books[event.instrument].reset(event.bids, event.asks)
            else:
                continue
            book_events += 1
            levels += len(event.bids) + len(event.asks)
            # what the engine does after each book event: read the top of book
            book = books[event.instrument]
            book.best_bid, book.best_ask  # noqa: B018
    return Throughput(events, book_events, levels, time.perf_counter() - started)
