"""One cell of a batch: a session, a seed and overrides, run headless to a row of figures.

`desk compare` and `desk sweep` are many cells. A cell is a small frozen,
picklable value that carries the session file's text, and `run_cell` a pure
function of it (no journal, no wall clock inside the simulation), so a cell
gives the same row in this process, in a pool worker, or on a Dask worker
whose working directory (or file system) is not ours, and a retried cell
gives the same row again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.errors import SessionError

if TYPE_CHECKING:
    from desk.config import LoadedSession

DEFAULT_RUIN = 0.2
"""A desk that loses this fraction of its starting cash at any moment is ruined (closed)."""


MAX_CURVE_POINTS = 200_000
"""An equity curve longer than this is a sampling interval far too small for the run: refused,
rather than growing a worker's memory without bound."""


@dataclass(frozen=True, slots=True)
class Cell:
    """What to run: a session (its file's path and text), the world's seed, `dotted.key = value`
    overrides, the equity-curve interval and the ruin level.

    Made from a path alone, the cell resolves the path and reads the file at
    once: the text travels with the cell, so a worker needs no access to the
    session file, and an edited file makes new cells (with new keys).
    """

    session: str
    """The session file's resolved path: it names the file in messages, and the session's
    relative paths (data files) are read from its folder."""
    seed: int
    overrides: tuple[tuple[str, Any], ...] = ()
    curve_every_s: float = 60.0
    ruin: float = DEFAULT_RUIN
    label: str = field(default="", compare=False)
    text: str | None = field(default=None, repr=False)
    """The session file's text; None: read from `session` when the cell is made."""
    key: str = field(default="", init=False, compare=False)
    """A stable id of what the cell computes (the resolved path, a hash of the session's text,
    the seed, the overrides, the curve interval and the ruin level): resumable sweeps skip
    keys already stored, and Dask runs one task per key."""

    def __post_init__(self) -> None:
        if self.text is None:
            path, text = session_source(self.session)
            object.__setattr__(self, "session", path)
            object.__setattr__(self, "text", text)
        digest = hashlib.sha256((self.text or "").encode()).hexdigest()
        identity = json.dumps([self.session, digest, self.seed, [list(o) for o in self.overrides],
                               self.curve_every_s, self.ruin], sort_keys=True, default=str)
        object.__setattr__(self, "key", hashlib.sha1(identity.encode()).hexdigest()[:16])


def session_source(path: str) -> tuple[str, str]:
    """The session file's resolved path and its text (errors as one line naming the file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{path}: no such session file") from None
    except IsADirectoryError:
        raise SessionError(f"{path}: is a folder, not a session file") from None
    except UnicodeDecodeError:
        raise SessionError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise SessionError(f"{path}: cannot read: {error.strerror or error}") from None
    return str(Path(path).expanduser().resolve()), text


def session_dict(text: str, where: str) -> dict[str, Any]:
    """A session's text as a dict; invalid TOML is one line naming `where`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SessionError(f"{where}: invalid TOML: {error}") from None


def read_session_dict(path: str) -> dict[str, Any]:
    """The session file as a dict (errors as one line naming the file)."""
    return session_dict(session_source(path)[1], path)


def apply_overrides(raw: dict[str, Any], overrides: tuple[tuple[str, Any], ...],
                    where: str) -> dict[str, Any]:
    """A copy of a session dict with each `a.b.c = value` set; a non-table on a path is an error."""
    out = copy.deepcopy(raw)
    for dotted, value in overrides:
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SessionError(f"{where}: {dotted}: {part!r} is not a table in the session")
            node = child
        node[parts[-1]] = value
    return out


def load_cell_session(cell: Cell, where: str | None = None) -> LoadedSession:
    """The cell's session, overrides applied, validated; errors name `where` (default: the file).

    Relative paths in the session (data files) are read from the folder of the
    cell's resolved path, so they are absolute wherever the cell runs.
    """
    from desk.config import parse_session

    where = cell.session if where is None else where
    raw = apply_overrides(session_dict(cell.text or "", where), cell.overrides, where)
    return parse_session(raw, where, Path(cell.session))


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run the cell headless; its row: outcome, risk, execution cost and the equity curve."""
    from desk.engine import Engine
    from desk.report import summarize

    if not (math.isfinite(cell.curve_every_s) and cell.curve_every_s > 0):
        raise SessionError(f"{cell.session}: the equity curve interval must be a positive number "
                           f"of seconds, not {cell.curve_every_s!r}")
    started = time.perf_counter()
    loaded = load_cell_session(cell)
    engine = Engine(loaded, None, seed=cell.seed)
    portfolio = engine.portfolio
    risk = engine.risk
    every = max(1, round(cell.curve_every_s * 1e9))
    curve: list[float] = []
    min_equity = portfolio.start_cash
    halted = False
    try:
        engine.start()
        next_sample = engine.now + every
        step = engine.step
        while step():
            equity = portfolio.equity
            if equity < min_equity:
                min_equity = equity
            if risk.mode == "HALTED":
                halted = True
            if engine.now >= next_sample:
                # one sample per interval passed, so curves of different seeds stay aligned in time
                missed = (engine.now - next_sample) // every + 1
                if len(curve) + missed > MAX_CURVE_POINTS:
                    raise SessionError(f"{cell.session}: an equity curve sample every "
                                       f"{cell.curve_every_s:g} s gives more than "
                                       f"{MAX_CURVE_POINTS:,} points: give a longer interval")
                curve.extend([equity] * missed)
                next_sample += missed * every
    finally:
        engine.close()
    summary = summarize(engine, time.perf_counter() - started)
    curve.append(portfolio.equity)
    ruined = min_equity <= portfolio.start_cash * (1.0 - cell.ruin)
    row: dict[str, Any] = {
        "key": cell.key,
        "label": cell.label or loaded.config.session.name,
        "session": Path(cell.session).name,
        "seed": cell.seed,
        "overrides": json.dumps(dict(cell.overrides), sort_keys=True, default=str),
    }
    for name in ("events", "start_cash", "equity", "return", "max_drawdown", "fills",
                 "orders_allowed", "orders_blocked", "latency_cost", "impact_cost", "fee_cost",
                 "shortfall", "realized", "fees", "strategy_faults"):
        row[name] = summary[name]
    row.update(min_equity=min_equity, ruined=ruined, halted=halted,
               survived=not (ruined or halted), final_mode=summary["mode"],
               equity_curve=curve, wall_seconds=summary["wall_seconds"])
    return row
