"""A journal writer in a forked process: the words, the JSON and the Arrow batches off the engine's
core.

Most of what a journal costs is turning records into sentences, JSON and Arrow
columns, and none of it can change what the engine does next. So `desk run`
and `desk play` hand their rows, still as arguments, to a child process that renders and writes
them (`desk.journal_file.JournalFile`, the same code an inline journal runs),
while the engine goes on with the next event on another core. The file is the
same, byte for byte (tests/test_journal.py).

The child is forked once the engine is built, before the data is read: it
starts at once and shares the modules already imported, and none of the data.
The file is emptied and given its header only when the run is sure to start
(its first batch of data read and checked: `start()`); a run that fails before
then stops the child with the file as it was (`abandon()`). The child ignores
Ctrl-C (the parent decides when to stop) and ends when the parent closes the
pipe or dies; either way it seals what it received, so a killed run leaves an
exact prefix, and a run killed before it started leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import signal
import sys
import threading
from typing import Any

from desk.collector import settle
from desk.errors import JournalError

_ROWS, _FLUSH, _CLOSE, _START = 0, 1, 2, 3
_PEAK = "peak-rss-kib "
"""How the writer's last word, on a clean exit, starts: its peak memory follows."""
_LENGTH = 8
"""Bytes of the length prefix of each message on the pipe."""


def can_fork() -> bool:
    """Forking is safe only where the platform has it and no other thread might hold a lock."""
    return hasattr(os, "fork") and threading.active_count() == 1


class WriterProcess:
    """The parent's end: sends chunks of rows and commands; the child writes the file."""

    def __init__(self, fd: int, flush_every: int, where: str, started: bool = True,
                 created: bool = False) -> None:
        """`fd` is the journal's file, with its header written; or, with `started` False, as it
        was (`created`: made for this run) until `start()`."""
        self.where = where
        read_end, write_end = os.pipe()
        _widen(write_end)
        error_read, error_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(write_end)
            os.close(error_read)
            _child(read_end, error_write, fd, flush_every, started)
        os.close(read_end)
        os.close(error_write)
        self._fd: int | None = None
        """The file, kept until `start()` writes its header; None once started."""
        self._created = created
        if started:
            os.close(fd)
        else:
            self._fd = fd
        self._pid = pid
        self._pipe: int | None = write_end
        self._errors = error_read
        self.peak_kib = 0
        """The writer's own peak resident memory (KiB, as `ru_maxrss` on Linux), once closed."""
        self._failed: str | None = None
        """Why the writer stopped, once it has: every later call raises the same error."""

    def start(self) -> None:
        """Empty the file and write the stream's header, then let the child write to it."""
        from desk.journal_file import start_journal

        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            start_journal(fd)  # the offset, after the header, is the child's too: one open file
        except OSError as error:
            self._fd = fd
            self.abandon()
            raise JournalError(f"{self.where}: cannot write the journal: "
                               f"{error.strerror or error}") from None
        os.close(fd)
        self._send((_START, None))

    def abandon(self) -> None:
        """Stop the child before it has written anything: the file stays as it was, and goes if
        it was made for this run. Nothing once started."""
        fd, self._fd = self._fd, None
        if fd is None or self._pipe is None:
            return
        os.close(fd)
        os.close(self._pipe)
        self._pipe = None
        os.waitpid(self._pid, 0)  # it writes nothing: it never had `start()`'s word
        os.close(self._errors)
        if self._created:
            with contextlib.suppress(OSError):
                os.unlink(self.where)

    def append(self, rows: list[list[Any]]) -> None:
        self._send((_ROWS, rows))

    def flush(self) -> None:
        self._send((_FLUSH, None))

    def close(self) -> None:
        """Let the child seal the rest and end the stream; wait for it."""
        if self._failed is not None:
            raise JournalError(self._failed)
        if self._fd is not None:  # never started: nothing to close
            self.abandon()
            return
        if self._pipe is None:
            return
        self._send((_CLOSE, None))
        os.close(self._pipe)
        self._pipe = None
        _, status = os.waitpid(self._pid, 0)
        message = _read_all(self._errors)
        os.close(self._errors)
        if message.startswith(_PEAK):
            self.peak_kib = int(message[len(_PEAK):])
        if os.waitstatus_to_exitcode(status) != 0:
            raise JournalError(f"{self.where}: the journal could not be written: "
                               f"{message or 'its writer stopped'}")

    def _send(self, message: tuple[int, Any]) -> None:
        if self._failed is not None:
            raise JournalError(self._failed)
        if self._pipe is None:
            raise JournalError(f"{self.where}: the journal is closed")
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(self._pipe, len(data).to_bytes(_LENGTH, "little") + data)
        except BrokenPipeError:
            pipe, self._pipe = self._pipe, None
            os.close(pipe)
            os.waitpid(self._pid, 0)
            said = _read_all(self._errors)
            os.close(self._errors)
            self._failed = (f"{self.where}: the journal could not be written: "
                            f"{said or 'its writer stopped'}")
            raise JournalError(self._failed) from None


def _widen(pipe: int) -> None:
    """Give the pipe as much room as the system allows (Linux: up to 1 MiB, not 64 KiB).

    The writer renders a sealed batch at a time; with room in the pipe for
    thousands of rows, the engine goes on meanwhile instead of waiting for it.
    """
    try:
        import fcntl

        with open("/proc/sys/fs/pipe-max-size") as limit:
            size = int(limit.read())
        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ValueError, ImportError):
        pass  # another system, or no permission: the default room will do


def _child(pipe: int, errors: int, fd: int, flush_every: int, started: bool) -> None:
    """Read messages until the parent closes the pipe (or dies), write them, exit. Before the
    parent's start (when not `started`), nothing is written, whatever happens."""
    code = 0
    try:
        # a Ctrl-C or SIGTERM sent to the whole process group is the parent's to handle: it
        # stops between events and closes the pipe, and this writer then seals the file
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # everything inherited from the parent stays out of the collector's way: scanning it
        # would cost time and copy the pages the parent and the writer still share
        settle()
        from desk.journal_file import JournalFile

        journal = JournalFile(fd, flush_every) if started else None
        for kind, payload in _messages(pipe):
            if kind == _CLOSE:
                break
            if kind == _START:  # the parent has emptied the file and written the header
                journal = JournalFile(fd, flush_every)
            elif journal is None:
                continue  # nothing is written before the parent's start
            elif kind == _ROWS:
                journal.append(payload)
            else:
                journal.flush()
        if journal is not None:
            journal.close()
        # its own peak memory, for the parent's summary (`desk bench` reports it beside desk's)
        os.write(errors, f"{_PEAK}{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}".encode())
    except BaseException as error:  # reported to the parent, which raises it
        code = 2
        with contextlib.suppress(OSError):
            os.write(errors, f"{type(error).__name__}: {error}".encode()[:4000])
    os._exit(code)


def _messages(pipe: int) -> Any:
    """Each message on the pipe, until it closes; a message cut short by a dying parent ends it."""
    buffer = bytearray()
    while True:
        chunk = os.read(pipe, 1 << 20)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= _LENGTH:
            size = int.from_bytes(buffer[:_LENGTH], "little")
            if len(buffer) < _LENGTH + size:
                break
            yield pickle.loads(buffer[_LENGTH:_LENGTH + size])
            del buffer[:_LENGTH + size]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> str:
    parts = []
    while chunk := os.read(fd, 4096):
        parts.append(chunk)
    return b"".join(parts).decode(errors="replace").strip()
