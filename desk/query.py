"""Filtering a journal's records by kind, rule, instrument, outcome and time: what `desk audit`
asks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from desk.audit import details_of
from desk.errors import JournalError
from desk.timeutil import format_ns, parse_iso_ns, parse_offset_ns

RULE_KINDS = ("risk", "limit_change", "rule_toggle", "control_error")
"""Kinds that can concern one rule."""

KINDS = ("session", "market", "signal", "intent", "risk", "order", "arrival", "fill",
         "execution", "order_end", "cancel", "cancel_reject", "cash_guard", "mode",
         "limit_change", "rule_toggle", "control_error", "data_quality", "strategy_error",
         "strategy_stopped", "error", "engine_error", "end")
"""Every kind of record a journal holds (tests/test_risk_explain.py keeps it complete)."""


@dataclass(frozen=True, slots=True)
class Query:
    """What to keep; every field left None keeps everything."""

    kinds: tuple[str, ...] | None = None
    rule: str | None = None
    """Decisions this rule blocked (with outcome "allowed": passed), and the rule's changes."""
    instrument: str | None = None
    outcome: str | None = None
    """"allowed" or "blocked": only risk decisions with that outcome."""
    since: str | None = None
    until: str | None = None
    """ISO times, or offsets from the journal's first record such as "+90s"."""


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The values a journal's integer columns (seq, ts_ns, order_id, cause) can hold."""


def _time(text: str, first_ts: int | None, name: str) -> int:
    """`--since`/`--until` as epoch nanoseconds; an error unless a journal time can be that."""
    if not text.strip():
        raise JournalError(f"--{name}: empty; give an ISO time or an offset like \"+90s\"")
    try:
        offset = parse_offset_ns(text)
        ts = (first_ts or 0) + offset if offset is not None else parse_iso_ns(text)
    except OverflowError:  # an offset too large even for a float
        ts = INT64_MAX + 1
    except ValueError:
        starts = "" if first_ts is None else \
            f" (the journal starts at {format_ns(first_ts)[:19].replace(' ', 'T')}Z)"
        raise JournalError(f"--{name}: {text!r} is neither an ISO time nor an offset like "
                           f"\"+90s\"{starts}") from None
    if not INT64_MIN <= ts <= INT64_MAX:
        after = " after the journal's start" if text.strip().startswith("+") else ""
        raise JournalError(f"--{name}: {text!r}{after} is outside the times a journal can hold, "
                           f"{_SPAN}")
    return ts


_SPAN = (f"{format_ns(INT64_MIN)[:19]} to {format_ns(INT64_MAX)[:19]} UTC "
         "(nanoseconds since 1970 in 64 bits)")


CHUNK = 4_096
"""Records turned into Python objects at a time: a large journal is read through a window of
this many, never as a list of all its rows."""


@dataclass(frozen=True, slots=True)
class Selection:
    """The records a query keeps: those Arrow could pick by column, read in chunks, with the
    tests on details (outcome, rule) applied as each chunk is read."""

    table: pa.Table
    """The records whose columns match; those whose details do not are dropped when read."""
    query: Query
    name: str

    @property
    def exact(self) -> bool:
        """Whether every row of `table` is a match (no test on details is left to make)."""
        return self.query.outcome is None and self.query.rule is None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        query = self.query
        for start in range(0, len(self.table), CHUNK):
            for row in self.table.slice(start, CHUNK).to_pylist():
                details = details_of(row["details"], f"{self.name}: record {row['seq']}")
                if query.outcome is not None \
                        and details.get("approved") != (query.outcome == "allowed"):
                    continue
                if query.rule is not None and not _concerns(row["kind"], details, query.rule,
                                                            query.outcome == "allowed"):
                    continue
                row["details"] = details
                yield row

    def count(self) -> int:
        """How many records match. Every one's details are read (and only they, where no test
        on details is left), so damage anywhere is found before anything is printed."""
        if not self.exact:
            return sum(1 for _ in self)
        for start in range(0, len(self.table), CHUNK):
            rows = self.table.slice(start, CHUNK)
            for seq, text in zip(rows.column("seq").to_pylist(), rows.column("details").to_pylist(),
                                 strict=True):
                details_of(text, f"{self.name}: record {seq}")
        return len(self.table)


def select(table: pa.Table, query: Query, name: str = "the journal") -> list[dict[str, Any]]:
    """The records that match `query`, in seq order, with `details` parsed."""
    return list(selection(table, query, name))


def selection(table: pa.Table, query: Query, name: str = "the journal") -> Selection:
    """The records that match `query`, in seq order, to read as they are needed.

    Every part of the query that names something the journal cannot hold (a
    kind, a rule, an instrument, a time) is an error rather than an empty list,
    as are filters that exclude each other (`--kind fill --outcome blocked`);
    `name` is how errors name the journal (its path, for `desk audit`).
    """
    if query.outcome not in (None, "allowed", "blocked"):
        raise JournalError(f"--outcome: {query.outcome!r}: give allowed or blocked")
    unknown = [k for k in query.kinds or () if k not in KINDS]
    if unknown:
        raise JournalError(f"--kind: no record kind {', '.join(map(repr, unknown))} "
                           f"(kinds: {', '.join(KINDS)})")
    _check_combination(query)
    if query.rule is not None:
        rules = _rules(table, name)
        if rules and query.rule not in rules:
            raise JournalError(f"--rule: no risk rule {query.rule!r} in this journal "
                               f"(rules: {', '.join(rules)})")
    if query.instrument is not None:
        instruments = sorted(i for i in pc.unique(table.column("instrument")).to_pylist()
                             if i is not None)
        if query.instrument not in instruments:
            raise JournalError(f"--instrument: no record of {query.instrument!r} in this journal "
                               f"(instruments: {', '.join(instruments) or 'none'})")
    first = table.column("ts_ns")[0].as_py() if len(table) else None
    since = _time(query.since, first, "since") if query.since is not None else None
    until = _time(query.until, first, "until") if query.until is not None else None
    if since is not None and until is not None and until < since:
        raise JournalError(f"--until: {query.until!r} ({format_ns(until)[:23]}) is before "
                           f"--since {query.since!r} ({format_ns(since)[:23]}): no time is in "
                           "between")
    mask = None

    def both(extra: Any) -> Any:
        return extra if mask is None else pc.and_(mask, extra)

    kinds = query.kinds
    if query.outcome is not None:
        kinds = tuple(k for k in (kinds or ("risk",)) if k == "risk")
    elif query.rule is not None:
        kinds = tuple(k for k in (kinds or RULE_KINDS) if k in RULE_KINDS)
    if kinds is not None:
        mask = both(pc.is_in(table.column("kind"), pa.array(list(kinds), pa.string())))
    if query.instrument is not None:
        mask = both(_of_instrument(table, query.instrument))
    if since is not None:
        mask = both(pc.greater_equal(table.column("ts_ns"), pa.scalar(since, pa.int64())))
    if until is not None:
        mask = both(pc.less_equal(table.column("ts_ns"), pa.scalar(until, pa.int64())))
    return Selection(table.filter(mask) if mask is not None else table, query, name)


def _check_combination(query: Query) -> None:
    """Refuse `--kind` with `--outcome` or `--rule` when none of the kinds asked for is one they
    keep: the answer would be an empty list that reads as "nothing happened"."""
    if query.kinds is None:
        return
    if query.outcome is not None and "risk" not in query.kinds:
        raise JournalError(f"--outcome {query.outcome} keeps risk decisions only, and --kind "
                           f"{','.join(query.kinds)} asks for none: add risk to --kind, or leave "
                           "--outcome out")
    if query.rule is not None and not set(query.kinds) & set(RULE_KINDS):
        raise JournalError(f"--rule {query.rule} keeps records of kinds "
                           f"{', '.join(RULE_KINDS)} only, and --kind {','.join(query.kinds)} "
                           "asks for none of them: leave --rule out to see those kinds")


def _of_instrument(table: pa.Table, instrument: str) -> Any:
    """The records of `instrument`: those that name it, and those that name no instrument but
    an order of it (a cancel that reached the venue too late names only the order)."""
    named = pc.fill_null(pc.equal(table.column("instrument"), instrument), False)
    orders = table.filter(pc.and_(named, pc.is_valid(table.column("order_id"))))
    ids = pc.unique(orders.column("order_id"))
    by_order = pc.and_(pc.is_null(table.column("instrument")),
                       pc.fill_null(pc.is_in(table.column("order_id"), ids), False))
    return pc.or_(named, by_order)


def _rules(table: pa.Table, name: str) -> list[str]:
    """The rule names the journal's session header lists (none if it has no header)."""
    if not len(table) or table.column("kind")[0].as_py() != "session":
        return []
    details = details_of(table.column("details")[0].as_py(),
                         f"{name}: record {table.column('seq')[0].as_py()}")
    return [r["rule"] for r in details.get("rules", [])]


def _concerns(kind: str, details: dict[str, Any], rule: str, allowed: bool) -> bool:
    """A decision the rule blocked (or, when asking for allowed ones, one it passed); its
    changes."""
    if kind == "risk":
        if allowed:
            return any(v["rule"] == rule for v in details.get("verdicts", []))
        return rule in details.get("blocked_by", [])
    return details.get("rule") == rule
