"""The base of every on-disk model (strict, frozen, no unknown keys) and the value types shared."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from desk.timeutil import is_iso_time, ns_range_error, parse_iso_ns

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]


def _fraction(value: float) -> float:
    """A share written as a fraction; a whole percentage (`tolerance = 5`) is told how to write."""
    if not 0 < value <= 1:
        hint = f"; for {value:g}% write {value / 100:g}" if 1 < value <= 100 else ""
        raise ValueError(f"a fraction above 0 and at most 1 (0.1 is 10%), not {value:g}{hint}")
    return value


Fraction = Annotated[float, AfterValidator(_fraction)]
"""A share above 0 and at most 1."""
LatencyMs = Annotated[float, Field(ge=0, le=3_600_000)]
"""A delay in milliseconds, at most an hour: beyond that simulated times leave int64."""


def iso_time(value: str | None) -> str | None:
    """A time written as ISO-8601, checked at load so a typo is a line, not a traceback mid-run."""
    if value is not None:
        if not is_iso_time(value):
            raise ValueError(f"{value!r} is not an ISO time such as \"2024-01-02T14:30:00Z\"")
        problem = ns_range_error(parse_iso_ns(value))
        if problem:
            raise ValueError(f"{value!r} is {problem}")
    return value


STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
"""Unknown keys are errors, a value must be of its key's type as TOML writes it (no `true` for a
number, no `"7"` for an integer; an integer is a number), numbers are finite, and loaded
values never change."""


class Model(BaseModel):
    """Base of every on-disk model (see `STRICT`)."""

    model_config = STRICT
