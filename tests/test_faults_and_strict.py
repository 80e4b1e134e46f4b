"""A strategy's faults are journaled and handled by policy; `--strict` stops on a broken
invariant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cli_run import run_cli
from conftest import make_session, run_engine

from desk.audit import details_of, read_journal

T0 = 1_704_205_800_000_000_000


def _trades_session(folder: Path) -> Path:
    lines = ["ts,price,size"] + [f"{T0 + i * 1_000_000_000},{100 + i % 7 / 100:.2f},5"
                                 for i in range(50)]
    (folder / "trades.csv").write_text("\n".join(lines) + "\n")
    session = folder / "session.toml"
    session.write_text(tomli_w.dumps({
        "data": {"files": [{"path": "trades.csv", "kind": "trade"}]},
        "instruments": [{"symbol": "ACME"}],
        "strategy": {"use": "fault_strategies:Cheat"}}))
    return session


def test_strict_run_stops_at_the_event_whose_handling_broke_an_invariant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = _trades_session(tmp_path)
    assert run_cli(["run", str(session), "--out", str(tmp_path / "strict"), "--strict"]) == 2
    err = capsys.readouterr().err
    # trades only, no orders: the 10th trade is event seq 9
    assert err.startswith("desk: invariant positions_change_only_in_apply_fill broken at event "
                          "seq 9: books changed outside apply_fill")
    assert len(err.splitlines()) == 1
    last = read_journal(tmp_path / "strict").to_pylist()[-1]
    assert last["kind"] == "error" and "positions_change_only_in_apply_fill" in last["why"]
    # without --strict nothing looks: the same run ends normally
    assert run_cli(["run", str(session), "--out", str(tmp_path / "lax"), "--json"]) == 0


def _faulting(policy: str, tmp_path: Path) -> tuple[Any, list[dict[str, Any]]]:
    session = make_session(strategy={"use": "fault_strategies:BuysThenBreaks", "params": {},
                                     "max_faults": 3, "on_fault": policy})
    engine = run_engine(session, tmp_path / "journal.arrow")
    return engine, read_journal(tmp_path / "journal.arrow").to_pylist()


def test_a_fault_is_journaled_with_the_strategys_own_traceback(tmp_path: Path) -> None:
    _, records = _faulting("stop", tmp_path)
    errors = [r for r in records if r["kind"] == "strategy_error"]
    assert len(errors) == 3
    assert errors[0]["why"].startswith("strategy raised in on_trade: ValueError: bad tick at ")
    trace = details_of(errors[0]["details"])["traceback"]
    assert "fault_strategies.py" in trace and 'raise ValueError(f"bad tick at {trade.price}")' \
        in trace and trace.rstrip().endswith("ValueError: bad tick at " + errors[0]["why"]
                                              .rsplit("bad tick at ", 1)[1].split(" (")[0])


def test_stop_policy_stops_the_strategy_and_leaves_its_position(tmp_path: Path) -> None:
    engine, records = _faulting("stop", tmp_path)
    stopped = [i for i, r in enumerate(records) if r["kind"] == "strategy_stopped"]
    assert len(stopped) == 1 and not engine.strategy_active
    assert not [r for r in records[stopped[0]:] if r["kind"] in ("intent", "strategy_error")]
    assert engine.portfolio.positions["ACME"].qty == 20


def test_flatten_policy_closes_the_position_through_risk_and_execution(tmp_path: Path) -> None:
    engine, records = _faulting("flatten", tmp_path)
    start = next(i for i, r in enumerate(records) if r["kind"] == "strategy_stopped")
    after = records[start:]
    signal = next(r for r in after if r["kind"] == "signal")
    assert signal["why"] == "flatten: strategy stopped after repeated faults"
    intent = next(r for r in after if r["kind"] == "intent")
    assert intent["cause"] == signal["seq"] and intent["why"] == "sell 20 ACME at market"
    decision = next(r for r in after if r["kind"] == "risk" and r["cause"] == intent["seq"])
    assert details_of(decision["details"]).get("approved", True)
    fills = [r for r in after if r["kind"] == "fill"]
    assert fills and sum(details_of(f["details"])["qty"] for f in fills) == -20
    assert engine.portfolio.positions["ACME"].qty == 0


def test_a_strategy_that_calls_sys_exit_is_at_fault_and_the_run_goes_on(tmp_path: Path) -> None:
    """sys.exit() in a callback ended desk at once: no error line, the journal cut short after
    its session record, without an end."""
    session = make_session(strategy={"use": "fault_strategies:Exits", "params": {}})
    engine = run_engine(session, tmp_path / "journal.arrow")
    records = read_journal(tmp_path / "journal.arrow").to_pylist()
    assert [r["why"] for r in records if r["kind"] == "strategy_error"] == [
        "strategy raised in on_start: SystemExit: no edge today (fault 1 of 3)",
        "strategy raised in on_trade: SystemExit: 3 (fault 2 of 3)"]
    assert records[-1]["kind"] == "end" and engine.strategy_active
