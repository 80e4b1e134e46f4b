"""The journal's file: an Arrow IPC stream of sealed batches, and a provisional tail a crash may
cut.

Crash safety without giving up byte-identical runs. Rows become a *sealed*
record batch every `flush_every` records and at close: those batch boundaries
depend only on the record count, so a finished file is the same bytes for the
same session and seed. So that a killed run loses little, `flush()` also
appends the rows not yet sealed as *provisional* batches after the last sealed
one, each holding only the rows since the previous flush; the next sealed
batch first truncates the file back to the end of the last sealed one. At any
instant the file is therefore the stream header, whole sealed batches, and
provisional batches of which the last may be cut short by a kill:
`desk.audit.read_journal` keeps every whole batch, so what it reads is always
an exact prefix of the uninterrupted run's records. When bytes reach the
operating system may depend on the wall clock; what the finished file holds
never does.
"""

from __future__ import annotations

import os
from typing import Any, cast

import pyarrow as pa

from desk.audit import END_OF_STREAM, SCHEMA, render


def stream_header() -> bytes:
    """The bytes an Arrow IPC stream of the journal's schema starts with."""
    return cast(bytes, SCHEMA.serialize().to_pybytes())


def open_journal(path: os.PathLike[str] | str) -> int:
    """Create (or empty) the journal file and write its header; returns the open descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    _write(fd, stream_header())
    return fd


def reserve_journal(path: os.PathLike[str] | str) -> tuple[int, bool]:
    """Open the journal's file for writing without changing what it holds, creating it if it is
    not there: the descriptor, and whether it was created (to remove it if the run never
    starts). `start_journal` empties it."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        return os.open(path, os.O_WRONLY), False


def start_journal(fd: int) -> None:
    """Empty a file `reserve_journal` opened and write the stream's header: what `open_journal`
    does to its file."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    _write(fd, stream_header())


def batch_bytes(rows: list[list[Any]]) -> bytes:
    """One record batch of `rows`, rendered where they are not yet, as IPC message bytes."""
    for row in rows:
        if not isinstance(row[6], str):
            render(row)
    arrays = [pa.array(column, type=field.type)
              for column, field in zip(zip(*rows, strict=True), SCHEMA, strict=True)]
    return cast(bytes, pa.RecordBatch.from_arrays(arrays, schema=SCHEMA).serialize().to_pybytes())


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class JournalFile:
    """Writes rows to an open journal file in sealed and provisional batches (see the module)."""

    def __init__(self, fd: int, flush_every: int) -> None:
        self._fd: int | None = fd
        self.flush_every = flush_every
        self._rows: list[list[Any]] = []
        """Rows since the last sealed batch."""
        self._flushed = 0
        """How many of them are already in the file as provisional batches."""
        self._sealed_end = os.lseek(fd, 0, os.SEEK_CUR)
        """File offset where the last sealed batch ends."""

    def append(self, rows: list[list[Any]]) -> None:
        """Take rows in order; a batch is sealed every `flush_every` of them, whatever the
        chunks."""
        self._rows.extend(rows)
        while len(self._rows) >= self.flush_every:
            self._seal(self.flush_every)

    def flush(self) -> None:
        """Put every row not yet in the file there, as a provisional batch."""
        rows = self._rows
        if self._fd is None or len(rows) <= self._flushed:
            return
        _write(self._fd, batch_bytes(rows[self._flushed:]))
        self._flushed = len(rows)

    def close(self) -> None:
        """Seal what is left and end the stream. Safe to call twice."""
        if self._fd is None:
            return
        if self._rows:
            self._seal(len(self._rows))
        _write(self._fd, END_OF_STREAM)
        os.close(self._fd)
        self._fd = None

    def _seal(self, count: int) -> None:
        fd = self._fd
        assert fd is not None
        data = batch_bytes(self._rows[:count])
        flushed = self._flushed
        if flushed:
            os.ftruncate(fd, self._sealed_end)  # the provisional batches make way
            os.lseek(fd, self._sealed_end, os.SEEK_SET)
        _write(fd, data)
        self._sealed_end = os.lseek(fd, 0, os.SEEK_CUR)
        del self._rows[:count]
        self._flushed = 0
        if flushed > count:
            self.flush()  # rows that were already in the file stay there
