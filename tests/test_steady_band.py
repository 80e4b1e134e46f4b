"""The steady band is a pure speed-up: a mark inside it would have changed nothing but the price."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.engine import Engine
from desk.portfolio import Portfolio
from tests.conftest import make_session


@settings(max_examples=300, deadline=None)
@given(qty=st.sampled_from([-300.0, -7.0, 0.0, 1.0, 50.0, 1000.0]),
       entry=st.floats(1.0, 500.0), start=st.floats(1.0, 500.0),
       path=st.lists(st.floats(0.5, 600.0), min_size=1, max_size=30),
       low=st.sampled_from([-math.inf, 0.0, 0.01, 0.05]),
       high=st.sampled_from([math.inf, 0.02, 0.1, 0.5]),
       multiplier=st.sampled_from([1.0, 0.01, 50.0]))
def test_a_mark_inside_the_band_leaves_peak_worst_drawdown_and_band_alone(
        qty: float, entry: float, start: float, path: list[float], low: float, high: float,
        multiplier: float) -> None:
    portfolio = Portfolio(100_000.0, {"X": multiplier})
    if qty:
        portfolio.apply_fill("X", qty, entry, 0.0)
    portfolio.mark("X", start)
    lo, hi = portfolio.steady_band("X", low, high)
    for price in path:
        if not lo < price < hi:
            continue
        peak, worst = portfolio.peak_equity, portfolio.max_drawdown
        drawdown = portfolio.mark("X", price)
        assert (portfolio.peak_equity, portfolio.max_drawdown) == (peak, worst)
        assert low <= drawdown <= high


def _journal(tmp_path: Path, name: str, banded: bool, **extra: object) -> tuple[bytes, int]:
    """The run's journal, and how many marks revalued the book in full."""
    session = make_session(**extra)
    engine = Engine(session, tmp_path / f"{name}.arrow", strict=True)
    if not banded:
        engine.risk.steady_drawdown = lambda: None  # type: ignore[method-assign]
    full_marks = 0
    mark = engine.portfolio.mark

    def counted(symbol: str, price: float) -> float:
        nonlocal full_marks
        full_marks += 1
        return mark(symbol, price)

    engine.portfolio.mark = counted  # type: ignore[method-assign]
    try:
        engine.run()
    finally:
        engine.close()
    return (tmp_path / f"{name}.arrow").read_bytes(), full_marks


@pytest.mark.parametrize("drawdown", [
    {"tolerance": 0.002, "halt": 0.004, "resume_below": 0.001},  # modes flip back and forth
    {"tolerance": 0.003},                                          # REDUCING until a reset
    {"enabled": False, "tolerance": 0.5},
])
def test_a_run_with_the_band_journals_the_same_bytes_as_one_that_marks_in_full(
        tmp_path: Path, drawdown: dict[str, object]) -> None:
    extra = {"risk": {"max_drawdown": drawdown},
             "data": {"synthetic": {"events": 6_000, "volatility_bps": 8.0}},
             "strategy": {"use": "momentum",
                          "params": {"lookback": 10, "threshold": 0.0005, "size": 400}}}
    banded, banded_marks = _journal(tmp_path, "banded", True, **extra)
    full, full_marks = _journal(tmp_path, "full", False, **extra)
    assert banded == full
    assert banded_marks < full_marks / 2  # the band did spare most full marks
    if drawdown.get("enabled", True):
        assert b"REDUCING" in banded  # the modes really moved during the run
