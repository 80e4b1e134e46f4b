"""How often the app repaints while the replay runs: as often as the CPU budget for painting allows.

Painting a frame (building the pane texts, turning them into strips) costs
from a few to a few tens of milliseconds depending on the terminal's size.
At full speed the engine and the painting share one thread, so every
millisecond painted is one the engine does not run; the budget spaces frames
so that painting takes at most `share` of the time, whatever the screen size.
Costs are CPU time of the painting thread, so a busy machine (other processes
taking the CPU) does not make painting look dearer than it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class FrameBudget:
    """Spaces frames so that painting takes at most `share` of the time while the replay runs."""

    share: float = 0.25
    """The largest fraction of the time that painting may take at full speed."""
    shortest: float = 0.1
    """Never more frames than this allows (nothing is readable faster)."""
    longest: float = 0.5
    """Never fewer: the screen must still look alive."""
    spent: float = 0.0
    """CPU seconds of painting charged since the current frame began."""
    last_cost: float = 0.0
    """CPU seconds the previous frame took to paint."""
    _started: float = field(default=-1.0, repr=False)

    def charge(self, seconds: float) -> None:
        """Add painting time to the current frame (the panes charge their own drawing)."""
        self.spent += seconds

    def interval(self, shortest: float | None = None) -> float:
        """Wall seconds from the start of one frame to the next (`shortest` overrides the floor)."""
        floor = self.shortest if shortest is None else shortest
        return min(self.longest, max(floor, self.last_cost / self.share))

    def due(self, now: float, shortest: float | None = None) -> bool:
        """Whether a new frame may start at wall time `now`."""
        return self._started < 0 or now - self._started >= self.interval(shortest)

    def start(self, now: float) -> None:
        """A frame begins: what the previous one cost is now known."""
        self.last_cost, self.spent = self.spent, 0.0
        self._started = now


class Charged:
    """`with Charged(budget):` charges the CPU time of the block to `budget` (if there is one)."""

    __slots__ = ("budget", "start")

    def __init__(self, budget: FrameBudget | None) -> None:
        self.budget = budget
        self.start = 0.0

    def __enter__(self) -> None:
        if self.budget is not None:
            self.start = time.thread_time()

    def __exit__(self, *_exc: object) -> None:
        if self.budget is not None:
            self.budget.charge(time.thread_time() - self.start)
