"""A seeded synthetic market: a random walk with regime changes and jumps, an L2 book and trades.

It lets a session run with no data file, and gives tests and demos a market
whose every detail is reproducible from the seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from desk.config import SyntheticSource
from desk.events import BookSnapshot, Trade
from desk.timeutil import parse_iso_ns

REGIMES = ("calm", "trend_up", "trend_down", "volatile")
"""Regime names; each sets the drift sign and a volatility multiplier."""
_DRIFT = np.array([0.0, 1.0, -1.0, 0.0])
_VOL = np.array([1.0, 1.0, 1.0, 3.0])

Event = Trade | BookSnapshot


_YIELD_EVERY = 256
"""Events per yielded list. The random draws stay per chunk (so the market is the same); smaller
lists only spread the building of events, so no single `pop()` stalls a paced viewer."""


class SyntheticMarket:
    """Generates events in time order, chunk by chunk, so memory does not grow with the run's
    length."""

    def __init__(self, config: SyntheticSource, symbols: list[str], ticks: dict[str, float],
                 lots: dict[str, float], seed: int, chunk: int = 4096) -> None:
        self.config = config
        self.symbols = config.instruments or symbols
        self.ticks = ticks
        self.lots = lots
        self.seed = seed
        self.chunk = chunk
        self.start_ns = parse_iso_ns(config.start)

    def batches(self) -> Iterator[list[Event]]:
        """Lists of events in time order; about `config.events` events in all."""
        cfg = self.config
        n_sym = len(self.symbols)
        events_per_step = 1.0 + cfg.trade_prob
        steps_total = max(1, round(cfg.events / events_per_step / n_sym))
        rng = np.random.default_rng(self.seed)
        step_ns = round(cfg.step_ms * 1_000_000)
        mids = np.full(n_sym, cfg.start_price)
        regimes = np.zeros(n_sym, dtype=np.int64)
        emitted = 0
        for first in range(0, steps_total, self.chunk):
            count = min(self.chunk, steps_total - first)
            shocks = rng.standard_normal((count, n_sym))
            switch = rng.random((count, n_sym)) < 1.0 / cfg.regime_every
            new_regime = rng.integers(0, len(REGIMES), (count, n_sym))
            jumps = ((rng.random((count, n_sym)) < cfg.jump_prob)
                     * rng.choice([-1.0, 1.0], (count, n_sym)))
            trade_draw = rng.random((count, n_sym))
            aggressor = np.where(rng.random((count, n_sym)) < 0.5, 1, -1)
            trade_sizes = rng.exponential(cfg.trade_size, (count, n_sym))
            level_noise = rng.uniform(0.5, 1.5, (count, n_sym, 2, cfg.levels))
            out: list[Event] = []
            for row in range(count):
                ts_step = self.start_ns + (first + row) * step_ns
                for k, symbol in enumerate(self.symbols):
                    if switch[row, k]:
                        regimes[k] = new_regime[row, k]
                    regime = regimes[k]
                    ret = (_DRIFT[regime] * cfg.drift_bps + _VOL[regime] * cfg.volatility_bps
                           * shocks[row, k] + jumps[row, k] * cfg.jump_bps) / 1e4
                    mids[k] = max(mids[k] * (1.0 + ret), 10 * self.ticks[symbol])
                    ts = ts_step + k * 1_000
                    out.extend(self._step(symbol, ts, float(mids[k]), level_noise[row, k],
                                          trade_draw[row, k] < cfg.trade_prob,
                                          int(aggressor[row, k]), float(trade_sizes[row, k])))
                if len(out) >= _YIELD_EVERY:
                    emitted += len(out)
                    yield out
                    out = []
            emitted += len(out)
            yield out

    def _step(self, symbol: str, ts: int, mid: float, noise: np.ndarray, trades: bool,
              aggressor: int, trade_size: float) -> list[Event]:
        cfg = self.config
        tick = self.ticks[symbol]
        lot = self.lots[symbol]
        half = cfg.spread_ticks / 2
        best_bid = round((round(mid / tick - half)) * tick, 10)
        best_ask = round(best_bid + cfg.spread_ticks * tick, 10)
        sizes = np.maximum(np.round(cfg.level_size * noise / lot), 1.0) * lot
        bids = tuple((round(best_bid - i * tick, 10), float(sizes[0, i]))
                     for i in range(cfg.levels))
        asks = tuple((round(best_ask + i * tick, 10), float(sizes[1, i]))
                     for i in range(cfg.levels))
        events: list[Event] = [BookSnapshot(ts, symbol, bids, asks)]
        if trades:
            price = best_ask if aggressor > 0 else best_bid
            size = max(round(trade_size / lot), 1) * lot
            events.append(Trade(ts + 1, symbol, price, float(size), aggressor))
        return events
