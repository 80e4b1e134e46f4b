"""SIGTERM raised as an exception, so that a command which leaves a file half-written cleans it
up as it does on Ctrl-C, rather than dying with the file behind it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_CODE = 128 + signal.SIGTERM
"""What a shell reports for a process ended by SIGTERM (143), and what desk exits with then."""


class Terminated(BaseException):
    """The process was sent SIGTERM. A `BaseException`, as `KeyboardInterrupt` is, so that no
    `except Exception` takes it for an error of the work in hand."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` where the process stands; the handler
    before it is put back after. Only the main thread can take signals: elsewhere this does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
