"""A sweep: session parameters × seeds as cells.

The sweep file names the session(s), the seeds and a grid of `dotted.key =
[values]` overrides; every grid point is validated against each session
before anything runs. Its rows are stored by `desk.sweep_results`, which makes
it resumable: cells whose key is already stored are not run again (a key
covers the session file's text, so an edited session runs again).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from desk.batch import DEFAULT_RUIN, Cell, load_cell_session, session_source
from desk.config import Model, validation_lines
from desk.errors import DeskError, SessionError
from desk.figures import counted
from desk.seeds import seed_problem, seeds_problem

MAX_CELLS = 1_000_000
"""The most cells one sweep may have: far beyond what a sweep finishes, and the cells' list
stays a few hundred MiB instead of exhausting memory."""

SEED_KEY = "session.seed"
"""The grid key a sweep cannot vary: a cell's seed is its own, from `seeds`."""

SWEEP_KEYS = frozenset(("seeds", "seed_start", "out", "every", "ruin", "retries", "grid"))
"""The keys only a sweep file has (a session file has `session` too, as a table)."""


class SweepFile(Model):
    """The sweep file: what to run and where the results go."""

    session: str | list[str]
    """Session file(s), relative to the sweep file; several sessions are one more axis."""
    seeds: int | list[int] = 4
    """How many seeds (from `seed_start`), or the seeds themselves."""
    seed_start: int = 1
    out: str = Field(default="sweep", min_length=1)
    """Folder of the Parquet results, relative to the sweep file."""
    every: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    """Equity curve sample interval, in simulated seconds."""
    ruin: float = Field(default=DEFAULT_RUIN, gt=0, lt=1, allow_inf_nan=False)
    retries: int = Field(default=2, ge=0)
    """How many times a cell whose worker died is run again."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """`dotted.session.key` → the values to try."""

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"{key!r} has no values")
        return grid

    @field_validator("session")
    @classmethod
    def _some_sessions(cls, session: str | list[str]) -> str | list[str]:
        if isinstance(session, list) and not session:
            raise ValueError("give at least one session file")
        return session

    @field_validator("seeds")
    @classmethod
    def _some_seeds(cls, seeds: int | list[int]) -> int | list[int]:
        if (isinstance(seeds, int) and seeds < 1) or (isinstance(seeds, list) and not seeds):
            raise ValueError("give at least one seed")
        if isinstance(seeds, list):
            for seed in seeds:
                problem = seed_problem(seed)
                if problem is not None:
                    raise ValueError(problem)
        return seeds

    @field_validator("seed_start")
    @classmethod
    def _seed_start(cls, start: int) -> int:
        problem = seed_problem(start)
        if problem is not None:
            raise ValueError(problem)
        return start


class Sweep:
    """A loaded sweep file: its cells and its output folder, every grid point checked at load."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SessionError(f"{path}: no such sweep file") from None
        except IsADirectoryError:
            raise SessionError(f"{path}: is a folder, not a sweep file") from None
        except UnicodeDecodeError:
            raise SessionError(f"{path}: not a UTF-8 text file") from None
        except tomllib.TOMLDecodeError as error:
            raise SessionError(f"{path}: invalid TOML: {error}") from None
        except OSError as error:
            raise SessionError(f"{path}: cannot read: {error.strerror or error}") from None
        if _looks_like_a_session(raw):
            raise SessionError(f"{path}: is a session file, not a sweep file (it has [session] or "
                               f"[[instruments]] and no sweep keys): run it with `desk run "
                               f"{path}`, compare sessions with `desk compare`, or name it in a "
                               "sweep file's `session`")
        try:
            self.config = SweepFile.model_validate(raw)
        except ValidationError as error:
            raise SessionError("\n".join(validation_lines(str(path), error))) from None
        if SEED_KEY in self.config.grid:
            raise SessionError(f'{path}: grid."{SEED_KEY}": each cell runs with its seed from '
                               "`seeds`, whatever the session's seed says: list the seeds as "
                               "`seeds = [1, 2, …]` instead")
        self._check_keys()
        base = path.parent
        sessions = self.config.session
        self.names = [sessions] if isinstance(sessions, str) else list(sessions)
        """The sessions as the sweep file names them (relative to it)."""
        twice = sorted({n for n in self.names if self.names.count(n) > 1})
        if twice:
            raise SessionError(f"{path}: session: listed twice: {', '.join(twice)}")
        self.sources = [session_source(str(base / name)) for name in self.names]
        """Each session's resolved path and text, read once: every cell carries them."""
        self.labels = _labels(self.names)
        self.out = base / self.config.out
        self._bound()
        self.check()

    def _check_keys(self) -> None:
        """Refuse a grid key that is no path of session keys, or that is the whole `[session]`.

        An empty key (or part) would be blamed on the session file, not the
        sweep; a `session` table would hide a seed from the check above (its
        cells identical under different labels) and would replace each row's
        `session` column, which names the session file.
        """
        for key in self.config.grid:
            if not all(part.strip() for part in key.split(".")):
                raise SessionError(f'{self.path}: grid."{key}": a grid key is a dotted path of '
                                   "session keys, like execution.fees.taker_bps")
            if key == "session":
                raise SessionError(f'{self.path}: grid."session": vary the session\'s keys one '
                                   "by one (`session.start_cash`, …): the results' `session` "
                                   "column names the session file, and each cell's seed is "
                                   "from `seeds`")

    def _bound(self) -> None:
        """Refuse a sweep of more than MAX_CELLS cells before its cells are listed.

        A count like `seeds = 100000000000` would otherwise be a list of that
        many seeds, and memory would run out before anything is reported.
        """
        seeds = self.config.seeds
        count = len(seeds) if isinstance(seeds, list) else seeds
        where = str(self.path)
        problem = seeds_problem(self.config.seed_start, seeds, "seed_start") \
            if isinstance(seeds, int) else None
        if problem is not None:
            raise SessionError(f"{where}: seeds: {problem}")
        if count > MAX_CELLS:
            raise SessionError(f"{where}: seeds: {count:,} seeds is more than the {MAX_CELLS:,} "
                               "cells a sweep may have")
        points = math.prod(len(values) for values in self.config.grid.values())
        total = len(self.names) * points * count
        if total > MAX_CELLS:
            raise SessionError(f"{where}: grid: {counted(len(self.names), 'session')} × "
                               f"{counted(points, 'grid point')} × {counted(count, 'seed')} = "
                               f"{total:,} cells, more than the {MAX_CELLS:,} a sweep may have")

    @property
    def seeds(self) -> list[int]:
        seeds = self.config.seeds
        if isinstance(seeds, list):
            return seeds
        return list(range(self.config.seed_start, self.config.seed_start + seeds))

    def points(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every grid point as `(dotted key, value)` overrides, in a stable order."""
        keys = list(self.config.grid)
        return [tuple(zip(keys, point, strict=True))
                for point in itertools.product(*(self.config.grid[k] for k in keys))]

    def check(self) -> None:
        """Validate every distinct (session, grid point) before anything runs.

        A bad value would otherwise surface only when its cell runs, after
        other cells have run and been stored; the lines name the grid key and
        the value's index as written in the sweep file.
        """
        problems: dict[str, None] = {}  # an ordered set of lines
        failing: dict[tuple[str, str, str], set[int]] = {}
        for written, (resolved, text) in zip(self.names, self.sources, strict=True):
            name = str(self.path.parent / written)  # the session as seen from the working folder
            for overrides in self.points():
                try:
                    load_cell_session(Cell(resolved, 0, overrides, text=text), name)
                except DeskError as error:
                    for line in str(error).splitlines():
                        key, message = _blame(line.removeprefix(f"{name}: "), overrides)
                        if key is None:
                            problems[line] = None
                            continue
                        index = self.config.grid[key].index(dict(overrides)[key])
                        failing.setdefault((key, message, name), set()).add(index)
        where = str(self.path)
        keys = list(self.config.grid)
        sessions = [str(self.path.parent / written) for written in self.names]
        for (key, message, name), indices in sorted(
                failing.items(), key=lambda item: (sessions.index(item[0][2]),
                                                   keys.index(item[0][0]), min(item[1]))):
            whole = len(indices) == len(self.config.grid[key])  # no value of the key would do
            for place in [""] if whole else [f"[{i}]" for i in sorted(indices)]:
                problems[f'{where}: grid."{key}"{place}: {message}'
                         + (f" (in {name})" if len(self.names) > 1 else "")] = None
        if problems:
            raise SessionError("\n".join(problems))

    def cells(self) -> list[Cell]:
        """Every session × grid point × seed, in a stable order."""
        cells: list[Cell] = []
        short = _short_keys(list(self.config.grid))
        for label, (resolved, text) in zip(self.labels, self.sources, strict=True):
            for overrides in self.points():
                name = " ".join([label] + [f"{short[k]}={v}" for k, v in overrides])
                cells.extend(Cell(resolved, seed, overrides, self.config.every, self.config.ruin,
                                  name, text) for seed in self.seeds)
        return cells


def _looks_like_a_session(raw: dict[str, Any]) -> bool:
    """Whether a file given as a sweep is a session: `[session]` or `[[instruments]]`, no sweep key.

    Validated as a sweep, a session file gives a line per table it has; the
    mistake is the file, which one line can say.
    """
    session_like = isinstance(raw.get("session"), dict) or "instruments" in raw
    return session_like and not SWEEP_KEYS & raw.keys()


def _labels(names: list[str]) -> list[str]:
    """Each session's file stem, or its path as written where two stems are the same."""
    stems = [Path(n).stem for n in names]
    return [stem if stems.count(stem) == 1 else name for stem, name in zip(stems, names,
                                                                          strict=True)]


def _short_keys(keys: list[str]) -> dict[str, str]:
    """Each grid key by its last part (`ms`), or by as many last parts as tell it from the
    other keys (`entry_latency.ms`, `response_latency.ms`): a cell's label names its values
    unambiguously."""
    short: dict[str, str] = {}
    for key in keys:
        parts = key.split(".")
        for size in range(1, len(parts) + 1):
            tail = ".".join(parts[-size:])
            if not any(other != key and (other == tail or other.endswith("." + tail))
                       for other in keys):
                break
        short[key] = tail
    return short


def _blame(line: str, overrides: tuple[tuple[str, Any], ...]) -> tuple[str | None, str]:
    """Which grid key a `key.path: message` line is about (None: not one key), and the message.

    The line's key is the key itself, a key below it (a table's field), or a
    table above it (a check across the table's fields).
    """
    path, _, message = line.partition(": ")
    if not message:
        return None, line
    keys = [key for key, _ in overrides
            if path == key or path.startswith((key + ".", key + "["))
            or key.startswith(path + ".")]
    return (keys[0], message) if len(keys) == 1 else (None, line)
