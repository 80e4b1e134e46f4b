"""The desk app: lays out the panes, maps keys to the runner, and repaints from snapshots on a timer."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from desk.app.audit_pane import AuditPane
from desk.app.book_pane import BookPane
from desk.app.chain import explain
from desk.app.chain_screen import ChainScreen
from desk.app.decision_bar import DecisionBar
from desk.app.error_screen import ErrorScreen
from desk.app.header import DeskHeader
from desk.app.help_screen import HelpScreen
from desk.app.look import Palette
from desk.app.pnl_pane import PnLPane
from desk.app.positions_pane import PositionsPane
from desk.app.risk_pane import RiskPane
from desk.app.rules_screen import RulesScreen
from desk.app.summary_screen import SummaryScreen
from desk.app.themes import DEFAULT_THEME, THEMES_DIR, load_themes
from desk.audit import TailRecord
from desk.config import OperatorAction
from desk.errors import DeskError
from desk.runner import Notice, Runner
from desk.snapshot import Snapshot

FRAME_SECONDS = 1 / 30
"""The app pulls a snapshot this often (at most 30 a second), however fast the engine runs."""
FAST_FRAME_SECONDS = 0.1
"""At full speed (and while seeking) panes repaint at most 10 times a second: nothing is readable
faster, and the time saved goes to the engine and to answering keys."""
LOG_SECONDS = 0.25
"""While the replay runs, new log rows are added at most this often: each batch of rows changes
the table's height, which costs a layout pass of the whole screen. Paused, rows appear at once."""


class DeskApp(App[None]):
    """`desk play`: watch a replay, pause it, step through risk decisions, switch rules, save."""

    TITLE = "desk"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    CSS = """
    #row1 { height: 11; }
    #row2 { height: 6; }
    #book { width: 28; }
    #pnl { width: 1fr; }
    #positions { width: 1fr; }
    #risk { width: 1fr; }
    Screen.-tall #row1 { height: 16; }
    Screen.-tall #row2 { height: 8; }
    Screen.-wide #book { width: 44; }
    Screen.-wide #pnl { width: 3fr; }
    Screen.-wide #positions { width: 2fr; }
    AuditPane { min-height: 4; }
    Screen.-short Pane, Screen.-short AuditPane {
        border: none;
        border-top: round $panel-lighten-2;
    }
    Screen.-short #row1 { height: 10; }
    Screen.-short RiskPane.-alert { border-top: round $error; }
    """
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/Play", id="pause",
                tooltip="pause or resume the replay"),
        Binding("n,right", "step_one", "Step", key_display="n/→", id="step",
                tooltip="process exactly one event, then stay paused"),
        Binding("d", "seek_decision", "Next decision", id="decision",
                tooltip="run to the next risk decision and pause with its explanation"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", id="faster",
                tooltip="speed up: 1× 10× 100× 1000× max (simulated time)"),
        Binding("minus", "slower", "Slower", key_display="-", id="slower",
                tooltip="slow down"),
        *(Binding(str(n), f"toggle_rule({n})", f"Rule {n}", show=False, id=f"rule{n}",
                  tooltip=f"switch risk rule {n} on/off (numbers in the risk pane)")
          for n in range(1, 10)),
        Binding("r", "rules", "Rules", id="rules", tooltip="switch rules and edit limits"),
        Binding("/", "filter", "Filter", key_display="/", id="filter",
                tooltip="filter the log: kind:risk,fill rule:NAME words"),
        Binding("t", "next_theme", "Theme", id="theme", tooltip="next theme"),
        Binding("s", "save", "Save", id="save",
                tooltip="save the session with your actions as a new TOML that replays exactly"),
        Binding("question_mark", "help", "Help", key_display="?", id="help",
                tooltip="every key"),
        Binding("q", "quit_desk", "Quit", id="quit", tooltip="quit (the journal is flushed)"),
    ]
    HELP_EXTRA = [Binding("enter", "", "", tooltip="on a log row: the causal chain explaining it"),
                  Binding("ctrl+p", "", "", tooltip="command palette: the same actions by name")]

    class RunnerNoticed(Message):
        """The runner reached a decision, finished, or failed."""

        def __init__(self, notice: Notice) -> None:
            super().__init__()
            self.notice = notice

    def __init__(self, runner: Runner, theme: str | None = None, themes_dir: Path = THEMES_DIR,
                 start_engine: bool = True) -> None:
        super().__init__()
        self.runner = runner
        runner.on_notice = lambda notice: self.post_message(self.RunnerNoticed(notice))
        self.wanted_theme = theme or runner.engine.config.app.theme or DEFAULT_THEME
        self.themes_dir = themes_dir
        self.start_engine = start_engine
        self.theme_names: list[str] = []
        self.palette_colours: Palette | None = None
        self.last_snapshot: Snapshot | None = None
        self._painted = -1
        self._painted_at = 0.0
        self._summary_shown = False
        self._log_pending: list[TailRecord] = []
        self._log_skipped = 0
        self._log_flushed = 0.0

    # --- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield DeskHeader(id="header")
        with Horizontal(id="row1"):
            yield BookPane("book", id="book")
            yield RiskPane("risk", id="risk")
        with Horizontal(id="row2"):
            yield PnLPane("pnl", id="pnl")
            yield PositionsPane("positions", id="positions")
        yield AuditPane(id="audit")
        yield DecisionBar(id="decision")
        yield Footer()

    def on_mount(self) -> None:
        self._load_themes()
        self.query_one("#audit-table").focus()
        self.refresh_snapshot()
        self.set_interval(FRAME_SECONDS, self.refresh_snapshot, name="snapshot")
        if self.start_engine:
            self.run_worker(self.runner.run(), name="engine", group="engine",
                            exit_on_error=False)

    def _load_themes(self) -> None:
        loaded = load_themes(self.themes_dir)
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_names = loaded.names
        if loaded.problems:
            self.notify("\n".join(loaded.problems) + f"\nusing {DEFAULT_THEME} instead",
                        title="bad theme file", severity="warning", timeout=8)
        name = self.wanted_theme
        if name not in self.theme_names:
            self.notify(f"no theme {name!r} (themes: {', '.join(self.theme_names)}); "
                        f"using {DEFAULT_THEME}", severity="warning")
            name = DEFAULT_THEME
        self.theme = name

    def on_resize(self) -> None:
        self.query_one(AuditPane).table.show_header = self.size.height >= 36

    def watch_theme(self, _theme: str) -> None:
        self.palette_colours = Palette.of(self.current_theme)
        self._painted = -1

    @property
    def palette(self) -> Palette:
        if self.palette_colours is None:
            self.palette_colours = Palette.of(self.current_theme)
        return self.palette_colours

    # --- painting ------------------------------------------------------------------

    def refresh_snapshot(self) -> None:
        """Pull the latest snapshot and repaint every pane from it, in one batch."""
        runner = self.runner
        flat_out = runner.state.value == "SEEKING" or (runner.state.value == "PLAYING"
                                                       and runner.speed is None)
        now = time.monotonic()
        if flat_out and now - self._painted_at < FAST_FRAME_SECONDS:
            return
        snap = runner.snapshot()
        if snap.version == self._painted:
            return
        self._painted_at = now
        fresh = snap.version != (self.last_snapshot.version if self.last_snapshot else -1)
        self._painted = snap.version
        self.last_snapshot = snap
        palette = self.palette
        with self.batch_update():
            self.query_one(DeskHeader).show(snap, palette)
            for pane in (self.query_one(BookPane), self.query_one(RiskPane),
                         self.query_one(PnLPane), self.query_one(PositionsPane)):
                pane.show(snap, palette)
            if fresh:
                self._log_pending.extend(snap.journal)
                self._log_skipped += snap.skipped
            moving = snap.state in ("PLAYING", "SEEKING")
            if self._log_pending and (not moving
                                      or time.monotonic() - self._log_flushed >= LOG_SECONDS):
                self.query_one(AuditPane).add(self._log_pending, self._log_skipped, palette)
                self._log_pending, self._log_skipped = [], 0
                self._log_flushed = time.monotonic()
            if snap.state == "PLAYING":
                self.query_one(DecisionBar).hide()

    # --- runner notices -------------------------------------------------------------

    def on_desk_app_runner_noticed(self, message: RunnerNoticed) -> None:
        notice = message.notice
        self.refresh_snapshot()
        snap = self.last_snapshot
        if notice.kind == "decision" and snap is not None and snap.decision is not None:
            self.query_one(DecisionBar).show_decision(snap.decision, self.palette)
            self.query_one(AuditPane).select_seq(snap.decision.seq)
        elif notice.kind == "finished" and snap is not None and not self._summary_shown:
            self._summary_shown = True
            self.push_screen(SummaryScreen(snap))
        elif notice.kind == "failed":
            self._show_failure(notice.text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self.runner.pause()
            self._show_failure(f"{type(event.worker.error).__name__}: {event.worker.error}")

    def _show_failure(self, message: str) -> None:
        path = self.runner.engine.journal.path
        self.push_screen(ErrorScreen(message, str(path) if path else None))

    # --- actions ----------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.runner.toggle_pause()
        self.refresh_snapshot()

    def action_step_one(self) -> None:
        self.runner.step()
        self.refresh_snapshot()

    def action_seek_decision(self) -> None:
        self.query_one(DecisionBar).hide()
        self.runner.seek_decision()

    def action_faster(self) -> None:
        self.runner.faster()
        self.refresh_snapshot()

    def action_slower(self) -> None:
        self.runner.slower()
        self.refresh_snapshot()

    def action_toggle_rule(self, number: int) -> None:
        rules = self.runner.engine.risk.rules
        if not 1 <= number <= len(rules):
            self.notify(f"there is no rule {number} (rules 1–{len(rules)})", severity="warning")
            return
        name = rules[number - 1].name
        enabled = self.runner.toggle_rule(name)
        self.notify(f"{name} {'on' if enabled else 'off'} from the next event")

    def operator_action(self, action: OperatorAction) -> None:
        self.runner.command(action)

    def action_rules(self) -> None:
        if self.last_snapshot is not None:
            self.push_screen(RulesScreen(self.last_snapshot.rules, self.operator_action))

    def action_filter(self) -> None:
        self.query_one(AuditPane).open_filter()

    def on_audit_pane_explain_requested(self, message: AuditPane.ExplainRequested) -> None:
        audit = self.query_one(AuditPane)
        chain = explain(audit.records, message.seq)
        self.push_screen(ChainScreen(chain, message.seq, self.palette))

    def action_explain(self) -> None:
        seq = self.query_one(AuditPane).selected_seq()
        if seq is not None:
            self.post_message(AuditPane.ExplainRequested(seq))

    def action_next_theme(self) -> None:
        names = self.theme_names or [DEFAULT_THEME]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme {self.theme}")

    def action_save(self) -> None:
        try:
            path = self.runner.save_session()
        except DeskError as error:
            self.notify(str(error), severity="error")
            return
        count = len(self.runner.recorded_actions())
        self.notify(f"saved {path} with {count} operator action(s)", title="session saved")

    def action_help(self) -> None:
        self.push_screen(HelpScreen([*self.BINDINGS, *self.HELP_EXTRA]))  # type: ignore[list-item]

    def action_quit_desk(self) -> None:
        self.runner.stop()
        self.exit()

    # --- the command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Pause / resume", "pause or resume the replay", self.action_toggle_pause),
            ("Step one event", "process exactly one event", self.action_step_one),
            ("Next risk decision", "run to the next risk decision and pause",
             self.action_seek_decision),
            ("Faster", "next speed up", self.action_faster),
            ("Slower", "next speed down", self.action_slower),
            ("Risk rules", "switch rules and edit limits", self.action_rules),
            ("Explain selected record", "the causal chain of the selected log row",
             self.action_explain),
            ("Filter the log", "by kind, rule and words", self.action_filter),
            ("Next theme", "cycle desk-dark, desk-light, desk-high-contrast",
             self.action_next_theme),
            ("Save session", "write the session with your actions as a new TOML",
             self.action_save),
            ("Keys", "every key of the desk", self.action_help),
            ("Quit desk", "quit with the journal flushed", self.action_quit_desk),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        if self.last_snapshot is not None:
            for rule in self.last_snapshot.rules:
                yield SystemCommand(
                    f"Switch rule {rule.index} {rule.name}",
                    f"currently {'on' if rule.enabled else 'off'}",
                    lambda n=rule.index: self.action_toggle_rule(n))
