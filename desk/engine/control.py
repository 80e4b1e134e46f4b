"""The engine's control side: risk limit and rule changes, mode resets, and operator commands,
each journaled; operator commands are recorded so a replay applies them at the same event."""

from __future__ import annotations

from typing import Any

from desk.config import OperatorAction, limit_value
from desk.engine.state import EngineState
from desk.events import ModeReset, RiskLimitChanged, RuleToggled
from desk.figures import counted, num
from desk.risk.engine import ModeChange
from desk.timeutil import format_ns


def _limit(value: Any) -> str:
    """A rule's limit as a sentence says it: 300, 0.05, none (no limit), true."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return num(value)
    return repr(value)


class ControlSide(EngineState):
    """Changes to the risk engine from the schedule, the data or the operator."""

    def _on_limit_changed(self, event: RiskLimitChanged) -> None:
        try:
            before = self.risk.rule(event.rule).limits().get(event.param)
            self.risk.set_limit(event.rule, event.param, event.value)
        except (ValueError, TypeError) as error:
            self.journal.record("control_error", event.ts, f"could not set {event.rule}."
                                f"{event.param} = {event.value!r}: {error}", source=event.source)
            return
        self.journal.record("limit_change", event.ts, f"{event.rule}.{event.param}: "
                            f"{_limit(before)} → {_limit(event.value)} (by {event.source})",
                            rule=event.rule,
                            param=event.param, before=before, after=event.value,
                            source=event.source)
        self._rejudge_mode(event.rule, event.source)

    def _on_rule_toggled(self, event: RuleToggled) -> None:
        try:
            self.risk.toggle(event.rule, event.enabled)
        except ValueError as error:
            self.journal.record("control_error", event.ts, f"could not switch {event.rule}: "
                                f"{error}", source=event.source)
            return
        self.journal.record("rule_toggle", event.ts, f"{event.rule} switched "
                            f"{'on' if event.enabled else 'off'} (by {event.source})",
                            rule=event.rule, enabled=event.enabled, source=event.source)
        self._rejudge_mode(event.rule, event.source)

    def _rejudge_mode(self, rule: str, source: str) -> None:
        """Judge the mode at once after the drawdown rule changed, not at the next mark: the
        next quote may be far off, and orders in between would be judged in a mode the rule no
        longer calls for (REDUCING with the rule switched off, ACTIVE beyond a lowered
        tolerance)."""
        if rule == "max_drawdown":
            self._judge_mode(source)

    def _judge_mode(self, source: str) -> None:
        """Let the drawdown move the risk mode now, from the books as they are, journaled."""
        change = self.risk.on_mark()
        if change is not None:
            self._journal_mode(change, source)

    def _late_changes(self, changes: list[RiskLimitChanged | RuleToggled]) -> None:
        """Journal the scheduled changes due after the replay's last event: never applied, as
        nothing came for them to govern, and not dropped in silence."""
        if not changes:
            return
        said = ", ".join(f"{c.rule}.{c.param} = {_limit(c.value)}"
                         if isinstance(c, RiskLimitChanged)
                         else f"{c.rule} switched {'on' if c.enabled else 'off'}" for c in changes)
        count = counted(len(changes), "scheduled risk change")
        due = format_ns(changes[0].ts)[:23]
        self.journal.record("control_error", self.now, f"{count} not applied: due from {due} UTC "
                            f"on, after the replay's last event ({said})", source="schedule",
                            due=[c.ts for c in changes])

    def _on_mode_reset(self, event: ModeReset) -> None:
        try:
            change = self.risk.reset_mode(f"reset by {event.source}")
        except ValueError as error:
            self.journal.record("control_error", event.ts, str(error), source=event.source)
            return
        if change is not None:
            self._journal_mode(change, event.source)
        else:  # an operator's action is journaled, even one that finds nothing to do
            self.journal.record("control_error", event.ts, f"reset by {event.source} not "
                                "needed: the desk is ACTIVE already", source=event.source)

    def _journal_mode(self, change: ModeChange, source: str) -> None:
        self.journal.record("mode", self.now,
                            f"mode {change.before} → {change.after}: {change.why}",
                            before=change.before, after=change.after, source=source)

    # --- operator commands: applied between events, journaled, recorded for replay ------------

    def command(self, action: OperatorAction) -> None:
        """Queue an operator action; it takes effect before the next event."""
        self.commands.append(action)

    def _apply_commands(self) -> None:
        seq = self.queue.popped
        actions = self._replay_actions
        while self._replay_pos < len(actions) and actions[self._replay_pos].seq <= seq:
            # journaled exactly as when the operator took it, so a replay is byte-identical
            self._apply_action(actions[self._replay_pos], "operator")
            self._replay_pos += 1
        pending, self.commands = self.commands, []
        for action in pending:
            recorded = action.model_copy(update={"seq": seq})
            self.operator_log.append(recorded)
            self._apply_action(recorded, "operator")

    def _apply_action(self, action: OperatorAction, source: str) -> None:
        ts = self.now
        try:
            if action.action == "toggle" and action.rule is not None:
                rule = self.risk.rule(action.rule)
                enabled = (not rule.enabled) if action.enabled is None else action.enabled
                self._on_rule_toggled(RuleToggled(ts, action.rule, enabled, source))
            elif action.action == "set" and action.rule and action.param:
                self._on_limit_changed(RiskLimitChanged(ts, action.rule, action.param,
                                                        limit_value(action.value), source))
            elif action.action == "kill":
                engaged = True if action.enabled is None else action.enabled
                if engaged and not self.risk.rule("kill_switch").enabled:
                    self._on_rule_toggled(RuleToggled(ts, "kill_switch", True, source))
                self._on_limit_changed(RiskLimitChanged(ts, "kill_switch", "engaged", engaged,
                                                        source))
            elif action.action == "reset":
                self._on_mode_reset(ModeReset(ts, source))
            else:
                raise ValueError(f"incomplete operator action {action.model_dump()}")
        except ValueError as error:
            self.journal.record("control_error", ts, f"operator action failed: {error}",
                                source=source)
