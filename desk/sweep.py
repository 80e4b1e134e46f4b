"""A sweep: session parameters × seeds as cells, and a Parquet store that makes the sweep resumable.

The sweep file names the session(s), the seeds and a grid of `dotted.key =
[values]` overrides. Finished rows are written as Parquet parts as they come
in, so a sweep that is stopped (or whose machine dies) resumes where it was:
cells whose key is already stored are not run again. At the end the parts are
merged into one `results.parquet`.
"""

from __future__ import annotations

import itertools
import time
import tomllib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, ValidationError, field_validator

from desk.batch import DEFAULT_RUIN, Cell, read_session_dict
from desk.config import Model, validation_lines
from desk.errors import SessionError

RESULTS = "results.parquet"


class SweepFile(Model):
    """The sweep file: what to run and where the results go."""

    session: str | list[str]
    """Session file(s), relative to the sweep file; several sessions are one more axis."""
    seeds: int | list[int] = 4
    """How many seeds (from `seed_start`), or the seeds themselves."""
    seed_start: int = 1
    out: str = "sweep"
    """Folder of the Parquet results, relative to the sweep file."""
    every: float = Field(default=60.0, gt=0)
    """Equity curve sample interval, in simulated seconds."""
    ruin: float = Field(default=DEFAULT_RUIN, gt=0, lt=1)
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

    @field_validator("seeds")
    @classmethod
    def _some_seeds(cls, seeds: int | list[int]) -> int | list[int]:
        if (isinstance(seeds, int) and seeds < 1) or (isinstance(seeds, list) and not seeds):
            raise ValueError("give at least one seed")
        return seeds


class Sweep:
    """A loaded sweep file: its cells and its output folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SessionError(f"{path}: no such sweep file") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise SessionError(f"{path}: cannot read: {error}") from None
        try:
            self.config = SweepFile.model_validate(raw)
        except ValidationError as error:
            raise SessionError("\n".join(validation_lines(str(path), error))) from None
        base = path.parent
        sessions = self.config.session
        self.sessions = [str(base / s) for s in ([sessions] if isinstance(sessions, str)
                                                 else sessions)]
        for session in self.sessions:
            read_session_dict(session)
        self.out = base / self.config.out

    @property
    def seeds(self) -> list[int]:
        seeds = self.config.seeds
        if isinstance(seeds, list):
            return seeds
        return list(range(self.config.seed_start, self.config.seed_start + seeds))

    def cells(self) -> list[Cell]:
        """Every session × grid point × seed, in a stable order."""
        keys = list(self.config.grid)
        points = list(itertools.product(*(self.config.grid[k] for k in keys)))
        cells: list[Cell] = []
        for session in self.sessions:
            name = Path(session).stem
            for point in points:
                overrides = tuple(zip(keys, point, strict=True))
                label = " ".join([name] + [f"{k.rsplit('.', 1)[-1]}={v}" for k, v in overrides])
                cells.extend(Cell(session, seed, overrides, self.config.every, self.config.ruin,
                                  label) for seed in self.seeds)
        return cells


class ResultStore:
    """Rows in Parquet under one folder: parts while a sweep runs, one `results.parquet` after."""

    def __init__(self, folder: Path, flush_rows: int = 8, flush_seconds: float = 5.0) -> None:
        self.folder = folder
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.pending: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()

    def files(self) -> list[Path]:
        if not self.folder.exists():
            return []
        return sorted(self.folder.glob("part-*.parquet")) + \
            ([self.folder / RESULTS] if (self.folder / RESULTS).exists() else [])

    def read(self) -> pa.Table | None:
        tables = [pq.read_table(f) for f in self.files()]
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="permissive")

    def done_keys(self) -> set[str]:
        table = self.read()
        return set() if table is None else set(table.column("key").to_pylist())

    def add(self, row: dict[str, Any]) -> None:
        self.pending.append(row)
        if (len(self.pending) >= self.flush_rows
                or time.monotonic() - self._last_flush >= self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Write the pending rows as a new part file."""
        self._last_flush = time.monotonic()
        if not self.pending:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        taken = {p.name for p in self.folder.glob("part-*.parquet")}
        number = len(taken)
        while f"part-{number:05d}.parquet" in taken:
            number += 1
        target = self.folder / f"part-{number:05d}.parquet"
        temporary = target.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pylist(self.pending), temporary)
        temporary.replace(target)
        self.pending = []

    def consolidate(self) -> pa.Table | None:
        """Merge the parts into `results.parquet` (one row per key, sorted); remove the parts."""
        self.flush()
        table = self.read()
        if table is None:
            return None
        rows = {row["key"]: row for row in table.to_pylist()}
        ordered = sorted(rows.values(), key=lambda r: (r["label"], r["seed"]))
        merged = pa.Table.from_pylist(ordered)
        temporary = self.folder / (RESULTS + ".tmp")
        pq.write_table(merged, temporary)
        temporary.replace(self.folder / RESULTS)
        for part in self.folder.glob("part-*.parquet"):
            part.unlink()
        return merged


def flatten(cell: Cell, row: dict[str, Any]) -> dict[str, Any]:
    """The row with one column per swept parameter (named by its dotted key)."""
    out = dict(row)
    for key, value in cell.overrides:
        out[key] = value
    return out
