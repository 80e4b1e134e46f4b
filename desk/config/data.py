"""The `[data]` section: a seeded synthetic market or market-data files, and how to read them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from desk.config.model import Fraction, Model, NonNegFloat, PositiveFloat, iso_time
from desk.timeutil import ns_range_error, parse_iso_ns

DataKind = Literal["trade", "quote", "bar", "book", "mixed"]
ScenarioName = Literal["calm", "trending", "mean_reverting", "vol_clustering", "flash_crash",
                       "gap_halt", "liquidity_drought", "regime_switch"]


class FileSource(Model):
    """One market-data file and how its columns map onto desk's events."""

    path: str
    format: Literal["auto", "parquet", "csv", "arrow"] = "auto"
    kind: DataKind = "trade"
    instrument: str | None = None
    ts_unit: Literal["s", "ms", "us", "ns"] = "ns"
    columns: dict[str, str] = Field(default_factory=dict)
    """desk field → the file's column name, e.g. `{ts = "timestamp", size = "qty"}`."""
    duplicates: Literal["bad", "keep"] = "bad"
    """Rows equal in every column (timestamp included) are bad data by default; "keep" them
    for a source whose identical rows are genuine separate prints."""


class SyntheticSource(Model):
    """A seeded random market: a walk with regime changes and jumps, quotes, an L2 book and
    trades."""

    instruments: list[str] | None = None
    events: int = Field(default=200_000, gt=0)
    start: str = "2024-01-02T14:30:00Z"
    step_ms: Annotated[float, Field(gt=0, le=86_400_000)] = 50.0
    start_price: PositiveFloat = 100.0
    volatility_bps: Annotated[float, Field(gt=0, le=10_000)] = 2.0
    """Standard deviation of one step's return, in basis points, in the calm regime."""
    regime_every: int = Field(default=20_000, gt=0)
    """Mean number of steps between regime changes."""
    drift_bps: NonNegFloat = 0.03
    """Size of the per-step drift in a trending regime, in basis points."""
    jump_prob: Annotated[float, Field(ge=0, le=1)] = 0.0005
    jump_bps: NonNegFloat = 150.0
    spread_ticks: int = Field(default=2, ge=1)
    levels: int = Field(default=5, ge=1, le=1_000)
    level_size: PositiveFloat = 300.0
    trade_prob: Fraction = 0.5
    trade_size: PositiveFloat = 50.0
    scenario: ScenarioName | None = None
    """A named market shape from `desk.data.scenarios`; None: the random regime walk above."""
    scenario_at: Annotated[float, Field(ge=0, lt=1)] = 0.5
    """Where in the run the scenario's event starts, as a fraction of its steps."""
    scenario_size: PositiveFloat | None = None
    """The scenario's magnitude (its meaning is in the scenario's docs); None: its default."""
    alpha_bps: NonNegFloat = 0.0
    """Planted predictability: std of a hidden AR(1) drift added to each step's return, in bps."""
    alpha_half_life: PositiveFloat = 600.0
    """Half-life of the hidden drift, in steps."""

    _start_is_iso = field_validator("start")(iso_time)

    @model_validator(mode="after")
    def _alpha_needs_scenario(self) -> SyntheticSource:
        if self.alpha_bps > 0 and self.scenario is None:
            raise ValueError("alpha_bps needs a `scenario` (e.g. \"calm\")")
        return self

    @model_validator(mode="after")
    def _ends_in_time(self) -> SyntheticSource:
        end = parse_iso_ns(self.start) + int(self.events * self.step_ms * 1_000_000)
        if ns_range_error(end):
            raise ValueError(f"{self.events:,} events of {self.step_ms:g} ms from {self.start} "
                             f"end {ns_range_error(end)}")
        return self


class DataConfig(Model):
    synthetic: SyntheticSource | None = None
    files: list[FileSource] = Field(default_factory=list)
    on_bad: Literal["fail", "skip"] = "fail"
    batch_rows: int = Field(default=65_536, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.synthetic is None and not self.files:
            raise ValueError("give [data.synthetic] or at least one [[data.files]]")
        if self.synthetic is not None and self.files:
            raise ValueError("give either [data.synthetic] or [[data.files]], not both")
        return self
