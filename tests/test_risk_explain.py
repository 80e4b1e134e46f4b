"""`desk explain` and `desk audit` on a small session with one blocked and one allowed order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from test_risk_runtime import make_session, script

from desk.audit import read_journal
from desk.engine import Engine
from desk.errors import JournalError
from desk.explain import JournalIndex, explain_order, explain_seq
from desk.query import Query, select

STEPS = script({"at": "+5s", "qty": 2_000, "reason": "too big"},
               {"at": "+10s", "qty": 100, "reason": "a fair size"})


def write_two_order_journal(path: Path) -> Path:
    """A closed journal of one blocked and one filled order on ACME, in one record batch."""
    engine = Engine(make_session(strategy=STEPS, session={"start_cash": 1_000_000.0}), path,
                    strict=True)
    engine.run()
    engine.close()
    return path


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two_order_journal(tmp_path_factory.mktemp("explain") / "journal.arrow")


def desk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desk", *args], capture_output=True, text=True,
                          check=False)


def blocked_seq(journal: Path) -> int:
    [record] = select(read_journal(journal), Query(outcome="blocked"))
    return int(record["seq"])


def test_explain_of_an_allowed_order_walks_from_the_market_event_to_execution_quality(
        journal: Path) -> None:
    chain = explain_order(JournalIndex(read_journal(journal)), 1)
    kinds = [r["kind"] for r in chain.records]
    assert kinds[:6] == ["market", "signal", "intent", "risk", "order", "arrival"]
    assert "fill" in kinds and kinds[-1] == "execution"
    for parent, child in zip(chain.records[:5], chain.records[1:6], strict=True):
        assert child["cause"] == parent["seq"]
    assert chain.of_kind("signal")[0]["details"]["step_at"] == "+10s"
    assert chain.of_kind("risk")[0]["details"]["approved"] is True
    assert len(chain.of_kind("risk")[0]["details"]["verdicts"]) == 8
    fills = chain.of_kind("fill")
    assert sum(f["details"]["qty"] for f in fills) == 100
    assert chain.outcome.startswith("order #1 filled: +100 at VWAP")


def test_explain_of_a_blocked_intent_ends_at_the_decision_and_names_the_rule(
        journal: Path) -> None:
    index = JournalIndex(read_journal(journal))
    seq = blocked_seq(journal)
    chain = explain_seq(index, seq)
    assert [r["kind"] for r in chain.records] == ["market", "signal", "intent", "risk"]
    assert chain.subject == f"blocked intent (risk record {seq})"
    assert chain.outcome.startswith(
        "blocked by max_position: position would be 2,000, beyond ±1,000")
    signal = chain.of_kind("signal")[0]
    assert explain_seq(index, signal["seq"]).records == chain.records


def test_explain_through_a_fill_record_gives_that_fills_order(journal: Path) -> None:
    index = JournalIndex(read_journal(journal))
    fill = next(r for r in read_journal(journal).to_pylist() if r["kind"] == "fill")
    assert explain_seq(index, fill["seq"]).subject == "order #1"


def test_explain_of_an_unknown_order_or_seq_is_a_journal_error(journal: Path) -> None:
    index = JournalIndex(read_journal(journal))
    with pytest.raises(JournalError, match="no order #7 in the journal"):
        explain_order(index, 7)
    with pytest.raises(JournalError, match="no record with seq 10000000"):
        explain_seq(index, 10_000_000)
    with pytest.raises(JournalError, match=r"^the journal: record 0 is of kind 'session', not "
                                           r"part of an order"):
        explain_seq(index, 0)


def test_audit_filters_by_outcome_rule_kind_instrument_and_time(journal: Path) -> None:
    table = read_journal(journal)
    assert [r["details"]["blocked_by"] for r in select(table, Query(outcome="blocked"))] == \
        [["max_position"]]
    assert len(select(table, Query(outcome="allowed"))) == 1
    assert len(select(table, Query(rule="max_position"))) == 1
    assert len(select(table, Query(rule="max_position", outcome="allowed"))) == 1
    assert select(table, Query(rule="cash")) == []
    assert {r["kind"] for r in select(table, Query(kinds=("fill", "order")))} == {"fill", "order"}
    assert select(table, Query(instrument="ACME"))
    with pytest.raises(JournalError, match="--instrument: no record of 'XYZ'"):
        select(table, Query(instrument="XYZ"))
    late = select(table, Query(kinds=("risk",), since="+7s"))
    assert [r["details"]["approved"] for r in late] == [True]
    early = select(table, Query(kinds=("risk",), until="+7s"))
    assert [r["details"]["approved"] for r in early] == [False]
    with pytest.raises(JournalError, match="--since: 'noon'"):
        select(table, Query(since="noon"))


def test_every_kind_a_journal_holds_is_one_audit_knows(journal: Path) -> None:
    from desk.query import KINDS

    folders = [journal]
    for name in ("risk_tour", "exec_passive"):  # between them, most kinds a run can write
        out = journal.parent / name
        result = desk("run", str(ROOT / "sessions" / f"{name}.toml"), "--out", str(out), "--json")
        assert result.returncode == 0, result.stderr
        folders.append(out / "journal.arrow")
    seen = set()
    for path in folders:
        seen |= set(read_journal(path).column("kind").to_pylist())
    assert seen <= set(KINDS)
    assert {"mode", "limit_change", "rule_toggle", "cancel", "order_end", "end"} <= seen


def test_desk_explain_and_audit_on_the_command_line(journal: Path) -> None:
    allowed = desk("explain", str(journal), "1")
    assert allowed.returncode == 0, allowed.stderr
    assert "order #1" in allowed.stdout and "effect on the portfolio" in allowed.stdout
    assert "execution quality" in allowed.stdout
    blocked = desk("explain", str(journal), "--seq", str(blocked_seq(journal)))
    assert blocked.returncode == 0, blocked.stderr
    assert "BLOCK" in blocked.stdout and "max_position" in blocked.stdout
    lines = desk("audit", str(journal), "--kind", "risk", "--outcome", "blocked", "--json")
    assert lines.returncode == 0, lines.stderr
    [record] = [json.loads(line) for line in lines.stdout.splitlines()]
    assert record["details"]["blocked_by"] == ["max_position"]
    table = desk("audit", str(journal), "--kind", "risk")
    assert "blocked" in table.stdout and "allowed" in table.stdout and "2 records" in table.stdout


@pytest.mark.parametrize("args, message", [
    (("explain", "{j}", "9"), "desk: no order #9 in {j}"),
    (("explain", "{missing}", "1"), "desk: {missing}: no such journal"),
    (("audit", "{missing}"), "desk: {missing}: no such journal"),
    (("explain", "{j}"), "desk: give an ORDER_ID, or --seq SEQ"),
    (("audit", "{j}", "--until", "tea time"), "desk: --until: 'tea time' is neither"),
    (("audit", "{j}", "--kind", "fills"), "desk: --kind: no record kind 'fills'"),
    (("audit", "{j}", "--rule", "max_positon"), "desk: --rule: no risk rule 'max_positon'"),
])
def test_desk_explain_and_audit_errors_are_one_line_and_exit_2(
        journal: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    missing = str(tmp_path / "nope.arrow")
    result = desk(*(a.format(j=journal, missing=missing) for a in args))
    assert result.returncode == 2
    assert result.stderr.startswith(message.format(j=journal, missing=missing))
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
