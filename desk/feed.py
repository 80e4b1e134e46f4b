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


def open_feed(loaded: LoadedSession, seed: int, issue: Issue
              ) -> tuple[Batches, list[FileReader], ReplayWindow | None]:
    """The session's events as batches in time order, the file readers (for their statistics),
    and the replay window when `[replay]` sets one (to tell a window the data never reaches)."""
    cfg = loaded.config
    symbols = [spec.symbol for spec in cfg.instruments]
    window = ReplayWindow(cfg.replay.start, cfg.replay.stop) \
        if cfg.replay.start is not None or cfg.replay.stop is not None else None
    if cfg.data.synthetic is not None:
        ticks = {spec.symbol: spec.tick_size for spec in cfg.instruments}
        lots = {spec.symbol: spec.lot_size for spec in cfg.instruments}
        source = ScenarioMarket if cfg.data.synthetic.scenario is not None else SyntheticMarket
        market = source(cfg.data.synthetic, symbols, ticks, lots, seed)
        return _clip(market.batches(), window), [], window
    default = symbols[0] if len(symbols) == 1 else None
    readers = [FileReader(source, loaded.resolve(source.path), default, set(symbols),
                          cfg.data.on_bad, cfg.data.batch_rows, issue)
               for source in cfg.data.files]
    if len(readers) == 1:
        return _clip(readers[0].batches(), window), readers, window
    return _clip(_merge([r.batches() for r in readers]), window), readers, window


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


def _clip(feed: Batches, window: ReplayWindow | None) -> Batches:
    """The feed within the replay window, if the session sets one."""
    return feed if window is None else window.clip(feed)


class ReplayWindow:
    """`replay.start` / `replay.stop` (ISO times) applied to the feed, and what of the data it
    saw: a window the data never reaches makes a run of nothing, which is said, not left for
    the person to wonder at."""

    def __init__(self, start: str | None, stop: str | None) -> None:
        self.start, self.stop = start, stop
        self.kept = 0
        """Data events inside the window so far."""
        self.first: int | None = None
        self.last: int | None = None
        """The times of the first and the last data event read (the last only as far as the
        feed was read: it stops at the first batch past `stop`)."""
        self.ended = False
        """The feed was read to its end, or past `stop`."""

    def clip(self, feed: Batches) -> Batches:
        """The events of `feed` within the window."""
        from desk.timeutil import parse_iso_ns

        start = parse_iso_ns(self.start) if self.start else None
        stop = parse_iso_ns(self.stop) if self.stop else None
        for batch in feed:
            if batch:
                if self.first is None:
                    self.first = batch[0].ts
                self.last = batch[-1].ts
            kept = [e for e in batch if (start is None or e.ts >= start)
                    and (stop is None or e.ts <= stop)]
            if kept:
                self.kept += len(kept)
                yield kept
            if stop is not None and batch and batch[-1].ts > stop:
                break
        self.ended = True

    def missed(self) -> str | None:
        """One line saying that no data event lies in the window, with the window and the
        data's span; None when some does, or the feed is not read to its end yet, or empty."""
        from desk.timeutil import format_ns, parse_iso_ns

        if self.kept or not self.ended or self.first is None or self.last is None:
            return None
        first, last = f"{format_ns(self.first)} UTC", f"{format_ns(self.last)} UTC"
        if self.stop is not None and self.first > parse_iso_ns(self.stop):
            return (f"replay.stop {self.stop} is before the data's first event ({first}): "
                    "the replay had no market event")
        if self.start is not None and self.last < parse_iso_ns(self.start):
            # the feed was read to its end: `stop`, if any, lies beyond its last event too
            return (f"replay.start {self.start} is after the data's last event ({last}): "
                    "the replay had no market event")
        return (f"no data event between replay.start {self.start} and replay.stop {self.stop}, "
                f"a gap in the data (its first event is at {first}): the replay had no market "
                "event")
