"""What the operator actions queued for the next event will change, ahead of the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.engine import Engine


def _current(engine: Engine, rule: str, key: str) -> Any:
    """Rule `rule`'s switch (`enabled`) or limit `key` as the engine has it now."""
    found = engine.risk.rule(rule)
    return found.enabled if key == "enabled" else found.limits().get(key)


def pending_changes(engine: Engine) -> dict[str, dict[str, Any]]:
    """What the operator actions queued for the next event will change, rule by rule:
    `enabled` for a switch, a parameter's name for a limit (`engaged` for the kill switch).

    The engine applies them only before its next event, so while paused a key's effect
    would stay invisible; the app shows these instead, marked as pending. An action the
    engine will refuse (an unknown rule, a bad limit) changes nothing here either.
    """
    changes: dict[str, dict[str, Any]] = {}

    def will_be(rule: str, key: str) -> Any:
        pending = changes.get(rule, {})
        return pending[key] if key in pending else _current(engine, rule, key)

    for action in engine.commands:
        rule = action.rule
        try:
            if action.action == "toggle" and rule is not None:
                enabled = not will_be(rule, "enabled") if action.enabled is None else action.enabled
                changes.setdefault(rule, {})["enabled"] = enabled
            elif action.action == "set" and rule is not None and action.param is not None:
                value = engine.risk.rule(rule).coerce(action.param, action.value)
                changes.setdefault(rule, {})[action.param] = value
            elif action.action == "kill":
                engaged = True if action.enabled is None else action.enabled
                if engaged and not will_be("kill_switch", "enabled"):
                    changes.setdefault("kill_switch", {})["enabled"] = True
                changes.setdefault("kill_switch", {})["engaged"] = engaged
        except ValueError:
            continue
    return {rule: kept for rule, change in changes.items()
            if (kept := {key: value for key, value in change.items()
                         if value != _current(engine, rule, key)})}
