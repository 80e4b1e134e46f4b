"""Conversions between the ways people write times and desk's integer nanoseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
             "h": 3_600_000_000_000}
_OFFSET = re.compile(r"^\+(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$")


def parse_offset_ns(text: str) -> int | None:
    """`"+90s"` → 90e9; None if `text` is not an offset."""
    match = _OFFSET.match(text.strip())
    if match is None:
        return None
    return round(float(match.group(1)) * _UNITS_NS[match.group(2)])


def parse_iso_ns(text: str) -> int:
    """An ISO-8601 time (UTC when no zone is given) as epoch nanoseconds."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1_000


def format_ns(ts: int) -> str:
    """Epoch nanoseconds as `YYYY-MM-DD HH:MM:SS.mmmmmm` UTC."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{nanos // 1000:06d}"


def unit_ns(unit: str) -> int:
    """How many nanoseconds one `unit` (ns, us, ms, s) holds."""
    return _UNITS_NS[unit]
