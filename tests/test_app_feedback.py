"""What the app tells the person: the kill switch and rule switches in words, pending changes,
idle stretches, the log's follow mode, filter typos, the end of the replay, dates and speeds."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from app_helpers import make_app, open_rules, screen_text, shown, wait_until
from conftest import BASE, make_session, merge

from desk.app.desk_app import DeskApp
from desk.app.header import DeskHeader, times
from desk.app.look import Palette
from desk.config import parse_session
from desk.engine import Engine
from desk.runner import Runner, RunState
from desk.timeutil import format_ns


def _told(app: DeskApp) -> list[Any]:
    return list(app._notifications)


async def _step_until(pilot: Any, app: DeskApp, done: Any) -> None:
    """Step the paused replay until `done()` holds, then let the app paint it all."""
    await pilot.pause(0.05)
    while not done():
        assert app.runner.step()
    app.refresh_snapshot(now=True)
    await pilot.pause(0.1)


def _risk_row(app: DeskApp, name: str) -> str:
    return next(line for line in shown(app.query_one("#risk")).splitlines() if name in line)


# --- 1. the kill switch and rule switches in words ---------------------------------------------


async def test_the_kill_switch_row_tells_engaged_apart_from_the_rule_being_on(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.05)
        row = _risk_row(app, "kill_switch")
        assert "●on" in row and "not engaged" in row and "kill_switch off" not in row
        await pilot.press("1")
        row = _risk_row(app, "kill_switch")
        assert "○OFF" in row and "OFF: its checks are skipped" in row
        told = _told(app)[-1]
        assert told.message == "kill_switch rule OFF: its checks are skipped from the next event"
        assert told.severity == "warning"
        await pilot.press("1")
        assert _told(app)[-1].message.startswith("kill_switch rule ON")


async def test_k_engages_the_kill_switch_as_a_journaled_operator_action(tmp_path: Path) -> None:
    app = make_app(tmp_path, risk={"kill_switch": {"enabled": False}})
    engine = app.runner.engine
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("k")
        assert [a.action for a in engine.commands] == ["kill"]
        row = _risk_row(app, "kill_switch")   # engaging switches the rule on too
        assert "●on" in row and "(next event) ENGAGED — every order blocked" in row
        assert _told(app)[-1].title == "KILL SWITCH ENGAGED"
        await pilot.press("n")
        assert engine.risk.rule("kill_switch").limits()["engaged"] is True
        row = _risk_row(app, "kill_switch")
        assert "ENGAGED — every order blocked" in row and "(next event)" not in row
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        from desk.audit import details_of
        decision = next(r for r in reversed(engine.journal.tail) if r[2] == "risk")
        assert details_of(decision[7])["blocked_by"] == ["kill_switch"]
        await pilot.press("k")
        assert "not engaged" in _risk_row(app, "kill_switch")
        assert [(a.action, a.enabled) for a in app.runner.recorded_actions()] == [
            ("kill", True), ("kill", False)]
        await pilot.press("question_mark")
        await pilot.pause(0.05)
        assert any(re.search(r"█\s+k\s+kill switch: engage", line) for line in screen_text(app))


async def test_the_limits_column_shows_a_queued_change_as_the_verdict_does(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause(0.05)
        assert "engaged=no" in _risk_row(app, "kill_switch")
        await pilot.press("k")
        row = _risk_row(app, "kill_switch")
        assert "(next event) ENGAGED" in row and "engaged=yes" in row, row


# --- 2. a rule key while paused shows the pending state ------------------------------------


async def test_a_rule_key_while_paused_shows_what_the_next_event_will_have(
        tmp_path: Path) -> None:
    from textual.widgets import Switch

    from desk.app.rules_screen import RulesScreen

    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("6")
        assert engine.risk.rule("max_order_size").enabled      # not applied yet
        row = _risk_row(app, "max_order_size")
        assert "○OFF" in row and "(next event)" in row
        await pilot.press("6")                                  # the second press: back on
        row = _risk_row(app, "max_order_size")
        assert "●on" in row and "(next event)" not in row
        await pilot.press("5", "r")
        assert isinstance(app.screen, RulesScreen)
        assert app.screen.query_one("#switch-cash", Switch).value is False
        await pilot.press("escape", "n")
        assert engine.risk.rule("cash").enabled is False
        assert engine.risk.rule("max_order_size").enabled is True


# --- 3. idle stretches -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _trades_session(tmp_path: Path, seconds: list[float]) -> Any:
    """A session over ACME trades at `seconds` after 14:30 UTC: its gaps are the data's."""
    path = tmp_path / "trades.parquet"
    start = 1_704_205_800 * 10**9                           # 2024-01-02 14:30 UTC
    pq.write_table(pa.table({"ts": [start + round(s * 1e9) for s in seconds],
                             "price": [100 + (i % 7) * 0.01 for i in range(len(seconds))],
                             "size": [1.0] * len(seconds)}), path)
    data = merge(BASE, {})
    data["data"] = {"files": [{"path": str(path), "kind": "trade", "instrument": "ACME"}]}
    return parse_session(data, "test-session", tmp_path / "session.toml")


def _gap_session(tmp_path: Path) -> Any:
    # 300 events over ~20 s of data, then one two hours after the start
    return _trades_session(tmp_path, [i * 0.066 for i in range(300)] + [7_200])


def test_a_long_idle_stretch_is_skipped_and_the_journal_is_unchanged(tmp_path: Path) -> None:
    headless = Engine(_gap_session(tmp_path), tmp_path / "headless.arrow")
    headless.run()
    headless.close()

    clock = FakeClock()
    engine = Engine(_gap_session(tmp_path), tmp_path / "paced.arrow")
    runner = Runner(engine, clock=clock, paused=True)
    notices: list[Any] = []
    runner.on_notice = notices.append
    runner.speed_index = 2                                  # 100×
    runner.resume()
    seen_progress = []
    for _ in range(20_000):
        if runner.state is not RunState.PLAYING:
            break
        clock.now += max(runner.run_slice(), 0.001)
        if runner.state is RunState.PLAYING:
            seen_progress.append(runner.snapshot().progress)
    runner.stop()
    assert runner.state is RunState.FINISHED
    # two hours at 100× would be 72 wall seconds; skipped, the whole replay takes a few
    assert clock.now - 100.0 < 5.0
    skipped = [n for n in notices if n.kind == "skipped"]
    assert len(skipped) == 1
    assert skipped[0].text.startswith("no events for 1h59m") and "16:30:00" in skipped[0].text
    assert all(p is not None and p < 1.0 for p in seen_progress)
    assert (tmp_path / "paced.arrow").read_bytes() == (tmp_path / "headless.arrow").read_bytes()


def test_minute_bars_at_1x_wait_their_minute_and_a_gap_in_their_rhythm_is_skipped(
        tmp_path: Path) -> None:
    """At 1× a minute between events is the data's rhythm, not idle: played, not skipped (or
    1× would run faster than 100×); a stretch ten times its longest recent gap is skipped."""
    clock = FakeClock()
    session = _trades_session(tmp_path, [60.0 * i for i in range(12)] + [3 * 3_600, 6 * 3_600])
    headless = Engine(session, None)
    times = []
    while headless.step():
        times.append(headless.now)
    bars = (times[-3] - times[0]) / 1e9                     # the last two follow the nights
    assert bars >= 5 * 60 and times[-2] - times[-3] > 2 * 3600 * 1e9
    engine = Engine(session, None)
    runner = Runner(engine, clock=clock, paused=True)
    notices: list[Any] = []
    runner.on_notice = notices.append
    runner.speed_index = 0                                  # 1×
    runner.resume()
    while runner.state is RunState.PLAYING and clock.now < 100.0 + 3_600:
        clock.now += max(runner.run_slice(), 0.001)
    assert runner.state is RunState.FINISHED
    played = clock.now - 100.0
    assert bars <= played < bars + 1, (played, bars)        # the bars' minutes, at 1×
    # both nights skipped: the first one does not make the second look ordinary
    skipped = [n.text for n in notices if n.kind == "skipped"]
    assert [text[:16] for text in skipped] == ["no events for 2h", "no events for 3h"]


def test_while_waiting_for_the_next_event_the_clock_runs_and_the_speed_is_not_zero() -> None:
    clock = FakeClock()
    engine = Engine(make_session(data={"synthetic": {"events": 300, "step_ms": 1_000}}), None)
    runner = Runner(engine, clock=clock, paused=True)
    runner.speed_index = 0                                  # 1×: a second between steps
    runner.resume()
    runner.run_slice()
    last = engine.now
    pace = runner.pace()
    for _ in range(20):                                     # 0.6 s of wall time, no event due
        clock.now += 0.03
        assert runner.run_slice() > 0
        pace = runner.pace()
    assert engine.now == last
    assert pace.clock_ns is not None and pace.clock_ns >= last + 500_000_000
    assert pace.achieved is not None and pace.achieved > 0.5
    snap = runner.snapshot()
    header = DeskHeader.line(snap, _palette(), detail=2).plain
    assert format_ns(pace.clock_ns)[11:23] in header


def _palette() -> Palette:
    from textual.theme import BUILTIN_THEMES

    return Palette.of(BUILTIN_THEMES["textual-dark"])


def test_waiting_long_is_said_in_the_header_instead_of_zero_events_per_second() -> None:
    clock = FakeClock()
    engine = Engine(make_session(data={"synthetic": {"events": 300, "step_ms": 1_500}}), None)
    runner = Runner(engine, clock=clock, paused=True)
    runner.speed_index = 0
    runner.resume()
    runner.run_slice()
    for _ in range(10):
        clock.now += 0.05
        runner.run_slice()
    snap = runner.snapshot()
    assert snap.pace.waiting_for is not None
    header = DeskHeader.line(snap, _palette(), detail=2).plain
    assert "waiting for the next event at" in header and "ev/s" not in header
    assert "next event" in DeskHeader.line(snap, _palette(), detail=0).plain


# --- 4. the log says when it does not follow ------------------------------------------------


async def test_the_log_says_when_it_stops_following_and_space_or_end_bring_it_back(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        audit = app.query_one("#audit")
        await _step_until(pilot, app, lambda: app.runner.engine.journal.seq >= 30)
        assert len(audit.log_view.rows) >= 30
        assert "not following" not in audit.border_title
        await pilot.press("up", "up")
        assert audit.border_subtitle.startswith("End: follow")
        assert audit.border_title.endswith("not following (End)")   # said once, in the title
        assert "not following" not in audit.border_subtitle
        await pilot.press("end")
        assert "not following" not in audit.border_subtitle + audit.border_title
        await pilot.press("pageup")
        assert "not following" in audit.border_title
        await pilot.press("space")                  # resuming play follows again
        assert "not following" not in audit.border_subtitle
        assert audit.log_view.following
        await pilot.press("space")


async def test_help_lists_the_log_keys_and_each_key_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = "\n".join(screen_text(app))
        for key in ("Home/End", "↑/↓", "PgUp/PgDn", "escape", "   r "):
            assert key in text, key
        assert text.count("→") == 1


# --- 5. filter typos -----------------------------------------------------------------------


async def test_an_unknown_kind_in_the_filter_is_named_and_the_filter_kept(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        audit = app.query_one("#audit")
        await pilot.press("slash", *"kind:risk", "enter")
        assert audit.filter.kinds == {"risk"}
        await pilot.press("slash")
        audit.query_one("#audit-filter").value = ""
        await pilot.press(*"kind:fills", "enter")
        assert audit.filter.kinds == {"risk"}                 # the previous filter stays
        told = [n for n in _told(app) if n.title == "filter not applied"]
        assert len(told) == 1
        assert "unknown kind 'fills' (did you mean fill?)" in told[0].message
        assert "order_end" in told[0].message                  # the kinds there are
        await pilot.press("escape")


# --- 6. the command palette ----------------------------------------------------------------


async def test_the_command_palette_has_one_keys_and_one_quit(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.05)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert sum("quit" in t.lower() for t in titles) == 1
        assert sum(t.lower().startswith("keys") for t in titles) == 1
        assert any("Kill switch" in t for t in titles)

        def kill_help() -> str:
            return next(c.help for c in app.get_system_commands(app.screen)
                        if c.title.startswith("Kill switch"))

        assert kill_help().startswith("currently not engaged")   # as the risk pane says
        await pilot.press("k")
        assert kill_help().startswith("currently ENGAGED")


# --- 7. speeds and the clock in the header -------------------------------------------------


def test_the_measured_speed_is_written_as_a_plain_number() -> None:
    assert times(530.0) == "530×" and times(5.3) == "5.3×" and times(1200.0) == "1,200×"


async def test_the_header_shows_the_achieved_speed_and_milliseconds(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.05)
        snap = app.runner.snapshot()
        ts = snap.now_ns - snap.now_ns % 1_000_000_000 + 1_000   # a second symbol's +1 µs
        playing = replace(snap, state="PLAYING", now_ns=ts,
                          pace=replace(snap.pace, speed="1000×", requested=1000.0,
                                       events_per_second=8200.0, achieved=530.0))
        line = DeskHeader.line(playing, app.palette, detail=2).plain
        assert "1000× (≈530×)" in line and "e+02" not in line
        assert ".000 " in line and ".000001" not in line


# --- 8. progress of file data ---------------------------------------------------------------


async def test_progress_of_a_parquet_session_is_shown_while_playing(tmp_path: Path) -> None:
    rows = 3_000
    start = 1_704_205_800_000_000_000
    table = pa.table({"ts": pa.array([start + i * 100_000_000 for i in range(rows)], pa.int64()),
                      "price": [100.0 + (i % 7) * 0.01 for i in range(rows)],
                      "size": [10.0] * rows})
    pq.write_table(table, tmp_path / "trades.parquet", row_group_size=1_000)
    app = make_app(tmp_path, data={"synthetic": None, "files": [
        {"path": "trades.parquet", "kind": "trade", "instrument": "ACME"}]})
    async with app.run_test(size=(120, 30)) as pilot:
        await _step_until(pilot, app, lambda: app.runner.engine.stats.market_events >= 1_500)
        progress = app.runner.snapshot().progress
        assert progress is not None and 0.45 < progress < 0.55
        assert "% " in shown(app.query_one("#header"))



async def test_progress_reaches_the_end_of_the_data_whatever_is_scheduled_after_it(
        tmp_path: Path) -> None:
    # ~20 s of data and a change due two hours in: never applied, so it is not the end
    app = make_app(tmp_path, data={"synthetic": {"events": 300}},
                   risk={"max_leverage": {"limit": 1.0},
                         "schedule": [{"at": "+2h", "rule": "max_leverage", "param": "limit",
                                       "value": 0.5}]})
    queue = app.runner.engine.queue
    async with app.run_test(size=(120, 30)) as pilot:
        await _step_until(pilot, app, lambda: queue.peek_feed_ts() is None)
        progress = app.runner.snapshot().progress
        assert progress is not None and progress > 0.95
        assert f"{progress:.0%} " in shown(app.query_one("#header"))


async def test_progress_spans_the_replay_window_not_the_whole_data(tmp_path: Path) -> None:
    # the data runs 14:30–14:36:40; the window keeps 14:31–14:33 of it
    app = make_app(tmp_path, data={"synthetic": {"events": 6_000,
                                                 "start": "2024-01-02T14:30:00Z"}},
                   replay={"start": "2024-01-02T14:31:00Z", "stop": "2024-01-02T14:33:00Z"})
    queue = app.runner.engine.queue
    async with app.run_test(size=(120, 30)) as pilot:
        await _step_until(pilot, app, lambda: app.runner.engine.stats.market_events >= 1)
        first = app.runner.snapshot().progress
        assert first is not None and first < 0.01
        await _step_until(pilot, app, lambda: queue.peek_feed_ts() is None)
        last = app.runner.snapshot().progress
        assert last is not None and last > 0.95

# --- 9. keys after the end ------------------------------------------------------------------


async def test_replay_keys_after_the_end_say_the_replay_is_over(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 400}})
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape")                       # the summary
        for key in ("n", "d", "space", "plus", "k"):
            before = len(_told(app))
            await pilot.press(key)
            assert len(_told(app)) == before + 1, key
            assert "over" in _told(app)[-1].message, key
        assert app.runner.state is RunState.FINISHED


# --- 10. dates ------------------------------------------------------------------------------


async def test_a_replay_across_midnight_shows_the_date_at_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path, data={"synthetic": {"events": 600,
                                                 "start": "2024-01-02T23:59:50Z"}})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.05)
        assert "01-02 23:59:50" in shown(app.query_one("#header"))
        journal = app.runner.engine.journal
        await _step_until(pilot, app,
                          lambda: format_ns(journal.tail[-1][1])[:10] == "2024-01-03")
        assert "01-03 00:0" in shown(app.query_one("#header"))
        assert "2024-01-03" in app.query_one("#audit").border_title


# --- 11. the decision bar and the why screen ------------------------------------------------


def test_the_decision_bar_cuts_a_long_verdict_with_one_ellipsis() -> None:
    from rich.text import Text

    from desk.app.decision_bar import wrapped

    why = Text("blocked by order_rate: " + "x" * 10 + " order_rate 1/3 room 2 and more words "
               "follow here to make it long enough for several lines")
    for width in range(12, 60):
        lines = wrapped(why, width, 2)
        assert all(line.cell_len <= width for line in lines)
        assert lines[-1].plain.endswith("…") and "……" not in lines[-1].plain, width


async def test_the_why_of_an_order_in_flight_says_no_fill_yet(tmp_path: Path) -> None:
    from desk.app.chain_screen import ChainScreen

    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(120, 40)) as pilot:
        await _step_until(pilot, app, lambda: engine.journal.tail[-1][2] == "order")
        seq = engine.journal.tail[-1][0]
        assert app.query_one("#audit").select_seq(seq)
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert isinstance(app.screen, ChainScreen)
        assert "no fill yet" in app.screen.chain.outcome


# --- 12. the rules screen -------------------------------------------------------------------


async def test_the_rules_screen_says_enter_switches_too(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_rules(pilot, app)
        box = app.screen.query_one("#box")
        assert "space or enter switches" in str(box.border_subtitle)
        app.screen.query_one("#switch-cash").focus()
        await pilot.press("enter")
        assert [a.rule for a in app.runner.engine.commands] == ["cash"]


async def test_an_unknown_rule_in_the_filter_is_named_and_the_filter_kept(tmp_path: Path) -> None:
    # a typo in a rule's name used to be taken, and the log waited, empty, for rows about a
    # rule there is not
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        audit = app.query_one("#audit")
        await pilot.press("slash", *"rule:cash", "enter")
        assert audit.filter.rule == "cash"
        await pilot.press("slash")
        audit.query_one("#audit-filter").value = ""
        await pilot.press(*"rule:max_positoin", "enter")
        assert audit.filter.rule == "cash"                    # the previous filter stays
        assert audit.has_class("-filtering")                  # the box, to correct the typo
        told = [n for n in _told(app) if n.title == "filter not applied"]
        assert len(told) == 1
        assert "unknown rule 'max_positoin' (did you mean max_position?)" in told[0].message
        assert "order_rate" in told[0].message                 # the rules there are
        await pilot.press("escape")
