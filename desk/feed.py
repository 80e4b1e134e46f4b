"""The market-data feed of a session: its sources opened and merged into one time-ordered stream."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from desk.config import LoadedSession
from desk.data.files import FileReader
from desk.data.row_filter import Issue
from desk.data.scenarios import ScenarioMarket
from desk.data.synthetic import SyntheticMarket

Batches = Iterator[list[Any]]


def open_feed(loaded: LoadedSession, seed: int, issue: Issue) -> tuple[Batches, list[FileReader]]:
    """The session's events as batches in time order, and the file readers (for their
    statistics)."""
    cfg = loaded.config
    symbols = [spec.symbol for spec in cfg.instruments]
    if cfg.data.synthetic is not None:
        ticks = {spec.symbol: spec.tick_size for spec in cfg.instruments}
        lots = {spec.symbol: spec.lot_size for spec in cfg.instruments}
        source = ScenarioMarket if cfg.data.synthetic.scenario is not None else SyntheticMarket
        market = source(cfg.data.synthetic, symbols, ticks, lots, seed)
        return _clip(market.batches(), loaded), []
    default = symbols[0] if len(symbols) == 1 else None
    readers = [FileReader(source, loaded.resolve(source.path), default, set(symbols),
                          cfg.data.on_bad, cfg.data.batch_rows, issue)
               for source in cfg.data.files]
    if len(readers) == 1:
        return _clip(readers[0].batches(), loaded), readers
    return _clip(_merge([r.batches() for r in readers]), loaded), readers


def _merge(feeds: list[Batches], chunk: int = 4096) -> Batches:
    """Merge several time-ordered feeds by timestamp, streaming; ties keep the files' order."""
    def flatten(feed: Batches, index: int) -> Iterator[tuple[int, int, Any]]:
        for batch in feed:
            for event in batch:
                yield event.ts, index, event

    merged = heapq.merge(*(flatten(feed, i) for i, feed in enumerate(feeds)),
                         key=lambda item: (item[0], item[1]))
    out: list[Any] = []
    for _, _, event in merged:
        out.append(event)
        if len(out) >= chunk:
            yield out
            out = []
    if out:
        yield out


def _clip(feed: Batches, loaded: LoadedSession) -> Batches:
    """Apply `replay.start` / `replay.stop` (ISO times) to the feed."""
    from desk.timeutil import parse_iso_ns

    replay = loaded.config.replay
    if replay.start is None and replay.stop is None:
        return feed
    start = parse_iso_ns(replay.start) if replay.start else None
    stop = parse_iso_ns(replay.stop) if replay.stop else None

    def clipped() -> Batches:
        for batch in feed:
            kept = [e for e in batch if (start is None or e.ts >= start)
                    and (stop is None or e.ts <= stop)]
            if kept:
                yield kept
            if stop is not None and batch and batch[-1].ts > stop:
                return

    return clipped()
