"""The causal chain of one journal record, from the records the app holds in memory.

For records that belong to an order or a blocked intent it reuses `desk.explain`
(the same chain `desk explain` prints), run on an Arrow table of the records in
memory. For any other record (a rule toggle, a mode change, a fill whose order
is gone from memory) it falls back to walking `cause` links back, and collecting
what followed from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from desk.audit import SCHEMA, TailRecord
from desk.errors import JournalError
from desk.explain import JournalIndex, explain_seq

# a TailRecord's fields by position (Final, so that mypy knows the type of each)
SEQ: Final = 0
TS: Final = 1
KIND: Final = 2
INSTRUMENT: Final = 3
CAUSE: Final = 4
ORDER_ID: Final = 5
WHY: Final = 6
DETAILS: Final = 7


@dataclass(frozen=True, slots=True)
class Chain:
    """Why a record exists (`ancestors`, oldest first) and what it led to."""

    title: str
    ancestors: tuple[TailRecord, ...]
    consequences: tuple[TailRecord, ...]
    missing: int | None
    """The seq of a cause that is no longer in memory, where the walk back had to stop."""
    outcome: str = ""


def causal_chain(records: Mapping[int, TailRecord], seq: int) -> Chain:
    """Walk `cause` links back from `seq`, then collect every later record descending from it."""
    ancestors: list[TailRecord] = []
    missing: int | None = None
    current: int | None = seq
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        record = records.get(current)
        if record is None:
            missing = current
            break
        ancestors.append(record)
        current = record[CAUSE]
    ancestors.reverse()
    family = {seq}
    consequences = []
    for key in sorted(k for k in records if k > seq):
        record = records[key]
        if record[CAUSE] in family:
            family.add(key)
            consequences.append(record)
    return Chain(f"record #{seq}", tuple(ancestors), tuple(consequences), missing)


LIVE_OUTCOMES: Final = {
    "sent; no fill in the journal": "sent; no fill yet (the order is still working)",
    "partly filled; the journal ends before the order did": "partly filled so far; still working",
}
"""`desk explain` reads a finished journal; while the replay goes on, an order without its end
is one still in flight, not one the journal lost."""


def explain(records: Mapping[int, TailRecord], seq: int, live: bool = False) -> Chain:
    """The order's (or blocked intent's) chain through `seq` as `desk explain` builds it, else the
    walk back through causes. `live`: the replay goes on, so an order may still be working."""
    ordered = [records[k] for k in sorted(records)]
    table = pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in ordered],
                                 schema=SCHEMA)
    try:
        found = explain_seq(JournalIndex(table), seq)
    except JournalError:
        return causal_chain(records, seq)
    rows = tuple((r["seq"], r["ts_ns"], r["kind"], r["instrument"], r["cause"], r["order_id"],
                  r["why"], json.dumps(r["details"])) for r in found.records)
    first_cause = rows[0][CAUSE] if rows else None
    missing = first_cause if first_cause is not None and first_cause not in records else None
    outcome = LIVE_OUTCOMES.get(found.outcome, found.outcome) if live else found.outcome
    return Chain(found.subject, rows, (), missing, outcome)
