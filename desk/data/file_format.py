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


def open_batches(path: Path, fmt: str, batch_rows: int, csv_rows: CsvRows | None,
                 coded: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
    """The file's record batches; of a Parquet file, the text columns named in `coded` as
    dictionaries, as Parquet stores them (see `checks.Coded`)."""
    try:
        if fmt == "parquet":
            metadata = pq.read_metadata(path)
            schema = metadata.schema.to_arrow_schema()
            texts = [name for name in coded if name in schema.names
                     and (pa.types.is_string(schema.field(name).type)
                          or pa.types.is_large_string(schema.field(name).type))]
            # no pre-buffering: it keeps row groups' reads around, and the memory of a long
            # replay then grows with the file (measured: +55% from 1M to 10M rows)
            yield from pq.ParquetFile(path, metadata=metadata, pre_buffer=False,
                                      read_dictionary=texts).iter_batches(batch_size=batch_rows)
        elif fmt == "csv":
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

