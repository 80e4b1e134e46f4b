"""Opening source files: plain, gzip or zip members, with a byte count for the progress bar."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from desk.data import not_regular
from desk.errors import DataError, first_line


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
    """A source that can be read as a file: there, not a folder, not a fifo nor a device."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a data file")
    special = not_regular(path)
    if special is not None:
        raise DataError(f"{path}: {special}")


MAGIC: tuple[tuple[bytes, str, str], ...] = (
    # first bytes, what the file is, the --format that reads it
    (b"PAR1", "a Parquet file", "parquet"),
    (b"DBN", "a Databento DBN file", "databento"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed (a .dbn.zst?)", "databento"),
    (b"PK\x03\x04", "a zip archive", "lobster"),
)
GZIP = b"\x1f\x8b"
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, UnicodeDecodeError)
"""What reading a damaged source raises (a truncated gzip is an EOFError)."""


def magic(path: Path) -> tuple[str, str] | None:
    """(what the file is, the --format that reads it) when its first bytes say it is binary."""
    check_exists(path)
    with open(path, "rb") as raw:
        head = raw.read(4)
    for prefix, what, fmt in MAGIC:
        if head.startswith(prefix):
            return what, fmt
    return None


def open_binary(path: Path, meter: Meter, member: str | None = None,
                text: str | None = None) -> IO[bytes]:
    """`path` as a binary stream, decompressed if it is gzip; `member` picks a zip entry, and a
    zip of one file is read in place.

    `text` names the text format the caller expects: a source that is plainly binary
    (Parquet, DBN, NUL bytes) is then refused with one line saying what it is, instead
    of failing later on an undecodable line.
    """
    check_exists(path)
    try:
        if member is None and path.suffix.lower() == ".zip":
            member = _only_member(path)
        if member is not None:
            archive = zipfile.ZipFile(path)
            info = archive.getinfo(member)
            meter.add_total(info.file_size)
            stream: IO[bytes] = io.BufferedReader(_Counted(archive.open(info), meter), 1 << 20)
        else:
            meter.add_total(path.stat().st_size)
            raw = io.BufferedReader(_Counted(open(path, "rb"), meter), 1 << 20)  # noqa: SIM115
            stream = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == GZIP else raw  # type: ignore[assignment]
        if text is not None:
            _expect_text(path, stream, text)  # type: ignore[arg-type]
    except (KeyError, *READ_ERRORS) as error:
        raise DataError(f"{path}: cannot read: {first_line(error)}") from None
    return stream


def _only_member(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
    if len(names) != 1:
        raise DataError(f"{path}: a zip of {len(names)} files; desk reads a zip of one file "
                        "(unzip it and give the file)")
    return names[0]


def _expect_text(path: Path, stream: io.BufferedReader, what: str) -> None:
    head = stream.peek(4096)[:4096]
    for prefix, kind, fmt in MAGIC:
        if head.startswith(prefix):
            raise DataError(f"{path}: {kind}, not {what}; try --format {fmt}")
    if b"\0" in head:
        raise DataError(f"{path}: binary data, not {what}")




def text_lines(path: Path, meter: Meter, member: str | None = None,
               what: str = "text") -> Iterator[tuple[int, str]]:
    """(line number from 1, line without its newline) of a text source."""
    stream = open_binary(path, meter, member, text=what)
    number = 0
    try:
        for number, raw in enumerate(stream, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            yield number, line.removeprefix("\ufeff") if number == 1 else line
    except READ_ERRORS as error:
        raise DataError(f"{path}: cannot read after line {number}: {first_line(error)}") from None
    finally:
        stream.close()


def text_stream(path: Path, meter: Meter, what: str) -> io.TextIOWrapper:
    """A text source for the `csv` module; a byte-order mark is dropped (as pyarrow does) and
    undecodable bytes are replaced, not fatal."""
    return io.TextIOWrapper(open_binary(path, meter, text=what), encoding="utf-8-sig",
                            errors="replace", newline="")
