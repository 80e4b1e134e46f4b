"""The causal chain of one order (or one blocked intent), built from the audit journal alone.

market event → signal with its evidence → intent → every rule's verdict →
order → arrival and latency → each fill with price and slippage and its effect
on the portfolio → the order's end and execution quality. Pure: it reads an
Arrow table and returns data; `desk explain` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from desk.audit import details_of
from desk.errors import JournalError
from desk.figures import counted
from desk.query import INT64_MAX, INT64_MIN

Record = dict[str, Any]
"""One journal record with its `details` parsed into a dict."""

_UPSTREAM = ("risk", "intent", "signal", "market")
"""The kinds above an order, nearest first, reached by following `cause`."""


@dataclass(frozen=True, slots=True)
class Chain:
    """Every record that tells the story of one order or blocked intent, in causal order."""

    subject: str
    """"order #12" or "blocked intent (risk record 345)"."""
    outcome: str
    records: list[Record] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Record]:
        return [r for r in self.records if r["kind"] == kind]


class JournalIndex:
    """Random access to a journal's records by seq, and by order id, without a full scan per
    query."""

    def __init__(self, table: pa.Table, name: str = "the journal") -> None:
        self.table = table
        self.name = name
        """How errors name the journal: its path, for `desk explain`."""
        seqs = table.column("seq")
        self.dense = len(table) == 0 or (seqs[0].as_py() == 0
                                         and seqs[len(table) - 1].as_py() == len(table) - 1)
        """Whether seq N is row N (a whole journal, or a prefix of one): found by position."""

    def __len__(self) -> int:
        return len(self.table)

    def record(self, seq: int) -> Record | None:
        """The record with this seq, or None."""
        if not INT64_MIN <= seq <= INT64_MAX:  # in no journal; and Arrow cannot compare it
            return None
        if self.dense:
            if not 0 <= seq < len(self.table):
                return None
            rows = self.table.slice(seq, 1)
        else:
            rows = self.table.filter(pc.equal(self.table.column("seq"), seq))
        return self._as_record(rows.to_pylist()[0]) if len(rows) else None

    def of_order(self, order_id: int) -> list[Record]:
        """Every record that names `order_id`, in seq order."""
        if not INT64_MIN <= order_id <= INT64_MAX:
            return []
        rows = self.table.filter(pc.equal(self.table.column("order_id"), order_id))
        return [self._as_record(row) for row in rows.to_pylist()]

    def caused_by(self, seq: int, kind: str | None = None) -> list[Record]:
        """Records whose cause is `seq` (optionally of one kind)."""
        if not INT64_MIN <= seq <= INT64_MAX:
            return []
        mask = pc.equal(self.table.column("cause"), seq)
        if kind is not None:
            mask = pc.and_(mask, pc.equal(self.table.column("kind"), kind))
        return [self._as_record(row) for row in self.table.filter(mask).to_pylist()]

    def _as_record(self, row: dict[str, Any]) -> Record:
        """A row with its details parsed; details that are not JSON name the journal and seq."""
        row = dict(row)
        row["details"] = details_of(row.get("details"), f"{self.name}: record {row['seq']}")
        return row


def _upstream(index: JournalIndex, start: Record) -> list[Record]:
    """From a risk, intent or signal record up its causes to the market event, nearest last."""
    chain = [start]
    record = start
    while record["cause"] is not None and record["kind"] in _UPSTREAM[:-1]:
        parent = index.record(record["cause"])
        if parent is None:
            break
        chain.append(parent)
        record = parent
    return list(reversed(chain))


def explain_order(index: JournalIndex, order_id: int) -> Chain:
    """The chain of order `order_id`: everything upstream of its risk decision, then all it
    caused."""
    own = index.of_order(order_id)
    if not own:
        orders = _count(index, "order")
        raise JournalError(f"no order #{order_id} in {index.name} (it has "
                           f"{counted(orders, 'order')}; blocked intents have no order id: "
                           "use --seq with the risk record's seq)")
    decision = next((r for r in own if r["kind"] == "risk"), None)
    order = next((r for r in own if r["kind"] == "order"), None)
    if decision is None and order is not None and order["cause"] is not None:
        decision = index.record(order["cause"])
    upstream = _upstream(index, decision) if decision is not None else []
    seen = {r["seq"] for r in upstream}
    records = upstream + [r for r in own if r["seq"] not in seen]
    done = next((r for r in reversed(own) if r["kind"] == "execution"), None)
    if done is not None:
        outcome = done["why"]
    elif any(r["kind"] == "fill" for r in own):
        outcome = "partly filled; the journal ends before the order did"
    else:
        outcome = "sent; no fill in the journal"
    return Chain(f"order #{order_id}", outcome, records)


def explain_seq(index: JournalIndex, seq: int) -> Chain:
    """The chain through any record: an order's record leads to the order, a blocked intent to
    itself."""
    record = index.record(seq)
    if record is None:
        seqs = f", seqs 0 to {len(index) - 1:,}" if index.dense and len(index) else ""
        raise JournalError(f"no record with seq {seq} in {index.name} (it has "
                           f"{counted(len(index), 'record')}{seqs})")
    if record["order_id"] is not None:
        return explain_order(index, record["order_id"])
    decision = _decision_below(index, record)
    if decision is None:
        raise JournalError(f"{index.name}: record {seq} is of kind {record['kind']!r}, not part "
                           "of an order's chain (give the seq of a market, signal, intent, risk "
                           "or fill record)")
    if decision["order_id"] is not None:
        chain = explain_order(index, decision["order_id"])
    else:
        upstream = _upstream(index, decision)
        blocked = str(decision["why"]).split("; passed ", 1)[0]
        chain = Chain(f"blocked intent (risk record {decision['seq']})", blocked, upstream)
    signals = index.caused_by(seq, "signal") if record["kind"] == "market" else []
    if len(signals) > 1:  # say so, rather than pick the first without a word
        others = ", ".join(str(r["seq"]) for r in signals)
        chain = Chain(chain.subject, f"{chain.outcome} (market event {seq} led to "
                      f"{len(signals)} signals, seqs {others}: this is the first; --seq another "
                      "for its chain)", chain.records)
    return chain


def _decision_below(index: JournalIndex, record: Record) -> Record | None:
    """The risk decision a market, signal or intent record leads to (the first, for a market
    event)."""
    kinds = ("market", "signal", "intent", "risk")
    if record["kind"] not in kinds:
        return None
    while record["kind"] != "risk":
        below = kinds[kinds.index(record["kind"]) + 1]
        children = index.caused_by(record["seq"], below)
        if not children:
            return None
        record = children[0]
    return record


def _count(index: JournalIndex, kind: str) -> int:
    return int(pc.sum(pc.equal(index.table.column("kind"), kind)).as_py() or 0)
