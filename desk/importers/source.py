"""Opening source files: plain, gzip or zip members, with a byte count for the progress bar."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from desk.errors import DataError


class Meter:
    """Counts the bytes read from the sources so a progress bar can show how far an import is."""

    def __init__(self, on_advance: Callable[[int], None] | None = None) -> None:
        self.read = 0
        self.total = 0
        self._on_advance = on_advance

    def add_total(self, size: int) -> None:
        self.total += size

    def advance(self, size: int) -> None:
        self.read += size
        if self._on_advance is not None:
            self._on_advance(size)


class _Counted(io.RawIOBase):
    """A raw binary stream that reports every read to a `Meter`."""

    def __init__(self, inner: IO[bytes], meter: Meter) -> None:
        self._inner = inner
        self._meter = meter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._meter.advance(n)
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def check_exists(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file")


def open_binary(path: Path, meter: Meter, member: str | None = None) -> IO[bytes]:
    """`path` as a binary stream, decompressed if it ends in .gz; `member` picks a zip entry."""
    check_exists(path)
    if member is not None:
        archive = zipfile.ZipFile(path)
        info = archive.getinfo(member)
        meter.add_total(info.file_size)
        return io.BufferedReader(_Counted(archive.open(info), meter), 1 << 20)
    meter.add_total(path.stat().st_size)
    raw = io.BufferedReader(_Counted(open(path, "rb"), meter), 1 << 20)  # noqa: SIM115
    if path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def text_lines(path: Path, meter: Meter, member: str | None = None) -> Iterator[tuple[int, str]]:
    """(line number from 1, line without its newline) of a text source."""
    stream = open_binary(path, meter, member)
    try:
        for number, raw in enumerate(stream, start=1):
            yield number, raw.decode("utf-8", errors="replace").rstrip("\r\n")
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: cannot read: {error}") from None
    finally:
        stream.close()
