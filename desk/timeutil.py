"""Conversions between the ways people write times and desk's integer nanoseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_UNITS_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
             "h": 3_600_000_000_000, "d": 86_400_000_000_000, "w": 604_800_000_000_000}
_GROUP = r"(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d|w)"
# longer units first in the alternation, so "2ms" is two milliseconds, not two minutes and an "s"
_OFFSET = re.compile(rf"^\+\s*(?:{_GROUP}\s*)+$")
_GROUPS = re.compile(_GROUP)


def parse_offset_ns(text: str) -> int | None:
    """`"+90s"` → 90e9, `"+2m10s"` → 130e9 (number+unit groups add up); None if not an offset.

    Units: ns, us, ms, s, m (minutes), h, d, w.
    """
    text = text.strip()
    if _OFFSET.match(text) is None:
        return None
    return sum(round(float(number) * _UNITS_NS[unit]) for number, unit in _GROUPS.findall(text))


def parse_duration_ns(text: str) -> int | None:
    """`"60s"`, `"+2m10s"` → nanoseconds, `"-5s"` → −5e9: a signed duration; None if not one.

    The sign is kept so a caller that needs a positive duration can say so,
    rather than call `-5s` no duration at all.
    """
    text = text.strip()
    negative = text.startswith("-")
    ns = parse_offset_ns("+" + (text[1:] if negative else text.lstrip("+")))
    return -ns if negative and ns is not None else ns


_FRACTION = re.compile(r"(?:(?<=\d\d:\d\d:\d\d)|(?<=[T ]\d{6}))[.,](\d+)")
"""The fraction of a second in an ISO time, extended (`14:30:20.5`) or basic (`T143020.5`): desk
keeps all nine digits of it, not six."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_iso_ns(text: str) -> int:
    """An ISO-8601 time (UTC when no zone is given) as epoch nanoseconds; ValueError if not one.

    Digits of the second beyond the microsecond count (`…20.300000001`): a journal's times
    are nanoseconds, and a time that drops them would take in a record before it.
    """
    text = text.strip().replace("Z", "+00:00")
    fraction = _FRACTION.search(text)
    nanos = 0
    if fraction is not None:  # datetime holds microseconds: the fraction is added here
        nanos = int(fraction[1][:9].ljust(9, "0"))
        text = text[:fraction.start()] + text[fraction.end():]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # in whole numbers: a float timestamp would round, and int() of one drops what it holds of
    # a second (towards zero, the wrong way before 1970)
    since = moment - _EPOCH
    return ((since.days * 86_400 + since.seconds) * 1_000_000_000 + since.microseconds * 1_000
            + nanos)


NS_MIN, NS_MAX = -(2**63), 2**63 - 1
"""The times desk can hold: int64 nanoseconds since 1970, 1677-09-21 to 2262-04-11."""


def ns_range_error(ns: int) -> str | None:
    """Why a time (epoch ns) cannot be held, or None when it can."""
    if NS_MIN <= ns <= NS_MAX:
        return None
    return "outside the times desk can hold (1677-09-21 to 2262-04-11, nanoseconds in 64 bits)"


def is_iso_time(text: str) -> bool:
    """Whether `text` reads as an ISO-8601 time, for validating session files up front."""
    try:
        parse_iso_ns(text)
    except (ValueError, OverflowError, OSError):
        return False
    return True


def format_ns(ts: int) -> str:
    """Epoch nanoseconds as `YYYY-MM-DD HH:MM:SS.mmmmmm` UTC."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{nanos // 1000:06d}"


def iso_ns(ts: int) -> str:
    """Epoch nanoseconds as an ISO-8601 UTC time to the nanosecond,
    `2024-01-02T14:30:20.300000001Z`: what `parse_iso_ns` reads back to the same integer, and
    what a spreadsheet sorts as text."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def unit_ns(unit: str) -> int:
    """How many nanoseconds one `unit` (ns, us, ms, s, m, h, d, w) holds."""
    return _UNITS_NS[unit]


def spans_days(table: Any) -> bool:
    """Whether a journal's records (an Arrow table with `ts_ns`, in time order) fall on more
    than one UTC day: then a time of day alone does not say when a record was."""
    if len(table) < 2:
        return False
    day = 86_400_000_000_000
    column = table.column("ts_ns")
    return bool(column[0].as_py() // day != column[len(table) - 1].as_py() // day)
