"""Databento's binary DBN files (`.dbn`, `.dbn.zst`), decoded here without Databento's library.

Only what desk imports is decoded: the metadata's symbol mappings (instrument
id → symbol) and the fixed-layout records of the trades, tbbo, mbp-1, mbo and
ohlcv schemas; other records are skipped by their length. The records become
the same dicts as Databento's CSV rows and go through `databento.import_records`.
Read in chunks (zstd via pyarrow), so memory stays flat.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from desk.data.writer import MarketWriter
from desk.errors import DataError, first_line
from desk.importers import ImportOptions
from desk.importers.databento import Record, import_records
from desk.importers.source import Meter, open_binary

SCHEMAS = {0: "mbo", 1: "mbp-1", 3: "mbp-1", 4: "trades", 5: "ohlcv", 6: "ohlcv", 7: "ohlcv",
           8: "ohlcv"}
"""DBN schema id → the layout desk reads (tbbo shares mbp-1's)."""
_HEADER = struct.Struct("<BBHIQ")          # length/4, rtype, publisher, instrument id, ts_event
# order_id, price, size, flags, channel, action, side, ts_recv, delta, sequence
_MBO = struct.Struct("<QqIBBccQiI")
# price, size, action, side, flags, depth, ts_recv, delta, sequence
_MBP = struct.Struct("<qIccBBQiI")
_LEVEL = struct.Struct("<qqIIII")          # bid_px, ask_px, bid_sz, ask_sz, bid_ct, ask_ct
_OHLCV = struct.Struct("<qqqqQ")
_MBO_RTYPE, _MBP0_RTYPE, _MBP1_RTYPE = 160, 0, 1
ZSTD = b"\x28\xb5\x2f\xfd"
"""The first bytes of a zstd frame: decompressed whatever the file is named."""
_OHLCV_RTYPES = (32, 33, 34, 35)


def _chunks(path: Path, meter: Meter) -> Iterator[bytes]:
    stream = open_binary(path, meter)
    source: pa.NativeFile = pa.PythonFile(stream, mode="r")
    if stream.peek(4)[:4] == ZSTD:  # type: ignore[attr-defined]
        source = pa.CompressedInputStream(source, "zstd")
    try:
        while True:
            chunk = source.read(1 << 20)
            if not chunk:
                return
            yield chunk
    except (OSError, pa.ArrowInvalid) as error:
        raise DataError(f"{path}: cannot decompress: {first_line(error)}") from None
    finally:
        stream.close()


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def _symbols(meta: bytes, version: int) -> dict[int, str]:
    """instrument id → raw symbol, from the metadata's mappings (stype_out instrument_id)."""
    width = 22 if version == 1 else struct.unpack_from("<H", meta, 45)[0]
    offset = 100
    skip = struct.unpack_from("<I", meta, offset)[0]  # schema definition, unused
    offset += 4 + skip
    for _ in range(3):  # symbols, partial, not_found
        count = struct.unpack_from("<I", meta, offset)[0]
        offset += 4 + count * width
    out: dict[int, str] = {}
    count = struct.unpack_from("<I", meta, offset)[0]
    offset += 4
    for _ in range(count):
        raw = _cstr(meta[offset:offset + width])
        offset += width
        intervals = struct.unpack_from("<I", meta, offset)[0]
        offset += 4
        for _ in range(intervals):
            offset += 8  # start and end dates
            target = _cstr(meta[offset:offset + width])
            offset += width
            if target.isdigit():
                out[int(target)] = raw
    return out


def _records(path: Path, meter: Meter) -> tuple[str, Iterator[Record]]:
    chunks = _chunks(path, meter)
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= 8:
            break
    if buffer[:3] != b"DBN" or len(buffer) < 8:
        raise DataError(f"{path}: not a DBN file (no DBN header)")
    version = buffer[3]
    length = struct.unpack_from("<I", buffer, 4)[0]
    while len(buffer) < 8 + length:
        chunk = next(chunks, b"")
        if not chunk:
            raise DataError(f"{path}: the DBN metadata is cut short")
        buffer += chunk
    meta = bytes(buffer[8:8 + length])
    schema_id = struct.unpack_from("<H", meta, 16)[0]
    if schema_id not in SCHEMAS:
        raise DataError(f"{path}: DBN schema id {schema_id} is not one desk imports "
                        "(trades, tbbo, mbp-1, mbo, ohlcv-*)")
    try:
        symbols = _symbols(meta, version)
    except struct.error:
        raise DataError(f"{path}: the DBN metadata cannot be read (version {version})") from None
    del buffer[:8 + length]

    def records() -> Iterator[Record]:
        pending = buffer
        while True:
            offset = 0
            while offset + 16 <= len(pending):
                size = pending[offset] * 4
                if size < 16:
                    raise DataError(f"{path}: a DBN record of length {size} at byte {offset}")
                if offset + size > len(pending):
                    break
                record = _decode(pending, offset, symbols)
                if record is not None:
                    yield record
                offset += size
            del pending[:offset]
            chunk = next(chunks, b"")
            if not chunk:
                if pending:
                    raise DataError(f"{path}: the last DBN record is cut short")
                return
            pending += chunk

    return SCHEMAS[schema_id], records()


def _decode(data: bytearray, offset: int, symbols: dict[int, str]) -> Record | None:
    _, rtype, _, instrument_id, ts_event = _HEADER.unpack_from(data, offset)
    body = offset + 16
    record: Record = {"rtype": rtype, "instrument_id": instrument_id, "ts_event": ts_event,
                      "symbol": symbols.get(instrument_id)}
    if rtype == _MBO_RTYPE:
        (record["order_id"], record["price"], record["size"], record["flags"], _, action, side,
         record["ts_recv"], _, _) = _MBO.unpack_from(data, body)
    elif rtype in (_MBP0_RTYPE, _MBP1_RTYPE):
        (record["price"], record["size"], action, side, record["flags"], _, record["ts_recv"],
         _, _) = _MBP.unpack_from(data, body)
        if rtype == _MBP1_RTYPE:
            (record["bid_px_00"], record["ask_px_00"], record["bid_sz_00"], record["ask_sz_00"],
             _, _) = _LEVEL.unpack_from(data, body + _MBP.size)
    elif rtype in _OHLCV_RTYPES:
        (record["open"], record["high"], record["low"], record["close"],
         record["volume"]) = _OHLCV.unpack_from(data, body)
        return record
    else:
        return None  # definitions, statistics, status, system messages: not market events here
    record["action"] = action.decode("ascii")
    record["side"] = side.decode("ascii")
    return record


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    for path in sources:
        schema, records = _records(path, meter)

        def counted(records: Iterator[Record] = records, schema: str = schema) -> Iterator[Record]:
            for record in records:
                writer.note(f"DBN {schema} records")
                yield record

        import_records(str(path), schema, counted(), writer, opts, first=1)
