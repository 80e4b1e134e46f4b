"""The runner paces the engine by simulated time and builds snapshots that match the engine."""

from __future__ import annotations

from pathlib import Path

from conftest import make_session

from desk.config import OperatorAction
from desk.engine import Engine
from desk.runner import Runner, RunState


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_paced_speed_maps_wall_seconds_to_simulated_seconds() -> None:
    clock = FakeClock()
    engine = Engine(make_session(), None)   # events every 100 ms of simulated time
    runner = Runner(engine, clock=clock, paused=True)
    runner.speed_index = 1                   # 10×
    start = engine.now
    runner.resume()
    runner.run_slice()
    assert engine.stats.events == 1          # the first event is due at once
    clock.now += 0.5                         # half a wall second = 5 simulated seconds
    while runner.run_slice() == 0.0 and engine.now - start < 5e9:
        pass
    assert 4.8e9 <= engine.now - start <= 5e9
    delay = runner.run_slice()
    assert 0 < delay <= 0.02                 # nothing due: it asks to sleep, briefly


def test_a_paused_runner_processes_nothing_and_step_processes_one() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, clock=FakeClock(), paused=True)
    assert runner.state is RunState.PAUSED
    assert runner.step() and engine.stats.events == 1
    assert runner.step() and engine.stats.events == 2


def test_seek_stops_after_the_event_with_the_next_risk_record() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, paused=True)
    notices = []
    runner.on_notice = notices.append
    runner.seek_decision()
    while runner.state is RunState.SEEKING:
        runner.run_slice()
    assert engine.journal.counts["risk"] == 1
    assert [n.kind for n in notices] == ["decision"]
    assert engine.journal.tail[-1][2] in ("risk", "order")  # the decision ends that event


def test_seek_asked_again_while_seeking_goes_one_decision_further_each_time() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, paused=True)
    notices = []
    runner.on_notice = notices.append
    for _ in range(3):                       # `d d d` before the engine runs
        runner.seek_decision()
    while runner.state is RunState.SEEKING:
        runner.run_slice()
    assert engine.journal.counts["risk"] == 3
    assert [n.kind for n in notices] == ["decision"]
    runner.seek_decision()                   # paused again: the next one from here
    while runner.state is RunState.SEEKING:
        runner.run_slice()
    assert engine.journal.counts["risk"] == 4


def test_snapshot_holds_the_engine_figures_and_each_journal_record_once() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, paused=True)
    for _ in range(1500):
        runner.step()
    first = runner.snapshot()
    assert runner.snapshot() is first        # nothing moved: the same snapshot
    runner.step()
    second = runner.snapshot()
    assert second.version == first.version + 1
    seqs = [r[0] for r in first.journal + second.journal]
    assert seqs == list(range(engine.journal.seq))
    assert second.pnl.equity == engine.portfolio.equity
    assert second.events == engine.stats.events
    assert [r.name for r in second.rules] == [r.name for r in engine.risk.rules]


def test_a_queued_toggle_is_recorded_with_the_seq_it_applies_before() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, paused=True)
    runner.step()
    assert runner.toggle_rule("cash") is False
    assert runner.pending_enabled("cash") is False
    assert runner.recorded_actions() == [OperatorAction(seq=1, action="toggle", rule="cash",
                                                        enabled=False)]
    runner.step()
    assert engine.risk.rule("cash").enabled is False
    assert engine.operator_log == runner.recorded_actions()


class EventClock:
    """A wall clock on which each engine event takes `cost` seconds: slices measured exactly."""

    def __init__(self, engine: Engine, cost: float) -> None:
        self.engine = engine
        self.cost = cost
        self.base = 100.0

    def __call__(self) -> float:
        return self.base + self.engine.stats.events * self.cost


def test_a_slice_at_full_speed_yields_within_one_check_of_its_deadline() -> None:
    from desk.pacer import _CHECK_EVERY, SLICE_SECONDS
    from desk.runner import SPEEDS

    engine = Engine(make_session(), None)
    clock = EventClock(engine, cost=0.001)   # a slow machine: 1 ms per event
    runner = Runner(engine, clock=clock)
    runner.speed_index = len(SPEEDS) - 1
    for _ in range(50):
        assert runner.run_slice() == 0.0      # no pause after a slice: sleep(0) yields
    assert runner.slices == 50 and engine.stats.events > 0
    # the engine holds the event loop at most one slice plus one batch of steps between looks
    # at the clock, however slow each event is
    assert runner.longest_slice <= SLICE_SECONDS + _CHECK_EVERY * clock.cost


def test_seeking_yields_within_one_check_of_its_deadline_too() -> None:
    from desk.pacer import _CHECK_EVERY, SLICE_SECONDS

    engine = Engine(make_session(risk={"order_rate": {"max_orders": 1, "per_seconds": 1}}), None)
    clock = EventClock(engine, cost=0.002)
    runner = Runner(engine, clock=clock, paused=True)
    runner.seek_decision()
    while runner.state is RunState.SEEKING:
        runner.run_slice()
    assert runner.slices > 1                 # the seek took several slices, each one bounded
    assert runner.longest_slice <= SLICE_SECONDS + _CHECK_EVERY * clock.cost


def test_pace_reports_the_events_per_second_and_the_speed_achieved() -> None:
    clock = FakeClock()
    engine = Engine(make_session(), None)    # an event every 100 ms of simulated time
    runner = Runner(engine, clock=clock, paused=True)
    runner.speed_index = 3                   # 1000×: more than this engine can do here
    runner.resume()
    assert runner.pace().events_per_second is None   # nothing measured yet
    start_events, start_ns = engine.stats.events, engine.now
    for _ in range(200):
        runner.step()
    runner.state = RunState.PLAYING
    clock.now += 2.0                         # 200 events took two wall seconds
    pace = runner.pace()
    events = engine.stats.events - start_events
    assert pace.speed == "1000×" and pace.requested == 1000.0
    assert pace.events_per_second == float(f"{events / 2.0:.2g}")
    achieved = (engine.now - start_ns) / 1e9 / 2.0
    assert pace.achieved == float(f"{achieved:.2g}") and pace.achieved < 1000
    runner.faster()                          # a change of speed starts a new measure
    assert runner.pace().events_per_second is None


def test_progress_is_told_by_simulated_time_and_ends_at_exactly_100_percent() -> None:
    engine = Engine(make_session(), None)
    runner = Runner(engine, paused=True)
    seen = []
    while runner.step():
        if engine.stats.events % 500 == 0:
            seen.append(runner.snapshot().progress)
    final = runner.snapshot()
    assert runner.state is RunState.FINISHED and final.progress == 1.0
    assert seen == sorted(seen) and all(0.0 <= p < 1.0 for p in seen)
    # orders and fills are events too, so counting events would pass the market's total
    assert final.events > final.market_events


def test_a_command_after_the_end_is_refused() -> None:
    engine = Engine(make_session(data={"synthetic": {"events": 300}}), None)
    runner = Runner(engine, paused=True)
    while runner.step():
        pass
    assert runner.toggle_rule("cash") is None
    assert runner.command(OperatorAction(seq=0, action="kill")) is False
    assert list(engine.commands) == [] and runner.recorded_actions() == []


def test_save_goes_to_the_runs_output_folder_not_the_sessions(tmp_path: Path) -> None:
    sessions, out = tmp_path / "sessions", tmp_path / "out"
    sessions.mkdir()
    engine = Engine(make_session(sessions), out / "journal.arrow")
    runner = Runner(engine, paused=True)
    runner.step()
    runner.toggle_rule("cash")
    first, second = runner.save_session(), runner.save_session()
    assert (first, second) == (out / "session-ops-1.toml", out / "session-ops-2.toml")
    assert list(sessions.iterdir()) == []
    engine.close()


def test_a_slice_yields_after_one_batch_when_anything_else_is_ready_in_the_loop() -> None:
    from desk.pacer import _CHECK_EVERY
    from desk.runner import SPEEDS

    engine = Engine(make_session(), None)
    runner = Runner(engine, clock=EventClock(engine, cost=1e-5))  # 500 events to a deadline
    runner.speed_index = len(SPEEDS) - 1
    waiting = [0]
    runner.others_waiting = lambda: waiting[0]
    runner.run_slice()
    assert engine.stats.events >= 500                 # alone in the loop: up to its deadline
    events = engine.stats.events
    waiting[0] = 1                                   # a key's hand-over is ready to run
    runner.run_slice()
    assert engine.stats.events - events == _CHECK_EVERY
    runner.state = RunState.PAUSED
    runner.seek_decision()
    events = engine.stats.events
    runner.run_slice()
    assert engine.stats.events - events <= _CHECK_EVERY


def test_a_saved_session_keeps_the_seed_the_run_was_given(tmp_path: Path) -> None:
    from desk.config import load_session

    data = {"synthetic": {"events": 400}}
    engine = Engine(make_session(tmp_path, data=data), tmp_path / "run" / "journal.arrow",
                    seed=42)   # `--seed 42` over the file's seed
    assert engine.seed != make_session(tmp_path, data=data).config.session.seed
    runner = Runner(engine, paused=True)
    runner.step()
    runner.toggle_rule("cash")
    while runner.step():
        pass
    saved = runner.save_session()
    engine.close()
    replay = Engine(load_session(saved), tmp_path / "replay.arrow")
    replay.run()
    replay.close()
    assert replay.seed == 42
    live = (tmp_path / "run" / "journal.arrow").read_bytes()
    assert (tmp_path / "replay.arrow").read_bytes() == live


def test_a_saved_session_lists_its_operator_actions_in_the_order_they_apply(
        tmp_path: Path) -> None:
    import tomllib

    engine = Engine(make_session(tmp_path, operator_actions=[
        {"seq": 300, "action": "toggle", "rule": "cash", "enabled": False}]), None)
    runner = Runner(engine, paused=True)
    for _ in range(10):
        runner.step()
    runner.toggle_rule("max_leverage")   # applies before event 10, before the recorded one
    saved = runner.save_session(tmp_path / "saved.toml")
    actions = tomllib.loads(saved.read_text())["operator_actions"]
    assert [(a["seq"], a["rule"]) for a in actions] == [(10, "max_leverage"), (300, "cash")]


def test_a_session_speed_off_the_list_is_played_at_and_stepped_through() -> None:
    # `replay.speed = 600` used to play at 100× (the listed speed below it), the header saying
    # 100×: the session's own speed takes its place among the listed ones
    engine = Engine(make_session(replay={"speed": 600}), None)
    runner = Runner(engine, paused=True)
    assert runner.speed == 600 and runner.pace().speed == "600×"
    runner.faster()
    assert runner.speed == 1000
    runner.slower()
    runner.slower()
    assert runner.speed == 100
    for _ in range(9):
        runner.faster()
    assert runner.speed is None                  # max is still the top
    slow = Runner(Engine(make_session(replay={"speed": 0.5}), None), paused=True)
    assert slow.speed == 0.5
    slow.faster()
    assert slow.speed == 1
    listed = Runner(Engine(make_session(replay={"speed": 100}), None), paused=True)
    assert listed.speeds == (1.0, 10.0, 100.0, 1000.0, None) and listed.speed == 100
