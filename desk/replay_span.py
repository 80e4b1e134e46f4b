"""The time span of a replay, known before it runs: what its progress is measured against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.timeutil import parse_iso_ns, unit_ns

if TYPE_CHECKING:
    from desk.config import LoadedSession, ReplayConfig, Session


def replay_span(config: Session) -> tuple[int, int] | None:
    """First and last market timestamps of a synthetic replay (None for data files).

    Progress is told by simulated time, which ends exactly at 100%: the event
    count cannot, since orders, arrivals and fills are events too.
    """
    synthetic = config.data.synthetic
    if synthetic is None:
        return None
    symbols = len(synthetic.instruments or config.instruments) or 1
    steps = max(1, round(synthetic.events / (1.0 + synthetic.trade_prob) / symbols))
    start = parse_iso_ns(synthetic.start)
    step_ns = round(synthetic.step_ms * 1_000_000)
    return start, start + (steps - 1) * step_ns + (symbols - 1) * 1_000 + 1


def file_span(loaded: LoadedSession) -> tuple[int, int] | None:
    """First and last timestamps of a session's data files, from their Parquet footers (the
    row groups' min/max statistics of the time column: no row is read). None when any file is
    not Parquet, or its statistics do not tell."""
    import pyarrow.parquet as pq

    from desk.data.file_format import file_format

    sources = loaded.config.data.files
    if not sources:
        return None
    first, last = None, None
    try:
        for source in sources:
            path = loaded.resolve(source.path)
            if file_format(path, source.format) != "parquet":
                return None
            metadata = pq.read_metadata(path)
            column = source.columns.get("ts", "ts")
            names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
            if column not in names:
                return None
            index = names.index(column)
            for group in range(metadata.num_row_groups):
                stats = metadata.row_group(group).column(index).statistics
                if stats is None or not stats.has_min_max:
                    return None
                low = _stat_ns(stats.min, source.ts_unit)
                high = _stat_ns(stats.max, source.ts_unit)
                if low is None or high is None:
                    return None
                first = low if first is None else min(first, low)
                last = high if last is None else max(last, high)
    except Exception:  # an unreadable file or footer: the engine will say why; no progress here
        return None
    return None if first is None or last is None else (first, last)


def _stat_ns(value: Any, unit: str) -> int | None:
    """A Parquet min/max statistic of a time column as epoch ns, as the reader reads it."""
    from datetime import datetime

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(value * unit_ns(unit))
    if isinstance(value, datetime):
        return round(value.timestamp() * 1e9)
    if isinstance(value, str):
        return parse_iso_ns(value)
    return None


def windowed(span: tuple[int, int], replay: ReplayConfig) -> tuple[int, int] | None:
    """The part of `span` within `[replay]`'s `start` and `stop`: the events the replay keeps,
    so that progress reads 0% at the window's first event and nears 100% at its last. None when
    the window holds none of the span."""
    start = max(span[0], parse_iso_ns(replay.start)) if replay.start else span[0]
    end = min(span[1], parse_iso_ns(replay.stop)) if replay.stop else span[1]
    return (start, end) if start < end else None
