"""The portfolio: average cost, realized PnL, flips through zero, multipliers, the accounting
identity."""

from __future__ import annotations

import pytest

from desk.portfolio import Portfolio


def test_buy_then_sell_realizes_the_difference_and_pays_fees() -> None:
    p = Portfolio(10_000.0, {"ACME": 1.0})
    p.apply_fill("ACME", 10, 100.0, 1.0)
    p.apply_fill("ACME", -10, 110.0, 1.0)
    assert p.positions["ACME"].qty == 0
    assert p.realized == pytest.approx(100.0)
    assert p.cash == pytest.approx(10_000 + 100 - 2)
    assert p.equity == pytest.approx(p.cash)


def test_average_cost_blends_adds_and_keeps_on_partial_reduce() -> None:
    p = Portfolio(10_000.0, {"ACME": 1.0})
    p.apply_fill("ACME", 10, 100.0, 0.0)
    p.apply_fill("ACME", 10, 110.0, 0.0)
    assert p.positions["ACME"].avg_cost == pytest.approx(105.0)
    p.apply_fill("ACME", -5, 120.0, 0.0)
    assert p.positions["ACME"].avg_cost == pytest.approx(105.0)
    assert p.realized == pytest.approx(75.0)


def test_flip_through_zero_realizes_the_old_and_opens_the_new_at_the_fill_price() -> None:
    p = Portfolio(10_000.0, {"ACME": 1.0})
    p.apply_fill("ACME", 10, 100.0, 0.0)
    p.apply_fill("ACME", -15, 90.0, 0.0)
    pos = p.positions["ACME"]
    assert pos.qty == -5
    assert pos.avg_cost == 90.0
    assert p.realized == pytest.approx(-100.0)


def test_short_gains_when_price_falls_and_multiplier_scales_everything() -> None:
    p = Portfolio(100_000.0, {"FUT": 50.0})
    p.apply_fill("FUT", -2, 4000.0, 10.0)
    p.mark("FUT", 3990.0)
    assert p.unrealized == pytest.approx(2 * 10 * 50)
    assert p.gross_exposure == pytest.approx(2 * 3990 * 50)
    assert p.net_exposure == pytest.approx(-2 * 3990 * 50)
    assert p.equity - p.start_cash == pytest.approx(p.realized + p.unrealized - p.fees)
    assert p.accounting_error() < 1e-12


def test_drawdown_tracks_the_peak_of_equity() -> None:
    p = Portfolio(1_000.0, {"ACME": 1.0})
    p.apply_fill("ACME", 10, 100.0, 0.0)
    p.mark("ACME", 110.0)
    assert p.peak_equity == pytest.approx(1_100.0)
    p.mark("ACME", 99.0)
    assert p.drawdown == pytest.approx(1 - 990 / 1100)
    assert p.max_drawdown == pytest.approx(1 - 990 / 1100)
