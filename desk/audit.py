"""The audit journal: an append-only Arrow IPC stream of every fact and the reason for it.

Crash safety without giving up byte-identical runs. Records are buffered as
columns and become a *sealed* record batch every `flush_every` records and at
close: those batch boundaries depend only on the record count, so a complete
run's file is the same bytes for the same session and seed. So that a run
killed at any moment loses at most `flush_ms` of wall time, the records still
buffered are also written, every `flush_ms`, as one *provisional* batch after
the last sealed one. The next provisional write, or the next sealed batch,
first truncates the file back to the end of the last sealed batch and writes
again from there. At any instant the file is therefore the stream header, whole
sealed batches, and perhaps one provisional batch that may be cut short by a
kill: `read_journal` keeps every whole batch, so what it reads is always an
exact prefix of the uninterrupted run's records. Wall time decides only *when*
bytes reach the operating system, never what the finished file holds.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import pyarrow as pa
import pyarrow.ipc as ipc

from desk.errors import JournalError

SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("ts_ns", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("instrument", pa.string()),
        pa.field("cause", pa.int64()),
        pa.field("order_id", pa.int64()),
        pa.field("why", pa.string(), nullable=False),
        pa.field("details", pa.string()),
    ]
)

TailRecord = tuple[int, int, str, str | None, int | None, int | None, str, str]
"""One record as the in-memory tail gives it: the schema's columns in order."""

Render = Callable[[Any], tuple[str, str]]
"""Turns a record's arguments into its sentence and its details' JSON text."""


def render(row: list[Any]) -> None:
    """Put a row's sentence and details in place of its `Render` and arguments (once)."""
    why, details = row[6](row[7])
    row[6] = why
    row[7] = details


class Tail(Sequence[TailRecord]):
    """A read-only window on the journal's last rows, each rendered when it is first read."""

    __slots__ = ("_rows",)

    def __init__(self, rows: deque[list[Any]]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> TailRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[TailRecord]: ...

    def __getitem__(self, index: int | slice) -> TailRecord | list[TailRecord]:
        if isinstance(index, slice):
            return [_record(row) for row in list(self._rows)[index]]
        return _record(self._rows[index])

    def __iter__(self) -> Iterator[TailRecord]:
        return map(_record, self._rows)

    def __reversed__(self) -> Iterator[TailRecord]:
        return map(_record, reversed(self._rows))


def _record(row: list[Any]) -> TailRecord:
    if not isinstance(row[6], str):
        render(row)
    return tuple(row)  # type: ignore[return-value]

END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"
"""The Arrow IPC end-of-stream marker (continuation token and a zero length)."""

_CLOCK_EVERY = 64
"""Look at the wall clock once per this many records: cheap, and still well under `flush_ms`."""


def _details_encoder() -> Callable[[dict[str, Any]], str]:
    """`json.dumps(d, sort_keys=True, separators=(",", ":"))`, the same text, made once.

    `json.dumps` with arguments builds a new encoder per call, which costs as
    much as encoding a small record; this builds the C encoder once and reuses it.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    reference = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
    if make is None:  # no C accelerator (another Python): the reference encoder
        return reference.encode
    markers: dict[int, Any] = {}
    encoder = make(markers, reference.default, json.encoder.encode_basestring_ascii, None, ":",
                   ",", True, False, True)

    def encode(details: dict[str, Any]) -> str:
        try:
            return "".join(encoder(details, 0))
        except BaseException:
            markers.clear()  # a failed encoding may leave its containers marked
            raise

    return encode


encode_details = _details_encoder()
"""A record's details as the journal stores them: compact JSON with sorted keys."""


class Journal:
    """Writes records to an Arrow IPC stream (or nowhere, for throwaway runs) and keeps a short tail."""

    def __init__(self, path: Path | None, flush_every: int = 4096, tail: int = 2000,
                 flush_ms: float = 200.0) -> None:
        self.path = path
        self.flush_every = flush_every
        self.flush_ns = int(flush_ms * 1_000_000)
        self.seq = 0
        self.counts: dict[str, int] = {}
        self._tail: deque[list[Any]] = deque(maxlen=tail)
        self._rows: list[list[Any]] = []
        """Records not yet in a sealed batch, as rows: one append per record, turned into
        columns once per batch (a row is appended whole, so an interrupt never leaves a
        half-written record behind)."""
        self._fd: int | None = None
        self._sealed_end = 0
        """File offset where the last sealed batch ends: provisional writes start here."""
        self._provisional = False
        self._synced_ns = time.monotonic_ns()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            self._write(SCHEMA.serialize().to_pybytes())
            self._sealed_end = os.lseek(self._fd, 0, os.SEEK_CUR)

    def record(self, kind: str, ts: int, why: str, instrument: str | None = None,
               cause: int | None = None, order_id: int | None = None, **details: Any) -> int:
        """Append one record, its sentence and details given now, and return its seq."""
        return self.add(kind, ts, instrument, cause, order_id, why,
                        encode_details(details) if details else "")

    def add(self, kind: str, ts: int, instrument: str | None, cause: int | None,
            order_id: int | None, why: str | Render, details: Any) -> int:
        """Append one record and return its seq.

        `why` is the sentence and `details` its JSON text; or `why` is a `Render`
        and `details` the immutable arguments it turns into both, later, when the
        record's batch is written or someone reads it. The frequent records of
        an order's life take the second way: a run pays for the words of a record
        once, off the event's path, and never for records nobody writes.
        """
        seq = self.seq
        row = [seq, ts, kind, instrument, cause, order_id, why, details]
        self.seq = seq + 1
        rows = self._rows
        rows.append(row)
        self._tail.append(row)
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        buffered = len(rows)
        if buffered >= self.flush_every:
            self._seal()
        elif not buffered % _CLOCK_EVERY and self._fd is not None \
                and time.monotonic_ns() - self._synced_ns >= self.flush_ns:
            self.flush()
        return seq

    @property
    def tail(self) -> Tail:
        """The last records (at most `tail` of them), rendered as they are read."""
        return Tail(self._tail)

    # --- writing -------------------------------------------------------------------

    def _batch_bytes(self) -> bytes:
        rows = self._rows
        for row in rows:
            if not isinstance(row[6], str):
                render(row)
        arrays = [pa.array(col, type=field.type)
                  for col, field in zip(zip(*rows, strict=True), SCHEMA, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA).serialize().to_pybytes()

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _rewind(self) -> None:
        """Drop the provisional batch: the file ends at the last sealed batch again."""
        if self._provisional and self._fd is not None:
            os.ftruncate(self._fd, self._sealed_end)
            os.lseek(self._fd, self._sealed_end, os.SEEK_SET)
            self._provisional = False

    def _seal(self) -> None:
        """Write the buffered records as one sealed batch: a boundary fixed by the record count."""
        if not self._rows:
            return
        if self._fd is not None:
            data = self._batch_bytes()
            self._rewind()
            self._write(data)
            self._sealed_end = os.lseek(self._fd, 0, os.SEEK_CUR)
            self._synced_ns = time.monotonic_ns()
        self._rows.clear()

    def flush(self) -> None:
        """Put every buffered record in the file now, without moving a sealed batch boundary."""
        self._synced_ns = time.monotonic_ns()
        if self._fd is None or not self._rows:
            return
        data = self._batch_bytes()
        self._rewind()
        self._provisional = True
        self._write(data)

    def close(self) -> None:
        """Seal what is buffered and end the stream. Safe to call twice."""
        self._seal()
        if self._fd is not None:
            self._write(END_OF_STREAM)
            os.close(self._fd)
            self._fd = None


def read_journal(path: str | Path) -> pa.Table:
    """Every whole batch of a journal, also of one cut short by a crash or still being written."""
    path = Path(path)
    if not path.exists():
        raise JournalError(f"{path}: no such journal")
    head = SCHEMA.serialize().to_pybytes()
    with path.open("rb") as file:
        start = file.read(len(head))
    if len(start) < len(head) and head.startswith(start):
        return SCHEMA.empty_table()  # killed while the stream header was being written
    batches: list[pa.RecordBatch] = []
    try:
        reader = ipc.open_stream(pa.memory_map(str(path)))
    except (pa.ArrowException, OSError) as error:
        raise JournalError(f"{path}: not a desk journal ({error})") from None
    if not reader.schema.equals(SCHEMA):
        raise JournalError(f"{path}: not a desk journal (unexpected columns)")
    while True:
        try:
            batches.append(reader.read_next_batch())
        except StopIteration:
            break
        except (pa.ArrowException, OSError):
            break  # a batch cut short by a crash: keep the whole ones before it
    return pa.Table.from_batches(batches, schema=SCHEMA)


def details_of(text: str | None) -> dict[str, Any]:
    """A record's details column as a dict."""
    return json.loads(text) if text else {}
