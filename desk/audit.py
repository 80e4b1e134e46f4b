"""The audit journal: an append-only Arrow IPC stream of every fact and the reason for it.

`Journal` takes the records of a run; `desk.journal_file` writes them (the
file's layout and crash safety are described there); `read_journal` reads a
journal back, also one cut short by a crash, and `load_journal` also says
whether it was. Each batch read is checked in full before anything reads its
values: damage on disk (offsets out of bounds, text that is not UTF-8) would
otherwise crash the reader, or worse.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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
    return tuple(row)

END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"
"""The Arrow IPC end-of-stream marker (continuation token and a zero length)."""

_CLOCK_EVERY = 64
"""Look at the wall clock once per this many records: cheap, and still well under `flush_ms`."""

_HAND_EVERY = 512
"""Rows handed to the file (or its writer process) at a time."""


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
    """Takes every record of a run, keeps a short tail in memory, and has them written in order.

    Records reach the file (`desk.journal_file`) in chunks, inline or through a
    writer process (`desk.journal_writer`); either way a finished file is the
    same bytes, and a killed run leaves an exact prefix of them. Records still in
    memory are put in the file at least every `flush_ms` of wall time, as long
    as records keep coming or the run loop calls `poll()`.
    """

    def __init__(self, path: Path | None, flush_every: int = 4096, tail: int = 2000,
                 flush_ms: float = 200.0, writer: str = "inline", open_now: bool = True) -> None:
        """With `open_now` False the file is not touched until `open()`: records made before
        wait in memory, and a run that fails to start leaves an earlier journal there as it
        was. `prepare()` may start a writer process before then, the file still untouched."""
        self.path = path
        self.flush_every = flush_every
        self.flush_ns = int(flush_ms * 1_000_000)
        self.seq = 0
        self.counts: dict[str, int] = {}
        self._tail: deque[list[Any]] = deque(maxlen=tail)
        self._pending: list[list[Any]] = []
        """Rows not yet handed to the file: appended whole, so an interrupt never leaves half
        a record behind."""
        self._hand_every = min(flush_every, _HAND_EVERY)
        self._sink: Any = None
        self.writer_peak_kib = 0
        """Peak memory of the writer process (KiB), once closed; 0 when written inline."""
        self._writer = writer
        self._opened = False
        if open_now:
            self.open()
        self._synced_ns = time.monotonic_ns()

    def prepare(self) -> None:
        """Fork the writer process now, if the journal has one, leaving the file as it is until
        `open()` (or `abandon()`).

        The writer is forked before the run reads its data, so that it shares none
        of it; the file is emptied only once the run is sure to start.
        """
        if self._opened or self._sink is not None or self.path is None \
                or self._writer != "process":
            return
        from desk.journal_writer import can_fork

        if can_fork():
            self._sink = _open_sink(self.path, self.flush_every, self._writer, start=False)

    def open(self) -> None:
        """Create (or empty) the file and start writing to it; records made so far go first."""
        if self._opened:
            return
        self._opened = True
        if self.path is None:
            return
        if self._sink is None:
            self._sink = _open_sink(self.path, self.flush_every, self._writer)
        else:  # prepared
            self._sink.start()

    def abandon(self) -> None:
        """For a run that never started: stop a prepared writer and leave the file as it was
        (a file `prepare()` created is removed). Nothing once `open()` has run."""
        if self._opened:
            return
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.abandon()

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
        once, off the event's path.
        """
        seq = self.seq
        row = [seq, ts, kind, instrument, cause, order_id, why, details]
        self.seq = seq + 1
        pending = self._pending
        pending.append(row)
        self._tail.append(row)
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        if len(pending) >= self._hand_every:
            self._hand()
            if time.monotonic_ns() - self._synced_ns >= self.flush_ns:
                self.flush()
        elif not seq % _CLOCK_EVERY and time.monotonic_ns() - self._synced_ns >= self.flush_ns:
            self.flush()
        return seq

    @property
    def tail(self) -> Tail:
        """The last records (at most `tail` of them), rendered as they are read."""
        return Tail(self._tail)

    def _hand(self) -> None:
        if not self._opened:
            return  # kept until the file is opened
        pending, self._pending = self._pending, []
        if self._sink is not None and pending:
            self._sink.append(pending)

    def poll(self) -> None:
        """Flush if records have waited `flush_ms`: for run loops, between chunks of events."""
        if self._pending and time.monotonic_ns() - self._synced_ns >= self.flush_ns:
            self.flush()

    def flush(self) -> None:
        """Put every record so far in the file now, without moving a sealed batch boundary."""
        self._synced_ns = time.monotonic_ns()
        self._hand()
        if self._sink is not None and self._opened:  # a prepared file is not written yet
            self._sink.flush()

    def close(self) -> None:
        """Seal what is buffered and end the stream. Safe to call twice."""
        self._hand()
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()
            self.writer_peak_kib = getattr(sink, "peak_kib", 0)


def _open_sink(path: Path, flush_every: int, writer: str, start: bool = True) -> Any:
    """The file's writer: inline, or a forked process where that is safe. With `start` False
    (a writer process only) the file is opened but left as it is until the sink's `start()`."""
    from desk.journal_file import JournalFile, open_journal, reserve_journal

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, created = (open_journal(path), False) if start else reserve_journal(path)
    except OSError as error:
        raise JournalError(f"{path}: cannot write the journal: {error.strerror or error}") from None
    if writer == "process":
        from desk.journal_writer import WriterProcess, can_fork

        if not start or can_fork():
            return WriterProcess(fd, flush_every, str(path), started=start, created=created)
    return JournalFile(fd, flush_every)


@dataclass(frozen=True, slots=True)
class JournalRead:
    """A journal's whole record batches, and what its file says about how the writing ended."""

    path: Path
    table: pa.Table
    warning: str | None = None
    """One line when the file does not end as a closed journal does: without the end-of-stream
    marker `close()` writes (a killed run, a full disk, a run still writing: the records are
    those before the cut), or with bytes after it; or when a closed journal of a run lacks the
    run's last record (an interrupted run). None for the closed journal of a whole run."""


def read_journal(path: str | Path) -> pa.Table:
    """Every whole batch of a journal, also of one cut short by a crash or still being written.

    A file cut short inside its stream header, or empty (a run killed as it
    started), reads as no records, so a killed run's journal always reads;
    `load_journal` is the reading that tells a person what they have. A batch
    damaged on disk ends the reading as a cut does; damage in the first batch
    is an error, as no record of it can be trusted.
    """
    return _read(_journal_path(path), strict=False).table


def load_journal(path: str | Path) -> JournalRead:
    """Every whole batch of a journal, and whether it was cut short: what `desk audit` and
    `desk explain` read.

    Unlike `read_journal`, an empty file, or one that stops inside the stream
    header, is an error: it holds no journal, and "0 records" would hide that.
    """
    return _read(_journal_path(path), strict=True)


def _journal_path(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():  # a run's folder (`--out DIR`): its journal
        inner = path / "journal.arrow"
        if not inner.exists() or inner.is_dir():  # a fifo there is named below, as a fifo
            raise JournalError(f"{path}: a folder without a journal.arrow in it")
        path = inner
    if not path.exists():
        raise JournalError(f"{path}: no such journal")
    if not path.is_file():  # a fifo with no writer would make the reading wait for ever
        raise JournalError(f"{path}: not a regular file (a fifo, a device, a pipe), not a desk "
                           "journal")
    return path


_CUT = "a run killed or out of disk space, or one still writing"
"""What leaves a journal without its end-of-stream marker."""


def _read(path: Path, strict: bool) -> JournalRead:
    head = SCHEMA.serialize().to_pybytes()
    try:
        # read, not memory-mapped: a writer may still be sealing (and truncating) the file
        source = pa.OSFile(str(path))
    except OSError as error:
        why = os.strerror(error.errno) if error.errno else _one_line(error)
        raise JournalError(f"{path}: cannot read the journal: {why}") from None
    with source:
        start = source.read(len(head))
        if len(start) < len(head) and head.startswith(start):  # killed writing the header
            if strict and not start:
                raise JournalError(f"{path}: an empty file, not a desk journal")
            if strict:
                raise JournalError(f"{path}: cut short inside the journal's header ({len(start)} "
                                   f"of {len(head)} bytes): it holds no records")
            return JournalRead(path, SCHEMA.empty_table(), f"{path} holds no records ({_CUT})")
        source.seek(0)
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowException, OSError) as error:
            raise JournalError(f"{path}: not a desk journal ({_one_line(error)})") from None
        if not reader.schema.equals(SCHEMA):
            raise JournalError(f"{path}: not a desk journal (unexpected columns)")
        batches: list[pa.RecordBatch] = []
        damage: str | None = None  # what is wrong where the reading stopped, if not a cut
        while True:
            before = source.tell()
            try:
                batch = reader.read_next_batch()
            except StopIteration:  # at the end-of-stream marker, or at the end of the file
                ended = source.tell()
                break
            except (pa.ArrowException, OSError) as error:
                ended = before  # a batch cut short by a crash: keep the whole ones before it
                size = source.size()
                if size - before > len(END_OF_STREAM) and _ends_closed(source, size):
                    damage = _one_line(error)  # a closed journal is not cut: it is damaged
                break
            damage = _unsound(batch)  # before anything reads a value: bad offsets can crash
            if damage is not None:
                ended = before
                break
            batches.append(batch)
        size = source.size()  # now: a run still writing may have added to it meanwhile
    table = pa.Table.from_batches(batches, schema=SCHEMA)
    records = f"{len(table):,} record{'' if len(table) == 1 else 's'}"
    warning: str | None
    if damage is not None:  # read as a cut is, up to the damage; nothing before it is an error
        if not batches:
            raise JournalError(f"{path}: damaged in its first record batch ({damage}): no record "
                               "can be read")
        warning = (f"{path} is damaged in its record batch {len(batches) + 1:,} ({damage}): "
                   f"only the {records} before it are read")
    elif ended > before:  # the reader took an end-of-stream marker
        warning = _unfinished(path, table) if ended == size else (
            f"{path} has {size - ended:,} bytes after its end-of-stream marker; they are "
            f"ignored (the {records} before it are read)")
    elif size == before:
        warning = (f"{path} was cut short after {records}: it ends without its end-of-stream "
                   f"marker ({_CUT})")
    else:
        warning = (f"{path} was cut short after {records}: then {size - before:,} bytes that are "
                   f"not a whole record batch, and no end-of-stream marker ({_CUT})")
    return JournalRead(path, table, warning)


_LAST = ("end", "error", "engine_error")
"""The kinds a run's journal ends with when the run ended rather than was stopped."""


def _unfinished(path: Path, table: pa.Table) -> str | None:
    """One line when a closed journal of a run (it starts with `session`) lacks the run's last
    record: the run was stopped (Ctrl-C, SIGTERM), or killed while its journal's writer process
    lived on to close the file. Its records are a whole prefix, but not the whole run, and
    nothing else in them says so."""
    rows = len(table)
    if not rows or table.column("kind")[0].as_py() != "session" \
            or table.column("kind")[rows - 1].as_py() in _LAST:
        return None
    return (f"{path} ends before its run did: no end record after its "
            f"{rows:,} record{'' if rows == 1 else 's'} (a run stopped by Ctrl-C or SIGTERM, "
            "killed, or ended by an unexpected error)")


_REQUIRED = tuple(field.name for field in SCHEMA if not field.nullable)
"""Columns every record has a value in."""


def _unsound(batch: pa.RecordBatch) -> str | None:
    """What makes a batch unsafe to read (offsets out of bounds, text that is not UTF-8, a
    missing value every record has), or None: damage on disk that the IPC reader lets through.

    Checked in full for every batch, as Arrow reads values where the offsets say, unchecked.
    """
    try:
        batch.validate(full=True)
    except pa.ArrowException as error:
        text = _one_line(error)
        found = re.match(r"In column (\d+): Invalid: ", text)
        if found is not None and int(found[1]) < len(SCHEMA):
            text = f"column {SCHEMA.names[int(found[1])]}: {text[found.end():]}"
        return text
    for name in _REQUIRED:
        missing = batch.column(name).null_count
        if missing:
            return f"column {name}: {missing:,} record{'' if missing == 1 else 's'} without a value"
    return None


def _ends_closed(source: Any, size: int) -> bool:
    """Whether the file ends with the end-of-stream marker, as only a closed journal does."""
    source.seek(size - len(END_OF_STREAM))
    return bool(source.read(len(END_OF_STREAM)) == END_OF_STREAM)


def _one_line(error: BaseException) -> str:
    """An error's text on one line, for a message that must stay one line."""
    return " ".join(str(error).split())


def details_of(text: str | None, where: str = "a journal record") -> dict[str, Any]:
    """A record's details column as a dict; `where` names the record for the error a damaged
    journal gives (text that is not a JSON object)."""
    if not text:
        return {}
    try:
        details = json.loads(text)
    except ValueError as error:  # JSONDecodeError, and text Python cannot take as a string
        raise JournalError(f"{where}: its details are not JSON ({_one_line(error)}): the journal "
                           "is damaged") from None
    if not isinstance(details, dict):
        raise JournalError(f"{where}: its details are not a JSON object but "
                           f"{type(details).__name__}: the journal is damaged")
    return details
