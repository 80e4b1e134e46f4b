"""The whole session file as one model, and its small sections (session, instruments, strategy,
replay, audit, app, operator actions)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from desk.config.data import DataConfig
from desk.config.execution import ExecutionConfig
from desk.config.model import Model, PositiveFloat, iso_time
from desk.config.risk import RiskConfig
from desk.seeds import seed_problem
from desk.timeutil import parse_iso_ns


class SessionInfo(Model):
    name: str = "session"
    seed: int = 0
    start_cash: Annotated[float, Field(gt=0, le=1e15)] = 1_000_000.0
    currency: str = "USD"


    @field_validator("seed")
    @classmethod
    def _a_seed(cls, seed: int) -> int:
        problem = seed_problem(seed)
        if problem is not None:
            raise ValueError(problem)
        return seed


class InstrumentSpec(Model):
    symbol: str = Field(min_length=1)
    tick_size: PositiveFloat = 0.01
    lot_size: PositiveFloat = 1.0
    multiplier: PositiveFloat = 1.0


class StrategyConfig(Model):
    use: str = "momentum"
    """An entry-point name of group `desk.strategies`, or `package.module:Class`."""
    params: dict[str, Any] = Field(default_factory=dict)
    max_faults: int = Field(default=3, ge=1)
    """After this many exceptions in its callbacks the strategy is stopped."""
    on_fault: Literal["stop", "flatten"] = "stop"


class ReplayConfig(Model):
    speed: PositiveFloat | Literal["max"] = 1.0
    """Simulated seconds per wall-clock second, or "max"."""
    start: str | None = None
    stop: str | None = None

    _times_are_iso = field_validator("start", "stop")(iso_time)

    @model_validator(mode="after")
    def _start_before_stop(self) -> ReplayConfig:
        if self.start and self.stop and parse_iso_ns(self.start) > parse_iso_ns(self.stop):
            raise ValueError(f"start {self.start!r} is after stop {self.stop!r}")
        return self


class AuditConfig(Model):
    path: str = Field(default="journal.arrow", min_length=1)
    flush_every: int = Field(default=4096, gt=0)
    """Records per sealed batch: the only thing that decides the file's batch boundaries."""
    flush_ms: float = Field(default=200.0, gt=0)
    """Wall-clock bound on how long a record may wait in memory before it reaches the file."""


class AppConfig(Model):
    """Settings of `desk play` that belong to the session."""

    theme: str | None = None
    """A theme name from `themes/*.toml` (e.g. "desk-light"); `--theme` overrides it."""


class OperatorAction(Model):
    """An operator's action as recorded by the app, applied before event `seq` on replay."""

    seq: int = Field(ge=0)
    action: Literal["toggle", "set", "kill", "reset"]
    rule: str | None = None
    param: str | None = None
    value: Any = None
    enabled: bool | None = None


class Session(Model):
    session: SessionInfo = SessionInfo()
    data: DataConfig
    instruments: list[InstrumentSpec] = Field(min_length=1)
    strategy: StrategyConfig = StrategyConfig()
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    replay: ReplayConfig = ReplayConfig()
    audit: AuditConfig = AuditConfig()
    app: AppConfig = AppConfig()
    operator_actions: list[OperatorAction] = Field(default_factory=list)
