"""Risk-limit changes carried by a data file: rows of kind `risk_limit` in a `mixed` file.

A row names a `rule`, a `param` and a `value`; `param = "enabled"` switches the
rule on or off, and `value = "none"` removes an optional limit, as a session's
schedule does. The engine applies it like a scheduled change, from the next
event on, and journals it with the file and row as its source.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from desk.config.risk import NO_LIMIT
from desk.errors import DataError
from desk.events import RiskLimitChanged, RuleToggled

_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")


def control_value(value: Any) -> Any:
    """A value as the file gives it, made a number or a switch where it reads as one."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        try:
            value = float(text)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value) if abs(value) < 2**53 else value
    return value


def control_event(ts: int, rule: Any, param: Any, value: Any,
                  where: str) -> RiskLimitChanged | RuleToggled:
    """The control event of one `risk_limit` row; `where` is `file:row`, for errors and the
    journal."""
    if not rule or not param:
        raise DataError(f"{where}: a risk_limit row needs `rule` and `param`")
    if value is None:
        raise DataError(f"{where}: value: a risk_limit row needs a value (the new limit, or "
                        f"\"{NO_LIMIT}\" to remove it)")
    source = f"data {PurePath(where).name}"
    if param != "enabled" and isinstance(value, str) and value.strip().lower() == NO_LIMIT:
        return RiskLimitChanged(ts, str(rule), str(param), None, source)
    value = control_value(value)
    if param == "enabled":
        if not isinstance(value, bool) and value not in (0, 1):
            raise DataError(f"{where}: value: `enabled` takes true or false, not {value!r}")
        return RuleToggled(ts, str(rule), bool(value), source)
    return RiskLimitChanged(ts, str(rule), str(param), value, source)
