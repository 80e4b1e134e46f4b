"""How a replay asks the garbage collector to keep out of its way."""

from __future__ import annotations

import gc


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
