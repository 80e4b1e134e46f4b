"""The desk app: lays out the panes, maps keys to the runner, repaints from snapshots on a timer."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from desk.app.audit_log import AuditLog
from desk.app.audit_pane import AuditPane
from desk.app.book_pane import BookPane
from desk.app.chain import explain
from desk.app.chain_screen import ChainScreen
from desk.app.decision_bar import DecisionBar
from desk.app.error_screen import ErrorScreen
from desk.app.frame_budget import Charged, FrameBudget
from desk.app.header import DeskHeader
from desk.app.help_screen import HelpScreen
from desk.app.look import Palette
from desk.app.pnl_pane import PnLPane
from desk.app.positions_pane import PositionsPane
from desk.app.risk_pane import RiskPane
from desk.app.rules_screen import OVER, RulesScreen, rule_switched
from desk.app.summary_screen import SummaryScreen
from desk.app.themes import DEFAULT_THEME, THEMES_DIR, load_theme_file, load_themes
from desk.config import OperatorAction
from desk.errors import DeskError
from desk.runner import Notice, Runner, RunState
from desk.snapshot import Snapshot

FRAME_SECONDS = 1 / 30
"""The app pulls a snapshot this often (at most 30 a second), however fast the engine runs."""
FAST_FRAME_SECONDS = 0.1
"""At full speed (and while seeking) panes repaint at most 10 times a second, and less often
when a frame costs more than the budget allows (`FrameBudget`): nothing is readable faster,
and the time saved goes to the engine and to answering keys. A key's own effect is painted at
once, whatever the pace."""
REPLAY_OVER = "the replay is over: nothing left to play (s saves the session, q quits)"
"""Said when a replay key is pressed after the end."""
SKIP_TOLD_EVERY = 5.0
"""At most one notification per this many wall seconds about idle stretches skipped (sparse
data at a slow speed skips often; the header's clock shows each jump anyway)."""
FAULT_KINDS = ("strategy_error", "strategy_stopped")
"""Journal kinds the person is told about in a notification (once per kind, not per fault)."""


def _desk_key(key: str, action: str, description: str, tooltip: str, *, id: str,
              show: bool = True, key_display: str | None = None) -> Binding:
    """A desk key: a priority binding, so the app acts on it at once instead of after the key
    has travelled through the focused widget and its parents (one hop each through the event
    loop, each of which may wait behind an engine slice). Keys an `Input` types stay its own."""
    return Binding(key, action, description, show=show, key_display=key_display, priority=True,
                   id=id, tooltip=tooltip)


class DeskApp(App[None]):
    """`desk play`: watch a replay, pause it, step through risk decisions, switch rules, save."""

    TITLE = "desk"
    # Textual's App declares these without ClassVar, so mypy refuses one here
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # noqa: RUF012
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
    Screen.-short AuditPane { min-height: 3; }
    Screen.-short DecisionBar { height: 3; }
    Screen.-short RiskPane.-alert { border-top: round $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # short footer words, so that even 120 columns show the keys through q
        _desk_key("space", "toggle_pause", "Play/Pause", "pause or resume the replay", id="pause"),
        _desk_key("n", "step_one", "Step", "process exactly one event, then stay paused",
                  id="step", key_display="n/→"),
        _desk_key("d", "seek_decision", "Decision",
                  "run to the next risk decision, pause, explain it", id="decision"),
        _desk_key("k", "kill", "Kill switch",
                  "kill switch: engage (no new orders) / release", id="kill"),
        _desk_key("plus,equals_sign", "faster", "Faster",
                  "speed up: 1× 10× 100× 1000× max (simulated time)", id="faster",
                  key_display="+"),
        _desk_key("minus", "slower", "Slower", "slow down", id="slower", key_display="-",
                  show=False),
        *(_desk_key(str(n), f"toggle_rule({n})", f"Rule {n}",
                    f"switch risk rule {n} on/off (numbers in the risk pane)", id=f"rule{n}",
                    show=False) for n in range(1, 10)),
        _desk_key("r", "rules", "Rules", "rules screen: switch rules, edit limits", id="rules"),
        _desk_key("i", "next_instrument", "Book",
                  "book: next instrument … then following the action", id="instrument"),
        _desk_key("slash", "filter", "Filter", "filter the log: kind:risk,fill rule:NAME words",
                  id="filter", key_display="/"),
        _desk_key("t", "next_theme", "Theme", "next theme", id="theme"),
        _desk_key("s", "save", "Save",
                  "save session + your actions: a TOML that replays", id="save"),
        _desk_key("question_mark", "help", "Help", "every key", id="help", key_display="?"),
        _desk_key("q", "quit_desk", "Quit", "quit (the journal is flushed)", id="quit"),
    ]
    DESK_ACTIONS = frozenset({"toggle_pause", "step_one", "seek_decision", "faster", "slower",
                              "kill", "toggle_rule", "rules", "next_instrument", "filter",
                              "next_theme", "save", "help", "quit_desk"})
    """Actions of the desk's own keys: only while the desk itself is the screen shown."""
    HELP_EXTRA: ClassVar[list[Binding]] = [
        Binding("up,down,pageup,pagedown", "", "", key_display="↑/↓ PgUp/PgDn",
                tooltip="log: move the cursor (it stops following new rows)"),
        Binding("home,end", "", "", key_display="Home/End",
                tooltip="log: first row / last row and follow again"),
        Binding("enter", "", "", tooltip="on a log row: the causal chain explaining it"),
        Binding("escape", "", "", tooltip="close a pop-up or the filter box"),
        Binding("ctrl+p", "", "", tooltip="command palette: the same actions by name"),
    ]
    """Keys of the log and the pop-ups, listed in the help beside the desk's own."""

    class RunnerNoticed(Message):
        """The runner reached a decision, finished, or failed."""

        def __init__(self, notice: Notice) -> None:
            super().__init__()
            self.notice = notice

    def __init__(self, runner: Runner, theme: str | None = None, themes_dir: Path = THEMES_DIR,
                 start_engine: bool = True) -> None:
        super().__init__()
        self.runner = runner
        runner.on_notice = self._noticed
        configured = runner.engine.config.app.theme
        if configured and configured.endswith(".toml"):  # a theme file beside the session
            configured = str(runner.engine.loaded.resolve(configured))
        self.wanted_theme = theme or configured or DEFAULT_THEME
        self.themes_dir = themes_dir
        self.start_engine = start_engine
        self.theme_names: list[str] = []
        self.palette_colours: Palette | None = None
        self.last_snapshot: Snapshot | None = None
        self.frame_budget = FrameBudget(shortest=FAST_FRAME_SECONDS)
        """Spaces frames while the replay runs so painting leaves the engine most of the CPU."""
        self.saved: list[Path] = []
        """Sessions saved with `s` in this run (the play command prints them at exit)."""
        self._painted = -1
        self._summary_shown = False
        self._faults_told: set[str] = set()
        self._stages: list[Callable[[], None]] = []
        """What is left to paint of the current frame (done on the next ticks)."""
        self._frozen = False
        self._timer: Timer | None = None
        self._skip_told = -SKIP_TOLD_EVERY

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
        self.query_one(AuditLog).focus()
        self.call_after_refresh(self._freeze_setup)
        self._header = self.query_one(DeskHeader)
        self._panes = (self.query_one(BookPane), self.query_one(RiskPane),
                       self.query_one(PnLPane), self.query_one(PositionsPane))
        self._audit = self.query_one(AuditPane)
        self._decision = self.query_one(DecisionBar)
        self._audit.log_view.show_header = self.size.height >= 36
        self.refresh_snapshot()
        self._timer = self.set_interval(FRAME_SECONDS, self.refresh_snapshot, name="snapshot")
        if self.start_engine:
            self.run_worker(self.runner.run(), name="engine", group="engine",
                            exit_on_error=False)

    def _freeze_setup(self) -> None:
        """Keep the garbage collector's full passes short: scanning every object of the process
        stopped the app for 100–200 ms at a time, during which no key was answered. What lives
        as long as the app (modules, widgets, the engine's set-up) is frozen out of them."""
        gc.collect()
        gc.freeze()
        self._frozen = True

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._frozen:
            gc.unfreeze()

    def _load_themes(self) -> None:
        loaded = load_themes(self.themes_dir)
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_names = loaded.names
        if loaded.problems:
            self.notify("\n".join(loaded.problems) + f"\nusing {DEFAULT_THEME} instead",
                        title="bad theme file", severity="warning", timeout=8)
        name = self.wanted_theme
        if name.endswith(".toml") or Path(name).is_file():
            name = self._theme_from_file(Path(name))
        if name not in self.theme_names:
            self.notify(f"no theme {name!r} (themes: {', '.join(self.theme_names)}); "
                        f"using {DEFAULT_THEME}", severity="warning")
            name = DEFAULT_THEME
        self.theme = name

    def _theme_from_file(self, path: Path) -> str:
        """`--theme FILE`: that theme, registered beside the bundled ones; the default if bad."""
        try:
            theme = load_theme_file(path)
        except ValueError as error:
            self.notify(f"{error}\nusing {DEFAULT_THEME} instead", title="bad theme file",
                        severity="warning", timeout=8)
            return DEFAULT_THEME
        self.register_theme(theme)
        if theme.name not in self.theme_names:
            self.theme_names.append(theme.name)
        return theme.name

    def on_resize(self) -> None:
        if self._mounted:
            log = self._audit.log_view
            log.show_header = self.size.height >= 36
            log.refresh()

    def watch_theme(self, _theme: str) -> None:
        self.palette_colours = Palette.of(self.current_theme)
        self._painted = -1

    @property
    def palette(self) -> Palette:
        if self.palette_colours is None:
            self.palette_colours = Palette.of(self.current_theme)
        return self.palette_colours

    # --- painting ------------------------------------------------------------------

    def refresh_snapshot(self, now: bool = False) -> None:
        """Pull the latest snapshot and repaint what changed.

        While the replay runs, a frame starts when the `FrameBudget` allows, and its work
        is spread over two ticks of the timer: header and panes, then the log, so that no
        single stretch of painting keeps a key waiting long. `now` (a key's effect, a
        decision reached, the end) paints the header at once, so the effect is on screen
        after one small refresh, and the rest right after that refresh.
        """
        runner = self.runner
        budget = self.frame_budget
        if not self._mounted:
            return
        with Charged(budget):
            if self._stages and not now:
                self._stages.pop(0)()
                return
            self._drain()  # what is left of the previous frame first: no record is lost
            clock = time.monotonic()
            moving = runner.state.value in ("PLAYING", "SEEKING")
            if moving and not now:
                flat_out = runner.state.value == "SEEKING" or runner.speed is None
                if not budget.due(clock, None if flat_out else FRAME_SECONDS):
                    return
            snap = runner.snapshot()
            if snap.version == self._painted:
                return
            if not now:
                budget.start(clock)
            self._painted = snap.version
            fresh = snap is not self.last_snapshot
            self.last_snapshot = snap
            palette = self.palette
            self._header.show(snap, palette)
            self._stages = [lambda: self._paint_panes(snap, palette),
                            lambda: self._paint_log(snap, palette, fresh)]
            if now:
                self.call_after_refresh(self._drain)
            elif moving:
                self._stages.pop(0)()
            else:
                self._drain()

    @property
    def _mounted(self) -> bool:
        """The panes exist (not before the mount, not while closing)."""
        return self._timer is not None and not self._closing and self._audit.is_attached

    def _drain(self) -> None:
        """Paint whatever is left of the current frame."""
        if not self._mounted:
            return
        with Charged(self.frame_budget):
            while self._stages:
                self._stages.pop(0)()

    def _paint_panes(self, snap: Snapshot, palette: Palette) -> None:
        with self.batch_update():
            for pane in self._panes:
                pane.show(snap, palette)
            if snap.state == "PLAYING":
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
                self.notify(f"#{record[0]} {record[6]}\n(enter on it in the log: details)",
                            title=title, severity="error", timeout=10)

    # --- runner notices -------------------------------------------------------------

    def _noticed(self, notice: Notice) -> None:
        """Called by the runner inside its slice: the notice is handled once the slice ends."""
        self.post_message(self.RunnerNoticed(notice))

    def on_desk_app_runner_noticed(self, message: RunnerNoticed) -> None:
        notice = message.notice
        self.refresh_snapshot(now=True)
        self._drain()  # all of it at once: the log must hold the decision to select it
        snap = self.last_snapshot
        if notice.kind == "decision" and snap is not None and snap.decision is not None:
            self._decision.show_decision(snap.decision, self.palette)
            self._audit.select_seq(snap.decision.seq)
        elif notice.kind == "finished" and snap is not None and not self._summary_shown:
            self._summary_shown = True
            self.push_screen(SummaryScreen(snap))
        elif notice.kind == "failed":
            self._show_failure(notice.text)
        elif notice.kind == "skipped":
            clock = time.monotonic()
            if clock - self._skip_told >= SKIP_TOLD_EVERY:
                self._skip_told = clock
                self.notify(notice.text, timeout=3)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self.runner.pause()
            self._show_failure(f"{type(event.worker.error).__name__}: {event.worker.error}")

    def _show_failure(self, message: str) -> None:
        path = self.runner.engine.journal.path
        self.push_screen(ErrorScreen(message, str(path) if path else None))

    # --- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The desk's keys act only on the desk: over a pop-up (rules, help, palette) they are
        left to it, so a space there switches a rule instead of pausing the replay."""
        return not (action in self.DESK_ACTIONS and len(self.screen_stack) > 1)

    def _over(self) -> bool:
        """After the end a replay key has nothing left to act on: say so instead of nothing."""
        if not self.runner.done:
            return False
        self.notify(REPLAY_OVER, severity="warning", timeout=4)
        return True

    def action_toggle_pause(self) -> None:
        if self._over():
            return
        self.runner.toggle_pause()
        if self.runner.state is RunState.PLAYING:
            self._audit.follow()  # resuming is watching the newest rows again
        self.refresh_snapshot(now=True)

    def action_step_one(self) -> None:
        if self._over():
            return
        self.runner.step()
        self.refresh_snapshot(now=True)

    def action_seek_decision(self) -> None:
        if self._over():
            return
        self._decision.hide()
        self.runner.seek_decision()

    def action_faster(self) -> None:
        if self._over():
            return
        self.runner.faster()
        self.refresh_snapshot(now=True)

    def action_slower(self) -> None:
        if self._over():
            return
        self.runner.slower()
        self.refresh_snapshot(now=True)

    def action_toggle_rule(self, number: int) -> None:
        rules = self.runner.engine.risk.rules
        if not 1 <= number <= len(rules):
            self.notify(f"there is no rule {number} (rules 1–{len(rules)})", severity="warning")
            return
        name = rules[number - 1].name
        enabled = self.runner.toggle_rule(name)
        if enabled is None:
            self.notify(OVER, title="nothing changed", severity="warning")
            return
        self.notify(**rule_switched(name, enabled))
        self.refresh_snapshot(now=True)

    def action_kill(self) -> None:
        engaged = self.runner.toggle_kill()
        if engaged is None:
            self.notify(OVER, title="nothing changed", severity="warning")
            return
        if engaged:
            self.notify("every new order is blocked from the next event (k releases it)",
                        title="KILL SWITCH ENGAGED", severity="error", timeout=6)
        else:
            self.notify("from the next event new orders are judged by the rules again "
                        "(k engages it)", title="kill switch released")
        self.refresh_snapshot(now=True)

    def operator_action(self, action: OperatorAction) -> bool:
        return self.runner.command(action)

    def action_rules(self) -> None:
        self.refresh_snapshot(now=True)  # the switches as queued keys left them
        if self.last_snapshot is not None:
            self.push_screen(RulesScreen(self.last_snapshot.rules, self.operator_action,
                                         over=self.runner.done))

    def action_next_instrument(self) -> None:
        """The book: following the action → the first instrument → … → the last → following."""
        builder = self.runner.builder
        order: list[str | None] = [None, *builder.instruments]
        choice = order[(order.index(builder.pinned) + 1) % len(order)]
        self.runner.pin_instrument(choice)
        self.notify(f"book: {choice} (i: next)" if choice else
                    "book: follows the latest risk decision or fill")
        self.refresh_snapshot(now=True)

    def action_filter(self) -> None:
        self._audit.open_filter()

    def on_audit_pane_explain_requested(self, message: AuditPane.ExplainRequested) -> None:
        audit = self._audit
        chain = explain(audit.records, message.seq, live=not self.runner.done)
        self.push_screen(ChainScreen(chain, message.seq, self.palette))

    def action_explain(self) -> None:
        seq = self._audit.selected_seq()
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
        self.saved.append(path)
        count = len(self.runner.recorded_actions())
        self.notify(f"{path}\nwith {count} operator action(s); replay it with `desk run {path}`",
                    title="session saved", timeout=8)

    def action_help(self) -> None:
        self.push_screen(HelpScreen([*self.BINDINGS, *self.HELP_EXTRA]))  # type: ignore[list-item]

    def action_quit_desk(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.runner.stop()
        self.exit()

    # --- the command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own "Keys" and "Quit" would stand beside the desk's (whose quit also
        # flushes the journal): one of each
        yield from (command for command in super().get_system_commands(screen)
                    if command.title not in ("Keys", "Quit"))
        commands = [
            ("Pause / resume", "pause or resume the replay", self.action_toggle_pause),
            ("Step one event", "process exactly one event", self.action_step_one),
            ("Next risk decision", "run to the next risk decision and pause",
             self.action_seek_decision),
            ("Kill switch: engage / release", "engaged, every new order is blocked",
             self.action_kill),
            ("Faster", "next speed up", self.action_faster),
            ("Next instrument in the book", "or back to following the latest decision or fill",
             self.action_next_instrument),
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
                    f"currently {'on' if rule.will_enable else 'OFF (its checks skipped)'}",
                    lambda n=rule.index: self.action_toggle_rule(n))
