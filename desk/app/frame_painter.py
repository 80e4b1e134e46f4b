"""The frame painter: pulls the runner's latest snapshot on a timer and repaints what changed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from desk.app.book_pane import BookPane
from desk.app.frame_budget import Charged
from desk.app.header import DeskHeader
from desk.app.look import Palette
from desk.app.pnl_pane import PnLPane
from desk.app.positions_pane import PositionsPane
from desk.app.risk_pane import RiskPane
from desk.snapshot import Snapshot

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp

FRAME_SECONDS = 1 / 30
"""The app pulls a snapshot this often (at most 30 a second), however fast the engine runs."""
FAST_FRAME_SECONDS = 0.1
"""At full speed (and while seeking) panes repaint at most 10 times a second, and less often
when a frame costs more than the budget allows (`FrameBudget`): nothing is readable faster,
and the time saved goes to the engine and to answering keys. A key's own effect is painted at
once, whatever the pace."""
FAULT_KINDS = ("strategy_error", "strategy_stopped")
"""Journal kinds the person is told about in a notification (once per kind, not per fault)."""


class FramePainter:
    """Paints snapshots into the desk's header, panes and log, never faster than they are read."""

    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.runner = app.runner
        self.budget = app.frame_budget
        self.last_snapshot: Snapshot | None = None
        self.painted = -1
        """Version of the snapshot on screen; -1 repaints the next one whatever it holds."""
        self._stages: list[Callable[[], None]] = []
        """What is left to paint of the current frame (done on the next ticks)."""
        self._faults_told: set[str] = set()

    def attach(self) -> None:
        """Find the widgets to paint (once the app has mounted them)."""
        app = self.app
        self._header = app.query_one(DeskHeader)
        self._panes = (app.query_one(BookPane), app.query_one(RiskPane),
                       app.query_one(PnLPane), app.query_one(PositionsPane))
        self._audit = app.audit
        self._decision = app.decision

    def refresh(self, now: bool = False) -> None:
        """Pull the latest snapshot and repaint what changed.

        While the replay runs, a frame starts when the `FrameBudget` allows, and its work
        is spread over two ticks of the timer: header and panes, then the log, so that no
        single stretch of painting keeps a key waiting long. `now` (a key's effect, a
        decision reached, the end) paints the header at once, so the effect is on screen
        after one small refresh, and the rest right after that refresh.
        """
        runner = self.runner
        budget = self.budget
        app = self.app
        if not app.panes_ready:
            return
        with Charged(budget):
            if self._stages and not now:
                self._stages.pop(0)()
                return
            self.drain()  # what is left of the previous frame first: no record is lost
            clock = time.monotonic()
            moving = runner.state.value in ("PLAYING", "SEEKING")
            if moving and not now:
                flat_out = runner.state.value == "SEEKING" or runner.speed is None
                if not budget.due(clock, None if flat_out else FRAME_SECONDS):
                    return
            snap = runner.snapshot()
            if snap.version == self.painted:
                return
            if not now:
                budget.start(clock)
            self.painted = snap.version
            fresh = snap is not self.last_snapshot
            self.last_snapshot = snap
            palette = app.palette
            self._header.show(snap, palette)
            self._stages = [lambda: self._paint_panes(snap, palette),
                            lambda: self._paint_log(snap, palette, fresh)]
            if now:
                app.call_after_refresh(self.drain)
            elif moving:
                self._stages.pop(0)()
            else:
                self.drain()

    def drain(self) -> None:
        """Paint whatever is left of the current frame."""
        if not self.app.panes_ready:
            return
        with Charged(self.budget):
            while self._stages:
                self._stages.pop(0)()

    def _paint_panes(self, snap: Snapshot, palette: Palette) -> None:
        with self.app.batch_update():
            for pane in self._panes:
                pane.show(snap, palette)
            if snap.state == "PLAYING" or self._decision.outdated_by(snap.decision):
                self._decision.hide()

    def _paint_log(self, snap: Snapshot, palette: Palette, fresh: bool) -> None:
        if fresh:
            self._audit.add(snap.journal, snap.skipped, palette)
            self._tell_faults(snap)
        else:  # the same records again (a new theme): the log only takes the new colours
            self._audit.add((), 0, palette)

    def _tell_faults(self, snap: Snapshot) -> None:
        """A strategy fault or stop gets one notification per kind, however many there are."""
        for record in snap.journal:
            kind = record[2]
            if kind in FAULT_KINDS and kind not in self._faults_told:
                self._faults_told.add(kind)
                title = "strategy stopped" if kind == "strategy_stopped" else "strategy fault"
                self.app.notify(f"#{record[0]} {record[6]}\n(enter on it in the log: details)",
                                title=title, severity="error", timeout=10)
