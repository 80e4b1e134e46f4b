"""The desk app: lays out the panes and screens, and hands each key to the module acting on it."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import Worker

from desk.app import keymap, replay_control, risk_control
from desk.app.audit_log import AuditLog
from desk.app.audit_pane import AuditPane
from desk.app.book_pane import BookPane
from desk.app.chain import explain
from desk.app.chain_screen import ChainScreen
from desk.app.decision_bar import DecisionBar
from desk.app.engine_bridge import EngineBridge
from desk.app.frame_budget import FrameBudget
from desk.app.frame_painter import FAST_FRAME_SECONDS, FRAME_SECONDS, FramePainter
from desk.app.header import DeskHeader
from desk.app.help_screen import HelpScreen
from desk.app.look import Palette
from desk.app.pnl_pane import PnLPane
from desk.app.positions_pane import PositionsPane
from desk.app.risk_pane import RiskPane
from desk.app.theme_choice import apply_wanted_theme, next_theme
from desk.app.themes import DEFAULT_THEME, THEMES_DIR
from desk.runner import Notice, Runner
from desk.snapshot import Snapshot

_TYPED_ACTIONS = frozenset({"faster", "slower", "filter"})
"""Actions of keys that are also characters a person types into the filter box."""


class DeskApp(App[None]):
    """`desk play`: watch a replay, pause it, step through risk decisions, switch rules, save."""

    TITLE = "desk"
    # Textual's App declares these without ClassVar, so mypy refuses one here
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    # below 24 rows the fixed heights would not fit: the panes share what there is instead
    VERTICAL_BREAKPOINTS = [(0, "-tiny"), (24, "-short"), (36, "-tall")]  # noqa: RUF012
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
    /* the compact footer's margin after each key also stood after the palette's, docked at
       the right: a letter of the keys under it showed past "palette" when they ran over */
    Footer FooterKey.-command-palette { margin-right: 0; padding-right: 1; }
    Screen.-short Pane, Screen.-short AuditPane, Screen.-tiny Pane, Screen.-tiny AuditPane {
        border: none;
        border-top: round $panel-lighten-2;
    }
    Screen.-short #row1 { height: 10; }
    Screen.-short AuditPane { min-height: 3; }
    Screen.-short DecisionBar, Screen.-tiny DecisionBar { height: 3; }
    Screen.-short RiskPane.-alert, Screen.-tiny RiskPane.-alert { border-top: round $error; }
    Screen.-tiny #row1 { height: 3fr; min-height: 4; max-height: 10; }
    /* pnl and log give up their rows before the risk pane; a screen too short even for that
       is cut at the bottom rather than scrolled, so the header and the risk pane stay */
    Screen.-tiny #row2 { height: 1fr; min-height: 0; max-height: 6; }
    Screen.-tiny AuditPane { height: 1fr; min-height: 0; }
    Screen.-tiny { overflow-y: hidden; }
    """
    BINDINGS: ClassVar[list[BindingType]] = keymap.DESK_BINDINGS
    DESK_ACTIONS = keymap.DESK_ACTIONS
    """Actions of the desk's own keys: only while the desk itself is the screen shown."""
    HELP_EXTRA: ClassVar[list[Binding]] = keymap.HELP_EXTRA
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
        configured = runner.engine.config.app.theme
        if configured and configured.endswith(".toml"):  # a theme file beside the session
            configured = str(runner.engine.loaded.resolve(configured))
        self.wanted_theme = theme or configured or DEFAULT_THEME
        self.themes_dir = themes_dir
        self.start_engine = start_engine
        self.theme_names: list[str] = []
        self.palette_colours: Palette | None = None
        self.frame_budget = FrameBudget(shortest=FAST_FRAME_SECONDS)
        """Spaces frames while the replay runs so painting leaves the engine most of the CPU."""
        self.painter = FramePainter(self)
        self.bridge = EngineBridge(self)
        self.saved: list[Path] = []
        """Sessions saved with `s` in this run (the play command prints them at exit)."""
        self._frozen = False
        self._timer: Timer | None = None

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
        yield Footer(compact=True)  # one space between keys: 100 columns show them all

    def on_mount(self) -> None:
        apply_wanted_theme(self)
        self.query_one(AuditLog).focus()
        self.call_after_refresh(self._freeze_setup)
        self.audit = self.query_one(AuditPane)
        self.audit.rule_names = tuple(rule.name for rule in self.runner.engine.risk.rules)
        self.decision = self.query_one(DecisionBar)
        self.painter.attach()
        self.audit.log_view.show_header = self.size.height >= 36
        self.refresh_snapshot()
        self._timer = self.set_interval(FRAME_SECONDS, self.painter.refresh, name="snapshot")
        if self.start_engine:
            self.bridge.start()

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

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: the app's own may still be the old one while the event is handled
        if self.panes_ready:
            log = self.audit.log_view
            log.show_header = event.size.height >= 36
            log.refresh()

    def watch_theme(self, _theme: str) -> None:
        self.palette_colours = Palette.of(self.current_theme)
        self.painter.painted = -1

    @property
    def palette(self) -> Palette:
        if self.palette_colours is None:
            self.palette_colours = Palette.of(self.current_theme)
        return self.palette_colours

    # --- painting ------------------------------------------------------------------

    @property
    def panes_ready(self) -> bool:
        """The panes exist (not before the mount, not while closing)."""
        return self._timer is not None and not self._closing and self.audit.is_attached

    @property
    def last_snapshot(self) -> Snapshot | None:
        """The snapshot painted last (None before the first frame)."""
        return self.painter.last_snapshot

    def refresh_snapshot(self, now: bool = False) -> None:
        """Pull the latest snapshot and repaint what changed (`FramePainter.refresh`)."""
        self.painter.refresh(now)

    # --- the runner -------------------------------------------------------------------

    def on_desk_app_runner_noticed(self, message: RunnerNoticed) -> None:
        self.bridge.tell(message.notice)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.bridge.worker_changed(event)

    # --- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The desk's keys act only on the desk: over a pop-up (rules, help, palette) they are
        left to it, so a space there switches a rule instead of pausing the replay."""
        if action in self.DESK_ACTIONS and len(self.screen_stack) > 1:
            return False
        # Textual leaves a printable key to a focused `Input` by its character, and it knows no
        # character for `plus`, `minus` and `slash`: while the filter box has the focus they
        # are text, not the speed or the filter
        return not (action in _TYPED_ACTIONS and isinstance(self.focused, Input))

    def action_toggle_pause(self) -> None:
        replay_control.toggle_pause(self)

    def action_step_one(self) -> None:
        replay_control.step_one(self)

    def action_seek_decision(self) -> None:
        replay_control.seek_decision(self)

    def action_faster(self) -> None:
        replay_control.faster(self)

    def action_slower(self) -> None:
        replay_control.slower(self)

    def action_next_instrument(self) -> None:
        replay_control.next_instrument(self)

    def action_save(self) -> None:
        replay_control.save(self)

    def action_toggle_rule(self, number: int) -> None:
        risk_control.toggle_rule(self, number)

    def action_kill(self) -> None:
        risk_control.toggle_kill(self)

    def action_rules(self) -> None:
        risk_control.open_rules(self)

    def action_filter(self) -> None:
        self.audit.open_filter()

    def on_audit_pane_filter_applied(self, _message: AuditPane.FilterApplied) -> None:
        """The decision explained below the log: its row selected if the new filter shows it,
        and the bar saying whether it does (it pointed at a row, or said the filter hid it)."""
        decision = self.decision.decision
        if decision is not None and self.decision.shown:
            in_log = self.audit.select_seq(decision.seq)
            self.decision.show_decision(decision, self.palette, in_log=in_log)

    def on_audit_pane_explain_requested(self, message: AuditPane.ExplainRequested) -> None:
        chain = explain(self.audit.records, message.seq, live=not self.runner.done)
        self.push_screen(ChainScreen(chain, message.seq, self.palette))

    def action_explain(self) -> None:
        seq = self.audit.selected_seq()
        if seq is not None:
            self.post_message(AuditPane.ExplainRequested(seq))

    def action_next_theme(self) -> None:
        next_theme(self)

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
        yield from keymap.palette_commands(self)
