"""Recorded Binance WebSocket streams: one `<local receive ns> <json>` per line, gzip or plain.

The depth stream only carries changes, so the book is synced the way Binance
documents it: diffs are buffered until the REST `/depth` snapshot line, diffs
the snapshot already contains (`u` ≤ `lastUpdateId`) are dropped, and every
later diff must continue the sequence (`pu` = previous `u` on futures,
`U` = previous `u` + 1 on spot). After a gap the book is out of sync: its diffs
are dropped (and counted) until the next snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.importers import ImportOptions
from desk.importers.source import Meter, text_lines


@dataclass(slots=True)
class _DepthSync:
    """The sequence state of one symbol's diff-depth stream."""

    last_u: int | None = None
    """The last update id in the book; None until a snapshot arrives or after a gap."""
    first: bool = False
    """The next diff is the first after a snapshot (checked against the snapshot's id)."""
    pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Diffs received before the snapshot, with their receive times."""


class _StreamImport:
    def __init__(self, writer: MarketWriter, opts: ImportOptions) -> None:
        self.writer = writer
        self.opts = opts
        self.depth: dict[str, _DepthSync] = {}
        self.last_ts: int | None = None
        self.where = ""

    def _symbol(self, data: dict[str, Any]) -> str:
        return self.opts.instrument or str(data.get("s", "")).upper()

    def _ts(self, local: int, data: dict[str, Any], *keys: str) -> int:
        """The row's time on the chosen clock, never earlier than the row before."""
        ts = local
        if self.opts.clock == "exchange":
            for key in keys:
                if key in data:
                    ts = int(data[key]) * 1_000_000
                    break
            else:
                self.writer.problem("rows without an exchange time: stamped with the receive "
                                    "time", self.where)
        if self.last_ts is not None and ts < self.last_ts:
            self.writer.problem("exchange time earlier than the row before: held at the "
                                "previous time", self.where)
            ts = self.last_ts
        self.last_ts = ts
        return ts

    # --- lines ------------------------------------------------------------------------

    def line(self, local: int, message: dict[str, Any]) -> None:
        stream = message.get("stream")
        if stream is None:
            if "lastUpdateId" in message:
                self.snapshot(local, message)
            else:
                self.writer.problem("lines that are neither a stream message nor a snapshot",
                                    self.where)
            return
        data = message.get("data")
        if data is None:
            self.writer.problem("stream messages without data: skipped", self.where)
            return
        if not isinstance(data, dict):
            raise DataError(f"{self.where}: the message's data is a JSON {_json_type(data)}, "
                            "expected an object")
        event = data.get("e") or ("bookTicker" if str(stream).endswith("@bookTicker") else "")
        if event == "depthUpdate":
            self.diff(local, data)
        elif event in ("trade", "aggTrade"):
            side = -1 if data.get("m") else 1  # m: the buyer was the maker, so the seller aggressed
            self.writer.trade(self._ts(local, data, "T", "E"), self._symbol(data),
                              float(data["p"]), float(data["q"]), side)
        elif event == "bookTicker":
            self.writer.quote(self._ts(local, data, "T", "E"), self._symbol(data),
                              float(data["b"]), float(data["B"]), float(data["a"]),
                              float(data["A"]))
        else:
            self.writer.problem(f"messages of stream type {event or stream!r} skipped", self.where)

    def snapshot(self, local: int, message: dict[str, Any]) -> None:
        symbols = [s for s in self.depth] if not self.opts.instrument else [self.opts.instrument]
        if len(symbols) != 1:
            raise DataError(f"{self.where}: a REST depth snapshot names no symbol and "
                            f"{len(symbols)} depth streams came before it; give --instrument")
        symbol = symbols[0]
        sync = self.depth.setdefault(symbol, _DepthSync())
        ts = self._ts(local, message, "T", "E")
        write = self.writer.level
        seq = int(message["lastUpdateId"])
        for price, qty in message.get("bids", []):
            if float(qty) > 0:
                write(ts, symbol, True, 1, float(price), float(qty), seq)
        for price, qty in message.get("asks", []):
            if float(qty) > 0:
                write(ts, symbol, True, -1, float(price), float(qty), seq)
        sync.last_u = seq
        sync.first = True
        pending, sync.pending = sync.pending, []
        for _, data in pending:
            # received before the snapshot, but only applicable from it: stamped at its time
            self.apply(ts, symbol, sync, data)

    def diff(self, local: int, data: dict[str, Any]) -> None:
        symbol = self._symbol(data)
        sync = self.depth.setdefault(symbol, _DepthSync())
        ts = self._ts(local, data, "T", "E")
        if sync.last_u is None:
            sync.pending.append((ts, data))
            return
        self.apply(ts, symbol, sync, data)

    def apply(self, ts: int, symbol: str, sync: _DepthSync, data: dict[str, Any]) -> None:
        first_id, last_id = int(data["U"]), int(data["u"])
        assert sync.last_u is not None
        if last_id <= sync.last_u:
            self.writer.note("depth updates dropped: already in the snapshot")
            return
        if sync.first:
            futures = "pu" in data
            in_sequence = first_id <= sync.last_u + (0 if futures else 1)
        elif "pu" in data:
            in_sequence = int(data["pu"]) == sync.last_u
        else:
            in_sequence = first_id == sync.last_u + 1
        if not in_sequence:
            self.writer.problem("depth sequence gaps: book out of sync until the next snapshot",
                                f"{self.where}: expected after update {sync.last_u}, got "
                                f"{first_id}..{last_id}")
            sync.last_u = None
            return
        previous = int(data["pu"]) if "pu" in data else first_id - 1
        sync.first = False
        sync.last_u = last_id
        self.writer.note("depth updates applied")
        write = self.writer.level
        for price, qty in data.get("b", []):
            write(ts, symbol, False, 1, float(price), float(qty), last_id, previous)
        for price, qty in data.get("a", []):
            write(ts, symbol, False, -1, float(price), float(qty), last_id, previous)

    def finish(self) -> None:
        for symbol, sync in self.depth.items():
            for _ in sync.pending:
                self.writer.problem("depth updates dropped: no REST snapshot to sync the book",
                                    symbol)


def _json_type(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words."""
    names = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    """Import recorded stream files in order; several symbols may share a file."""
    job = _StreamImport(writer, opts)
    writer.locate = lambda: job.where
    for path in sources:
        for number, text in text_lines(path, meter, what="a recorded Binance stream"):
            if not text.strip():
                continue
            job.where = f"{path}:{number}"
            stamp, _, body = text.partition(" ")
            try:
                local = int(stamp)
                message = json.loads(body)
            except ValueError:
                raise DataError(f"{path}:{number}: not a `<receive ns> <json>` line: "
                                f"{text[:60]!r}") from None
            if not isinstance(message, dict):
                raise DataError(f"{path}:{number}: the message is a JSON {_json_type(message)}, "
                                "expected an object (`{\"stream\": ..., \"data\": {...}}` or a "
                                "REST depth snapshot)")
            try:
                job.line(local, message)
            except KeyError as error:
                raise DataError(f"{path}:{number}: a message without the field {error}") from None
            except (TypeError, ValueError, AttributeError) as error:
                raise DataError(f"{path}:{number}: a message with a bad value: {error}") from None
    job.finish()
