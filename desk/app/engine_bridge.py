"""The bridge from the runner to the app: the engine's worker, and the runner's notices told."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from desk.app.error_screen import ErrorScreen
from desk.app.summary_screen import SummaryScreen
from desk.runner import Notice
from desk.snapshot import Snapshot

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp

SKIP_TOLD_EVERY = 5.0
"""At most one notification per this many wall seconds about idle stretches skipped (sparse
data at a slow speed skips often; the header's clock shows each jump anyway)."""


class EngineBridge:
    """Runs the runner in the app's worker and shows what it reports: a decision reached, the
    end, a failure, an idle stretch skipped."""

    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.runner = app.runner
        self.runner.on_notice = self._noticed
        self._summary_shown = False
        self._summary_waiting: Snapshot | None = None
        """The end's summary, held back while the person types in the filter box."""
        self._skip_told = -SKIP_TOLD_EVERY

    def start(self) -> None:
        """Run the engine in a worker of its own group, whose failure the app shows."""
        self.app.run_worker(self.runner.run(), name="engine", group="engine",
                            exit_on_error=False)

    def _typing_done(self, focused: Widget | None) -> None:
        """The focus moved: once it has left the filter box, the summary held back shows."""
        snap = self._summary_waiting
        if snap is not None and not isinstance(focused, Input):
            self._summary_waiting = None
            self.app.push_screen(SummaryScreen(snap))

    def _noticed(self, notice: Notice) -> None:
        """Called by the runner inside its slice: the notice is handled once the slice ends."""
        self.app.post_message(self.app.RunnerNoticed(notice))

    def tell(self, notice: Notice) -> None:
        """Paint the frame the notice is about, then show it."""
        app = self.app
        app.refresh_snapshot(now=True)
        app.painter.drain()  # all of it at once: the log must hold the decision to select it
        snap = app.last_snapshot
        if notice.kind == "decision" and snap is not None and snap.decision is not None:
            in_log = app.audit.select_seq(snap.decision.seq)
            app.decision.show_decision(snap.decision, app.palette, in_log=in_log)
        elif notice.kind == "finished" and snap is not None and not self._summary_shown:
            self._summary_shown = True
            if isinstance(app.focused, Input):
                # the person is typing a filter: what they type stays theirs, the summary
                # follows once the box closes
                app.notify("replay over: the summary follows when the filter box closes",
                           timeout=4)
                self._summary_waiting = snap
                app.watch(app.screen, "focused", self._typing_done, init=False)
            else:
                app.push_screen(SummaryScreen(snap))
            note = self.runner.engine.window_note()
            if note is not None:
                app.notify(note, title="empty replay window", severity="warning", timeout=10)
        elif notice.kind == "failed":
            self.show_failure(notice.text)
        elif notice.kind == "skipped":
            clock = time.monotonic()
            if clock - self._skip_told >= SKIP_TOLD_EVERY:
                self._skip_told = clock
                app.notify(notice.text, timeout=3)

    def worker_changed(self, event: Worker.StateChanged) -> None:
        """The engine's worker raised: pause and show the error (the journal is kept)."""
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self.runner.pause()
            self.show_failure(f"{type(event.worker.error).__name__}: {event.worker.error}")

    def show_failure(self, message: str) -> None:
        path = self.runner.engine.journal.path
        self.app.push_screen(ErrorScreen(message, str(path) if path else None))
