"""The runner paces the engine by simulated time and builds snapshots that match the engine."""

from __future__ import annotations

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
