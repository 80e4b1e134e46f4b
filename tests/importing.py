"""Helpers for the importer tests: run an import in-process, read or replay the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import REAL

from desk.data.writer import MarketWriter
from desk.importers import ImportOptions, importer
from desk.importers.chronology import settle
from desk.importers.source import Meter
from desk.timeutil import parse_iso_ns

needs_real = pytest.mark.skipif(not REAL.exists(), reason="the shared real-data samples are absent")


def run_import(fmt: str, sources: list[Path], out: Path, **options: Any) -> MarketWriter:
    """Import `sources` with format `fmt` into `out`; the writer keeps the summary statistics."""
    writer = MarketWriter(out)
    opts = ImportOptions(**options)
    importer(fmt)(sources, writer, opts, Meter())
    writer.close()
    settle(writer, sources, opts.sort)
    return writer


def rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def ns(text: str) -> int:
    return parse_iso_ns(text)


def replay_bars(tmp_path: Path, out: Path, ticks: dict[str, float]) -> list[tuple[int, Any]]:
    """(the engine's time, the bar) of every bar the strategy is given when `out` is replayed."""
    from conftest import make_session

    from desk.engine import Engine

    session = make_session(tmp_path, data={"synthetic": None, "files": [
        {"path": str(out), "kind": "mixed"}]},
        instruments=[{"symbol": s, "tick_size": t} for s, t in ticks.items()])
    engine = Engine(session, None, strict=True)
    seen: list[tuple[int, Any]] = []
    engine.strategy.on_bar = lambda bar: seen.append((engine.now, bar))  # type: ignore[method-assign]
    try:
        engine.run()
    finally:
        engine.close()
    return seen
