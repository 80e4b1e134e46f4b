"""The portfolio: the single source of truth for cash, positions, PnL and exposure.

`apply_fill` is the only code in desk that writes cash or a position. Every
other component reads the portfolio through a `PortfolioView`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from desk.events import frozen_tuple

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""

_FLAT = 1e-9
"""A position smaller than this (in units) after a fill is float residue and counts as flat."""


class Position:
    """The open quantity of one instrument, its average cost and what it has realized."""

    __slots__ = ("avg_cost", "mark", "multiplier", "qty", "realized")

    def __init__(self, multiplier: float) -> None:
        self.qty = 0.0
        self.avg_cost = 0.0
        self.realized = 0.0
        self.mark = 0.0
        self.multiplier = multiplier

    @property
    def unrealized(self) -> float:
        return (self.mark - self.avg_cost) * self.qty * self.multiplier if self.qty else 0.0

    @property
    def value(self) -> float:
        return self.qty * self.mark * self.multiplier


@frozen_tuple
class FillEffect(NamedTuple):
    """What one fill did to the portfolio, for the journal."""

    qty_before: float
    qty_after: float
    avg_cost_after: float
    realized: float
    cash_after: float


class Portfolio:
    """Cash, positions (average-cost method), fees, marks, equity and its peak."""

    def __init__(self, start_cash: float, multipliers: dict[str, float]) -> None:
        self.start_cash = start_cash
        self.cash = start_cash
        self.fees = 0.0
        self.positions: dict[str, Position] = {s: Position(m) for s, m in multipliers.items()}
        self._open: dict[str, Position] = {}
        self.peak_equity = start_cash
        self.max_drawdown = 0.0

    # --- the only writer ---------------------------------------------------------

    def apply_fill(self, symbol: str, qty: float, price: float, fee: float) -> FillEffect:
        """Book a fill of signed `qty` at `price`: cash, position, average cost, realized PnL,
        fees."""
        pos = self.positions[symbol]
        mult = pos.multiplier
        before = pos.qty
        realized = 0.0
        if before == 0.0 or (before > 0) == (qty > 0):
            total = before + qty
            pos.avg_cost = (before * pos.avg_cost + qty * price) / total
            pos.qty = total
        else:
            closing = min(abs(qty), abs(before))
            direction = 1.0 if before > 0 else -1.0
            realized = (price - pos.avg_cost) * closing * direction * mult
            pos.realized += realized
            after = before + qty
            if abs(after) < _FLAT:
                pos.qty = 0.0
                pos.avg_cost = 0.0
            elif (after > 0) != (before > 0):
                pos.qty = after
                pos.avg_cost = price  # flipped through zero: the remainder opens at the fill price
            else:
                pos.qty = after
        self.cash -= qty * price * mult + fee
        self.fees += fee
        if pos.mark == 0.0:
            pos.mark = price
        if pos.qty:
            self._open[symbol] = pos
        else:
            self._open.pop(symbol, None)
        self._update_peak()
        return _new(FillEffect, (before, pos.qty, pos.avg_cost, realized, self.cash))

    # --- marks -------------------------------------------------------------------

    def mark(self, symbol: str, price: float) -> float:
        """Revalue one instrument at `price`, track the equity peak and the worst drawdown.

        Returns the drawdown after the mark (exactly what `drawdown` would say),
        so the risk engine need not revalue the book a second time per event.
        """
        self.positions[symbol].mark = price
        peak = self.peak_equity
        if not self._open:
            return 1.0 - self.cash / peak if peak > 0 else 0.0  # flat: equity is the cash
        # _update_peak with `equity` inlined: this runs once per market event
        equity = self.cash
        for pos in self._open.values():
            equity += pos.qty * pos.mark * pos.multiplier
        if equity > peak:
            self.peak_equity = equity
            return 0.0
        if peak > 0:
            drawdown = 1.0 - equity / peak
            if drawdown > self.max_drawdown:
                self.max_drawdown = drawdown
            return drawdown
        return 0.0

    def steady_band(self, symbol: str, low_dd: float, high_dd: float) -> tuple[float, float]:
        """Prices of `symbol` whose mark would leave peak, worst drawdown and drawdown band alone.

        Called right after a mark. While nothing else changes (no fill, no
        other instrument's mark), a mark strictly inside the returned (low,
        high) would only store the price: the equity stays at or below its
        peak, the drawdown stays within [low_dd, high_dd] and no worse than the
        worst so far. Equity is monotone in one instrument's price, so the set
        is an interval; it is shrunk by a margin far wider than float rounding,
        so a price near an edge takes the full mark, which is exact. An empty
        band is (inf, -inf).
        """
        peak = self.peak_equity
        if peak <= 0:
            return math.inf, -math.inf
        high_dd = min(high_dd, self.max_drawdown)
        if high_dd < low_dd:
            return math.inf, -math.inf
        equity = self.equity
        pos = self.positions[symbol]
        if pos.qty == 0.0 or symbol not in self._open:
            # this price does not enter the equity: steady at any price, or at none
            drawdown = 1.0 - equity / peak
            if equity <= peak and low_dd <= drawdown <= high_dd:
                return -math.inf, math.inf
            return math.inf, -math.inf
        unit = pos.qty * pos.multiplier
        rest = equity - unit * pos.mark
        margin = 1e-9 * (abs(peak) + abs(self.cash)
                         + sum(abs(p.value) for p in self._open.values()))
        lowest = peak * (1.0 - high_dd) + margin  # equity at the worst tolerated drawdown
        highest = min(peak, peak * (1.0 - low_dd)) - margin if low_dd > -math.inf else peak - margin
        if highest <= lowest:
            return math.inf, -math.inf
        ends = ((lowest - rest) / unit, (highest - rest) / unit)
        return (ends[0], ends[1]) if unit > 0 else (ends[1], ends[0])

    def _update_peak(self) -> float:
        equity = self.equity
        peak = self.peak_equity
        if equity > peak:
            self.peak_equity = equity
            return 0.0
        if peak > 0:
            drawdown = 1.0 - equity / peak
            if drawdown > self.max_drawdown:
                self.max_drawdown = drawdown
            return drawdown
        return 0.0

    # --- figures -----------------------------------------------------------------

    @property
    def equity(self) -> float:
        """cash + Σ qty·mark·multiplier."""
        value = self.cash
        for pos in self._open.values():
            value += pos.qty * pos.mark * pos.multiplier
        return value

    def exposure_figures(self) -> tuple[float, float, float, float]:
        """(equity, gross exposure, cash, drawdown) in one pass, as the properties compute them."""
        cash = equity = self.cash
        gross = 0.0
        for pos in self._open.values():
            value = pos.qty * pos.mark * pos.multiplier
            equity += value
            gross += abs(value)
        peak = self.peak_equity
        return equity, gross, cash, (1.0 - equity / peak if peak > 0 else 0.0)

    @property
    def realized(self) -> float:
        return sum(pos.realized for pos in self.positions.values())

    @property
    def unrealized(self) -> float:
        return sum(pos.unrealized for pos in self._open.values())

    @property
    def gross_exposure(self) -> float:
        return sum(abs(pos.value) for pos in self._open.values())

    @property
    def net_exposure(self) -> float:
        return sum(pos.value for pos in self._open.values())

    @property
    def leverage(self) -> float:
        equity = self.equity
        return self.gross_exposure / equity if equity > 0 else float("inf")

    @property
    def drawdown(self) -> float:
        """1 − equity / peak equity."""
        return 1.0 - self.equity / self.peak_equity if self.peak_equity > 0 else 0.0

    def accounting_error(self) -> float:
        """Relative gap in `equity − start_cash = realized + unrealized − fees` (0 when books
        balance)."""
        lhs = self.equity - self.start_cash
        rhs = self.realized + self.unrealized - self.fees
        scale = max(abs(self.start_cash), abs(lhs), abs(rhs), 1.0)
        return abs(lhs - rhs) / scale


class PortfolioView:
    """A read-only window on the portfolio: what strategies, risk rules and the app may see."""

    __slots__ = ("_p",)

    def __init__(self, portfolio: Portfolio) -> None:
        self._p = portfolio

    def position(self, symbol: str) -> float:
        return self._p.positions[symbol].qty

    def avg_cost(self, symbol: str) -> float:
        return self._p.positions[symbol].avg_cost

    def realized_of(self, symbol: str) -> float:
        return self._p.positions[symbol].realized

    def unrealized_of(self, symbol: str) -> float:
        return self._p.positions[symbol].unrealized

    def mark(self, symbol: str) -> float:
        return self._p.positions[symbol].mark

    @property
    def cash(self) -> float:
        return self._p.cash

    def exposure_figures(self) -> tuple[float, float, float, float]:
        """(equity, gross exposure, cash, drawdown) in one pass."""
        return self._p.exposure_figures()

    @property
    def start_cash(self) -> float:
        return self._p.start_cash

    @property
    def equity(self) -> float:
        return self._p.equity

    @property
    def realized(self) -> float:
        return self._p.realized

    @property
    def unrealized(self) -> float:
        return self._p.unrealized

    @property
    def fees(self) -> float:
        return self._p.fees

    @property
    def gross_exposure(self) -> float:
        return self._p.gross_exposure

    @property
    def net_exposure(self) -> float:
        return self._p.net_exposure

    @property
    def leverage(self) -> float:
        return self._p.leverage

    @property
    def drawdown(self) -> float:
        return self._p.drawdown

    @property
    def peak_equity(self) -> float:
        return self._p.peak_equity

    @property
    def max_drawdown(self) -> float:
        return self._p.max_drawdown

    @property
    def symbols(self) -> list[str]:
        return list(self._p.positions)

    def positions(self) -> dict[str, float]:
        """A copy: signed quantity per instrument with an open position."""
        return {s: p.qty for s, p in self._p.positions.items() if p.qty}
