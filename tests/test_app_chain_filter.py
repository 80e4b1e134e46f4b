"""Pure parts of the app: the causal chain of a record and the audit log's filter."""

from __future__ import annotations

import json

from desk.app.audit_filter import AuditFilter
from desk.app.chain import causal_chain, explain
from desk.audit import TailRecord


def rec(seq: int, kind: str, cause: int | None, why: str = "", **details: object) -> TailRecord:
    return (seq, seq * 10, kind, "ACME", cause, None, why or kind, json.dumps(details))


RECORDS = {r[0]: r for r in [
    rec(0, "session", None), rec(1, "market", None), rec(2, "signal", 1), rec(3, "intent", 2),
    rec(4, "risk", 3, "allowed"), rec(5, "order", 4), rec(6, "market", None),
    rec(7, "arrival", 5), rec(8, "fill", 7), rec(9, "rule_toggle", None, rule="cash"),
]}


def test_chain_walks_back_to_the_market_event_and_forward_to_the_fill() -> None:
    chain = causal_chain(RECORDS, 4)
    assert [r[2] for r in chain.ancestors] == ["market", "signal", "intent", "risk"]
    assert [r[2] for r in chain.consequences] == ["order", "arrival", "fill"]
    assert chain.missing is None


def test_chain_says_where_records_are_missing() -> None:
    partial = {k: v for k, v in RECORDS.items() if k != 2}
    chain = causal_chain(partial, 4)
    assert chain.missing == 2
    assert [r[2] for r in chain.ancestors] == ["intent", "risk"]


def test_explain_reuses_the_order_chain_of_desk_explain() -> None:
    records = {**RECORDS, 5: (5, 50, "order", "ACME", 4, 1, "order", "{}"),
               7: (7, 70, "arrival", "ACME", 5, 1, "arrival", "{}"),
               8: (8, 80, "fill", "ACME", 7, 1, "fill", "{}")}
    chain = explain(records, 8)
    assert chain.title == "order #1"
    assert [r[2] for r in chain.ancestors] == ["market", "signal", "intent", "risk", "order",
                                               "arrival", "fill"]
    toggle = explain(records, 9)
    assert toggle.title == "record #9" and [r[2] for r in toggle.ancestors] == ["rule_toggle"]


def test_filter_by_kind_rule_and_words() -> None:
    blocked = rec(10, "risk", 3, "blocked by cash: short", blocked_by=["cash"])
    assert AuditFilter.parse("kind:risk,fill").matches(blocked)
    assert not AuditFilter.parse("kind:fill").matches(blocked)
    assert AuditFilter.parse("rule:cash").matches(blocked)
    assert AuditFilter.parse("rule:cash").matches(RECORDS[9])
    assert not AuditFilter.parse("rule:max_position").matches(blocked)
    assert AuditFilter.parse("SHORT").matches(blocked)
    assert not AuditFilter.parse("long").matches(blocked)
    assert AuditFilter.parse("short cash").matches(blocked)        # every word, in any order
    assert not AuditFilter.parse("short position").matches(blocked)
    assert AuditFilter.parse("kind:risk rule:cash short").describe() == "kind:risk rule:cash short"


async def test_escape_closes_the_filter_box_and_keys_reach_the_desk_again(tmp_path) -> None:
    from app_helpers import make_app

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"kind:fill")
        audit = app.query_one("#audit")
        assert audit.has_class("-filtering")
        await pilot.press("escape")
        assert not audit.has_class("-filtering") and not audit.filter.active
        await pilot.press("n")
        assert app.runner.engine.stats.events == 1
