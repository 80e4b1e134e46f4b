"""The rules screen: switch any risk rule and edit its limits; each change is an operator action."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Switch

from desk.app.look import limit_text
from desk.app.modal import DeskModal
from desk.config import OperatorAction
from desk.snapshot import RuleRow

_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?(e[+-]?\d+)?")
"""A number written with thousands separators: `1,000`, `2,500.5`, `-1,000,000`."""


class NotThousands(ValueError):
    """A comma typed that does not separate thousands (`2,5`): said as such, since the person
    most likely meant a decimal point."""


OVER = "the replay is over: rule changes no longer apply (save with s and replay the copy)"


def rule_switched(name: str, enabled: bool) -> dict[str, Any]:
    """The notification for a rule switched by the operator. Off is a warning that says what it
    means (a trader reads "kill_switch off" as safe); the rule's switch is named as a rule's, so
    it cannot be mistaken for the state of what the rule guards (the kill switch's `engaged`)."""
    if enabled:
        return {"message": f"{name} rule ON: checked again from the next event"}
    return {"message": f"{name} rule OFF: its checks are skipped from the next event",
            "severity": "warning", "timeout": 6}


def parse_limit(text: str) -> Any:
    """A limit as typed: a number, yes/no, or empty/none for no limit. ValueError otherwise.

    A comma is read only as a thousands separator (`1,000`): `2,5` meant as 2.5 is refused
    rather than taken for 25, a limit ten times looser than the one the person had in mind."""
    value = text.strip().lower().replace("_", "")
    if "," in value:
        if not _GROUPED.fullmatch(value):
            raise NotThousands("a comma only separates thousands (1,000); decimals take a dot")
        value = value.replace(",", "")
    if value in ("", "none", "-", "–"):
        return None
    if value in ("yes", "true", "on"):
        return True
    if value in ("no", "false", "off"):
        return False
    number = float(value)
    if number != number:
        raise ValueError("NaN is not a limit")
    return number


class RulesScreen(DeskModal):
    """One line per rule: its switch, its name, and an input per parameter (enter applies)."""

    # Textual's Screen declares this without ClassVar, so mypy refuses one here
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]  # noqa: RUF012
    """Below 80 columns a rule's limits are stacked, one a row: side by side, the third of
    `max_drawdown` and the second of others ran past the box, out of sight but still typed in."""

    DEFAULT_CSS = """
    RulesScreen .rule { height: 1; }
    RulesScreen .params { height: 1; margin: 0 0 1 8; }
    RulesScreen Switch { height: 1; border: none; padding: 0 1; width: auto; }
    RulesScreen .name { width: 1fr; padding: 0 1; text-style: bold; }
    RulesScreen .param { width: auto; padding: 0 1 0 0; color: $text-muted; }
    RulesScreen Input { width: 10; margin: 0 1 0 0; padding: 0 1; }
    RulesScreen .pair { width: auto; height: 1; }
    RulesScreen.-narrow .params { layout: vertical; height: auto; }
    RulesScreen Input:focus { background: $accent 40%; color: $foreground; }
    RulesScreen Input > .input--placeholder { color: $text-disabled; text-style: italic; }
    RulesScreen #over { width: 100%; color: $warning; text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, rules: tuple[RuleRow, ...], act: Callable[[OperatorAction], bool],
                 over: bool = False,
                 refusal: Callable[[str, str, Any], str | None] = lambda *_: None) -> None:
        super().__init__()
        self.rules = rules
        self.act = act
        self.refusal = refusal
        """Why the engine would refuse a limit (its own words), or None: asked before acting,
        so a limit it would refuse is never announced as applying."""
        self.over = over
        """The replay has finished: nothing typed here can change it any more."""
        self.in_force: dict[str, str] = {}
        """Per field (`rule.param`), the limit as it will be, as text: a field never keeps
        showing a limit that was refused or not applied."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box") as box:
            box.border_title = "risk rules"
            box.border_subtitle = "space or enter switches · type a limit, enter applies · escape"
            if self.over:
                yield Label("The replay is over: changes here no longer apply. Save the session "
                            "with s and replay it to try other rules.", id="over")
            for rule in self.rules:
                with Horizontal(classes="rule"):
                    # as the switch will be: a key pressed while paused is queued, not yet applied
                    yield Switch(rule.will_enable, id=f"switch-{rule.name}", name=rule.name)
                    yield Label(f"{rule.index} {rule.name}", classes="name")
                # the limits on a row of their own, so three of them fit in 80 columns
                with Horizontal(classes="params"):
                    for param, _value in rule.limits:
                        value = rule.will_have(param)
                        self.in_force[f"{rule.name}.{param}"] = (
                            limit_text(value) if value is not None else "")
                        with Horizontal(classes="pair"):
                            yield Label(param, classes="param")
                            # compact: one row, no border, so what is typed stays in view; an
                            # empty field's hint reads as a hint, not as a value
                            field = Input(self.in_force[f"{rule.name}.{param}"],
                                          placeholder="no limit",
                                          id=f"limit-{rule.name}-{param}",
                                          name=f"{rule.name}.{param}", compact=True)
                            field.tooltip = f"{rule.name}.{param} (a number, yes/no, or none)"
                            yield field

    def on_switch_changed(self, event: Switch.Changed) -> None:
        name = event.switch.name
        if not name:
            return
        if not self.act(OperatorAction(seq=0, action="toggle", rule=name, enabled=event.value)):
            with event.switch.prevent(Switch.Changed):
                event.switch.value = not event.value  # the switch shows what the rule is
            self.notify(OVER, title="nothing changed", severity="warning")
            return
        self.notify(**rule_switched(name, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = event.input
        rule, _, param = (field.name or "").partition(".")
        try:
            value = parse_limit(event.value)
        except ValueError as error:
            self._restore(field)
            why = f": {error}" if isinstance(error, NotThousands) else ""
            self.notify(f"{rule}.{param}: {event.value!r} is not a number, yes/no or none{why}",
                        title="nothing changed", severity="error")
            return
        refused = self.refusal(rule, param, value)
        if refused is not None:
            self._restore(field)
            self.notify(refused, title="nothing changed", severity="error", timeout=8)
            return
        if not self.act(OperatorAction(seq=0, action="set", rule=rule, param=param, value=value)):
            self._restore(field)
            self.notify(OVER, title="nothing changed", severity="warning")
            return
        self.in_force[field.name or ""] = "" if value is None else limit_text(value)
        self._restore(field)
        shown = "no limit" if value is None else f"= {limit_text(value)}"
        self.notify(f"{rule}.{param} {shown} from the next event")

    def on_input_blurred(self, event: Input.Blurred) -> None:
        """Leaving a field without enter applies nothing: it shows the limit in force again,
        and the person is told, rather than left reading a limit they only typed."""
        field = event.input
        wanted = self.in_force.get(field.name or "")
        if wanted is None or _same_limit(field.value, wanted):
            return
        typed = field.value
        self._restore(field)
        self.notify(f"{field.name}: {typed!r} was not applied (enter applies it)",
                    title="nothing changed", severity="warning")

    def _restore(self, field: Input) -> None:
        """The field shows its limit as it will be (what a refused or abandoned text is not)."""
        wanted = self.in_force.get(field.name or "")
        if wanted is not None and field.value != wanted:
            with field.prevent(Input.Changed):
                field.value = wanted


def _same_limit(typed: str, in_force: str) -> bool:
    """`typed` says the limit `in_force` says (`1000` is `1,000`)."""
    try:
        a, b = parse_limit(typed), parse_limit(in_force)
    except ValueError:
        return False
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)  # `1` is not `yes`
