"""The session file: TOML read with tomllib into frozen pydantic models, errors worded in the
file's terms."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desk.errors import SessionError
from desk.timeutil import is_iso_time, ns_range_error, parse_iso_ns, parse_offset_ns

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
LatencyMs = Annotated[float, Field(ge=0, le=3_600_000)]
"""A delay in milliseconds, at most an hour: beyond that simulated times leave int64."""


def _iso(value: str | None) -> str | None:
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


class SessionInfo(Model):
    name: str = "session"
    seed: int = Field(default=0, ge=0)
    start_cash: Annotated[float, Field(gt=0, le=1e15)] = 1_000_000.0
    currency: str = "USD"


class InstrumentSpec(Model):
    symbol: str = Field(min_length=1)
    tick_size: PositiveFloat = 0.01
    lot_size: PositiveFloat = 1.0
    multiplier: PositiveFloat = 1.0


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

    _start_is_iso = field_validator("start")(_iso)

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


class StrategyConfig(Model):
    use: str = "momentum"
    """An entry-point name of group `desk.strategies`, or `package.module:Class`."""
    params: dict[str, Any] = Field(default_factory=dict)
    max_faults: int = Field(default=3, ge=1)
    """After this many exceptions in its callbacks the strategy is stopped."""
    on_fault: Literal["stop", "flatten"] = "stop"


# --- risk -----------------------------------------------------------------------


class PositionLimit(Model):
    max_qty: PositiveFloat | None = None
    max_notional: PositiveFloat | None = None


class MaxPositionRule(Model):
    enabled: bool = True
    max_qty: PositiveFloat | None = 1_000.0
    max_notional: PositiveFloat | None = None
    per_instrument: dict[str, PositionLimit] = Field(default_factory=dict)


class MaxLeverageRule(Model):
    enabled: bool = True
    limit: PositiveFloat = 2.0


class MaxDrawdownRule(Model):
    enabled: bool = True
    tolerance: Fraction = 0.10
    """Beyond this drawdown only risk-reducing orders pass (mode REDUCING)."""
    halt: Fraction | None = None
    """Beyond this drawdown every new order is blocked (mode HALTED)."""
    resume_below: Fraction | None = None
    """Back to ACTIVE when drawdown falls below this; None: only an explicit reset."""

    @model_validator(mode="after")
    def _ordered(self) -> MaxDrawdownRule:
        # resume_below ≥ tolerance would switch REDUCING ↔ ACTIVE on every mark
        if self.resume_below is not None and self.resume_below >= self.tolerance:
            raise ValueError(f"resume_below ({self.resume_below:g}) must be below tolerance "
                             f"({self.tolerance:g}), or the mode flips back and forth on "
                             "every tick")
        if self.halt is not None and self.halt < self.tolerance:
            raise ValueError(f"halt ({self.halt:g}) must be at least tolerance "
                             f"({self.tolerance:g}): REDUCING comes before HALTED")
        return self


class CashRule(Model):
    enabled: bool = True
    buffer_bps: NonNegFloat = 10.0
    """Slippage allowance reserved on top of the price of a buy."""


class MaxOrderSizeRule(Model):
    enabled: bool = True
    max_qty: PositiveFloat | None = None
    max_notional: PositiveFloat | None = None


class OrderRateRule(Model):
    enabled: bool = True
    max_orders: int = Field(default=10, gt=0)
    per_seconds: PositiveFloat = 1.0


class PriceBandRule(Model):
    enabled: bool = True
    pct: PositiveFloat = 5.0
    """A limit price further than this percentage from the mark is blocked."""


class KillSwitchRule(Model):
    enabled: bool = True
    engaged: bool = False


class ScheduleItem(Model):
    """A timed change: at `at`, set `rule.param = value` and/or switch `rule` on or off."""

    at: int | str
    """Epoch ns, an ISO time, or an offset from the first event such as `"+90s"`."""
    rule: str
    param: str | None = None
    value: Any = None
    enabled: bool | None = None

    @field_validator("at")
    @classmethod
    def _when(cls, value: int | str) -> int | str:
        offset = parse_offset_ns(value) if isinstance(value, str) else None
        if isinstance(value, int):
            ns = value
        elif offset is not None:
            ns = offset
        elif is_iso_time(value):
            ns = parse_iso_ns(value)
        else:
            raise ValueError(f"{value!r} is neither an ISO time nor an offset like \"+90s\" "
                             "or \"+2m10s\"")
        problem = ns_range_error(ns)
        if problem:
            raise ValueError(f"{value!r} is {problem}")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> ScheduleItem:
        if self.param is None and self.enabled is None:
            raise ValueError("give `param` and `value`, or `enabled`")
        if self.param is not None and self.value is None:
            raise ValueError(f"`param = {self.param!r}` needs a `value`")
        return self


class RiskConfig(Model):
    max_position: MaxPositionRule = MaxPositionRule()
    max_leverage: MaxLeverageRule = MaxLeverageRule()
    max_drawdown: MaxDrawdownRule = MaxDrawdownRule()
    cash: CashRule = CashRule()
    max_order_size: MaxOrderSizeRule = MaxOrderSizeRule()
    order_rate: OrderRateRule = OrderRateRule()
    price_band: PriceBandRule = PriceBandRule()
    kill_switch: KillSwitchRule = KillSwitchRule()
    schedule: list[ScheduleItem] = Field(default_factory=list)


# --- execution ---------------------------------------------------------------------


class LatencyModel(Model):
    """How long one leg takes, in milliseconds."""

    model: Literal["constant", "uniform", "lognormal", "empirical"] = "constant"
    ms: LatencyMs = 0.0
    """The constant, the uniform's lower bound, or the lognormal's median."""
    jitter_ms: LatencyMs = 0.0
    """The uniform's width above `ms`."""
    sigma: Annotated[float, Field(ge=0, le=3)] = 0.5
    """The lognormal's shape."""
    samples_ms: list[LatencyMs] = Field(default_factory=list)
    """Observed latencies the empirical model draws from."""

    @model_validator(mode="after")
    def _samples(self) -> LatencyModel:
        if self.model == "empirical" and not self.samples_ms:
            raise ValueError("the empirical model needs `samples_ms`")
        return self


class SlippageModel(Model):
    model: Literal["fixed", "sqrt"] = "fixed"
    bps: NonNegFloat = 0.0
    """Fixed cost per fill, in basis points of the price."""
    k: NonNegFloat = 1.0
    """Square-root impact: k · σ · sqrt(q / ADV)."""
    daily_volume: PositiveFloat = 1_000_000.0
    daily_vol_bps: PositiveFloat = 150.0


class FeeModel(Model):
    taker_bps: NonNegFloat = 0.0
    maker_bps: float = 0.0
    per_unit: NonNegFloat = 0.0
    minimum: NonNegFloat = 0.0


class ExecutionConfig(Model):
    entry_latency: LatencyModel = LatencyModel()
    """Desk → venue: orders and cancels."""
    response_latency: LatencyModel = LatencyModel()
    """Venue → desk: fill and end reports."""
    feed_latency: LatencyModel | None = None
    """Venue → desk for market data: the strategy, marks and risk see the market this late."""
    slippage: SlippageModel = SlippageModel()
    fees: FeeModel = FeeModel()
    max_volume_share: Fraction = 1.0
    """A cap on the share of the visible liquidity (or of a trade) one order may take per event."""
    queue_model: Literal["conservative", "probabilistic"] = "conservative"
    queue_power: PositiveFloat = 2.0
    """The probabilistic queue's power: a cancel is behind us with odds back**p : front**p."""
    cash_policy: Literal["clip", "reserve"] = "clip"


class ReplayConfig(Model):
    speed: PositiveFloat | Literal["max"] = 1.0
    """Simulated seconds per wall-clock second, or "max"."""
    start: str | None = None
    stop: str | None = None

    _times_are_iso = field_validator("start", "stop")(_iso)

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

    @model_validator(mode="after")
    def _instruments_unique(self) -> Session:
        symbols = [spec.symbol for spec in self.instruments]
        duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
        if duplicates:
            raise ValueError(f"instrument listed twice: {', '.join(duplicates)}")
        return self


class LoadedSession:
    """A validated session and the folder its relative paths are read from."""

    def __init__(self, config: Session, path: Path | None) -> None:
        self.config = config
        self.path = path
        self.base = path.parent if path is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path written in the session file, read relative to the file's folder."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate


def format_location(loc: tuple[int | str, ...]) -> str:
    """Pydantic's error location as the user wrote the key: `risk.schedule[0].at`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


_TYPE_TAGS = frozenset(("int", "str", "float", "bool", "list", "dict", "bytes", "none"))


def _union_tag(part: int | str) -> bool:
    """Whether a location part names a branch of a union (`int`, `literal['max']`), not a key."""
    return isinstance(part, str) and (part in _TYPE_TAGS or not part.isidentifier())


def validation_lines(where: str, error: ValidationError) -> list[str]:
    """One line per problem: `where: key.path: message`; a union's branches make one line."""
    items: list[tuple[tuple[int | str, ...], str, bool]] = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        tagged = bool(loc) and _union_tag(loc[-1])
        base = loc[:-1] if tagged else loc
        if tagged and items and items[-1][2] and items[-1][0] == base:
            wanted = message.removeprefix("Input should be ").split(",")[0]
            items[-1] = (base, f"{items[-1][1]} or {wanted}", True)
        else:
            if not tagged and (item["type"].endswith("_type") or item["type"] == "finite_number"):
                message = f"{message} (not {_as_toml(item['input'])})"
            items.append((base, message.split(",")[0] if tagged else message, tagged))
    return [f"{where}: {format_location(loc)}: {message}" for loc, message, _ in items]


def _as_toml(value: Any) -> str:
    """A value as the session file spells it: `true`, `"7"`, `inf`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:40]}…"'
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value)


def parse_session(data: dict[str, Any], where: str, path: Path | None = None) -> LoadedSession:
    """Validate a session already read into a dict; raise SessionError listing every problem.

    Beyond the models' own checks, what needs the whole session (instrument
    names, rule names, data files on disk, the strategy and its parameters) is
    checked here, so a mistake is reported before a journal is created.
    """
    try:
        config = Session.model_validate(data)
    except ValidationError as error:
        raise SessionError("\n".join(validation_lines(where, error))) from None
    loaded = LoadedSession(config, path)
    lines = [f"{where}: {key}: {message}" for key, message in cross_checks(loaded)]
    if lines:
        raise SessionError("\n".join(lines))
    check_strategy(config.strategy, where)
    return loaded


def cross_checks(loaded: LoadedSession) -> list[tuple[str, str]]:
    """(key path, message) for each name that points nowhere and each data file that is missing."""
    from desk.data.files import FIELDS

    cfg = loaded.config
    symbols = [spec.symbol for spec in cfg.instruments]
    known = ", ".join(symbols)
    found: list[tuple[str, str]] = []
    for symbol in cfg.risk.max_position.per_instrument:
        if symbol not in symbols:
            found.append((f"risk.max_position.per_instrument.{symbol}",
                          f"{symbol!r} is not in [[instruments]] ({known})"))
    rules = [name for name in RiskConfig.model_fields if name != "schedule"]
    for index, item in enumerate(cfg.risk.schedule):
        if item.rule not in rules:
            found.append((f"risk.schedule[{index}].rule",
                          f"no risk rule {item.rule!r} (rules: {', '.join(rules)})"))
    synthetic = cfg.data.synthetic
    for index, symbol in enumerate(synthetic.instruments or [] if synthetic else []):
        if symbol not in symbols:
            found.append((f"data.synthetic.instruments[{index}]",
                          f"{symbol!r} is not in [[instruments]] ({known})"))
    for index, source in enumerate(cfg.data.files):
        key = f"data.files[{index}]"
        if source.instrument is not None and source.instrument not in symbols:
            found.append((f"{key}.instrument", f"{source.instrument!r} is not in [[instruments]] "
                          f"({known})"))
        required, optional = FIELDS[source.kind]
        for field in source.columns:
            if field not in required + optional:
                found.append((f"{key}.columns.{field}", f"not a desk field of kind "
                              f"{source.kind!r} (fields: {', '.join(required + optional)})"))
        file = loaded.resolve(source.path)
        if not file.exists():
            found.append((f"{key}.path", f"no such file: {file}"))
        elif file.is_dir():
            found.append((f"{key}.path", f"{file} is a folder, not a data file"))
    return found


def check_strategy(strategy: StrategyConfig, where: str) -> None:
    """Find the strategy and validate its parameters at load; a StrategyError names the key."""
    from desk.strategy import find_strategy, make_params

    make_params(find_strategy(strategy.use, where), strategy.params, where)


def load_session(path: str | Path) -> LoadedSession:
    """Read and validate a session file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SessionError(f"{path}: no such session file") from None
    except OSError as error:
        raise SessionError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SessionError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as error:
        raise SessionError(f"{path}: invalid TOML: {error}") from None
    return parse_session(data, str(path), path)
