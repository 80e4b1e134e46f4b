"""Risk changes at run time: operator switches, the session's schedule, and changes carried by
the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import BASE, merge

from desk.audit import details_of, read_journal
from desk.config import LoadedSession, OperatorAction, parse_session
from desk.engine import Engine
from desk.errors import DataError, SessionError
from desk.events import Trade
from desk.strategy import Strategy

SECOND = 1_000_000_000


def make_session(base_dir: Path | None = None, **extra: Any) -> LoadedSession:
    """Like conftest's, but `strategy` replaces the base strategy instead of merging into it."""
    base = {k: v for k, v in BASE.items() if k != "strategy" and k not in extra.get("_drop", ())}
    extra.pop("_drop", None)
    path = (base_dir / "session.toml") if base_dir is not None else None
    return parse_session(merge(base, extra), "test-session", path)


def script(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"use": "strategies.script:Script", "params": {"steps": list(steps)}}


def records(engine: Engine, kind: str) -> list[dict[str, Any]]:
    """The engine's in-memory journal tail, one kind, with details parsed."""
    names = ("seq", "ts_ns", "kind", "instrument", "cause", "order_id", "why", "details")
    out = []
    for row in engine.journal.tail:
        record = dict(zip(names, row, strict=True))
        if record["kind"] == kind:
            record["details"] = details_of(record["details"])
            out.append(record)
    return out


def step_until_intents(engine: Engine, count: int) -> None:
    while engine.stats.intents < count:
        assert engine.step(), "the replay ended before the intent came"


THREE_BUYS = script({"at": "+10s", "qty": 10}, {"at": "+20s", "qty": 10}, {"at": "+30s", "qty": 10})


def test_an_operator_switch_changes_the_outcome_of_the_very_next_intent() -> None:
    engine = Engine(make_session(strategy=THREE_BUYS), None, strict=True)
    step_until_intents(engine, 1)
    assert records(engine, "risk")[-1]["details"]["approved"]
    engine.command(OperatorAction(seq=0, action="kill"))
    step_until_intents(engine, 2)
    second = records(engine, "risk")[-1]
    assert second["details"]["blocked_by"] == ["kill_switch"]
    engine.command(OperatorAction(seq=0, action="toggle", rule="kill_switch", enabled=False))
    step_until_intents(engine, 3)
    third = records(engine, "risk")[-1]
    assert third["details"]["approved"]
    assert "kill_switch" not in {v["rule"] for v in third["details"]["verdicts"]}
    sources = [(r["details"]["source"], r["why"]) for r in records(engine, "limit_change")
               + records(engine, "rule_toggle")]
    assert sources == [("operator", "kill_switch.engaged: false → true (by operator)"),
                       ("operator", "kill_switch switched off (by operator)")]
    engine.close()


def test_the_operator_kill_switch_works_even_when_its_rule_was_switched_off() -> None:
    session = make_session(strategy=THREE_BUYS, risk={"kill_switch": {"enabled": False}})
    engine = Engine(session, None)
    step_until_intents(engine, 1)
    engine.command(OperatorAction(seq=0, action="kill"))
    step_until_intents(engine, 2)
    assert records(engine, "risk")[-1]["details"]["blocked_by"] == ["kill_switch"]
    assert records(engine, "rule_toggle")[0]["why"] == "kill_switch switched on (by operator)"


def test_a_recorded_operator_action_replays_before_the_same_event() -> None:
    engine = Engine(make_session(strategy=THREE_BUYS), None)
    step_until_intents(engine, 1)
    engine.command(OperatorAction(seq=0, action="set", rule="max_order_size", param="max_qty",
                                  value=5))
    engine.run()
    recorded = engine.operator_log
    replay = Engine(make_session(strategy=THREE_BUYS,
                                 operator_actions=[a.model_dump() for a in recorded]), None)
    replay.run()
    assert replay.stats.blocked_by == engine.stats.blocked_by == {"max_order_size": 2}
    assert [r["ts_ns"] for r in records(replay, "limit_change")] == \
        [r["ts_ns"] for r in records(engine, "limit_change")]


def test_the_schedule_fires_at_its_time_and_governs_the_next_intent() -> None:
    session = make_session(strategy=THREE_BUYS, risk={"schedule": [
        {"at": "+15s", "rule": "max_order_size", "param": "max_qty", "value": 5},
        {"at": "+25s", "rule": "max_order_size", "enabled": False}]})
    engine = Engine(session, None, strict=True)
    engine.run()
    first_ts = records(engine, "session")[0]["ts_ns"]
    change = records(engine, "limit_change")[0]
    toggle = records(engine, "rule_toggle")[0]
    assert change["ts_ns"] == first_ts + 15 * SECOND
    assert toggle["ts_ns"] == first_ts + 25 * SECOND
    assert change["details"]["source"] == toggle["details"]["source"] == "schedule"
    outcomes = [(r["ts_ns"] > change["ts_ns"], r["details"]["approved"])
                for r in records(engine, "risk")]
    assert outcomes == [(False, True), (True, False), (True, True)]
    assert records(engine, "risk")[1]["details"]["blocked_by"] == ["max_order_size"]


def test_a_limit_change_at_the_same_time_as_a_trade_governs_that_trade() -> None:
    session = make_session(strategy=script({"at": "+10s", "qty": 10}), risk={"schedule": [
        {"at": "+10s", "rule": "kill_switch", "param": "engaged", "value": True}]})
    engine = Engine(session, None)
    engine.run()
    assert engine.stats.blocked_by == {"kill_switch": 1}


def test_a_change_scheduled_after_the_last_event_is_not_applied_and_is_journaled_at_the_end(
        ) -> None:
    session = make_session(strategy=THREE_BUYS, risk={"schedule": [
        {"at": "+1h", "rule": "max_order_size", "param": "max_qty", "value": 5},
        {"at": "+2h", "rule": "cash", "enabled": False}]})
    engine = Engine(session, None, strict=True)
    engine.run()
    assert records(engine, "limit_change") == records(engine, "rule_toggle") == []
    (late,) = records(engine, "control_error")
    end = records(engine, "end")[0]
    last_market = max(r["ts_ns"] for r in records(engine, "market"))
    first_ts = records(engine, "session")[0]["ts_ns"]
    assert late["ts_ns"] == end["ts_ns"] < first_ts + 3600 * SECOND
    assert end["ts_ns"] >= last_market
    assert late["why"] == ("2 scheduled risk changes not applied: due from 2024-01-02 "
                           "15:30:00.000 UTC on, after the replay's last event "
                           "(max_order_size.max_qty = 5, cash switched off)")
    assert late["details"]["due"] == [first_ts + 3600 * SECOND, first_ts + 7200 * SECOND]
    assert engine.risk.rule("cash").enabled


def test_a_change_scheduled_before_the_first_event_is_in_force_from_the_start() -> None:
    session = make_session(strategy=THREE_BUYS, risk={"schedule": [
        {"at": "2020-01-01T00:00:00Z", "rule": "max_order_size", "param": "max_qty",
         "value": 5}]})
    engine = Engine(session, None, strict=True)
    engine.run()
    first_ts = records(engine, "session")[0]["ts_ns"]
    (change,) = records(engine, "limit_change")
    assert change["ts_ns"] == first_ts
    assert change["seq"] == 1
    assert engine.stats.blocked_by == {"max_order_size": 3}


def write_mixed(path: Path, control_rows: list[tuple[int, str, str, str]]) -> None:
    """A minute of one-second quotes and trades for ACME, with risk_limit rows among them."""
    lines = ["ts,kind,instrument,price,size,bid,bid_size,ask,ask_size,rule,param,value"]
    rows: list[tuple[int, str]] = []
    for second in range(60):
        ts = second * SECOND
        rows.append((ts, f"{ts},quote,ACME,,,99.99,500,100.01,500,,,"))
        rows.append((ts + 1, f"{ts + 1},trade,ACME,100.0,5,,,,,,,"))
    for ts, rule, param, value in control_rows:
        rows.append((ts, f"{ts},risk_limit,,,,,,,,{rule},{param},{value}"))
    rows.sort(key=lambda row: row[0])
    path.write_text("\n".join(lines + [text for _, text in rows]) + "\n")


def test_risk_limit_rows_in_a_data_file_change_the_limit_from_the_next_event_on(
        tmp_path: Path) -> None:
    write_mixed(tmp_path / "feed.csv", [(15 * SECOND, "max_order_size", "max_qty", "5"),
                                        (25 * SECOND, "max_order_size", "enabled", "false"),
                                        (40 * SECOND, "max_size", "limit", "1")])
    session = make_session(tmp_path, _drop=("data",), data={"files": [
        {"path": "feed.csv", "kind": "mixed"}]}, strategy=THREE_BUYS)
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    change = next(r for r in table if r["kind"] == "limit_change")
    assert change["ts_ns"] == 15 * SECOND
    assert change["why"] == "max_order_size.max_qty: none → 5 (by data feed.csv:33)"
    toggle = next(r for r in table if r["kind"] == "rule_toggle")
    assert toggle["why"].startswith("max_order_size switched off (by data feed.csv:")
    error = next(r for r in table if r["kind"] == "control_error")
    assert "no risk rule 'max_size'" in error["why"]
    approved = [details_of(r["details"])["approved"] for r in table if r["kind"] == "risk"]
    assert approved == [True, False, True]


@pytest.mark.parametrize("none", ["none", " None "])
def test_a_risk_limit_row_with_value_none_removes_the_limit_as_the_schedule_does(
        tmp_path: Path, none: str) -> None:
    """A data file says no limit as a session file does (`value = "none"`), in any case and
    with blanks around it as its true and false may be."""
    write_mixed(tmp_path / "feed.csv", [(15 * SECOND, "max_order_size", "max_qty", none)])
    session = make_session(tmp_path, _drop=("data",), data={"files": [
        {"path": "feed.csv", "kind": "mixed"}]}, strategy=THREE_BUYS,
        risk={"max_order_size": {"max_qty": 5}})
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    assert not [r for r in table if r["kind"] == "control_error"]
    change = next(r for r in table if r["kind"] == "limit_change")
    assert change["why"] == "max_order_size.max_qty: 5 → none (by data feed.csv:33)"
    assert details_of(change["details"])["after"] is None
    approved = [details_of(r["details"])["approved"] for r in table if r["kind"] == "risk"]
    assert approved == [False, True, True]


def test_a_risk_limit_row_cannot_switch_a_rule_with_none(tmp_path: Path) -> None:
    write_mixed(tmp_path / "feed.csv", [(15 * SECOND, "max_order_size", "enabled", "none")])
    session = make_session(tmp_path, _drop=("data",), data={"files": [
        {"path": "feed.csv", "kind": "mixed"}]}, strategy=THREE_BUYS)
    with pytest.raises(DataError) as caught:
        Engine(session, None)
    assert str(caught.value) == (f"{tmp_path / 'feed.csv'}:33: value: `enabled` takes true or "
                                 "false, not 'none'")


def test_a_bad_risk_limit_row_is_one_line_naming_the_file_and_row(tmp_path: Path) -> None:
    write_mixed(tmp_path / "feed.csv", [(15 * SECOND, "max_order_size", "", "5")])
    session = make_session(tmp_path, _drop=("data",), data={"files": [
        {"path": "feed.csv", "kind": "mixed"}]}, strategy=THREE_BUYS)
    with pytest.raises(DataError) as caught:  # in the first batch: as the engine is built
        Engine(session, None)
    assert str(caught.value) == (f"{tmp_path / 'feed.csv'}:33: "
                                 "a risk_limit row needs `rule` and `param`")


def test_a_bad_scheduled_value_is_a_session_error_when_the_session_loads() -> None:
    with pytest.raises(SessionError, match=r"risk.schedule\[0\].value: max_leverage.limit must "
                                           "be a positive number, not -2"):
        make_session(strategy=THREE_BUYS, risk={"schedule": [
            {"at": "+15s", "rule": "max_leverage", "param": "limit", "value": -2}]})


def test_value_none_removes_a_limit_from_the_schedule_and_from_a_recorded_action() -> None:
    """TOML has no null: `value = "none"` is how a session file says no limit, journaled as the
    operator's cleared field is (`→ none`, `after` null)."""
    session = make_session(strategy=THREE_BUYS, risk={
        "max_order_size": {"max_qty": 5},
        "schedule": [{"at": "+15s", "rule": "max_order_size", "param": "max_qty",
                      "value": "none"}]})
    engine = Engine(session, None, strict=True)
    engine.run()
    change = records(engine, "limit_change")[0]
    assert change["why"] == "max_order_size.max_qty: 5 → none (by schedule)"
    assert change["details"]["after"] is None
    assert [r["details"]["approved"] for r in records(engine, "risk")] == [False, True, True]
    live = Engine(make_session(strategy=THREE_BUYS, risk={"max_order_size": {"max_qty": 5}}), None)
    step_until_intents(live, 1)
    live.command(OperatorAction(seq=0, action="set", rule="max_order_size", param="max_qty",
                                value=None))
    live.run()
    seq = live.operator_log[0].seq
    replay = Engine(make_session(strategy=THREE_BUYS, risk={"max_order_size": {"max_qty": 5}},
                                 operator_actions=[{"seq": seq, "action": "set",
                                                    "rule": "max_order_size",
                                                    "param": "max_qty", "value": "none"}]), None)
    replay.run()
    assert [r["why"] for r in records(replay, "limit_change")] == \
        [r["why"] for r in records(live, "limit_change")] == \
        ["max_order_size.max_qty: 5 → none (by operator)"]
    assert replay.stats.blocked_by == live.stats.blocked_by == {"max_order_size": 1}


class RestThenCancel(Strategy):
    """Rests a far bid on the first trade and cancels it 20 seconds later."""

    def on_start(self) -> None:
        self.order_id: int | None = None
        self.start: int | None = None

    def on_trade(self, trade: Trade) -> None:
        if self.start is None:
            self.start = trade.ts
            self.order_id = self.ctx.order(trade.instrument, 10, "rest a far bid",
                                           limit=trade.price * 0.99)
        elif self.order_id is not None and trade.ts >= self.start + 20 * SECOND:
            self.ctx.cancel(self.order_id, "no longer wanted")
            self.order_id = None


def test_a_cancel_passes_while_the_kill_switch_blocks_every_new_order(tmp_path: Path) -> None:
    session = make_session(strategy={"use": "tests.test_risk_runtime:RestThenCancel"}, risk={
        "price_band": {"pct": 5.0},
        "schedule": [{"at": "+10s", "rule": "kill_switch", "param": "engaged", "value": True}]})
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    kinds = [r["kind"] for r in table]
    engaged = next(r["seq"] for r in table if r["kind"] == "limit_change")
    cancel = next(r for r in table if r["kind"] == "cancel")
    assert cancel["seq"] > engaged  # asked while the switch was engaged
    end = next(r for r in table if r["kind"] == "order_end")
    assert "cancelled" in end["why"] and end["order_id"] == cancel["order_id"]
    assert kinds.count("order") == 1


def test_operator_actions_recorded_past_the_last_event_are_journaled_as_not_applied(
        tmp_path: Path) -> None:
    from conftest import make_session, run_engine

    session = make_session(operator_actions=[{"seq": 10, "action": "kill"},
                                             {"seq": 10**9, "action": "reset"}])
    engine = run_engine(session, tmp_path / "j.arrow")
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    left = [r for r in table if r["kind"] == "control_error"]
    assert len(left) == 1
    assert left[0]["why"].startswith("1 operator action not applied: recorded before event "
                                     "1,000,000,000")
    assert details_of(left[0]["details"])["seqs"] == [10**9]
    assert any(r["kind"] == "limit_change" for r in table)  # the first one was applied
    assert engine.finished


def test_a_reset_while_the_desk_is_active_is_journaled_as_needed_by_nothing(
        tmp_path: Path) -> None:
    from conftest import make_session, run_engine

    run_engine(make_session(operator_actions=[{"seq": 10, "action": "reset"}]),
               tmp_path / "j.arrow")
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    (record,) = [r for r in table if r["kind"] == "control_error"]
    assert record["why"] == "reset by operator not needed: the desk is ACTIVE already"
    assert details_of(record["details"])["source"] == "operator"
    assert not any(r["kind"] == "mode" for r in table)


def test_switching_the_drawdown_rule_or_lowering_its_tolerance_judges_the_mode_at_once(
        tmp_path: Path) -> None:
    # quotes while ACME rises to 110 and falls to 104, then trades only: no mark for the mode
    # to follow
    lines = ["ts,kind,instrument,price,size,bid,bid_size,ask,ask_size"]
    for second, mid in enumerate([100, 100, 105, 110, 108, 104]):
        lines.append(f"{second * SECOND},quote,ACME,,,{mid - 0.01},10000,{mid + 0.01},10000")
        lines.append(f"{second * SECOND + 1},trade,ACME,{mid},1,,,,")
    lines += [f"{second * SECOND},trade,ACME,104,1,,,," for second in range(6, 12)]
    (tmp_path / "feed.csv").write_text("\n".join(lines) + "\n")
    session = make_session(
        tmp_path, _drop=("data",), data={"files": [{"path": "feed.csv", "kind": "mixed"}]},
        strategy=script({"at": "+1s", "qty": 990}, {"at": "+6500ms", "qty": 5},
                        {"at": "+8500ms", "qty": 5}),
        risk={"max_drawdown": {"tolerance": 0.06}, "max_leverage": {"limit": 5},
              "cash": {"enabled": False}, "schedule": [
                  {"at": "+5500ms", "rule": "max_drawdown", "param": "tolerance",
                   "value": 0.05},
                  {"at": "+6s", "rule": "max_drawdown", "enabled": False},
                  {"at": "+7500ms", "rule": "max_drawdown", "enabled": True}]})
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    story = [(r["ts_ns"] // 100_000_000, r["why"]) for r in table
             if r["kind"] in ("mode", "rule_toggle", "limit_change")]
    reducing = ("drawdown 5.41% > tolerance 5.00%: only risk-reducing orders pass")
    assert story == [
        (55, "max_drawdown.tolerance: 0.06 → 0.05 (by schedule)"),
        (55, f"mode ACTIVE → REDUCING: {reducing}"),
        (60, "max_drawdown switched off (by schedule)"),
        (60, "mode REDUCING → ACTIVE: max_drawdown switched off"),
        (75, "max_drawdown switched on (by schedule)"),
        (75, f"mode ACTIVE → REDUCING: {reducing}")]
    modes = [details_of(r["details"])["mode"] for r in table if r["kind"] == "risk"]
    assert modes == ["ACTIVE", "ACTIVE", "REDUCING"]


class AddOnFill(Strategy):
    """Buys 500, then 400 after the fall, then 10 more as soon as the 400 fill."""

    def on_start(self) -> None:
        self.trades = 0
        self.fills = 0

    def on_trade(self, trade: Trade) -> None:
        self.trades += 1
        if self.trades in (1, 6):
            self.ctx.order(trade.instrument, 500 if self.trades == 1 else 400, "buy")

    def on_fill(self, fill: Any) -> None:
        self.fills += 1
        if self.fills == 2:
            self.ctx.order(fill.instrument, 10, "add on the fill")


def test_a_fill_whose_fee_takes_the_drawdown_beyond_the_tolerance_reduces_at_once(
        tmp_path: Path) -> None:
    lines = ["ts,kind,instrument,price,size,bid,bid_size,ask,ask_size"]
    for second, mid in enumerate([100, 100, 100, 99, 97, 92.5, 92.5, 92.5]):
        lines.append(f"{second * SECOND},quote,ACME,,,{mid - 0.01},10000,{mid + 0.01},10000")
        lines.append(f"{second * SECOND + 1},trade,ACME,{mid},1,,,,")
    (tmp_path / "feed.csv").write_text("\n".join(lines) + "\n")
    session = make_session(
        tmp_path, _drop=("data",), data={"files": [{"path": "feed.csv", "kind": "mixed"}]},
        strategy={"use": "tests.test_risk_runtime:AddOnFill"},
        execution={"fees": {"taker_bps": 150.0}, "slippage": {"model": "fixed", "bps": 0.0}},
        risk={"max_drawdown": {"tolerance": 0.05}, "max_leverage": {"limit": 5},
              "cash": {"enabled": False}})
    engine = Engine(session, tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    second_fill = [r for r in table if r["kind"] == "fill"][1]
    mode = next(r for r in table if r["kind"] == "mode")
    assert mode["seq"] == second_fill["seq"] + 1 and mode["ts_ns"] == second_fill["ts_ns"]
    assert mode["why"].startswith("mode ACTIVE → REDUCING: drawdown 5.0")
    last = [r for r in table if r["kind"] == "risk"][-1]
    assert details_of(last["details"])["blocked_by"] == ["max_drawdown"]
