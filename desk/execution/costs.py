"""Slippage and fee models: what trading costs beyond the quoted price."""

from __future__ import annotations

import math

from desk.config import FeeModel, SlippageModel


class Slippage:
    """Price impact of a fill with no book to walk: fixed bps, or square-root k·σ·sqrt(q/ADV)."""

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
    """Maker and taker basis points, a per-unit charge, and a minimum per order.

    A broker's minimum is per order, not per fill: an order that walks four
    levels, or fills in ten pieces at its limit, pays it once. It is charged as
    the fills come, so each fill report carries its own fee and the portfolio
    stays the only writer of cash: the first fill that costs anything pays at
    least the minimum, and later fills pay only what takes the order's total
    beyond it. An order's fees therefore sum to `max(Σ proportional, minimum)`
    over its charged fills, plus any maker rebates (which have no minimum).
    """

    def __init__(self, model: FeeModel) -> None:
        self.taker = model.taker_bps / 1e4
        self.maker = model.maker_bps / 1e4
        self.per_unit = model.per_unit
        self.minimum = model.minimum

    def proportional(self, qty: float, price: float, multiplier: float, maker: bool) -> float:
        """The fee of one fill by rate and per unit, before any minimum; negative is a rebate."""
        rate = self.maker if maker else self.taker
        return abs(qty) * price * multiplier * rate + abs(qty) * self.per_unit

    def charge(self, proportional: float, before: float | None) -> float:
        """What one fill is charged, given the order's charged proportional fees before it.

        `before` is None while none of the order's fills has been charged: that
        fill pays at least the minimum. A rebate is paid as it is.
        """
        minimum = self.minimum
        if proportional < 0 or minimum <= 0:
            return proportional
        if before is None:
            return max(proportional, minimum)
        return max(before + proportional, minimum) - max(before, minimum)

    def fee(self, qty: float, price: float, multiplier: float, maker: bool,
            before: float | None = None) -> float:
        """The fee of one fill of an order (see `charge` for `before`)."""
        return self.charge(self.proportional(qty, price, multiplier, maker), before)

    def affordable(self, cash: float, price: float, multiplier: float, maker: bool,
                   before: float | None = None) -> float:
        """The most units `cash` pays for, fees included (not rounded to lots).

        The cost of q units is `q·unit + max(P + q·v, minimum) − B` with `v` the
        fee per unit, `P` the order's charged proportional fees so far (`before`,
        0 if none) and `B` what it has paid for them (`max(P, minimum)`, 0 if
        none): either the proportional fee binds, q = (cash + B − P) / (unit + v),
        or the minimum does, q = (cash + B − minimum) / unit.
        """
        if cash <= 0:
            return 0.0
        unit = price * multiplier
        variable = price * multiplier * (self.maker if maker else self.taker) + self.per_unit
        if variable < 0:
            return cash / (unit + variable)  # a rebate: no minimum
        minimum = self.minimum
        paid_for = 0.0 if before is None else before
        paid = 0.0 if before is None else max(before, minimum)
        qty = (cash + paid - paid_for) / (unit + variable)
        if paid_for + qty * variable >= minimum:
            return qty
        return max(cash + paid - minimum, 0.0) / unit

    @property
    def worst_rate(self) -> float:
        """The highest proportional fee, for reserving cash before we know how an order fills."""
        return max(self.taker, self.maker, 0.0)

    def worst(self, qty: float, price: float, multiplier: float) -> float:
        """The most an order of `qty` at `price` can pay in fees however it fills: the highest
        rate, the per-unit charge and, if it binds, the minimum."""
        return max(abs(qty) * (price * multiplier * self.worst_rate + self.per_unit),
                   self.minimum)

    def worst_price(self, qty: float, reserve: float, multiplier: float) -> float:
        """The highest price at which a buy of `qty` and its worst fees fit within `reserve`."""
        unit = abs(qty) * multiplier
        by_rate = (reserve - abs(qty) * self.per_unit) / (unit * (1 + self.worst_rate))
        return min(by_rate, (reserve - self.minimum) / unit)
