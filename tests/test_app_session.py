"""The app's session life: saved actions replay exactly; the end; faults and failures."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from app_helpers import make_app, open_rules, screen_text, shown, wait_until

from desk.app.error_screen import ErrorScreen
from desk.app.summary_screen import SummaryScreen
from desk.audit import read_journal
from desk.config import load_session
from desk.engine import Engine
from desk.runner import RunState


def replayed_as_it_was_played(saved: Path, folder: Path) -> list[dict[str, Any]]:
    """Run the session `s` saved, headless and strict, and check that its journal is the live
    run's (`folder / "live.arrow"`) byte for byte; the replay's records."""
    replay = Engine(load_session(saved), folder / "replay.arrow", strict=True)
    replay.run()
    replay.close()
    assert (folder / "live.arrow").read_bytes() == (folder / "replay.arrow").read_bytes()
    return read_journal(folder / "replay.arrow").to_pylist()


async def test_s_writes_a_toml_that_run_headless_reproduces_the_same_journal(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, risk={"max_order_size": {"max_qty": 50}})
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.press("6")          # max_order_size off
        await pilot.press("n", "n")
        await pilot.press("d")
        await wait_until(pilot, lambda: engine.journal.counts["risk"] == 2
                         and app.runner.state is RunState.PAUSED)
        await pilot.press("4")          # max_leverage off, still queued when saved
        await pilot.press("s")
        saved = tmp_path / "session-ops-1.toml"
        assert saved.exists()
        for _ in ("plus",) * 4:
            await pilot.press("plus")
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape", "q")
    actions = tomllib.loads(saved.read_text())["operator_actions"]
    assert [(a["action"], a["rule"], a["enabled"]) for a in actions] == [
        ("toggle", "max_order_size", False), ("toggle", "max_leverage", False)]
    records = replayed_as_it_was_played(saved, tmp_path)
    assert [r["kind"] for r in records].count("rule_toggle") == 2


async def test_a_limit_cleared_on_the_rules_screen_is_saved_as_none_and_replays_exactly(
        tmp_path: Path) -> None:
    """An empty field removes the limit; TOML has no null, so the copy says `value = "none"`
    (a `set` without a value is refused when a session loads)."""
    app = make_app(tmp_path, risk={"max_order_size": {"max_qty": 50}})
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await open_rules(pilot, app)
        field = app.screen.query_one("#limit-max_order_size-max_qty")
        field.focus()
        field.value = ""
        await pilot.press("enter", "escape", "s")
        saved = tmp_path / "session-ops-1.toml"
        await wait_until(pilot, saved.exists)
        for _ in ("plus",) * 4:
            await pilot.press("plus")
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape", "q")
    actions = tomllib.loads(saved.read_text())["operator_actions"]
    assert actions == [{"seq": actions[0]["seq"], "action": "set", "rule": "max_order_size",
                        "param": "max_qty", "value": "none"}]
    changes = [r for r in replayed_as_it_was_played(saved, tmp_path)
               if r["kind"] == "limit_change"]
    assert [r["why"] for r in changes] == ["max_order_size.max_qty: 50 → none (by operator)"]
    assert engine.stats.blocked_by.get("max_order_size", 0) >= 1


async def test_at_the_end_the_app_stays_open_on_the_final_state_and_summary(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.pause(0.1)
        assert isinstance(app.screen, SummaryScreen)
        summary = shown(app.screen.query_one("#summary"))
        assert f"{engine.stats.events:,}" in summary
        assert f"{engine.portfolio.equity:,.2f}" in summary
        await pilot.press("escape")
        assert app.is_running
        header = shown(app.query_one("#header"))
        assert "FINISHED" in header and "100%" in header   # by simulated time: never past 100%
        assert engine.stats.events > engine.stats.market_events
        await pilot.press("n")
        assert app.runner.state is RunState.FINISHED


async def test_the_summary_saves_with_s_and_quits_with_q(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), tries=2_000)
        await pilot.press("s")
        assert app.saved == [tmp_path / "session-ops-1.toml"] and app.saved[0].exists()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("q")
        await pilot.pause(0.05)
    assert app.return_code == 0 and not app.is_running


async def test_the_summary_waits_while_the_filter_box_is_typed_in(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    async with app.run_test() as pilot:
        await pilot.press("slash", "end", *["backspace"] * 20, *"kind:f")
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press(*"ill", "space", "q")   # typed on after the end: still the box's
        await pilot.pause(0.05)
        assert app.is_running and not isinstance(app.screen, SummaryScreen)
        assert app.query_one("#audit-filter").value == "kind:fill q"
        await pilot.press("escape")                  # the box closes: the summary follows
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))


async def test_a_replay_window_that_holds_no_data_is_said_in_a_notification(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max",
                                                   "start": "2030-01-01T00:00:00Z"})
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.pause(0.1)
        told = [n for n in app._notifications if n.title == "empty replay window"]
        assert len(told) == 1
        assert told[0].message.startswith("replay.start 2030-01-01T00:00:00Z is after the data's "
                                          "last event (2024-01-02 ")
        await pilot.press("escape", "q")


async def test_an_engine_failure_shows_an_error_screen_and_keeps_the_journal(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    engine = app.runner.engine
    real_step = engine.step

    def failing_step() -> bool:
        if engine.stats.events >= 500:
            raise RuntimeError("feed handler exploded")
        return real_step()

    engine.step = failing_step  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.pause(0.05)
        message = shown(app.screen.query_one("#error-message")).replace("\n", "")
        assert "RuntimeError: feed handler exploded" in message
        assert "live.arrow" in message
        assert app.runner.state is RunState.FAILED
    table = read_journal(tmp_path / "live.arrow")
    kinds = table.column("kind").to_pylist()
    assert kinds[0] == "session" and kinds[-1] == "engine_error"
    assert table.column("seq").to_pylist() == list(range(len(kinds)))


async def test_s_saves_beside_the_journal_and_says_where(tmp_path: Path) -> None:
    from conftest import BASE

    from desk.app.desk_app import DeskApp
    from desk.config import parse_session
    from desk.runner import Runner

    sessions, out = tmp_path / "sessions", tmp_path / "out"
    sessions.mkdir()
    loaded = parse_session(BASE, "session.toml", sessions / "session.toml")
    app = DeskApp(Runner(Engine(loaded, out / "journal.arrow"), paused=True))
    async with app.run_test() as pilot:
        await pilot.press("n", "6", "s")
        await pilot.pause(0.05)
        saved = out / "session-ops-1.toml"
        assert app.saved == [saved] and saved.exists()
        assert list(sessions.iterdir()) == []             # not into the session's own folder
        told = [n for n in app._notifications if n.title == "session saved"]
        assert len(told) == 1 and str(saved) in told[0].message
        await pilot.press("q")


async def test_after_the_end_rule_changes_say_the_replay_is_over(tmp_path: Path) -> None:
    from desk.app.rules_screen import RulesScreen

    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 600}})
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape")
        records = engine.journal.seq
        await pilot.press("6")
        messages = [n.message for n in app._notifications]
        assert any("replay is over" in m for m in messages)
        assert not any("from the next event" in m for m in messages)
        await open_rules(pilot, app)
        assert isinstance(app.screen, RulesScreen)
        assert "The replay is over" in shown(app.screen.query_one("#over"))
        switch = app.screen.query_one("#switch-cash")
        switch.focus()
        await pilot.press("space")
        assert switch.value is engine.risk.rule("cash").enabled   # the switch shows the truth
        assert engine.journal.seq == records and list(engine.commands) == []
        assert app.runner.recorded_actions() == []


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_after_the_end_the_rules_screen_says_so_in_full(tmp_path: Path,
                                                             size: tuple[int, int]) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 600}})
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape")
        await open_rules(pilot, app)
        await pilot.pause(0.1)
        box = app.screen.query_one("#over").region
        rows = screen_text(app)[box.y:box.bottom]
        on_screen = " ".join(row[box.x:box.right].strip() for row in rows)
        assert on_screen.endswith("replay it to try other rules.")


async def test_q_on_the_error_screen_quits_and_keeps_the_journal(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    engine = app.runner.engine
    real_step = engine.step

    def failing_step() -> bool:
        if engine.stats.events >= 50:
            raise RuntimeError("feed handler exploded")
        return real_step()

    engine.step = failing_step  # type: ignore[method-assign]
    engine.run = lambda max_events=None: failing_step()  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.pause(0.05)
        text = " ".join(shown(app.screen.query_one("#error-message")).split())
        assert "q quits desk (the journal is kept)" in text
        await pilot.press("q")
        await pilot.pause(0.05)
        assert not app.is_running
    kinds = read_journal(tmp_path / "live.arrow").column("kind").to_pylist()
    assert kinds[-1] == "engine_error"


async def test_strategy_faults_are_told_once_per_kind_and_shown_in_the_header(
        tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from desk.app.summary_screen import summary_table

    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   strategy={"use": "app_helpers:Faulty", "max_faults": 3, "params": {}})
    engine = app.runner.engine
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), tries=2_000)
        console = Console(file=io.StringIO(), width=80, color_system=None)
        console.print(summary_table(app.screen.snap))
        summary = console.file.getvalue()  # type: ignore[attr-defined]
        assert "strategy faults    3 (the strategy was stopped)" in summary
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert engine.journal.counts["strategy_error"] == 3
        titles = [n.title for n in app._notifications]
        assert titles.count("strategy fault") == 1 and titles.count("strategy stopped") == 1
        assert "⚠ strategy stopped" in shown(app.query_one("#header"))


async def test_a_finished_replay_leaves_a_closed_journal_while_the_app_stays_open(
        tmp_path: Path) -> None:
    # the replay is over, the app still on its summary: `desk audit` on the journal in another
    # terminal must read a whole journal, not one "cut short … or one still writing"
    from desk.audit import load_journal

    app = make_app(tmp_path, paused=False, replay={"speed": "max"})
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        read = load_journal(tmp_path / "live.arrow")
        assert read.warning is None, read.warning
        assert read.table.num_rows == engine.journal.seq
        assert read.table.column("kind").to_pylist()[-1] == "end"
        await pilot.press("escape", "q")
