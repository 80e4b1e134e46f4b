"""The `[execution]` section: latency of each leg, slippage, fees and the queue model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from desk.config.model import Fraction, LatencyMs, Model, NonNegFloat, PositiveFloat


def used_by_model(value: Any, info: ValidationInfo, uses: dict[str, tuple[str, ...]],
                  key: str = "model") -> Any:
    """Refuse a key the chosen model does not read: a `jitter_ms` on a constant latency would
    otherwise be ignored in silence, and the run differ from what the file says. Called only
    for keys the file gives (defaults are not validated)."""
    model = info.data.get(key)
    name = info.field_name
    if model is not None and name is not None and name not in uses[model]:
        raise ValueError(f"the {model} {key.replace('_', ' ')} takes no {name} (it takes: "
                         f"{', '.join(uses[model]) or 'nothing more'})")
    return value


_LATENCY_USES = {"constant": ("ms",), "uniform": ("ms", "jitter_ms"), "lognormal": ("ms", "sigma"),
                 "empirical": ("samples_ms",)}
_SLIPPAGE_USES = {"fixed": ("bps",), "sqrt": ("bps", "k", "daily_volume", "daily_vol_bps")}
_QUEUE_USES = {"conservative": (), "probabilistic": ("queue_power",)}


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

    _used = field_validator("ms", "jitter_ms", "sigma", "samples_ms")(
        lambda value, info: used_by_model(value, info, _LATENCY_USES))

    @model_validator(mode="after")
    def _samples(self) -> LatencyModel:
        if self.model == "empirical" and not self.samples_ms:
            raise ValueError("the empirical model needs `samples_ms`")
        return self


class SlippageModel(Model):
    model: Literal["fixed", "sqrt"] = "fixed"
    bps: Annotated[float, Field(ge=0, lt=10_000)] = 0.0
    """Fixed cost per fill, in basis points of the price: below 10,000 (100%), or a sell would
    fill at a price of zero or less."""
    k: NonNegFloat = 1.0
    """Square-root impact: k · σ · sqrt(q / ADV)."""
    daily_volume: PositiveFloat = 1_000_000.0
    daily_vol_bps: PositiveFloat = 150.0

    _used = field_validator("bps", "k", "daily_volume", "daily_vol_bps")(
        lambda value, info: used_by_model(value, info, _SLIPPAGE_USES))


class FeeModel(Model):
    taker_bps: Annotated[float, Field(ge=0, lt=10_000)] = 0.0
    """A fee of all the notional or more is no fee but a typo (for 0.5% write 50)."""
    maker_bps: Annotated[float, Field(gt=-10_000, lt=10_000)] = 0.0
    """Negative for a rebate; neither can reach the whole notional."""
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

    _used = field_validator("queue_power")(
        lambda value, info: used_by_model(value, info, _QUEUE_USES, "queue_model"))
