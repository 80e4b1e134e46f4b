"""Paces the synchronous engine for a person: speeds, pause, single steps, seek the next decision.

The engine itself knows nothing of wall-clock time. The runner maps simulated
time onto the wall clock at 1×, 10×, 100×, 1000× or as fast as it goes, and
runs the engine in short slices between which it yields to the event loop, so
whatever else shares the loop (a UI answering a key) waits at most one slice.
Wall-clock time is used only for pacing, never inside the simulation.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from desk.config import OperatorAction
from desk.recording import next_free_path, save_session
from desk.snapshot import Pace, Snapshot, SnapshotBuilder, pending_changes
from desk.timeutil import format_ns

if TYPE_CHECKING:
    from desk.engine import Engine

SPEEDS: tuple[float | None, ...] = (1.0, 10.0, 100.0, 1000.0, None)
"""Simulated seconds per wall second; None runs as fast as the engine goes."""
SLICE_SECONDS = 0.005
"""The longest the runner holds the event loop before yielding: a key waits at most about this
long for the engine (plus whatever the UI itself is doing)."""
MAX_SLEEP = 0.02
"""The longest pause while waiting for simulated time to catch up, so commands are seen promptly."""
RATE_WINDOW = 1.0
"""Events/s and the achieved speed are measured over this much recent wall time."""
RATE_MIN = 0.2
"""Less wall time than this since a change of speed is too little to tell a rate."""
IDLE_SKIP_SECONDS = 2.0
"""A wait for the next event longer than this much wall time is skipped: the pacing clock jumps
to the event (an overnight gap, a schedule long after the data) and the viewer is told. Only
wall time changes: the engine processes the same events in the same order."""
WAIT_SHOWN_SECONDS = 0.5
"""A wait for the next event longer than this much wall time is shown as one in the header."""
_CHECK_EVERY = 16
"""Engine steps between two looks at the clock (one step is a few µs to a few tens of µs)."""


class RunState(str, Enum):  # noqa: UP042 - StrEnum would change str()/format()
    PLAYING = "PLAYING"
    PAUSED = "PAUSED"
    SEEKING = "SEEKING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Notice:
    """A rare fact the viewer should hear about at once: a decision reached, the end, a failure."""

    kind: str
    """"decision", "finished", "failed", or "skipped" (an idle stretch the pacing jumped)."""
    text: str


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


def duration_text(ns: int) -> str:
    """A stretch of simulated time in its two largest units: `1h55m`, `3m20s`, `42s`, `2d4h`."""
    seconds = max(0, ns) // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return "".join(f"{value}{unit}" for value, unit in parts[:2] if value or unit == parts[0][1])


def _nobody() -> int:
    return 0


def _round2(value: float) -> float:
    """`value` to two significant figures."""
    if value <= 0:
        return 0.0
    return float(f"{value:.2g}")


def initial_speed_index(speed: float | str) -> int:
    """The listed speed closest to the session's `replay.speed`, rounding down."""
    if speed == "max":
        return len(SPEEDS) - 1
    value = float(speed)
    index = 0
    for i, candidate in enumerate(SPEEDS[:-1]):
        if candidate is not None and candidate <= value:
            index = i
    return index


class Runner:
    """Drives one engine: the only caller of `engine.step()` while a viewer is attached."""

    def __init__(self, engine: Engine, on_notice: Callable[[Notice], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter, paused: bool = False) -> None:
        self.engine = engine
        self.on_notice = on_notice
        self.clock = clock
        self.builder = SnapshotBuilder(engine)
        self.speed_index = initial_speed_index(engine.config.replay.speed)
        self.state = RunState.PAUSED if paused else RunState.PLAYING
        self.error: str | None = None
        self.slices = 0
        """Slices run so far (a test counts them to bound how long a key waits)."""
        self.longest_slice = 0.0
        """The longest a slice held the event loop, by `clock`, in seconds."""
        self.others_waiting: Callable[[], int] | None = None
        """How many other callbacks are ready in the event loop (a slice yields when any are);
        set by `run` from the running loop, or by a test."""
        self.longest_slice_cpu = 0.0
        """The most CPU time one slice took: unlike wall time, not stretched by a busy machine."""
        self.engine_cpu = 0.0
        """CPU seconds spent in slices: the engine's share of the process, for measurements."""
        self.skipped_gaps = 0
        """Idle stretches the pacing jumped over (`IDLE_SKIP_SECONDS`)."""
        self._stopped = False
        self._wake: asyncio.Event | None = None
        self._risk_mark = 0
        self._anchor_wall = 0.0
        self._anchor_sim = 0
        self._samples: deque[tuple[float, int, int]] = deque()
        self._last: Snapshot | None = None
        self._last_key: tuple[object, ...] = ()
        engine.start()
        self._reanchor()

    # --- what the viewer reads ------------------------------------------------------

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

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
            self._samples.clear()
            return Pace(label, self.speed, None, None)
        now = self.clock()
        clock_ns, waiting_for = self._idle(now)
        sim_now = self.engine.now if clock_ns is None else clock_ns
        samples = self._samples
        samples.append((now, self.engine.stats.events, sim_now))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        wall, events, sim = samples[0]
        elapsed = now - wall
        if elapsed < RATE_MIN:
            return Pace(label, self.speed, None, None, clock_ns, waiting_for)
        rate = (self.engine.stats.events - events) / elapsed
        # by the pacing clock, which runs on through a stretch without events: waiting for
        # the next event at 100× is going at 100×, not at 0×
        achieved = (sim_now - sim) / 1e9 / elapsed
        # two significant figures: a snapshot is rebuilt when a figure shown changes, not per µs
        return Pace(label, self.speed, _round2(rate), _round2(achieved), clock_ns, waiting_for)

    def _idle(self, wall: float) -> tuple[int | None, int | None]:
        """While a paced replay waits for its next event: the simulated time the pacing clock
        has reached (ms-rounded: what the header shows), and the next event's time when the
        wait is long enough to tell. (None, None) while events are due."""
        speed = self.speed
        if self.state is not RunState.PLAYING or speed is None:
            return None, None
        next_ts = self.engine.queue.peek_ts()
        target = self._target(wall, speed * 1e9)
        if next_ts is None or target >= next_ts:
            return None, None
        clock_ns = max(self.engine.now, target - target % 1_000_000)
        waiting = (next_ts - target) / (speed * 1e9) > WAIT_SHOWN_SECONDS
        return clock_ns, next_ts if waiting else None

    def _target(self, wall: float, ns_per_second: float) -> int:
        """The simulated time the pacing has reached at wall time `wall`."""
        # integer ns: a float of epoch nanoseconds is only good to ~256 ns
        return self._anchor_sim + int((wall - self._anchor_wall) * ns_per_second)

    # --- controls ----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state in (RunState.FINISHED, RunState.FAILED)

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
        """Run unpaced until the next risk decision is journaled, then pause right after it."""
        if self.done:
            return
        self._risk_mark = self.engine.journal.counts.get("risk", 0)
        self.state = RunState.SEEKING
        self._samples.clear()
        self._poke()

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        self._reanchor()

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
        self._reanchor()

    def command(self, action: OperatorAction) -> bool:
        """An operator action: applied and journaled before the next event, recorded for replay.

        False when the replay is over: there is no next event for it to apply to.
        """
        if self.done:
            return False
        self.engine.command(action)
        return True

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
                            path or next_free_path(loaded, self.out_dir))

    def stop(self) -> None:
        """End the run loop and close the journal (everything buffered is written)."""
        self._stopped = True
        self._poke()
        self.engine.close()

    # --- the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Run until stopped; between slices the event loop is free for everyone else.

        A slice also ends early, at its next look at the clock, as soon as anything else
        is ready to run in the loop: a key coming from the terminal travels through a few
        callbacks (the input thread's hand-over, the app's queue), and each of them would
        otherwise wait behind a whole slice.
        """
        self._wake = asyncio.Event()
        ready = getattr(asyncio.get_running_loop(), "_ready", None)  # CPython's run queue
        if ready is not None and self.others_waiting is None:
            self.others_waiting = ready.__len__
        while not self._stopped:
            if self.state not in (RunState.PLAYING, RunState.SEEKING):
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = self.run_slice()
            await asyncio.sleep(delay)

    def run_slice(self) -> float:
        """Process events for at most one slice; returns how long to sleep before the next."""
        start, cpu = self.clock(), time.thread_time()
        try:
            return self._run_slice()
        finally:
            spent = time.thread_time() - cpu
            self.slices += 1
            self.engine_cpu += spent
            self.longest_slice = max(self.longest_slice, self.clock() - start)
            self.longest_slice_cpu = max(self.longest_slice_cpu, spent)

    def _run_slice(self) -> float:
        if self.state is RunState.SEEKING:
            return self._slice_unpaced(seek=True)
        if self.speed is None:
            return self._slice_unpaced(seek=False)
        return self._slice_paced(self.speed)

    def _slice_unpaced(self, seek: bool) -> float:
        clock = self.clock
        deadline = clock() + SLICE_SECONDS
        waiting = self.others_waiting or _nobody
        # at least one batch of steps per slice, however busy the loop, so the replay moves
        if seek:
            counts = self.engine.journal.counts
            while True:
                for _ in range(_CHECK_EVERY):
                    if not self._guarded_step():
                        return 0.0
                    if counts.get("risk", 0) != self._risk_mark:
                        self.state = RunState.PAUSED
                        self._notify("decision", self.builder_decision_text())
                        return 0.0
                if clock() >= deadline or waiting():
                    break
        else:
            # `Engine.run` is step for step the same replay, with a faster path for trades
            while True:
                if not self._guarded_run(_CHECK_EVERY):
                    return 0.0
                if clock() >= deadline or waiting():
                    break
        # no pause: `sleep(0)` lets every ready task (a key, a repaint) run before the next slice
        return 0.0

    def _slice_paced(self, speed: float) -> float:
        engine = self.engine
        clock = self.clock
        deadline = clock() + SLICE_SECONDS
        ns_per_second = speed * 1e9
        waiting = self.others_waiting or _nobody
        while True:
            now = clock()
            target = self._target(now, ns_per_second)
            next_ts = engine.queue.peek_ts()
            if next_ts is None:
                self._guarded_step()
                return 0.0
            if next_ts > target:
                wait = (next_ts - target) / ns_per_second
                if wait <= IDLE_SKIP_SECONDS:
                    return min(wait, MAX_SLEEP)
                self._skip_to(next_ts, now)
            if now >= deadline:
                if target - next_ts > ns_per_second * 0.25:
                    self._reanchor()  # cannot keep up: slow down rather than burst later
                return 0.0
            if not self._guarded_step():
                return 0.0
            if waiting():
                return 0.0

    def _guarded_step(self) -> bool:
        """One engine step; the end and any failure become the runner's state, never raised."""
        return self._guarded_run(0)

    def _guarded_run(self, events: int) -> bool:
        """`events` engine events (0: exactly one `step()`); False once over or failed."""
        try:
            more = self.engine.run(max_events=events) if events else self.engine.step()
        except Exception as error:
            self._fail(error)
            return False
        if not more:
            self.state = RunState.FINISHED
            self._notify("finished", self.engine.journal.tail[-1][6] if self.engine.journal.tail
                         else "replay over")
        return more

    def _fail(self, error: Exception) -> None:
        engine = self.engine
        self.error = f"{type(error).__name__}: {error}"
        self.state = RunState.FAILED
        try:
            tail = engine.journal.tail
            if not (tail and tail[-1][2] == "error"):  # the engine journals its own DeskErrors
                engine.journal.record("engine_error", engine.now,
                                      f"the engine failed: {self.error}",
                                      error=type(error).__name__)
            engine.close()
        except Exception as close_error:
            self.error += f" (and the journal could not be closed: {close_error})"
        self._notify("failed", self.error)

    def _skip_to(self, next_ts: int, wall: float) -> None:
        """Jump the pacing clock over an idle stretch to the next event, and say so."""
        idle = next_ts - self.engine.now
        self._anchor_sim, self._anchor_wall = next_ts, wall
        self._samples.clear()
        self.skipped_gaps += 1
        to, last = format_ns(next_ts), format_ns(self.engine.now)
        # the date too when the stretch crosses midnight: "skipped to 22:02:00" two days on
        # would read as the same day
        when = to[5:19] if to[:10] != last[:10] else to[11:19]
        self._notify("skipped", f"no events for {duration_text(idle)}: skipped to {when}")

    def builder_decision_text(self) -> str:
        """The latest risk record's sentence: the explanation shown when a seek stops."""
        for record in reversed(self.engine.journal.tail):
            if record[2] == "risk":
                return f"#{record[0]} {record[6]}"
        return "no risk decision yet"

    def _reanchor(self) -> None:
        self._anchor_wall = self.clock()
        next_ts = self.engine.queue.peek_ts()
        self._anchor_sim = self.engine.now if next_ts is None else max(self.engine.now, next_ts)
        self._samples.clear()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _notify(self, kind: str, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(Notice(kind, text))
