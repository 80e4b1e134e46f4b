"""The desk app's keys drive the replay: pause, single steps, seeking the next risk decision."""

from __future__ import annotations

from pathlib import Path

from app_helpers import make_app, shown, wait_until
from conftest import make_session

from desk.engine import Engine
from desk.runner import RunState


async def test_space_stops_simulated_time(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 400_000}})
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: engine.stats.events > 1_000)
        await pilot.press("space")
        assert app.runner.state is RunState.PAUSED
        events, now = engine.stats.events, engine.now
        await pilot.pause(0.2)
        assert (engine.stats.events, engine.now) == (events, now)
        assert "PAUSED" in shown(app.query_one("#header"))
        await pilot.press("space")
        await wait_until(pilot, lambda: engine.stats.events > events)
        await pilot.press("q")


async def test_n_and_right_each_advance_exactly_one_event(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await pilot.pause(0.1)
        assert engine.stats.events == 0
        await pilot.press("n")
        assert engine.stats.events == 1
        await pilot.press("right")
        assert engine.stats.events == 2
        await pilot.press("n", "n", "n")
        await pilot.pause(0.1)
        assert engine.stats.events == 5
        assert app.runner.state is RunState.PAUSED


def _events_to_first_decision(tmp_path: Path) -> tuple[int, int]:
    """Headless reference: step until the journal holds a risk record; (events, its seq)."""
    engine = Engine(make_session(tmp_path), None)
    while engine.journal.counts.get("risk", 0) == 0:
        assert engine.step()
    seq = next(r[0] for r in reversed(engine.journal.tail) if r[2] == "risk")
    return engine.stats.events, seq


async def test_d_stops_right_after_the_next_risk_decision_and_shows_it(tmp_path: Path) -> None:
    expected_events, expected_seq = _events_to_first_decision(tmp_path)
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test() as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        assert engine.journal.counts["risk"] == 1
        assert engine.stats.events == expected_events
        await pilot.pause(0.1)
        bar = shown(app.query_one("#decision"))
        assert f"#{expected_seq}" in bar
        assert ("ALLOWED" in bar) or ("BLOCKED" in bar)
        assert app.query_one("#audit").selected_seq() == expected_seq
        await pilot.pause(0.2)
        assert engine.stats.events == expected_events  # stays paused there


async def test_switching_a_rule_changes_the_next_decision(tmp_path: Path) -> None:
    # max_order_size (rule 6) blocks every order of 100 while its limit is 50
    app = make_app(tmp_path, risk={"max_order_size": {"max_qty": 50}})
    engine = app.runner.engine

    def last_risk() -> dict[str, object]:
        from desk.audit import details_of
        record = next(r for r in reversed(engine.journal.tail) if r[2] == "risk")
        return details_of(record[7])

    async with app.run_test() as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        assert last_risk()["blocked_by"] == ["max_order_size"]
        await pilot.press("6")
        await pilot.press("d")
        await wait_until(pilot, lambda: engine.journal.counts["risk"] == 2
                         and app.runner.state is RunState.PAUSED)
        second = last_risk()
        assert second["approved"] is True
        assert "max_order_size" not in [v["rule"] for v in second["verdicts"]]
        toggles = [r for r in engine.journal.tail if r[2] == "rule_toggle"]
        assert len(toggles) == 1 and "max_order_size switched off" in toggles[0][6]
        assert "○off max_order_size" in shown(app.query_one("#risk"))


async def test_speed_keys_walk_the_speed_ladder(tmp_path: Path) -> None:
    app = make_app(tmp_path, replay={"speed": 10})
    async with app.run_test() as pilot:
        assert app.runner.speed == 10
        await pilot.press("plus")
        assert app.runner.speed == 100
        await pilot.press("plus", "plus", "plus")
        assert app.runner.speed is None
        await pilot.pause(0.05)
        assert " max " in shown(app.query_one("#header"))
        await pilot.press("minus", "minus", "minus", "minus", "minus")
        assert app.runner.speed == 1


async def test_rules_screen_edits_a_limit_that_the_next_decision_uses(tmp_path: Path) -> None:
    from desk.app.rules_screen import RulesScreen
    from desk.audit import details_of

    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("r")
        await pilot.pause(0.05)
        assert isinstance(app.screen, RulesScreen)
        field = app.screen.query_one("#limit-max_order_size-max_qty")
        field.focus()
        field.value = "50"
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        change = next(r for r in engine.journal.tail if r[2] == "limit_change")
        assert "max_order_size.max_qty" in change[6] and "50" in change[6]
        record = next(r for r in reversed(engine.journal.tail) if r[2] == "risk")
        assert details_of(record[7])["blocked_by"] == ["max_order_size"]
        assert app.runner.recorded_actions()[0].value == 50.0
