"""Named synthetic markets, each with one defining feature, and optional planted predictability.

One random walk says little about a strategy. The lesson needs worlds whose
shape is known, so that a result can be traced to the feature that caused it
(a crash, a drought of liquidity, a halt), and a predictable component of known
strength, so that a "great" strategy is great for a stated reason.

Every scenario is a deterministic function of the seed. `scenario_at` sets
where its event starts (a fraction of the run's steps) and `scenario_size` its
magnitude; `SCENARIOS` documents what the size means for each one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from desk.config import SyntheticSource
from desk.events import BookSnapshot, Trade
from desk.timeutil import parse_iso_ns

SCENARIOS: dict[str, tuple[float, str]] = {
    "calm": (0.5, "half the configured volatility, no jumps; size: the volatility multiplier"),
    "trending": (0.05, "a steady drift (random sign) that moves the price by `size` over the run"),
    "mean_reverting": (500.0, "the log price is pulled back to its start with a half-life of "
                              "`size` steps"),
    "vol_clustering": (0.98, "GARCH(1,1) volatility: calm spells and bursts; size: persistence "
                             "α+β (α = 0.08)"),
    "flash_crash": (0.08, "at `scenario_at` the price falls by `size` within 200 steps while the "
                          "book thins ×10 and the spread widens ×8, then recovers 60% of the fall "
                          "over 3,000 steps"),
    "gap_halt": (0.05, "at `scenario_at` trading halts for 3,000 steps (no events at all) and "
                       "reopens `size` away (random sign) with a wide spread"),
    "liquidity_drought": (5.0, "from `scenario_at` for a quarter of the run the spread widens "
                               "×size, the book holds 1/size of its depth and trades come 3× "
                               "rarer"),
    "regime_switch": (2.5, "calm (0.6× volatility, no drift) until `scenario_at`, then volatility "
                           "×size and a trend (random sign) of 3% over the rest of the run"),
}
"""name → (default size, what the scenario does)."""

FALL_STEPS = 200
RECOVERY_STEPS = 3_000
RECOVERED = 0.6
HALT_STEPS = 3_000
GARCH_ALPHA = 0.08

Event = Trade | BookSnapshot


@dataclass(slots=True)
class Shape:
    """What the scenario does to each step of a chunk (arrays of the chunk's length)."""

    vol: np.ndarray
    drift_bps: np.ndarray
    spread: np.ndarray
    depth: np.ndarray
    trades: np.ndarray
    halted: np.ndarray


def shape(name: str, steps: np.ndarray, total: int, at: float, size: float,
          sign: float, drift_bps: float) -> Shape:
    """The scenario's per-step multipliers and moves for the global step indices `steps`."""
    n = len(steps)
    ones = np.ones(n)
    out = Shape(ones.copy(), np.zeros(n), ones.copy(), ones.copy(), ones.copy(),
                np.zeros(n, dtype=bool))
    start = int(at * total)
    since = steps - start
    if name == "calm":
        out.vol *= size
    elif name == "trending":
        out.drift_bps += sign * math.log1p(size) / total * 1e4
    elif name == "flash_crash":
        fall = (since >= 0) & (since < FALL_STEPS)
        recovery = (since >= FALL_STEPS) & (since < FALL_STEPS + RECOVERY_STEPS)
        drop = math.log1p(-min(size, 0.95)) * 1e4
        out.drift_bps[fall] += drop / FALL_STEPS
        out.drift_bps[recovery] += -RECOVERED * drop / RECOVERY_STEPS
        ease = np.clip(1.0 - (since - FALL_STEPS) / RECOVERY_STEPS, 0.0, 1.0)
        stressed = fall | recovery
        weight = np.where(fall, 1.0, ease)[stressed]
        out.spread[stressed] = 1.0 + 7.0 * weight
        out.depth[stressed] = 1.0 - 0.9 * weight
        out.vol[stressed] = 1.0 + 2.0 * weight
    elif name == "gap_halt":
        out.halted[(since >= 0) & (since < HALT_STEPS)] = True
        reopen = since == HALT_STEPS
        out.drift_bps[reopen] += sign * math.log1p(min(size, 0.95)) * 1e4
        after = (since >= HALT_STEPS) & (since < HALT_STEPS + 300)
        out.spread[after] = 1.0 + 3.0 * (1.0 - (since[after] - HALT_STEPS) / 300)
    elif name == "liquidity_drought":
        dry = (since >= 0) & (since < max(1, total // 4))
        out.spread[dry] = size
        out.depth[dry] = 1.0 / size
        out.trades[dry] = 1.0 / 3.0
    elif name == "regime_switch":
        before = since < 0
        out.vol[before] = 0.6
        out.vol[~before] = size
        rest = max(1, total - start)
        out.drift_bps[~before] += sign * math.log1p(0.03) / rest * 1e4
    return out


class ScenarioMarket:
    """Generates a scenario's events in time order, chunk by chunk, like `SyntheticMarket`."""

    def __init__(self, config: SyntheticSource, symbols: list[str], ticks: dict[str, float],
                 lots: dict[str, float], seed: int, chunk: int = 4096) -> None:
        assert config.scenario is not None
        self.config = config
        self.name = config.scenario
        self.size = config.scenario_size or SCENARIOS[self.name][0]
        self.symbols = config.instruments or symbols
        self.ticks = ticks
        self.lots = lots
        self.seed = seed
        self.chunk = chunk
        self.start_ns = parse_iso_ns(config.start)

    def steps_total(self) -> int:
        cfg = self.config
        return max(1, round(cfg.events / (1.0 + cfg.trade_prob) / len(self.symbols)))

    def batches(self) -> Iterator[list[Event]]:
        """Lists of events in time order."""
        cfg = self.config
        n_sym = len(self.symbols)
        total = self.steps_total()
        rng = np.random.default_rng(self.seed)
        signs = rng.choice([-1.0, 1.0], n_sym)
        step_ns = round(cfg.step_ms * 1_000_000)
        mids = np.full(n_sym, cfg.start_price)
        anchor = math.log(cfg.start_price)
        garch = self.name == "vol_clustering"
        beta = max(0.0, min(self.size, 0.999) - GARCH_ALPHA)
        omega = 1.0 - GARCH_ALPHA - beta
        variance = np.ones(n_sym)
        last_shock = np.zeros(n_sym)
        pull = 1.0 - 0.5 ** (1.0 / self.size) if self.name == "mean_reverting" else 0.0
        phi = 0.5 ** (1.0 / cfg.alpha_half_life)
        alpha_scale = cfg.alpha_bps * math.sqrt(1.0 - phi * phi)
        alpha = rng.standard_normal(n_sym) * cfg.alpha_bps
        jump_prob = 0.0 if self.name == "calm" else cfg.jump_prob
        for first in range(0, total, self.chunk):
            count = min(self.chunk, total - first)
            steps = np.arange(first, first + count)
            shocks = rng.standard_normal((count, n_sym))
            alpha_noise = rng.standard_normal((count, n_sym))
            jumps = ((rng.random((count, n_sym)) < jump_prob)
                     * rng.choice([-1.0, 1.0], (count, n_sym)))
            trade_draw = rng.random((count, n_sym))
            aggressor = np.where(rng.random((count, n_sym)) < 0.5, 1, -1)
            trade_sizes = rng.exponential(cfg.trade_size, (count, n_sym))
            level_noise = rng.uniform(0.5, 1.5, (count, n_sym, 2, cfg.levels))
            shapes = [shape(self.name, steps, total, cfg.scenario_at, self.size, float(signs[k]),
                            cfg.drift_bps) for k in range(n_sym)]
            out: list[Event] = []
            for row in range(count):
                ts_step = self.start_ns + (first + row) * step_ns
                for k, symbol in enumerate(self.symbols):
                    sh = shapes[k]
                    alpha[k] = phi * alpha[k] + alpha_scale * alpha_noise[row, k]
                    vol = sh.vol[row] * cfg.volatility_bps
                    if garch:
                        variance[k] = omega + GARCH_ALPHA * last_shock[k] ** 2 + beta * variance[k]
                        vol *= math.sqrt(variance[k])
                        last_shock[k] = shocks[row, k]
                    ret_bps = (sh.drift_bps[row] + vol * shocks[row, k] + alpha[k]
                               + jumps[row, k] * cfg.jump_bps)
                    if pull:
                        ret_bps -= pull * (math.log(mids[k]) - anchor) * 1e4
                    mids[k] = max(mids[k] * math.exp(ret_bps / 1e4), 10 * self.ticks[symbol])
                    if sh.halted[row]:
                        continue
                    ts = ts_step + k * 1_000
                    out.extend(self._step(symbol, ts, float(mids[k]), level_noise[row, k],
                                          trade_draw[row, k] < cfg.trade_prob * sh.trades[row],
                                          int(aggressor[row, k]), float(trade_sizes[row, k]),
                                          float(sh.spread[row]), float(sh.depth[row])))
                    if len(out) >= 256:  # small batches: a paced replay never waits on a block
                        yield out
                        out = []
            yield out

    def _step(self, symbol: str, ts: int, mid: float, noise: np.ndarray, trades: bool,
              aggressor: int, trade_size: float, spread: float, depth: float) -> list[Event]:
        cfg = self.config
        tick = self.ticks[symbol]
        lot = self.lots[symbol]
        spread_ticks = max(1, round(cfg.spread_ticks * spread))
        best_bid = round(round(mid / tick - spread_ticks / 2) * tick, 10)
        best_ask = round(best_bid + spread_ticks * tick, 10)
        sizes = np.maximum(np.round(cfg.level_size * depth * noise / lot), 1.0) * lot
        levels = range(cfg.levels)
        bids = tuple((round(best_bid - i * tick, 10), float(sizes[0, i])) for i in levels)
        asks = tuple((round(best_ask + i * tick, 10), float(sizes[1, i])) for i in levels)
        events: list[Event] = [BookSnapshot(ts, symbol, bids, asks)]
        if trades:
            price = best_ask if aggressor > 0 else best_bid
            size = max(round(trade_size / lot), 1) * lot
            events.append(Trade(ts + 1, symbol, price, float(size), aggressor))
        return events
