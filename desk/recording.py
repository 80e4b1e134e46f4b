"""Writes a session back to TOML with the operator's actions, so that a replay of it is exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import tomli_w

from desk.config import NO_LIMIT, LoadedSession, OperatorAction
from desk.errors import SessionError


def _drop_none(value: Any) -> Any:
    """TOML has no null: an unset optional is simply left out (it loads back as its default)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


def _none_written(value: Any) -> Any:
    """The `[risk]` tables with each limit the file removed written `"none"` again: only a set
    key reaches here, and in `[risk]` only `"none"` sets one to None (the schedule's and the
    operator's `value` are written as they are)."""
    if isinstance(value, dict):
        return {k: (NO_LIMIT if v is None else _none_written(v)) if k != "schedule" else v
                for k, v in value.items()}
    return value


def session_with_actions(loaded: LoadedSession, actions: list[OperatorAction],
                         base: Path | None = None, seed: int | None = None) -> dict[str, Any]:
    """The session as a TOML-ready dict, its recorded actions followed by `actions`.

    Only keys the author set are written, so defaults stay defaults. File paths
    are rewritten relative to `base` (the folder the new file goes to), so the
    copy reads the same data wherever it is saved. `seed` is the seed the run
    used when it was not the file's (`--seed`): the copy replays that run.
    """
    config = loaded.config
    data = config.model_dump(mode="json", exclude_unset=True)
    if seed is not None and seed != config.session.seed:
        data.setdefault("session", {})["seed"] = seed
    # in the order they apply (the engine's, a stable sort by seq): recorded ones first at a tie
    ordered = sorted([*config.operator_actions, *actions], key=lambda a: a.seq)
    recorded = [_written(a) for a in ordered]
    data["operator_actions"] = recorded
    if base is not None and config.data.files:
        for source, written in zip(config.data.files, data["data"]["files"], strict=True):
            written["path"] = str(_relative(loaded.resolve(source.path), base))
    if "risk" in data:  # a limit removed in its table ("none") stays removed in the copy
        data["risk"] = _none_written(data["risk"])
    return cast("dict[str, Any]", _drop_none(data))


def _written(action: OperatorAction) -> dict[str, Any]:
    """An action as the session file holds it: a limit removed (None, as the app's rules screen
    gives it) is written `value = "none"`, since TOML has no null and a `set` without a value
    is refused."""
    written = action.model_dump(mode="json", exclude_none=True)
    if action.action == "set" and action.value is None:
        written["value"] = NO_LIMIT
    return written


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path.resolve()


def save_session(loaded: LoadedSession, actions: list[OperatorAction], path: Path,
                 seed: int | None = None) -> Path:
    """Write the session with `actions` (and the run's `seed`) to `path`; a failure is a
    SessionError naming the file."""
    data = session_with_actions(loaded, actions, path.parent, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
    except (OSError, TypeError, ValueError) as error:
        raise SessionError(f"{path}: cannot save the session: {error}") from None
    return path


def next_free_path(loaded: LoadedSession, folder: Path | None = None) -> Path:
    """`NAME-ops-N.toml` in `folder` (default: beside the session file), N the first free."""
    folder = loaded.base if folder is None else folder
    stem = loaded.path.stem if loaded.path is not None else loaded.config.session.name
    n = 1
    while (folder / f"{stem}-ops-{n}.toml").exists():
        n += 1
    return folder / f"{stem}-ops-{n}.toml"
