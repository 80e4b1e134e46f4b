"""Latency models for one leg of the trip between desk and venue, seeded for determinism."""

from __future__ import annotations

import math
import random

from desk.config import LatencyModel

_MS = 1_000_000

CAP_NS = 3_600 * 1_000_000_000
"""No single leg takes longer than an hour: a lognormal's far tail would otherwise push
simulated times past what int64 nanoseconds hold (and no venue answers an hour late)."""


class Latency:
    """One leg's delay in integer nanoseconds: constant, uniform, lognormal or empirical."""

    def __init__(self, model: LatencyModel, seed: int) -> None:
        self.model = model.model
        self.base_ns = round(model.ms * _MS)
        self.jitter_ns = round(model.jitter_ms * _MS)
        self.sigma = model.sigma
        self.samples_ns = [round(ms * _MS) for ms in model.samples_ms]
        self._rng = random.Random(seed)
        self._mu = math.log(model.ms) if model.ms > 0 else 0.0

    def sample(self) -> int:
        """One delay, never negative."""
        if self.model == "constant":
            return self.base_ns
        if self.model == "uniform":
            return self.base_ns + round(self._rng.random() * self.jitter_ns)
        if self.model == "lognormal":
            if self.base_ns == 0:
                return 0
            return min(round(self._rng.lognormvariate(self._mu, self.sigma) * _MS), CAP_NS)
        return self._rng.choice(self.samples_ns)

    def describe(self) -> str:
        ms = self.base_ns / _MS
        if self.model == "constant":
            return f"{ms:g} ms"
        if self.model == "uniform":
            return f"{ms:g}–{ms + self.jitter_ns / _MS:g} ms"
        if self.model == "lognormal":
            return f"lognormal median {ms:g} ms σ {self.sigma:g}"
        return f"empirical over {len(self.samples_ns)} samples"
