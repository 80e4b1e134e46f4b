"""Pydantic's validation errors worded in the session file's own terms: one line per problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def format_location(loc: tuple[int | str, ...]) -> str:
    """Pydantic's error location as the user wrote the key: `risk.schedule[0].at`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = f'"{part}"' if _dotted(part) else str(part)  # one key, as TOML quotes it
            text += ("." if text else "") + name
    return text or "(top level)"


_TYPE_TAGS = frozenset(("int", "str", "float", "bool", "list", "dict", "bytes", "none"))


def _union_tag(part: int | str) -> bool:
    """Whether a location part names a branch of a union (`int`, `literal['max']`), not a key."""
    return isinstance(part, str) and (part in _TYPE_TAGS
                                      or not (part.isidentifier() or _dotted(part)))


def _dotted(part: int | str) -> bool:
    """Whether a location part is one key written with dots (a sweep's grid key,
    `"execution.entry_latency.ms"`): never a union's branch."""
    return isinstance(part, str) and "." in part \
        and all(piece.isidentifier() for piece in part.split("."))


def validation_lines(where: str, error: ValidationError) -> list[str]:
    """One line per problem: `where: key.path: message`; a union's branches make one line."""
    items: list[tuple[tuple[int | str, ...], str, bool]] = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        tagged = bool(loc) and _union_tag(loc[-1])
        base = loc[:-1] if tagged else loc
        if tagged and items and items[-1][2] and items[-1][0] == base:
            wanted = message.removeprefix("Input should be ").split(",")[0]
            items[-1] = (base, f"{items[-1][1]} or {wanted}", True)
        else:
            if not tagged and (item["type"].endswith("_type") or item["type"] == "finite_number"):
                message = f"{message} (not {_as_toml(item['input'])})"
            items.append((base, message.split(",")[0] if tagged else message, tagged))
    return [f"{where}: {format_location(loc)}: {message}" for loc, message, _ in items]


def _as_toml(value: Any) -> str:
    """A value as the session file spells it: `true`, `"7"`, `inf`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:40]}…"'
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value)
