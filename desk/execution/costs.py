"""Slippage and fee models: what trading costs beyond the quoted price."""

from __future__ import annotations

import math

from desk.config import FeeModel, SlippageModel


class Slippage:
    """Price impact of a fill with no book to walk: fixed bps, or square-root impact k·σ·sqrt(q/ADV)."""

    def __init__(self, model: SlippageModel) -> None:
        self.model = model.model
        self.bps = model.bps
        self.k = model.k
        self.adv = model.daily_volume
        self.sigma = model.daily_vol_bps / 1e4

    def fraction(self, qty: float) -> float:
        """The adverse move as a fraction of the price for an order of `qty` (unsigned)."""
        if self.model == "fixed":
            return self.bps / 1e4
        return self.bps / 1e4 + self.k * self.sigma * math.sqrt(abs(qty) / self.adv)


class Fees:
    """Maker and taker basis points, a per-unit charge, and a minimum per fill."""

    def __init__(self, model: FeeModel) -> None:
        self.taker = model.taker_bps / 1e4
        self.maker = model.maker_bps / 1e4
        self.per_unit = model.per_unit
        self.minimum = model.minimum

    def fee(self, qty: float, price: float, multiplier: float, maker: bool) -> float:
        rate = self.maker if maker else self.taker
        fee = abs(qty) * price * multiplier * rate + abs(qty) * self.per_unit
        return max(fee, self.minimum) if fee >= 0 else fee  # a maker rebate is negative and has no minimum

    def affordable(self, cash: float, price: float, multiplier: float, maker: bool) -> float:
        """The most units `cash` pays for, fees included (not rounded to lots).

        The cost of q units is `q·unit + max(q·v, minimum)` with `v` the fee per
        unit: either the proportional fee binds (q = cash / (unit + v)) or the
        minimum does (q = (cash − minimum) / unit).
        """
        if cash <= 0:
            return 0.0
        unit = price * multiplier
        variable = price * multiplier * (self.maker if maker else self.taker) + self.per_unit
        if variable < 0:
            return cash / (unit + variable)  # a rebate: no minimum
        qty = cash / (unit + variable)
        if qty * variable >= self.minimum:
            return qty
        return max(cash - self.minimum, 0.0) / unit

    @property
    def worst_rate(self) -> float:
        """The highest proportional fee, for reserving cash before we know how an order fills."""
        return max(self.taker, self.maker, 0.0)
