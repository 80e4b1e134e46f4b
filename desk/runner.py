"""The runner a viewer drives: pause, single steps, seek the next decision, speeds, snapshots.

It alone calls the engine while a viewer is attached: `desk.pacer` runs the
engine in slices paced against the wall clock; the runner adds the controls,
the operator's actions (queued into the engine, recorded for a saved session)
and the snapshots a viewer pulls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.config import OperatorAction
from desk.pace_clock import SPEEDS, speed_label
from desk.pacer import Notice, Pacer, RunState
from desk.pending_change import limit_refusal, pending_changes
from desk.recording import next_free_path, save_session
from desk.snapshot import Pace, Snapshot
from desk.snapshot_builder import SnapshotBuilder

if TYPE_CHECKING:
    from desk.engine import Engine

__all__ = ["SPEEDS", "Notice", "RunState", "Runner"]
"""A viewer needs no other module: the speeds, the states and notices come with the runner."""

WAIT_SHOWN_SECONDS = 0.5
"""A wait for the next event longer than this much wall time is shown as one in the header."""


class Runner(Pacer):
    """Drives one engine: the only caller of `engine.step()` while a viewer is attached."""

    def __init__(self, engine: Engine, on_notice: Callable[[Notice], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter, paused: bool = False) -> None:
        self.builder = SnapshotBuilder(engine)  # before the engine starts, as it is set up
        self._last: Snapshot | None = None
        self._last_key: tuple[object, ...] = ()
        super().__init__(engine, on_notice, clock, paused)

    # --- what the viewer reads ------------------------------------------------------

    @property
    def out_dir(self) -> Path:
        """The run's output folder: where its journal goes (`--out`), else the current folder."""
        path = self.engine.journal.path
        return Path(path).parent if path else Path.cwd()

    def snapshot(self) -> Snapshot:
        """The current snapshot; the previous one again when nothing has changed since."""
        engine = self.engine
        pace = self.pace()
        key = (engine.stats.events, engine.journal.seq, self.state, self.speed_index,
               len(engine.commands), pace, self.error, self.builder.pinned)
        if self._last is None or key != self._last_key:
            self._last = self.builder.build(self.state.value, pace, self.error)
            self._last_key = key
        return self._last

    def pace(self) -> Pace:
        """The requested speed and, while the replay moves, the measured one (the last second)."""
        label = "seek" if self.state is RunState.SEEKING else speed_label(self.speed)
        if self.state not in (RunState.PLAYING, RunState.SEEKING):
            self.pace_clock.forget()
            return Pace(label, self.speed, None, None)
        now = self.clock()
        clock_ns, waiting_for = self._idle(now)
        sim_now = self.engine.now if clock_ns is None else clock_ns
        measured = self.pace_clock.measure(now, self.engine.stats.events, sim_now)
        if measured is None:
            return Pace(label, self.speed, None, None, clock_ns, waiting_for)
        rate, achieved = measured
        return Pace(label, self.speed, rate, achieved, clock_ns, waiting_for)

    def _idle(self, wall: float) -> tuple[int | None, int | None]:
        """While a paced replay waits for its next event: the simulated time the pacing clock
        has reached (ms-rounded: what the header shows), and the next event's time when the
        wait is long enough to tell. (None, None) while events are due."""
        speed = self.speed
        if self.state is not RunState.PLAYING or speed is None:
            return None, None
        next_ts = self.engine.queue.peek_ts()
        target = self.pace_clock.target(wall, speed * 1e9)
        if next_ts is None or target >= next_ts:
            return None, None
        clock_ns = max(self.engine.now, target - target % 1_000_000)
        waiting = (next_ts - target) / (speed * 1e9) > WAIT_SHOWN_SECONDS
        return clock_ns, next_ts if waiting else None

    # --- controls ----------------------------------------------------------------------

    def pause(self) -> None:
        if not self.done:
            self.state = RunState.PAUSED

    def resume(self) -> None:
        if not self.done:
            self.state = RunState.PLAYING
            self._reanchor()
            self._poke()

    def toggle_pause(self) -> None:
        if self.state in (RunState.PLAYING, RunState.SEEKING):
            self.pause()
        else:
            self.resume()

    def step(self) -> bool:
        """Pause, then process exactly one event. False when there was none to process."""
        if self.done:
            return False
        self.state = RunState.PAUSED
        return self._guarded_step()

    def pin_instrument(self, symbol: str | None) -> None:
        """Show `symbol` in the book from now on; None: follow the latest decision or fill."""
        self.builder.pinned = symbol

    def seek_decision(self) -> None:
        """Run unpaced until the next risk decision is journaled, then pause right after it.

        Asked again while seeking, it goes one decision further each time: `d` pressed
        three times quickly stops at the third decision, as `n` pressed three times steps
        three events.
        """
        if self.done:
            return
        if self.state is RunState.SEEKING:
            self._risk_target += 1
        else:
            self._risk_target = self.engine.journal.counts.get("risk", 0) + 1
        self.state = RunState.SEEKING
        self.pace_clock.forget()
        self._poke()

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(self.speeds) - 1)
        self._reanchor()

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
        self._reanchor()

    # --- the operator's actions --------------------------------------------------------

    def command(self, action: OperatorAction) -> bool:
        """An operator action: applied and journaled before the next event, recorded for replay.

        False when the replay is over: there is no next event for it to apply to.
        """
        if self.done:
            return False
        self.engine.command(action)
        return True

    def limit_refusal(self, rule: str, param: str, value: Any) -> str | None:
        """Why the engine would refuse setting `rule.param` to `value` after the actions
        already queued (its own words), or None: the rules screen refuses it at once."""
        return limit_refusal(self.engine, rule, param, value)

    def toggle_rule(self, name: str) -> bool | None:
        """Queue switching rule `name`; returns the state it will have (pending toggles counted),
        or None when the replay is over and nothing can change any more."""
        enabled = not self.pending_enabled(name)
        if not self.command(OperatorAction(seq=0, action="toggle", rule=name, enabled=enabled)):
            return None
        return enabled

    def pending_enabled(self, name: str) -> bool:
        """Whether rule `name` will be on once the queued operator actions are applied."""
        pending = pending_changes(self.engine).get(name, {})
        return bool(pending.get("enabled", self.engine.risk.rule(name).enabled))

    def kill_engaged(self) -> bool:
        """Whether the kill switch will be engaged once the queued operator actions apply."""
        pending = pending_changes(self.engine).get("kill_switch", {})
        engaged = self.engine.risk.rule("kill_switch").limits()["engaged"]
        return bool(pending.get("engaged", engaged))

    def toggle_kill(self) -> bool | None:
        """Queue engaging the kill switch, or releasing it when it is (or will be) engaged.

        Returns whether it will be engaged; None when the replay is over. Journaled by the
        engine as the operator's `kill` action, so a saved session replays it.
        """
        engaged = not self.kill_engaged()
        if not self.command(OperatorAction(seq=0, action="kill", enabled=engaged)):
            return None
        return engaged

    def recorded_actions(self) -> list[OperatorAction]:
        """The operator's actions so far, each with the event seq it applies before (queued ones
        too)."""
        engine = self.engine
        queued = [a.model_copy(update={"seq": engine.queue.popped}) for a in engine.commands]
        return [*engine.operator_log, *queued]

    def save_session(self, path: Path | None = None) -> Path:
        """Write the session with the operator's actions as a new TOML that replays exactly.

        By default `NAME-ops-N.toml` goes to the run's output folder (beside the journal),
        never into the folder of the session file, which may be the repository's own.
        """
        loaded = self.engine.loaded
        return save_session(loaded, self.recorded_actions(),
                            path or next_free_path(loaded, self.out_dir), self.engine.seed)

