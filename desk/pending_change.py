"""What the operator actions queued for the next event will change, ahead of the engine."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from desk.config import limit_value

if TYPE_CHECKING:
    from desk.engine import Engine
    from desk.risk.rules import Rule


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
    changes, _ = _queued(engine)
    return {rule: kept for rule, change in changes.items()
            if (kept := {key: value for key, value in change.items()
                         if value != _current(engine, rule, key)})}


def limit_refusal(engine: Engine, rule: str, param: str, value: Any) -> str | None:
    """Why the engine would refuse `rule.param = value` after the actions already queued, in
    its own words; None when it would take it."""
    _, probes = _queued(engine)
    try:
        probe = probes.get(rule) or copy.copy(engine.risk.rule(rule))
        probe.set_param(param, value)
    except ValueError as error:
        return str(error)
    return None


def _queued(engine: Engine) -> tuple[dict[str, dict[str, Any]], dict[str, Rule]]:
    """The queued actions played ahead: what each changes, rule by rule, and per rule whose
    limits change a copy of it holding them."""
    changes: dict[str, dict[str, Any]] = {}
    probes: dict[str, Rule] = {}
    """Per rule, a copy taking the queued limits in turn, so a limit the engine will refuse
    (one out of order with the others: a halt below the tolerance) is refused here too."""

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
                probe = probes.get(rule)
                if probe is None:
                    probe = probes[rule] = copy.copy(engine.risk.rule(rule))
                probe.set_param(action.param, limit_value(action.value))
                changes.setdefault(rule, {})[action.param] = getattr(probe, action.param)
            elif action.action == "kill":
                engaged = True if action.enabled is None else action.enabled
                if engaged and not will_be("kill_switch", "enabled"):
                    changes.setdefault("kill_switch", {})["enabled"] = True
                changes.setdefault("kill_switch", {})["engaged"] = engaged
                if "kill_switch" in probes:
                    probes["kill_switch"].set_param("engaged", engaged)
        except ValueError:
            continue
    return changes, probes
