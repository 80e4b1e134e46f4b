"""Drift filter: the lesson's "great" strategy, a Kalman filter on the mid-price's returns.

A scenario with `alpha_bps > 0` hides a slowly changing drift (an AR(1) with a
known half-life) in the returns. The drift cannot be seen, only estimated from
prices: this strategy reads the mid of each book update, filters the drift out
of the noise (the noise level is measured online), forecasts the move still to
come while the drift lasts, and holds ±size while that forecast exceeds
`enter_bps`, going flat when it falls below `exit_bps`. Its parameters describe
the market it believes in (persistence and strength of the drift), not the
answer: it sees no hidden state.
"""

from __future__ import annotations

import math

from pydantic import Field

from desk.events import BookDelta, BookSnapshot
from desk.orders import RejectInfo
from desk.strategy import Params, Strategy
from strategies.working import OrderWorker, Style


class DriftParams(Params):
    half_life: float = Field(default=600.0, gt=0)
    """Assumed half-life of the drift, in book updates."""
    signal_bps: float = Field(default=0.1, gt=0)
    """Assumed standard deviation of the drift per book update, in bps."""
    noise_half_life: float = Field(default=2_000.0, gt=0)
    """Half-life of the online estimate of the return noise, in book updates."""
    enter_bps: float = Field(default=5.0, ge=0)
    """Hold a position while the forecast move exceeds this (cover costs with a margin)."""
    exit_bps: float = 1.0
    """Go flat when the forecast move in our direction falls below this."""
    size: float = Field(default=100, gt=0)
    """The largest position, in units, long or short."""
    full_at_bps: float | None = Field(default=None, gt=0)
    """Scale the position with the forecast, reaching ±size at this forecast (steps of size/4);
    None: always ±size."""
    warmup: int = Field(default=500, ge=0)
    """Book updates observed before the first trade."""
    style: Style = "market"
    patience_ms: float = Field(default=2_000.0, ge=0)
    instrument: str | None = None


class _Filter:
    """A scalar Kalman filter of an AR(1) drift observed through noisy returns."""

    __slots__ = ("drift", "last", "noise", "p", "phi", "q", "seen", "weight")

    def __init__(self, phi: float, q: float, weight: float, noise: float) -> None:
        self.phi = phi
        self.q = q
        self.weight = weight
        self.noise = noise
        self.drift = 0.0
        self.p = q / max(1e-12, 1.0 - phi * phi)
        self.last = 0.0
        self.seen = 0

    def update(self, mid: float) -> None:
        if self.last > 0:
            ret = math.log(mid / self.last) * 1e4
            self.noise += self.weight * (ret * ret - self.noise)
            pred = self.phi * self.drift
            p_pred = self.phi * self.phi * self.p + self.q
            gain = p_pred / (p_pred + max(self.noise, 1e-12))
            self.drift = pred + gain * (ret - pred)
            self.p = (1.0 - gain) * p_pred
            self.seen += 1
        self.last = mid


class DriftFilter(Strategy):
    """Holds ±size while the filtered drift promises more than `enter_bps` of move still to come."""

    Params = DriftParams

    def on_start(self) -> None:
        p: DriftParams = self.params  # type: ignore[assignment]
        self.p = p
        self.phi = 0.5 ** (1.0 / p.half_life)
        self.q = (1.0 - self.phi ** 2) * p.signal_bps ** 2
        self.weight = 1.0 - 0.5 ** (1.0 / p.noise_half_life)
        self.horizon = self.phi / (1.0 - self.phi)
        """Σ φ^j for j ≥ 1: the drift's expected remaining contribution, in updates."""
        self.filters: dict[str, _Filter] = {}
        self.worker = OrderWorker(self.ctx, p.style, p.patience_ms)
        self.holding: dict[str, float] = {}

    def on_book(self, book: BookSnapshot | BookDelta) -> None:
        symbol = book.instrument
        p = self.p
        if p.instrument is not None and symbol != p.instrument:
            return
        mid = self.ctx.market.mid(symbol)
        if mid <= 0:
            return
        filt = self.filters.get(symbol)
        if filt is None:
            filt = self.filters[symbol] = _Filter(self.phi, self.q, self.weight,
                                                  noise=p.signal_bps ** 2 * 100)
        filt.update(mid)
        if filt.seen < p.warmup:
            return
        forecast = filt.drift * self.horizon
        held = self.holding.get(symbol, 0.0)
        if abs(forecast) > p.enter_bps:
            want = self._size(forecast)
        elif held and forecast * (1 if held > 0 else -1) < p.exit_bps:
            want = 0.0
        else:
            self.worker.work(symbol)
            return
        if want != held:
            self.holding[symbol] = want
            self.worker.target(symbol, want, f"filtered drift {filt.drift:+.3f} bps/update: "
                               f"forecast {forecast:+.1f} bps to come: target {want:+g}",
                               drift_bps=round(filt.drift, 6), forecast_bps=round(forecast, 4),
                               noise_bps=round(math.sqrt(filt.noise), 4))
        else:
            self.worker.work(symbol)

    def _size(self, forecast: float) -> float:
        p = self.p
        if p.full_at_bps is None:
            return p.size if forecast > 0 else -p.size
        steps = math.ceil(min(abs(forecast) / p.full_at_bps, 1.0) * 4)
        return math.copysign(p.size * steps / 4, forecast)

    def on_reject(self, reject: RejectInfo) -> None:
        self.worker.blocked(reject.instrument)
