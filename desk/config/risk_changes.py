"""Checks at load of the risk changes a session makes as it runs: its `[[risk.schedule]]` and its
`[[operator_actions]]`.

A change that the engine would refuse when it comes (no such rule or parameter, a limit that is
not one) is a mistake in the file, found before anything runs, as any other; not a
`control_error` in a journal that nobody reads. The drawdown limits must also stay in order
(`halt` ≥ `tolerance` > `resume_below`) as each change applies: that depends on the changes
before it, so it is checked where their order is known from the file alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.config.risk import NO_LIMIT, RiskConfig, limit_value
from desk.timeutil import parse_iso_ns, parse_offset_ns

if TYPE_CHECKING:
    from desk.config.session import Session
    from desk.risk.rules import Rule

_TAKES: dict[str, tuple[str, ...]] = {
    "toggle": ("rule", "enabled"),
    "set": ("rule", "param", "value"),
    "kill": ("enabled",),
    "reset": (),
}
"""The keys each operator action uses besides `seq` and `action`."""
_NEEDS: dict[str, tuple[str, ...]] = {"toggle": ("rule",), "set": ("rule", "param", "value")}
_DRAWDOWN = "max_drawdown"

Found = list[tuple[str, str]]
"""(key path, message) per problem."""


def risk_change_checks(cfg: Session) -> Found:
    """Every problem of the schedule's and the operator actions' rules, parameters and limits."""
    from desk.risk.engine import build_rules

    rules = {rule.name: rule for rule in build_rules(cfg.risk)}
    found: Found = []
    for index, item in enumerate(cfg.risk.schedule):
        if item.param is not None and item.rule in rules:  # an unknown rule: see cross_checks
            found += _limit(f"risk.schedule[{index}]", rules[item.rule], item.param, item.value)
    for index, action in enumerate(cfg.operator_actions):
        key = f"operator_actions[{index}]"
        problems = _shape(key, action.action, {name: getattr(action, name) for name in
                                               ("rule", "param", "value", "enabled")},
                          action.model_fields_set)
        if not problems and action.rule is not None and action.rule not in rules:
            problems.append((f"{key}.rule", f"no risk rule {action.rule!r} (rules: "
                             f"{', '.join(_rule_names())})"))
        if not problems and action.action == "set":
            assert action.rule is not None and action.param is not None
            problems += _limit(key, rules[action.rule], action.param, action.value)
        found += problems
    if not found:
        found += _drawdown_order(cfg, rules[_DRAWDOWN])
    return found


def _rule_names() -> list[str]:
    return [name for name in RiskConfig.model_fields if name != "schedule"]


def _shape(key: str, action: str, values: dict[str, Any], given: set[str]) -> Found:
    """An operator action's keys: those it needs are there, those it does not use are not."""
    takes = _TAKES[action]
    found: Found = []
    for name, value in values.items():
        if value is not None and name not in takes:
            found.append((f"{key}.{name}", f"action {action!r} takes no {name} (it takes: "
                          f"{', '.join(takes) or 'nothing more'})"))
    for name in _NEEDS.get(action, ()):
        # `value` is needed even to remove a limit: TOML has no null, so a missing one would
        # silently remove it; `value = None` given in code (the app, a test) is a removal
        if (values[name] is None and name != "value") or name not in given:
            hint = (f' (the new limit, or "{NO_LIMIT}" to remove it)' if name == "value"
                    else "")
            found.append((f"{key}.{name}", f"missing: action {action!r} needs a {name}{hint}"))
    return found


def _limit(key: str, rule: Rule, param: str, value: Any) -> Found:
    """`rule.param = value` as the engine would judge it on its own: a parameter of the rule,
    and a value it can hold."""
    if param not in rule.params:
        return [(f"{key}.param", f"rule {rule.name} has no parameter {param!r} (it has: "
                 f"{', '.join(rule.params) or 'none'})")]
    try:
        rule.coerce(param, limit_value(value))
    except ValueError as error:
        hint = ""
        if isinstance(value, str) and param in rule.optional:
            hint = f' (or "{NO_LIMIT}" to remove the limit)'
        return [(f"{key}.value", f"{error}{hint}")]
    return []


def _drawdown_order(cfg: Session, rule: Rule) -> Found:
    """The drawdown limits in order after each change, the changes taken in the order they
    apply, from the session's limits.

    That order is known from the file when only one source changes these limits:
    the schedule (its times all offsets from the first event, or all absolute),
    or the operator actions (by event). A session whose schedule and operator
    actions both change them, or whose data may (a `mixed` file's `risk_limit`
    rows), is judged as it runs, each refusal a `control_error`.
    """
    if any(source.kind == "mixed" for source in cfg.data.files):
        return []
    scheduled = [(index, item.at, item.param, item.value)
                 for index, item in enumerate(cfg.risk.schedule)
                 if item.rule == _DRAWDOWN and item.param is not None]
    changes: list[tuple[str, int, str, Any]]
    operated = [(index, action.seq, action.param, action.value)
                for index, action in enumerate(cfg.operator_actions)
                if action.action == "set" and action.rule == _DRAWDOWN
                and action.param is not None]
    if scheduled and operated:
        return []
    if scheduled:
        times = [_when(at) for _, at, _, _ in scheduled]
        if len({relative for relative, _ in times}) > 1:
            return []  # offsets and absolute times: their order depends on the data
        changes = [(f"risk.schedule[{index}]", ts, param, value)
                   for (index, _, param, value), (_, ts) in zip(scheduled, times, strict=True)]
    else:
        changes = [(f"operator_actions[{index}]", seq, param, value)
                   for index, seq, param, value in operated]
    changes.sort(key=lambda change: change[1])  # stable: ties apply in the file's order
    found: Found = []
    for key, _, param, value in changes:
        try:
            rule.set_param(param, limit_value(value))
        except ValueError as error:  # refused at run time too, and the limits stay as they were
            found.append((f"{key}.value", str(error)))
    return found


def _when(at: int | str) -> tuple[bool, int]:
    """(whether `at` is an offset from the first event, its nanoseconds)."""
    if isinstance(at, int):
        return False, at
    offset = parse_offset_ns(at)
    return (True, offset) if offset is not None else (False, parse_iso_ns(at))
