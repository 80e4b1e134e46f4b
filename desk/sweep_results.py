"""The rows of a sweep in Parquet: parts while it runs, one `results.parquet` after.

Finished rows are written as parts as they come in, so a sweep that is stopped
(or whose machine dies) resumes where it was; a file that does not read is set
aside and its rows had again where they can be (see `ResultStore`).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from desk.batch import Cell
from desk.errors import OutputError, first_line
from desk.figures import counted

RESULTS = "results.parquet"
"""The one file of a finished sweep: the rows of its current cells, merged from the parts."""


class ResultStore:
    """Rows in Parquet under one folder: parts while a sweep runs, one `results.parquet` after.

    A file that does not read is not fatal where its rows can be had again: a
    part that does not read (a machine that died while writing it) is moved
    aside with a `.bad` suffix and its cells run again; a `results.parquet`
    that does not read is moved aside and rebuilt from the parts if there are
    any, and is an error naming it if not (its rows exist nowhere else).
    `notify` is told of each file moved aside, in one line.
    """

    def __init__(self, folder: Path, flush_rows: int = 8, flush_seconds: float = 5.0,
                 notify: Callable[[str], None] | None = None) -> None:
        self.folder = folder
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.notify = notify
        self.pending: list[dict[str, Any]] = []
        self.added = 0
        """Rows given to this store since it was opened (flushed or pending)."""
        self._last_flush = time.monotonic()

    def prepare(self, where: str) -> None:
        """Create the folder and write in it now, so that a path that cannot be one, or a folder
        that takes no file, fails before any cell runs.

        `where` names the setting the folder came from (`--out`, or the sweep file's `out`).
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"{where}: {self.folder} is a file, not a folder") from None
        except NotADirectoryError:
            raise OutputError(f"{where}: {self.folder}: a part of the path is a file, "
                              "not a folder") from None
        except OSError as error:
            raise OutputError(f"{where}: {self.folder}: cannot create the folder: "
                              f"{error.strerror or error}") from None
        if not self.folder.is_dir():
            raise OutputError(f"{where}: {self.folder} is not a folder")
        try:  # a folder that exists but takes no file (read-only) would fail after cells ran
            handle, probe = tempfile.mkstemp(prefix=".desk-write-check-", dir=self.folder)
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            raise OutputError(f"{where}: {self.folder}: cannot write in the folder: "
                              f"{error.strerror or error}") from None

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("part-*.parquet")) + \
            ([self.folder / RESULTS] if (self.folder / RESULTS).exists() else [])

    def read(self) -> pa.Table | None:
        """Every stored row; unreadable files are dealt with as the class says."""
        tables: list[pa.Table] = []
        results: Path | None = None
        for path in self.files():
            if path.name == RESULTS:
                results = path
                continue
            table, why = _load(path)
            if table is None:
                aside = _set_aside(path)
                self._tell(f"{path}: cannot read ({why}): moved aside to {aside.name}; its "
                           "cells run again")
                continue
            tables.append(table)
        if results is not None:
            table, why = _load(results)
            if table is not None:
                tables.append(table)
            elif not tables:
                raise OutputError(f"{results}: cannot read ({why}) and there are no part files "
                                  "to rebuild it from: move it aside to run its cells again")
            else:
                aside = _set_aside(results)
                rows = sum(t.num_rows for t in tables)
                self._tell(f"{results}: cannot read ({why}): moved aside to {aside.name}; "
                           f"rebuilt from {counted(len(tables), 'part file')} "
                           f"({counted(rows, 'row')}), cells only it held run again")
        if not tables:
            return None
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            tables = _as_text_where_types_differ(tables)
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise OutputError(f"{self.folder}: the stored rows do not fit together: "
                              f"{_gist(error)}") from None

    def _tell(self, line: str) -> None:
        if self.notify is not None:
            self.notify(line)

    def done_keys(self) -> set[str]:
        table = self.read()
        return set() if table is None else set(table.column("key").to_pylist())

    def add(self, row: dict[str, Any]) -> None:
        self.pending.append(row)
        self.added += 1
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
        try:
            table = _rows_table(self.pending)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise OutputError(f"{target}: cannot store the rows: {_gist(error)}") from None
        self._replace(target, table)
        self.pending = []

    def consolidate(self, keys: set[str] | None = None) -> tuple[pa.Table | None, int]:
        """Merge the rows into `results.parquet`: one row per key, sorted by label and seed.

        With `keys` (the cells of the sweep as it is now), rows of other cells
        (a grid that shrank, a session file since edited) are left out of the
        results but not thrown away: they stay in one part file, so a sweep
        that comes back to them does not run them again. Returns the results
        and how many rows were left out.
        """
        self.flush()
        table = self.read()
        if table is None:
            return None, 0
        last: dict[str, int] = {}
        for index, key in enumerate(table.column("key").to_pylist()):
            last[key] = index  # the newest copy of a row (the same cell gives the same row)
        labels = table.column("label").to_pylist()
        seeds = table.column("seed").to_pylist()
        current = sorted((i for k, i in last.items() if keys is None or k in keys),
                         key=lambda i: (labels[i], seeds[i]))
        others = sorted(i for k, i in last.items() if keys is not None and k not in keys)
        merged = table.take(current)
        self._replace(self.folder / RESULTS, merged)
        parts = list(self.folder.glob("part-*.parquet"))
        if others:
            kept = self.folder / "part-00000.parquet"
            self._replace(kept, table.take(others))
            parts = [p for p in parts if p != kept]
        for part in parts:
            part.unlink()
        return merged, len(others)

    @staticmethod
    def _replace(target: Path, table: pa.Table) -> None:
        """Write `table` to `target` through a synced temporary file, so a crash leaves the old
        file, and a machine that dies just after the rename does not leave an empty one."""
        temporary = target.with_name(target.name + ".tmp")
        try:
            with open(temporary, "wb") as out:
                pq.write_table(table, out)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(target)
        except OSError as error:
            with contextlib.suppress(OSError):  # a read-only file system refuses this too
                temporary.unlink(missing_ok=True)
            raise OutputError(f"{target}: cannot write: {error.strerror or error}; the rows "
                              "already stored are kept, rerun to resume") from None


def _gist(error: BaseException) -> str:
    """An Arrow error's gist: its first sentence, without the path Arrow repeats."""
    text = first_line(error)
    if text.startswith("Could not open Parquet input source") and "': " in text:
        text = text.split("': ", 1)[1]
    return text.split(". ", 1)[0].rstrip(".")


def _text(value: Any) -> str | None:
    """A value as text: a string as it is, anything else as JSON (None stays missing)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The rows as a table; a column whose values have no one Arrow type is text.

    A grid key may take values of different kinds (a schedule's `at` as a
    duration and as nanoseconds, tables of different shapes): its column is
    then each value as text (`_text`), rather than rows that cannot be stored
    after their cells have run, and a sweep that stops there on every rerun.
    """
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    columns: dict[str, pa.Array] = {}
    for name in dict.fromkeys(name for row in rows for name in row):
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([_text(value) for value in values], pa.string())
    return pa.table(columns)


def _as_text_where_types_differ(tables: list[pa.Table]) -> list[pa.Table]:
    """The tables with each column whose type differs between them made text (see `_text`).

    Stored parts may disagree on a grid key's type (integers in one run, text
    in a later one); as text they fit together, and the rerun goes on.
    """
    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(field.type)
    differ = {name for name, kinds in types.items() if not _unify(name, kinds)}
    out = []
    for table in tables:
        for name in differ & set(table.column_names):
            index = table.column_names.index(name)
            text = pa.array([_text(v) for v in table.column(name).to_pylist()], pa.string())
            table = table.set_column(index, name, text)
        out.append(table)
    return out


def _unify(name: str, kinds: set[pa.DataType]) -> bool:
    """Whether Arrow can hold a column of these types as one (integers and floats can)."""
    try:
        pa.unify_schemas([pa.schema([pa.field(name, kind)]) for kind in kinds],
                         promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return False
    return True


def _load(path: Path) -> tuple[pa.Table | None, str]:
    """The file's rows, or None and why: not Parquet, or not rows of a sweep."""
    try:
        table = pq.read_table(path)
    except pa.ArrowMemoryError:
        raise  # the machine's limit, not the file's fault: never moved aside for it
    except OSError as error:
        if error.errno is not None:  # the system refused (permissions...): the file may be fine
            raise OutputError(f"{path}: cannot read: {error.strerror or error}") from None
        return None, _gist(error)  # Arrow's own I/O errors: a corrupt column chunk
    except pa.ArrowException as error:
        return None, _gist(error)
    missing = [name for name in ("key", "label", "seed") if name not in table.column_names]
    if missing:
        return None, f"no {', '.join(missing)} column: not rows of a sweep"
    return table, ""


def _set_aside(path: Path) -> Path:
    """Rename `path` with a `.bad` suffix (numbered if that name is taken); the new path."""
    aside = path.with_name(path.name + ".bad")
    number = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.{number}.bad")
        number += 1
    try:
        path.rename(aside)
    except OSError as error:
        raise OutputError(f"{path}: cannot read it, nor move it aside: "
                          f"{error.strerror or error}") from None
    return aside


def flatten(cell: Cell, row: dict[str, Any]) -> dict[str, Any]:
    """The row with one column per swept parameter (named by its dotted key)."""
    out = dict(row)
    for key, value in cell.overrides:
        out[key] = value
    return out
