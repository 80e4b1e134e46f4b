"""Scenarios: each is deterministic per seed and shows the feature it is named for."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from desk.config import SyntheticSource
from desk.data.scenarios import FALL_STEPS, HALT_STEPS, SCENARIOS, ScenarioMarket
from desk.events import BookSnapshot, Trade

STEPS = 8_000


def generate(scenario: str, seed: int = 3, **extra: Any) -> dict[str, np.ndarray]:
    """Mids, spreads, top sizes and timestamps of each book snapshot; and the trades' timestamps."""
    settings: dict[str, Any] = {"events": STEPS * 1.5, "step_ms": 100, "volatility_bps": 1.5,
                                "jump_prob": 0.0, "scenario": scenario}
    settings.update(extra)
    settings["events"] = int(settings["events"])
    market = ScenarioMarket(SyntheticSource(**settings), ["ACME"], {"ACME": 0.01}, {"ACME": 1},
                            seed)
    mids, spreads, tops, ts, trades = [], [], [], [], []
    for batch in market.batches():
        for event in batch:
            if isinstance(event, BookSnapshot):
                mids.append((event.bids[0][0] + event.asks[0][0]) / 2)
                spreads.append(event.asks[0][0] - event.bids[0][0])
                tops.append(event.bids[0][1] + event.asks[0][1])
                ts.append(event.ts)
            elif isinstance(event, Trade):
                trades.append(event.ts)
    return {"mid": np.array(mids), "spread": np.array(spreads), "top": np.array(tops),
            "ts": np.array(ts), "trades": np.array(trades)}


def returns_bps(mid: np.ndarray) -> np.ndarray:
    return np.diff(np.log(mid)) * 1e4


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_is_deterministic_per_seed(scenario: str) -> None:
    first = generate(scenario, seed=5, events=3_000)
    again = generate(scenario, seed=5, events=3_000)
    other = generate(scenario, seed=6, events=3_000)
    for key in first:
        assert np.array_equal(first[key], again[key])
    assert not np.array_equal(first["mid"], other["mid"])


def test_flash_crash_drops_by_its_size_with_a_thin_book_and_wide_spread() -> None:
    data = generate("flash_crash", scenario_size=0.08)
    start = STEPS // 2
    before = data["mid"][start - 1]
    bottom = data["mid"][start:start + FALL_STEPS + 5].min()
    assert bottom <= before * (1 - 0.06)
    assert data["spread"][start + 10] >= 5 * np.median(data["spread"][:start])
    assert data["top"][start + 10] <= 0.3 * np.median(data["top"][:start])
    recovered = data["mid"][start + FALL_STEPS + 3_000]
    assert recovered > bottom * 1.03


def test_gap_halt_has_no_events_for_the_halt_then_reopens_away() -> None:
    data = generate("gap_halt", scenario_size=0.05, volatility_bps=0.2)
    gaps = np.diff(data["ts"])
    longest = int(gaps.argmax())
    assert gaps[longest] >= HALT_STEPS * 100 * 1_000_000
    inside = (data["trades"] > data["ts"][longest] + 1) & (data["trades"] < data["ts"][longest + 1])
    assert not inside.any()
    jump = abs(np.log(data["mid"][longest + 1] / data["mid"][longest]))
    assert abs(jump - np.log(1.05)) < 0.005


def test_liquidity_drought_widens_the_spread_and_thins_the_book() -> None:
    data = generate("liquidity_drought", scenario_size=5.0)
    start = STEPS // 2
    dry = slice(start, start + STEPS // 4)
    wet = slice(0, start)
    assert data["spread"][dry].mean() >= 3 * data["spread"][wet].mean()
    assert data["top"][dry].mean() <= 0.4 * data["top"][wet].mean()
    trade_rate_dry = np.sum((data["trades"] >= data["ts"][start])
                            & (data["trades"] < data["ts"][start + STEPS // 4])) / (STEPS // 4)
    trade_rate_wet = np.sum(data["trades"] < data["ts"][start]) / start
    assert trade_rate_dry < 0.6 * trade_rate_wet


def test_regime_switch_raises_volatility_after_the_switch() -> None:
    r = returns_bps(generate("regime_switch")["mid"])
    half = len(r) // 2
    assert r[half + 10:].std() >= 2.5 * r[:half - 10].std()


def test_vol_clustering_makes_squared_returns_autocorrelated() -> None:
    r = returns_bps(generate("vol_clustering", volatility_bps=5.0)["mid"])
    sq = r * r
    assert np.corrcoef(sq[:-1], sq[1:])[0, 1] > 0.05
    calm = returns_bps(generate("calm", scenario_size=1.0, volatility_bps=5.0)["mid"]) ** 2
    assert abs(np.corrcoef(calm[:-1], calm[1:])[0, 1]) < 0.05


def test_trending_moves_the_price_by_its_size() -> None:
    mid = generate("trending", scenario_size=0.05, volatility_bps=0.3)["mid"]
    assert abs(abs(np.log(mid[-1] / mid[0])) - np.log(1.05)) < 0.01


def test_mean_reverting_stays_near_its_start() -> None:
    reverting = generate("mean_reverting", scenario_size=200.0, volatility_bps=3.0)["mid"]
    walk = generate("calm", scenario_size=1.0, volatility_bps=3.0)["mid"]
    assert np.abs(np.log(reverting / 100.0)).max() < 0.5 * np.abs(np.log(walk / 100.0)).max()


def test_calm_has_half_the_volatility() -> None:
    r = returns_bps(generate("calm", volatility_bps=4.0)["mid"])
    assert 1.5 < r.std() < 2.5


def test_planted_alpha_makes_past_returns_predict_future_returns() -> None:
    def lagged_corr(mid: np.ndarray, h: int = 50) -> float:
        log = np.log(mid[::h])
        r = np.diff(log)
        return float(np.corrcoef(r[:-1], r[1:])[0, 1])

    planted = generate("calm", scenario_size=1.0, alpha_bps=0.3, alpha_half_life=200)["mid"]
    plain = generate("calm", scenario_size=1.0)["mid"]
    assert lagged_corr(planted) > 0.3
    assert abs(lagged_corr(plain)) < 0.2


def test_alpha_without_a_scenario_is_a_session_error() -> None:
    with pytest.raises(ValueError, match="alpha_bps needs a `scenario`"):
        SyntheticSource(alpha_bps=0.1)
