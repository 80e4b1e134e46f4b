"""The audit journal: an append-only Arrow IPC stream of every fact and the reason for it.

Records are buffered as columns and written as one record batch every
`flush_every` records (and at close), so the hot path appends to a few lists
and a run killed at any moment leaves a readable prefix of whole batches.
Batch boundaries depend only on the record count, which keeps the file
byte-identical for the same session and seed.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import IO, Any

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
"""One record as the in-memory tail keeps it: the schema's columns in order."""


class Journal:
    """Writes records to an Arrow IPC stream (or nowhere, for throwaway runs) and keeps a short tail."""

    def __init__(self, path: Path | None, flush_every: int = 4096, tail: int = 2000) -> None:
        self.path = path
        self.flush_every = flush_every
        self.seq = 0
        self.counts: dict[str, int] = {}
        self.tail: deque[TailRecord] = deque(maxlen=tail)
        self._cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
        self._sink: IO[bytes] | None = None
        self._writer: ipc.RecordBatchStreamWriter | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._sink = open(path, "wb")  # noqa: SIM115 - closed in close()
            self._writer = ipc.new_stream(self._sink, SCHEMA)
            self._sink.flush()

    def record(self, kind: str, ts: int, why: str, instrument: str | None = None,
               cause: int | None = None, order_id: int | None = None, **details: Any) -> int:
        """Append one record and return its seq."""
        seq = self.seq
        self.seq = seq + 1
        detail_text = json.dumps(details, sort_keys=True, separators=(",", ":")) if details else ""
        row: TailRecord = (seq, ts, kind, instrument, cause, order_id, why, detail_text)
        for column, value in zip(self._cols, row, strict=True):
            column.append(value)
        self.tail.append(row)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self._cols[0]) >= self.flush_every:
            self.flush()
        return seq

    def flush(self) -> None:
        """Write buffered records as one batch and push it to the operating system."""
        if not self._cols[0]:
            return
        if self._writer is not None and self._sink is not None:
            arrays = [pa.array(col, type=field.type) for col, field in zip(self._cols, SCHEMA,
                                                                          strict=True)]
            self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))
            self._sink.flush()
        for column in self._cols:
            column.clear()

    def close(self) -> None:
        """Flush and end the stream. Safe to call twice."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None


def read_journal(path: str | Path) -> pa.Table:
    """Every whole batch of a journal, also of one cut short by a crash."""
    path = Path(path)
    if not path.exists():
        raise JournalError(f"{path}: no such journal")
    batches: list[pa.RecordBatch] = []
    try:
        reader = ipc.open_stream(pa.memory_map(str(path)))
    except (pa.ArrowInvalid, OSError) as error:
        raise JournalError(f"{path}: not a desk journal ({error})") from None
    if not reader.schema.equals(SCHEMA):
        raise JournalError(f"{path}: not a desk journal (unexpected columns)")
    while True:
        try:
            batches.append(reader.read_next_batch())
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError):
            break  # a batch cut short by a crash: keep the whole ones before it
    return pa.Table.from_batches(batches, schema=SCHEMA)


def details_of(text: str | None) -> dict[str, Any]:
    """A record's details column as a dict."""
    return json.loads(text) if text else {}
