"""Putting an imported file in time order: a newest-first source is reversed, other disorder is
refused or, with `--sort`, sorted.

desk replays each file in time order and stops at a row earlier than the one
before, so a file with such rows is of no use as it is. Two cases are common
and different. A source written newest first (Yahoo Finance daily bars) is
recognised by having no row later than the row before; it is reversed row
group by row group, streaming. Any other disorder (two files of different
instruments imported together, an exchange clock that jitters) is refused
unless `--sort` asks for a sort; the sort is an external merge sort, stable
(rows of equal time keep their source order, so a book event stays whole),
whose memory is bounded by the size of a run, not the size of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from desk.data.schema import SCHEMA
from desk.data.writer import MarketWriter, temporary_beside, write_error
from desk.errors import DataError
from desk.figures import counted
from desk.timeutil import format_ns

RUN_ROWS = 1 << 19
"""Rows sorted in memory at a time (at least: a run grows so that there are at most MAX_RUNS)."""
MAX_RUNS = 64
MERGE_ROWS = 8_192
"""Rows read at a time from each run while merging."""


def settle(writer: MarketWriter, sources: list[Path], sort: bool) -> None:
    """Leave `writer.path` (closed) in time order, or raise a `DataError` saying how."""
    stats = writer.stats
    if not stats.out_of_order:
        return
    if not stats.in_order:
        reverse(writer.path, writer.group_rows, writer.label)
        writer.note("rows reversed (the source lists the newest first)", stats.rows)
    elif sort:
        sort_file(writer.path, writer.group_rows, label=writer.label)
        writer.note("rows sorted by time (stable)", stats.rows)
    else:
        assert stats.first_disorder is not None
        _, ts, before, where = stats.first_disorder
        raise DataError(f"{where}: {counted(stats.out_of_order, 'row')} earlier than the row "
                        f"before (first here: {format_ns(ts)} after {format_ns(before)} UTC); desk "
                        "replays in time order: add --sort to sort them")
    stats.out_of_order = 0
    stats.first_disorder = None


def reverse(path: Path, group_rows: int, label: Path | None = None) -> None:
    """Rewrite `path` with its rows in reverse order, one row group in memory at a time."""
    source = pq.ParquetFile(path)
    out = temporary_beside(path)
    try:
        with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
            for group in reversed(range(source.num_row_groups)):
                table = source.read_row_group(group)
                backwards = pa.array(range(table.num_rows - 1, -1, -1), pa.int64())
                writer.write_table(table.take(backwards), row_group_size=group_rows)
        out.replace(path)
    except OSError as error:
        raise write_error(label or path, error) from None
    finally:
        out.unlink(missing_ok=True)


def sort_file(path: Path, group_rows: int, run_rows: int = RUN_ROWS,
              merge_rows: int = MERGE_ROWS, label: Path | None = None) -> None:
    """Rewrite `path` sorted by `ts`, stably: sorted runs of consecutive rows, then a k-way merge
    that reads each run a few thousand rows at a time."""
    source = pq.ParquetFile(path)
    total = source.metadata.num_rows
    run_rows = max(run_rows, -(-total // MAX_RUNS))
    runs_path = temporary_beside(path)
    out = temporary_beside(path)
    try:
        runs = _write_runs(source, runs_path, run_rows, group_rows)
        with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
            for table in _merge(runs_path, runs, merge_rows):
                writer.write_table(table, row_group_size=group_rows)
        out.replace(path)
    except OSError as error:
        raise write_error(label or path, error) from None
    finally:
        runs_path.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("ts", "ascending")]))  # stable


def _write_runs(source: pq.ParquetFile, runs_path: Path, run_rows: int,
                group_rows: int) -> list[list[int]]:
    """Sort consecutive rows `run_rows` at a time into `runs_path`; each run's row groups."""
    runs: list[list[int]] = []
    written = 0
    pending: list[pa.Table] = []
    size = 0
    with pq.ParquetWriter(runs_path, SCHEMA) as writer:
        def flush() -> None:
            nonlocal written, size
            if not pending:
                return
            table = _sorted(pa.concat_tables(pending))
            groups = -(-table.num_rows // group_rows)
            writer.write_table(table, row_group_size=group_rows)
            runs.append(list(range(written, written + groups)))
            written += groups
            pending.clear()
            size = 0

        for group in range(source.num_row_groups):
            table = source.read_row_group(group)
            pending.append(table)
            size += table.num_rows
            if size >= run_rows:
                flush()
        flush()
    return runs


def _merge(runs_path: Path, runs: list[list[int]], merge_rows: int) -> Iterator[pa.Table]:
    """The rows of the sorted runs in `ts` order, ties in run order (so: stable overall).

    Each round emits every buffered row earlier than the smallest last time among
    the runs still being read (no later row of any run can be earlier than that),
    then reads on in the runs whose buffer ends at that time.
    """
    readers: list[Iterator[pa.RecordBatch] | None] = [
        pq.ParquetFile(runs_path, pre_buffer=False).iter_batches(batch_size=merge_rows,
                                                                 row_groups=groups)
        for groups in runs]
    buffers: list[pa.Table] = [SCHEMA.empty_table() for _ in runs]

    def read(r: int) -> None:
        reader = readers[r]
        assert reader is not None
        batch = next(reader, None)
        if batch is None:
            readers[r] = None
        else:
            buffers[r] = pa.concat_tables([buffers[r], pa.Table.from_batches([batch], SCHEMA)])

    for r in range(len(runs)):
        read(r)
    while True:
        live = [r for r, reader in enumerate(readers) if reader is not None]
        for r in live:
            while readers[r] is not None and buffers[r].num_rows == 0:
                read(r)
        live = [r for r in live if readers[r] is not None]
        if not live:
            rest = [b for b in buffers if b.num_rows]
            if rest:
                yield _sorted(pa.concat_tables(rest))
            return
        cutoff = min(buffers[r].column("ts")[-1].as_py() for r in live)
        ready: list[pa.Table] = []
        for r, buffer in enumerate(buffers):
            ts = buffer.column("ts")
            count = pc.sum(pc.cast(pc.less(ts, cutoff), pa.int64())).as_py() or 0
            if count:
                ready.append(buffer.slice(0, count))
                buffers[r] = buffer.slice(count)
        if ready:
            yield _sorted(pa.concat_tables(ready))
        for r in live:
            if buffers[r].column("ts")[-1].as_py() == cutoff:
                read(r)
