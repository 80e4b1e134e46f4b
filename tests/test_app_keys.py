"""The desk app's keys drive the replay: pause, single steps, seeking the next risk decision."""

from __future__ import annotations

from pathlib import Path

from app_helpers import make_app, open_rules, shown, wait_until
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
        assert "○OFF max_order_size" in shown(app.query_one("#risk"))


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
        await open_rules(pilot, app)
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


async def test_rules_screen_refuses_a_limit_the_engine_would_refuse(tmp_path: Path) -> None:
    """Refused at once in the engine's words, never announced as applying: also a limit out of
    order with one queued a moment before (a tolerance above a queued halt)."""
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await open_rules(pilot, app)

        async def enter(field_id: str, text: str) -> str:
            field = app.screen.query_one(field_id)
            field.focus()
            field.value = text
            before = len(app._notifications)
            await pilot.press("enter")
            await pilot.pause(0.05)
            told = list(app._notifications)[before:]
            assert len(told) == 1
            return f"{told[0].title}: {told[0].message}"

        said = await enter("#limit-max_drawdown-halt", "0.2")
        assert said.endswith("max_drawdown.halt = 0.2 from the next event")
        said = await enter("#limit-max_drawdown-tolerance", "0.5")
        assert said == ("nothing changed: max_drawdown.halt (0.2) must be at least tolerance "
                        "(0.5): REDUCING comes before HALTED")
        for typed, why in (("-5", "must be a positive number"), ("1e400", "not inf"),
                           ("yes", "must be a number, not True")):
            said = await enter("#limit-max_position-max_qty", typed)
            assert said.startswith("nothing changed: max_position.max_qty ") and why in said
        assert [(a.rule, a.param, a.value) for a in engine.commands] == [
            ("max_drawdown", "halt", 0.2)]
        await pilot.press("escape", "n")
        await pilot.pause(0.05)
        kinds = [r[2] for r in engine.journal.tail]
        assert kinds.count("limit_change") == 1 and "control_error" not in kinds
        await pilot.press("r")
        await pilot.pause(0.05)
        said = await enter("#limit-max_position-max_qty", "")   # emptied: no limit
        assert said.endswith("max_position.max_qty no limit from the next event")


async def test_a_comma_that_is_not_a_thousands_separator_is_refused_not_read_as_one(
        tmp_path: Path) -> None:
    """`2,5` typed for a 2.5% band applied a 25% band: a limit ten times looser, said
    as applying. Thousands (`1,500`) still read as before."""
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await open_rules(pilot, app)
        for field_id, typed in (("#limit-price_band-pct", "2,5"),
                                ("#limit-max_position-max_qty", "1,500")):
            field = app.screen.query_one(field_id)
            field.focus()
            field.value = typed
            await pilot.press("enter")
            await pilot.pause(0.05)
        told = [n.message for n in app._notifications]
        assert any("'2,5' is not a number" in m and "thousands" in m for m in told), told
        assert app.screen.query_one("#limit-price_band-pct").value == "5"  # the band in force
        assert [(a.rule, a.param, a.value) for a in engine.commands] == [
            ("max_position", "max_qty", 1500.0)]


async def test_a_key_at_full_speed_takes_effect_after_at_most_one_engine_slice(
        tmp_path: Path) -> None:
    """Counted in engine slices and frames, not in milliseconds, so a loaded machine cannot
    make it flaky: the key is acted on before the engine runs twice, and its effect is
    painted in the same step."""
    from textual import events

    from desk.pacer import SLICE_SECONDS

    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 2_000_000}})
    runner = app.runner
    async with app.run_test(size=(200, 50)) as pilot:
        header = app.query_one("#header")
        original = app.action_toggle_pause
        marks: list[tuple[int, str]] = []

        def timed() -> None:
            slices = runner.slices
            original()
            marks.append((slices, header.lines[0].plain))

        app.action_toggle_pause = timed  # type: ignore[method-assign]
        await wait_until(pilot, lambda: runner.engine.stats.events > 5_000)
        for _ in range(10):
            assert runner.state is RunState.PLAYING
            posted = runner.slices
            app.post_message(events.Key("space", " "))   # as the terminal driver posts it
            await wait_until(pilot, lambda: len(marks) == 1)
            slices, painted = marks.pop()
            assert slices - posted <= 1
            assert runner.state is RunState.PAUSED and " PAUSED " in painted
            runner.resume()
            await pilot.pause(0.05)
        # CPU time (not wall time, which a busy machine stretches): a slice stops at its
        # deadline, so it holds the loop for about SLICE_SECONDS of work, never many times that
        assert runner.slices > 10 and runner.longest_slice_cpu < SLICE_SECONDS + 0.045


async def test_desk_keys_are_left_to_a_pop_up_and_to_the_filter_box(tmp_path: Path) -> None:
    from desk.app.rules_screen import RulesScreen

    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await open_rules(pilot, app)
        assert isinstance(app.screen, RulesScreen)
        app.screen.query_one("#switch-cash").focus()
        await pilot.press("space", "n")          # space switches the rule, n does not step
        assert engine.stats.events == 0
        assert [a.rule for a in engine.commands] == ["cash"]
        await pilot.press("escape", "slash", *"fill n", "enter")
        assert engine.stats.events == 0 and app.query_one("#audit").filter.words == "fill n"
        await pilot.press("n")
        assert engine.stats.events == 1
        # + - / and = are characters in the box too, never the speed or the filter key
        speed = app.runner.speed_index
        await pilot.press("slash", "end", *["backspace"] * 6, "plus", "4", "space", "minus", "0",
                          "slash", "equals_sign", "enter")
        assert app.query_one("#audit").filter.words == "+4 -0/="
        assert app.runner.speed_index == speed and engine.stats.events == 1
        await pilot.press("plus")                # the box closed: + is the speed again
        assert app.runner.speed_index == speed + 1


async def test_typed_limits_are_visible_in_the_rules_screen(tmp_path: Path) -> None:
    from app_helpers import screen_text

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_rules(pilot, app)
        field = app.screen.query_one("#limit-max_order_size-max_qty")
        field.focus()
        await pilot.press("ctrl+a", "backspace", *"1234")
        await pilot.pause(0.05)
        rows = screen_text(app)
        row = next(i for i, text in enumerate(rows) if "6 max_order_size" in text)
        limits = rows[row + 1]                 # the rule's limits, on the row under its name
        assert "max_qty 1234" in limits and "max_notional no limit" in limits
        assert field.region.height == 1 and field.content_region.height == 1


async def test_i_pins_the_book_to_each_instrument_and_back_to_following(
        tmp_path: Path) -> None:
    from app_helpers import session_app

    app = session_app(tmp_path, "risk_tour")
    async with app.run_test(size=(120, 40)) as pilot:
        book = app.query_one("#book")
        seen = []
        for _ in range(4):   # +20s buy ACME, +30s BETA, +40s ACME, +50s BETA
            await pilot.press("d")
            await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
            await pilot.pause(0.05)
            decision = app.runner.engine.journal.tail
            instrument = next(r[3] for r in reversed(decision) if r[2] in ("risk", "fill"))
            assert book.border_title == f"book {instrument}"
            assert book.border_subtitle.startswith("follows")
            seen.append(instrument)
        assert set(seen) == {"ACME", "BETA"}
        titles = []
        for _ in range(3):
            await pilot.press("i")
            titles.append((book.border_title, book.border_subtitle.split(" ")[0]))
        assert titles == [("book ACME", "pinned"), ("book BETA", "pinned"),
                          (f"book {seen[-1]}", "follows")]
        assert any(k.id == "instrument" for k in app.BINDINGS)


async def test_the_header_shows_the_speed_asked_and_the_pace_achieved(tmp_path: Path) -> None:
    import re

    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 400_000}})
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: re.search(r"max ≈[\d.]+k? ev/s",
                                                  shown(app.query_one("#header"))) is not None)
        fast = re.search(r"max ≈([\d.]+k?) ev/s", shown(app.query_one("#header")))
        assert fast is not None
        await pilot.press("minus", "minus", "minus", "minus")           # down to 1×
        header = shown(app.query_one("#header"))
        # a new speed: no stale figure from the old one; "…" until the new pace is measured
        # (on a slow machine it may be measured already)
        assert re.search(r" 1× ≈(…|[\d.]+) ev/s", header) is not None, header
        assert f"≈{fast[1]} ev/s" not in header
        await wait_until(pilot, lambda: re.search(r" 1× ≈[\d.]+ ev/s",
                                                  shown(app.query_one("#header"))) is not None)
        await pilot.press("space")
        assert " 1× " in shown(app.query_one("#header")) and "ev/s" not in shown(
            app.query_one("#header"))
