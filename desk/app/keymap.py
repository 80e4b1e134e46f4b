"""The desk's keys: its bindings, the other keys its help lists, and their command-palette twins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp


def desk_key(key: str, action: str, description: str, tooltip: str, *, id: str,
             show: bool = True, key_display: str | None = None) -> Binding:
    """A desk key: a priority binding, so the app acts on it at once instead of after the key
    has travelled through the focused widget and its parents (one hop each through the event
    loop, each of which may wait behind an engine slice). Keys an `Input` types stay its own."""
    return Binding(key, action, description, show=show, key_display=key_display, priority=True,
                   id=id, tooltip=tooltip)


DESK_BINDINGS: list[BindingType] = [
    # short footer words, and `i` and `t` left to the help, so that 100 columns show the keys
    # through q
    desk_key("space", "toggle_pause", "Play", "pause or resume the replay", id="pause"),
    desk_key("n", "step_one", "Step", "process exactly one event, then stay paused",
             id="step", key_display="n/→"),
    desk_key("d", "seek_decision", "Decision",
             "run to the next risk decision, pause, explain it", id="decision"),
    desk_key("k", "kill", "Kill",
             "kill switch: engage (no new orders) / release", id="kill"),
    desk_key("plus,equals_sign", "faster", "Faster",
             "speed up: 1× 10× 100× 1000× max (simulated time)", id="faster",
             key_display="+"),
    desk_key("minus", "slower", "Slower", "slow down", id="slower", key_display="-",
             show=False),
    *(desk_key(str(n), f"toggle_rule({n})", f"Rule {n}",
               f"switch risk rule {n} on/off (numbers in the risk pane)", id=f"rule{n}",
               show=False) for n in range(1, 10)),
    desk_key("r", "rules", "Rules", "rules screen: switch rules, edit limits", id="rules"),
    desk_key("i", "next_instrument", "Book",
             "book: next instrument … then following the action", id="instrument", show=False),
    desk_key("slash", "filter", "Filter", "filter the log: kind:risk,fill rule:NAME words",
             id="filter", key_display="/"),
    desk_key("t", "next_theme", "Theme", "next theme", id="theme", show=False),
    desk_key("s", "save", "Save",
             "save session + your actions: a TOML that replays", id="save"),
    desk_key("question_mark", "help", "Help", "every key", id="help", key_display="?"),
    desk_key("q", "quit_desk", "Quit", "quit (the journal is flushed)", id="quit"),
]
"""The desk's own keys, in the order the footer and the help show them."""

DESK_ACTIONS = frozenset({"toggle_pause", "step_one", "seek_decision", "faster", "slower",
                          "kill", "toggle_rule", "rules", "next_instrument", "filter",
                          "next_theme", "save", "help", "quit_desk"})
"""Actions of the desk's own keys: only while the desk itself is the screen shown."""

HELP_EXTRA: list[Binding] = [
    Binding("up,down,pageup,pagedown", "", "", key_display="↑/↓ PgUp/PgDn",
            tooltip="log: move the cursor (it stops following new rows)"),
    Binding("home,end", "", "", key_display="Home/End",
            tooltip="log: first row / last row and follow again"),
    Binding("enter", "", "", tooltip="on a log row: the causal chain explaining it"),
    Binding("escape", "", "", tooltip="close a pop-up or the filter box"),
    Binding("ctrl+p", "", "", tooltip="command palette: the same actions by name"),
]
"""Keys of the log and the pop-ups, listed in the help beside the desk's own."""


def palette_commands(app: DeskApp) -> Iterable[SystemCommand]:
    """The desk's actions by name for the command palette, then one switch per risk rule."""
    commands = [
        ("Pause / resume", "pause or resume the replay", app.action_toggle_pause),
        ("Step one event", "process exactly one event", app.action_step_one),
        ("Next risk decision", "run to the next risk decision and pause",
         app.action_seek_decision),
        ("Kill switch: engage / release",
         "currently ENGAGED: every new order is blocked" if app.runner.kill_engaged()
         else "currently not engaged: engaging it blocks every new order", app.action_kill),
        ("Faster", "next speed up", app.action_faster),
        ("Next instrument in the book", "or back to following the latest decision or fill",
         app.action_next_instrument),
        ("Slower", "next speed down", app.action_slower),
        ("Risk rules", "switch rules and edit limits", app.action_rules),
        ("Explain selected record", "the causal chain of the selected log row",
         app.action_explain),
        ("Filter the log", "by kind, rule and words", app.action_filter),
        ("Next theme", "cycle desk-dark, desk-light, desk-high-contrast",
         app.action_next_theme),
        ("Save session", "write the session with your actions as a new TOML",
         app.action_save),
        ("Keys", "every key of the desk", app.action_help),
        ("Quit desk", "quit with the journal flushed", app.action_quit_desk),
    ]
    for title, help_text, callback in commands:
        yield SystemCommand(title, help_text, callback)
    if app.last_snapshot is not None:
        for rule in app.last_snapshot.rules:
            yield SystemCommand(
                f"Switch rule {rule.index} {rule.name}",
                f"currently {'on' if rule.will_enable else 'OFF (its checks skipped)'}",
                lambda n=rule.index: app.action_toggle_rule(n))
