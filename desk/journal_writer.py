"""A journal writer in a forked process: the words, the JSON and the Arrow batches off the engine's
core.

Most of what a journal costs is turning records into sentences, JSON and Arrow
columns, and none of it can change what the engine does next. So `desk run`
and `desk play` hand their rows, still as arguments, to a child process that renders and writes
them (`desk.journal_file.JournalFile`, the same code an inline journal runs),
while the engine goes on with the next event on another core. The file is the
same, byte for byte (tests/test_journal.py).

The child is forked when the journal opens, before the data is read: it
starts at once and shares the modules already imported. It ignores Ctrl-C (the
parent decides when to stop) and ends when the parent closes the pipe or dies;
either way it seals what it received, so a killed run leaves an exact prefix.
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

_ROWS, _FLUSH, _CLOSE = 0, 1, 2
_PEAK = "peak-rss-kib "
"""How the writer's last word, on a clean exit, starts: its peak memory follows."""
_LENGTH = 8
"""Bytes of the length prefix of each message on the pipe."""


def can_fork() -> bool:
    """Forking is safe only where the platform has it and no other thread might hold a lock."""
    return hasattr(os, "fork") and threading.active_count() == 1


class WriterProcess:
    """The parent's end: sends chunks of rows and commands; the child writes the file."""

    def __init__(self, fd: int, flush_every: int, where: str) -> None:
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
            _child(read_end, error_write, fd, flush_every)
        os.close(read_end)
        os.close(error_write)
        os.close(fd)
        self._pid = pid
        self._pipe: int | None = write_end
        self._errors = error_read
        self.peak_kib = 0
        """The writer's own peak resident memory (KiB, as `ru_maxrss` on Linux), once closed."""
        self._failed: str | None = None
        """Why the writer stopped, once it has: every later call raises the same error."""

    def append(self, rows: list[list[Any]]) -> None:
        self._send((_ROWS, rows))

    def flush(self) -> None:
        self._send((_FLUSH, None))

    def close(self) -> None:
        """Let the child seal the rest and end the stream; wait for it."""
        if self._failed is not None:
            raise JournalError(self._failed)
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


def _child(pipe: int, errors: int, fd: int, flush_every: int) -> None:
    """Read messages until the parent closes the pipe (or dies), write them, exit."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # everything inherited from the parent stays out of the collector's way: scanning it
        # would cost time and copy the pages the parent and the writer still share
        settle()
        from desk.journal_file import JournalFile

        journal = JournalFile(fd, flush_every)
        for kind, payload in _messages(pipe):
            if kind == _ROWS:
                journal.append(payload)
            elif kind == _FLUSH:
                journal.flush()
            else:
                break
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
