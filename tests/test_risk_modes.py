"""The desk's modes: ACTIVE → REDUCING → HALTED on drawdown, and the explicit ways back."""

from __future__ import annotations

import pytest
from risk_kit import Desk

from desk.risk import ACTIVE, HALTED, REDUCING


def long_desk(**drawdown: float | None) -> Desk:
    """All cash in 1,000 ACME at 100, so equity is 1,000 × the mark and drawdown is 1 − mark/100."""
    desk = Desk({"max_drawdown": {"tolerance": 0.25, **drawdown}, "cash": {"buffer_bps": 0}})
    desk.fill(1_000, 100.0)
    desk.quote(100.0)
    return desk


def test_drawdown_exactly_at_the_tolerance_stays_active_and_one_tick_beyond_reduces() -> None:
    desk = long_desk()
    desk.quote(75.0)
    assert desk.risk.mode == ACTIVE
    assert desk.passes("max_drawdown", 10)
    desk.quote(74.99)
    assert desk.risk.mode == REDUCING


def test_reducing_lets_only_risk_reducing_orders_through() -> None:
    desk = long_desk()
    desk.quote(70.0)
    assert desk.risk.mode == REDUCING
    assert desk.passes("max_drawdown", -500)
    assert desk.passes("max_drawdown", -1_000)
    assert not desk.passes("max_drawdown", 1)
    assert not desk.passes("max_drawdown", -1_001)  # flipping short adds risk
    result = desk.verdicts(1)["max_drawdown"]
    assert result.message == ("REDUCING (drawdown 30%, tolerance 25%): the order adds risk "
                              "(position 1,000 → 1,001)")


def test_beyond_the_hard_limit_the_desk_halts_and_blocks_even_reducing_orders() -> None:
    desk = long_desk(halt=0.5)
    desk.quote(60.0)
    assert desk.risk.mode == REDUCING
    desk.quote(50.0)
    assert desk.risk.mode == REDUCING  # exactly at the halt
    desk.portfolio.mark("ACME", 49.99)
    change = desk.risk.on_mark()
    assert desk.risk.mode == HALTED
    assert change is not None and change.before == REDUCING and "halt 50.00%" in change.why
    assert not desk.passes("max_drawdown", -100)


def test_without_resume_below_the_way_back_is_only_an_explicit_reset() -> None:
    desk = long_desk()
    desk.quote(70.0)
    desk.quote(99.0)
    assert desk.risk.mode == REDUCING
    change = desk.risk.reset_mode("reset by operator")
    assert change is not None and (change.before, change.after) == (REDUCING, ACTIVE)
    assert desk.risk.reset_mode("again") is None  # already ACTIVE: nothing to journal


def test_resume_below_brings_the_desk_back_to_active_by_itself() -> None:
    desk = long_desk(resume_below=0.05, halt=0.5)
    desk.quote(40.0)
    assert desk.risk.mode == HALTED
    desk.quote(94.0)
    assert desk.risk.mode == HALTED
    desk.quote(96.0)
    assert desk.risk.mode == ACTIVE


def test_switching_the_drawdown_rule_off_returns_the_desk_to_active_on_the_next_mark() -> None:
    desk = long_desk()
    desk.quote(70.0)
    desk.risk.toggle("max_drawdown", False)
    desk.portfolio.mark("ACME", 70.0)
    change = desk.risk.on_mark()
    assert change is not None and change.why == "max_drawdown switched off"
    assert desk.risk.mode == ACTIVE
    assert "max_drawdown" not in desk.verdicts(10)


def test_while_reducing_open_orders_count_so_sells_cannot_overshoot_into_a_short() -> None:
    desk = long_desk()
    desk.quote(70.0)
    desk.send(-800)  # closing most of the 1,000 long is on its way
    assert desk.passes("max_drawdown", -200)
    assert not desk.passes("max_drawdown", -201)  # with the open sell, this would go short


def test_a_reset_while_the_drawdown_is_still_beyond_the_tolerance_is_refused_and_says_why() -> None:
    desk = long_desk()
    desk.quote(70.0)
    assert desk.risk.mode == REDUCING
    with pytest.raises(ValueError, match=r"reset refused: drawdown 30\.00% > tolerance 25\.00%"):
        desk.risk.reset_mode("reset by operator")
    assert desk.risk.mode == REDUCING
    desk.risk.set_limit("max_drawdown", "tolerance", 0.35)  # the operator accepts more
    change = desk.risk.reset_mode("reset by operator")
    assert change is not None and change.after == ACTIVE
    desk.quote(70.0)
    assert desk.risk.mode == ACTIVE  # the next mark does not undo it


def test_a_reset_from_halted_goes_to_reducing_while_the_drawdown_is_between_the_limits() -> None:
    desk = long_desk(halt=0.5)
    desk.quote(40.0)
    assert desk.risk.mode == HALTED
    with pytest.raises(ValueError, match=r"raise max_drawdown\.halt"):
        desk.risk.reset_mode("reset by operator")
    desk.quote(60.0)  # 40% down: beyond the tolerance, within the halt
    change = desk.risk.reset_mode("reset by operator")
    assert change is not None and (change.before, change.after) == (HALTED, REDUCING)


def test_drawdown_limits_changed_at_run_time_must_stay_in_order() -> None:
    desk = long_desk(halt=0.5, resume_below=0.1)
    with pytest.raises(ValueError, match=r"resume_below .* must be below tolerance"):
        desk.risk.set_limit("max_drawdown", "resume_below", 0.25)
    with pytest.raises(ValueError, match=r"halt .* must be at least tolerance"):
        desk.risk.set_limit("max_drawdown", "halt", 0.2)
    with pytest.raises(ValueError, match=r"resume_below .* must be below tolerance"):
        desk.risk.set_limit("max_drawdown", "tolerance", 0.05)
    desk.risk.set_limit("max_drawdown", "tolerance", 0.3)
    assert desk.risk.rule("max_drawdown").limits() == {"tolerance": 0.3, "halt": 0.5,
                                                       "resume_below": 0.1}
