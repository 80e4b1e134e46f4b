"""A market-data file's format, told from the session or the file's name, and its record batches.

Parquet and Arrow IPC files are read batch by batch with pyarrow (CSV through
`desk.data.csv_rows`), so memory stays flat however long the file is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from desk.data.csv_rows import CsvRows
from desk.errors import DataError, first_line


def file_format(path: Path, fmt: str) -> str:
    """The format named in the session, or told from the file's name."""
    if fmt != "auto":
        return fmt
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith((".parquet", ".pq")):
        return "parquet"
    if suffixes.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if suffixes.endswith((".arrow", ".feather", ".ipc", ".arrows")):
        return "arrow"
    raise DataError(f"{path}: cannot tell the format from the name; set format = "
                    "\"parquet\", \"csv\" or \"arrow\"")


PARQUET_MAGIC = b"PAR1"
"""How every Parquet file begins and ends."""
REIMPORT = "copy it again, or import its source again with `desk data import`"
"""What to do about a damaged desk-schema file: desk cannot mend it."""


def parquet_unopened(path: Path, other: str, redo: str = REIMPORT) -> str:
    """Why a Parquet file does not open, as one line: empty; damaged (it begins as Parquet
    but its end, where Parquet keeps its layout, is missing or broken: a copy, download or
    write cut short), with `redo`; or not Parquet at all, with `other` (what to do then)."""
    try:
        with open(path, "rb") as raw:
            head = raw.read(len(PARQUET_MAGIC))
    except OSError as failure:  # no access: that, not the file's content, is the trouble
        return f"{path}: cannot read: {failure.strerror or first_line(failure)}"
    if head == PARQUET_MAGIC:
        return (f"{path}: a damaged Parquet file: it begins as Parquet but its end is missing or "
                f"broken (a copy, download or write cut short?); {redo}")
    if not head:
        return f"{path}: an empty file, not a Parquet file"
    return f"{path}: not a Parquet file" + (f"; {other}" if other else "")


def parquet_damaged(path: Path, rows: int, error: BaseException, redo: str = REIMPORT) -> str:
    """A Parquet file that opened but whose data does not read past `rows` rows, as one line."""
    return (f"{path}: a damaged Parquet file: cannot read after row {rows:,} "
            f"({first_line(error).rstrip('.')}); {redo}")


def open_batches(path: Path, fmt: str, batch_rows: int, csv_rows: CsvRows | None,
                 coded: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
    """The file's record batches; of a Parquet file, the text columns named in `coded` as
    dictionaries, as Parquet stores them (see `checks.Coded`)."""
    if fmt == "parquet":
        yield from _parquet_batches(path, batch_rows, coded)
        return
    try:
        if fmt == "csv":
            assert csv_rows is not None
            yield from csv_rows
        else:
            source = pa.memory_map(str(path))
            try:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
            except pa.ArrowInvalid:
                yield from ipc.open_stream(pa.memory_map(str(path)))
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        text = first_line(error)
        raise DataError(f"{path}: cannot read as {fmt}: {text}") from None


def _parquet_batches(path: Path, batch_rows: int,
                     coded: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """A Parquet file's batches; one that is not Parquet, or is damaged, is one line saying so."""
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
        # no pre-buffering: it keeps row groups' reads around, and the memory of a long
        # replay then grows with the file (measured: +55% from 1M to 10M rows)
        texts = [name for name in coded if name in schema.names
                 and (pa.types.is_string(schema.field(name).type)
                      or pa.types.is_large_string(schema.field(name).type))]
        parquet = pq.ParquetFile(path, metadata=metadata, pre_buffer=False, read_dictionary=texts)
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        raise DataError(parquet_unopened(path, "if it is CSV or Arrow, set format = \"csv\" "
                                         "or \"arrow\" on this file")) from None
    rows = 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            yield batch
            rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise DataError(parquet_damaged(path, rows, error)) from None
