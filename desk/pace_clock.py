"""The replay's speeds, and the pacing clock: simulated time mapped onto wall time, measured.

Wall-clock time is used only here and by the runner, for pacing, never inside the simulation.
"""

from __future__ import annotations

from collections import deque

SPEEDS: tuple[float | None, ...] = (1.0, 10.0, 100.0, 1000.0, None)
"""Simulated seconds per wall second; None runs as fast as the engine goes."""
RATE_WINDOW = 1.0
"""Events/s and the achieved speed are measured over this much recent wall time."""
RATE_MIN = 0.2
"""Less wall time than this since a change of speed is too little to tell a rate."""


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


def speeds_for(speed: float | str) -> tuple[float | None, ...]:
    """The speeds `+` and `-` step through for a session whose `replay.speed` is `speed`: the
    listed ones, and that speed in its place among them when it is another (a session asking
    for 600× plays at 600×, not at the 100× below it)."""
    if speed == "max" or float(speed) in SPEEDS:
        return SPEEDS
    finite = sorted({*(s for s in SPEEDS if s is not None), float(speed)})
    return (*finite, None)


def initial_speed_index(speed: float | str) -> int:
    """Where the session's `replay.speed` is among `speeds_for(speed)`."""
    return speeds_for(speed).index(None if speed == "max" else float(speed))


def _round2(value: float) -> float:
    """`value` to two significant figures."""
    if value <= 0:
        return 0.0
    return float(f"{value:.2g}")


class PaceClock:
    """Where simulated time should be at a wall time, and how fast the replay actually went."""

    def __init__(self) -> None:
        self.anchor_wall = 0.0
        """The wall time at which simulated time was `anchor_sim`."""
        self.anchor_sim = 0
        self._samples: deque[tuple[float, int, int]] = deque()
        """(wall time, events, simulated time) over the last `RATE_WINDOW`, oldest first."""

    def anchor(self, wall: float, sim: int) -> None:
        """Simulated time `sim` is reached at wall time `wall`; the pace measured so far goes."""
        self.anchor_sim, self.anchor_wall = sim, wall
        self._samples.clear()

    def forget(self) -> None:
        """Drop the pace measured so far (after a pause, a seek, a jump)."""
        self._samples.clear()

    def target(self, wall: float, ns_per_second: float) -> int:
        """The simulated time the pacing has reached at wall time `wall`."""
        # integer ns: a float of epoch nanoseconds is only good to ~256 ns
        return self.anchor_sim + int((wall - self.anchor_wall) * ns_per_second)

    def measure(self, wall: float, events: int, sim_now: int) -> tuple[float, float] | None:
        """Events per second and simulated seconds per wall second over the last
        `RATE_WINDOW`, to two significant figures; None while too little time has passed."""
        samples = self._samples
        samples.append((wall, events, sim_now))
        while len(samples) > 2 and wall - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        first_wall, first_events, first_sim = samples[0]
        elapsed = wall - first_wall
        if elapsed < RATE_MIN:
            return None
        rate = (events - first_events) / elapsed
        # by the pacing clock, which runs on through a stretch without events: waiting for
        # the next event at 100× is going at 100×, not at 0×
        achieved = (sim_now - first_sim) / 1e9 / elapsed
        # two significant figures: a snapshot is rebuilt when a figure shown changes, not per µs
        return _round2(rate), _round2(achieved)
