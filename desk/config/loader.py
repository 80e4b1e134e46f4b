"""Reading a session file: TOML into the models, then the checks that need the whole session."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from desk.config.risk import RiskConfig
from desk.config.risk_changes import risk_change_checks
from desk.config.session import Session, StrategyConfig
from desk.config.wording import validation_lines
from desk.errors import SessionError


class LoadedSession:
    """A validated session and the folder its relative paths are read from."""

    def __init__(self, config: Session, path: Path | None) -> None:
        self.config = config
        self.path = path
        self.base = path.parent if path is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path written in the session file, read relative to the file's folder."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate


def parse_session(data: dict[str, Any], where: str, path: Path | None = None) -> LoadedSession:
    """Validate a session already read into a dict; raise SessionError listing every problem.

    Beyond the models' own checks, what needs the whole session (instrument
    names, rule names, data files on disk, the strategy and its parameters) is
    checked here, so a mistake is reported before a journal is created.
    """
    if _looks_like_a_sweep(data):
        raise SessionError(f"{where}: is a sweep file, not a session file (its `session` names "
                           f"the session to sweep): run it with `desk sweep {where}`, or give "
                           "the session file it names")
    try:
        config = Session.model_validate(data)
    except ValidationError as error:
        raise SessionError("\n".join(validation_lines(where, error))) from None
    loaded = LoadedSession(config, path)
    lines = [f"{where}: {key}: {message}" for key, message in cross_checks(loaded)]
    if lines:
        raise SessionError("\n".join(lines))
    check_strategy(config.strategy, where)
    return loaded


def _looks_like_a_sweep(data: dict[str, Any]) -> bool:
    """Whether a file given as a session is a sweep file: its `session` a path (or a list of
    them), not a table, and no `[[instruments]]`.

    Validated as a session, a sweep file gives a line per key it has; the
    mistake is the file, which one line can say.
    """
    return isinstance(data.get("session"), str | list) and "instruments" not in data


def cross_checks(loaded: LoadedSession) -> list[tuple[str, str]]:
    """(key path, message) for each name that points nowhere, each data file that is missing,
    and each risk change (scheduled or the operator's) that the engine would refuse."""
    from desk.data import not_regular
    from desk.data.files import FIELDS

    cfg = loaded.config
    symbols = [spec.symbol for spec in cfg.instruments]
    known = ", ".join(symbols)
    found: list[tuple[str, str]] = []
    first: dict[str, int] = {}
    for index, symbol in enumerate(symbols):
        if symbol in first:  # named by its key: the table to remove or rename
            found.append((f"instruments[{index}].symbol", f"{symbol!r} is listed twice "
                          f"(first as instruments[{first[symbol]}])"))
        first.setdefault(symbol, index)
    for symbol in cfg.risk.max_position.per_instrument:
        if symbol not in symbols:
            found.append((f"risk.max_position.per_instrument.{symbol}",
                          f"{symbol!r} is not in [[instruments]] ({known})"))
    rules = [name for name in RiskConfig.model_fields if name != "schedule"]
    for index, item in enumerate(cfg.risk.schedule):
        if item.rule not in rules:
            found.append((f"risk.schedule[{index}].rule",
                          f"no risk rule {item.rule!r} (rules: {', '.join(rules)})"))
    synthetic = cfg.data.synthetic
    for index, symbol in enumerate(synthetic.instruments or [] if synthetic else []):
        if symbol not in symbols:
            found.append((f"data.synthetic.instruments[{index}]",
                          f"{symbol!r} is not in [[instruments]] ({known})"))
    for index, source in enumerate(cfg.data.files):
        key = f"data.files[{index}]"
        if source.instrument is not None and source.instrument not in symbols:
            found.append((f"{key}.instrument", f"{source.instrument!r} is not in [[instruments]] "
                          f"({known})"))
        required, optional = FIELDS[source.kind]
        for field in source.columns:
            if field not in required + optional:
                found.append((f"{key}.columns.{field}", f"not a desk field of kind "
                              f"{source.kind!r} (fields: {', '.join(required + optional)})"))
        file = loaded.resolve(source.path)
        if not file.exists():
            found.append((f"{key}.path", f"no such file: {file}{_import_hint(loaded, file)}"))
        elif file.is_dir():
            found.append((f"{key}.path", f"{file} is a folder, not a data file"))
        elif (special := not_regular(file)) is not None:
            found.append((f"{key}.path", f"{file}: {special}"))
    return found + risk_change_checks(cfg)


def _import_hint(loaded: LoadedSession, file: Path) -> str:
    """For a data file the session's own comments say how to make (`desk data import … --out
    FILE`): that it is made so, since a real-data session ships without its data."""
    if loaded.path is None:
        return ""
    try:
        text = loaded.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    if any("desk data import" in line for line in comments) \
            and any(file.name in line for line in comments):
        return (" (made by `desk data import`: the comments at the top of "
                f"{loaded.path} give the command)")
    return ""


def check_strategy(strategy: StrategyConfig, where: str) -> None:
    """Find the strategy and validate its parameters at load; a StrategyError names the key."""
    from desk.strategy import find_strategy, make_params

    make_params(find_strategy(strategy.use, where), strategy.params, where)


def load_session(path: str | Path) -> LoadedSession:
    """Read and validate a session file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SessionError(f"{path}: no such session file") from None
    except OSError as error:
        raise SessionError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SessionError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as error:
        raise SessionError(f"{path}: invalid TOML: {error}") from None
    return parse_session(data, str(path), path)
