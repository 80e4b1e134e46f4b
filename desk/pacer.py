"""Runs the synchronous engine in short slices, paced against the wall clock at a chosen speed.

The engine itself knows nothing of wall-clock time. The pacer maps simulated
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
from itertools import pairwise
from typing import TYPE_CHECKING

from desk.pace_clock import PaceClock, initial_speed_index, speeds_for
from desk.timeutil import format_ns

if TYPE_CHECKING:
    from desk.engine import Engine

SLICE_SECONDS = 0.005
"""The longest the runner holds the event loop before yielding: a key waits at most about this
long for the engine (plus whatever the UI itself is doing)."""
MAX_SLEEP = 0.02
"""The longest pause while waiting for simulated time to catch up, so commands are seen promptly."""
IDLE_SKIP_SECONDS = 2.0
"""A wait for the next event longer than this much wall time is skipped, when it is also a gap
in the data's rhythm (`IDLE_GAP_FACTOR`): the pacing clock jumps to the event (an overnight
gap) and the viewer is told. Only wall time changes: the
engine processes the same events in the same order."""
IDLE_GAP_FACTOR = 10
"""A stretch without events is a gap in the data's rhythm when it is this many times longer
than the longest of the recent gaps between events: minute bars played at 1× wait their
minute (that is what 1× means), an overnight or weekend pause in them is skipped."""
RECENT_GAPS = 32
"""How many of the latest gaps between events, paced, set the data's rhythm."""
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


class Pacer:
    """Runs one engine in slices at the chosen speed; its end and any failure become the state.

    The base of `desk.runner.Runner`, which adds what a viewer does with it.
    """

    def __init__(self, engine: Engine, on_notice: Callable[[Notice], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter, paused: bool = False) -> None:
        self.engine = engine
        self.on_notice = on_notice
        self.clock = clock
        self.speeds = speeds_for(engine.config.replay.speed)
        """The speeds `+` and `-` step through: the listed ones and the session's own."""
        self.speed_index = initial_speed_index(engine.config.replay.speed)
        self.state = RunState.PAUSED if paused else RunState.PLAYING
        self.error: str | None = None
        self.failure: Exception | None = None
        """What stopped the run: a `DeskError` is bad input (the data, say), which `desk play`
        reports as `desk run` does, in its own words with exit 2; anything else is a bug."""
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
        self._gaps: deque[int] = deque(maxlen=RECENT_GAPS)
        """The latest gaps (ns) between events played paced: the data's rhythm."""
        self.skipped_gaps = 0
        """Idle stretches the pacing jumped over (`IDLE_SKIP_SECONDS`)."""
        self.pace_clock = PaceClock()
        self._stopped = False
        self._wake: asyncio.Event | None = None
        self._risk_target = 0
        """The count of risk decisions at which a seek (`d`) pauses."""
        engine.start()
        self._reanchor()

    @property
    def speed(self) -> float | None:
        return self.speeds[self.speed_index]

    @property
    def done(self) -> bool:
        return self.state in (RunState.FINISHED, RunState.FAILED)

    # --- the loop ---------------------------------------------------------------------

    def stop(self) -> None:
        """End the run loop and close the journal (everything buffered is written)."""
        self._stopped = True
        self._poke()
        self.engine.close()

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
        except Exception as error:  # bad data found as pacing looks ahead (`queue.peek_ts`), say
            self._fail(error)
            return 0.0
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
                    if counts.get("risk", 0) >= self._risk_target:
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
        target_at = self.pace_clock.target
        while True:
            now = clock()
            target = target_at(now, ns_per_second)
            next_ts = engine.queue.peek_ts()
            if next_ts is None:
                self._guarded_step()
                return 0.0
            if next_ts > target:
                wait = (next_ts - target) / ns_per_second
                if wait <= IDLE_SKIP_SECONDS or not self._off_rhythm(next_ts):
                    return min(wait, MAX_SLEEP)
                self._skip_to(next_ts, now)
            if now >= deadline:
                if target - next_ts > ns_per_second * 0.25:
                    self._reanchor()  # cannot keep up: slow down rather than burst later
                return 0.0
            before = engine.now
            if not self._guarded_step():
                return 0.0
            self._heard_gap(engine.now - before)
            if waiting():
                return 0.0

    def _heard_gap(self, gap: int) -> None:
        """Keep a gap between two events played paced as part of the rhythm, unless it is
        itself a gap in it (a night, skipped or too short in wall time to be): one night
        must not make the next one look ordinary."""
        gaps = self._gaps
        if gap > 0 and not (gaps and gap > IDLE_GAP_FACTOR * max(gaps)):
            gaps.append(gap)

    def _off_rhythm(self, next_ts: int) -> bool:
        """Whether the stretch until `next_ts` is a gap in the data's rhythm, not one of its
        ordinary pauses. Before any gap was seen paced, the rhythm is read from the feed's
        next events; with none to read either, every long wait counts as a gap."""
        longest = max(self._gaps, default=0)
        if not longest:
            batch, i = self.engine.queue.feed_window()
            ahead = [event.ts for event in batch[i:i + RECENT_GAPS + 1]]
            longest = max((b - a for a, b in pairwise(ahead)), default=0)
        return not longest or next_ts - self.engine.now > IDLE_GAP_FACTOR * longest

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
            # nothing is journaled after the end (actions are refused): the journal is closed
            # now, so it reads whole while the viewer stays open on the final state
            try:
                self.engine.close()
            except Exception as error:
                self._fail(error)
                return False
            self.state = RunState.FINISHED
            self._notify("finished", self.engine.journal.tail[-1][6] if self.engine.journal.tail
                         else "replay over")
        return more

    def _fail(self, error: Exception) -> None:
        engine = self.engine
        self.error = f"{type(error).__name__}: {error}"
        self.failure = error
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
        self.pace_clock.anchor(wall, next_ts)
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
        """Pace from now on from the next event (or the engine's time when none is queued)."""
        wall = self.clock()
        next_ts = self.engine.queue.peek_ts()
        self.pace_clock.anchor(wall, self.engine.now if next_ts is None
                               else max(self.engine.now, next_ts))

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _notify(self, kind: str, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(Notice(kind, text))
