"""The session file: TOML read with tomllib into frozen pydantic models, errors worded in the
file's terms."""

from desk.config.data import DataConfig, DataKind, FileSource, ScenarioName, SyntheticSource
from desk.config.execution import ExecutionConfig, FeeModel, LatencyModel, SlippageModel
from desk.config.loader import (
    LoadedSession,
    check_strategy,
    cross_checks,
    load_session,
    parse_session,
)
from desk.config.model import STRICT, Fraction, LatencyMs, Model, NonNegFloat, PositiveFloat
from desk.config.risk import (
    NO_LIMIT,
    CashRule,
    KillSwitchRule,
    MaxDrawdownRule,
    MaxLeverageRule,
    MaxOrderSizeRule,
    MaxPositionRule,
    OrderRateRule,
    PositionLimit,
    PriceBandRule,
    RiskConfig,
    ScheduleItem,
    limit_value,
)
from desk.config.session import (
    AppConfig,
    AuditConfig,
    InstrumentSpec,
    OperatorAction,
    ReplayConfig,
    Session,
    SessionInfo,
    StrategyConfig,
)
from desk.config.wording import format_location, validation_lines

__all__ = [
    "NO_LIMIT", "STRICT", "AppConfig", "AuditConfig", "CashRule", "DataConfig", "DataKind",
    "ExecutionConfig", "FeeModel", "FileSource", "Fraction", "InstrumentSpec", "KillSwitchRule",
    "LatencyModel", "LatencyMs", "LoadedSession", "MaxDrawdownRule", "MaxLeverageRule",
    "MaxOrderSizeRule", "MaxPositionRule", "Model", "NonNegFloat", "OperatorAction",
    "OrderRateRule", "PositionLimit", "PositiveFloat", "PriceBandRule", "ReplayConfig",
    "RiskConfig", "ScenarioName", "ScheduleItem", "Session", "SessionInfo", "SlippageModel",
    "StrategyConfig", "SyntheticSource", "check_strategy", "cross_checks", "format_location",
    "limit_value", "load_session", "parse_session", "validation_lines",
]
