"""How a replay asks the garbage collector to keep out of its way."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle() -> None:
    """Freeze what exists so far and collect the young generation less often.

    A replay makes millions of short-lived objects (events, records, verdicts)
    and almost no reference cycles. With the default thresholds the collector
    runs every 700 allocations and scans the young objects each time; frozen
    set-up objects (modules, session, engine) are never scanned again, and a
    young generation of 50,000 keeps the scans rare for a few megabytes.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    gc.enable()  # after `starting()`


@contextmanager
def starting() -> Iterator[None]:
    """No collection while a command starts, until `settle()` (or the block's end, at the latest).

    Start-up (the imports, the session, the engine) makes hundreds of thousands
    of objects that live as long as the process, and almost no cycles; the full
    collections it triggers on the way scan them all for nothing (measured: a
    tenth of `desk run`'s time to its first event). A command that fails before
    it settles gets the collector back as it was when the block ends.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs: for making a batch of events, which holds no cycles.

    A batch is tens of thousands of tuples that live until the replay has
    passed them. Each collection of the young generation meanwhile would look
    at all of them again (measured: a quarter of the time an L2 file takes to
    read); paused, they are looked at once, by the first collection after it.
    Cycles made meanwhile, if any, are found then too.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
