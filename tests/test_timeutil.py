"""Times as people write them: ISO times and offsets such as "+90s" or "+2m10s"."""

from __future__ import annotations

import pytest

from desk.timeutil import is_iso_time, parse_duration_ns, parse_iso_ns, parse_offset_ns, unit_ns

S = 1_000_000_000


@pytest.mark.parametrize(("text", "ns"), [
    ("+90s", 90 * S), ("+2m10s", 130 * S), ("+1h30m", 5_400 * S), ("+1h 30m 15s", 5_415 * S),
    ("+2ms", 2_000_000), ("+1.5s", 1_500_000_000), ("+1d", 86_400 * S), ("+2w", 1_209_600 * S),
    ("+1d2h", 93_600 * S), ("+250us", 250_000), ("+7ns", 7),
])
def test_offsets_add_up_their_number_and_unit_groups(text: str, ns: int) -> None:
    assert parse_offset_ns(text) == ns


@pytest.mark.parametrize("text", ["90s", "+", "+s", "+2m10", "+-5s", "+5x", "2024-01-02", "+5 "
                                  "seconds"])
def test_what_is_not_an_offset_is_none(text: str) -> None:
    assert parse_offset_ns(text) is None


@pytest.mark.parametrize(("text", "ns"), [
    ("90s", 90 * S), ("+90s", 90 * S), ("-5s", -5 * S), (" -1h30m ", -5_400 * S), ("0s", 0),
    ("-5", None), ("--5s", None), ("-+5s", None), ("5x", None), ("", None),
])
def test_durations_keep_their_sign_so_a_negative_one_can_be_refused_as_negative(
        text: str, ns: int | None) -> None:
    assert parse_duration_ns(text) == ns


def test_days_and_weeks_are_units() -> None:
    assert unit_ns("d") == 86_400 * S and unit_ns("w") == 7 * 86_400 * S


def test_iso_times_are_told_from_other_text() -> None:
    assert is_iso_time("2024-01-02T14:30:00Z") and is_iso_time("2024-01-02")
    assert not is_iso_time("monday") and not is_iso_time("2024-13-01")
    assert parse_iso_ns("2024-01-02T14:30:00.5Z") == 1_704_205_800 * S + 500_000_000


def test_an_iso_time_keeps_the_nanoseconds_it_gives() -> None:
    # truncated to microseconds, `desk audit --since …20.300000001` took in the record at .3
    assert parse_iso_ns("2024-01-02T14:30:20.300000001Z") == 1_704_205_820_300_000_001
    assert parse_iso_ns("2024-01-02T14:30:20.123456789123Z") == 1_704_205_820_123_456_789
    assert parse_iso_ns("2024-01-02T14:30:20,5+01:00") == 1_704_202_220_500_000_000
    assert parse_iso_ns("1960-01-01T00:00:00.25Z") == -315_619_199_750_000_000


@pytest.mark.parametrize(("text", "ns"), [
    ("20240102T143020.5Z", 1_704_205_820_500_000_000),
    ("20240102T143020.300000001Z", 1_704_205_820_300_000_001),
    ("20240102T143020,25+0100", 1_704_202_220_250_000_000),
    ("2024-01-02T143020.75", 1_704_205_820_750_000_000),
])
def test_a_basic_format_iso_time_keeps_its_fraction_of_a_second(text: str, ns: int) -> None:
    # the fraction was dropped: `desk audit --since 20240102T143020.5Z` took in a record at .3
    assert parse_iso_ns(text) == ns
