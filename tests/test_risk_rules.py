"""Each risk rule at its boundary: exactly at the limit passes, one lot (or tick) over is
blocked."""

from __future__ import annotations

import pytest
from risk_kit import Desk, intent

from desk.risk.verdict import decision_why

ONLY = {"order_rate": {"max_orders": 1_000}}
"""Keep the order-rate rule out of the way of tests about other rules."""


def test_max_position_quantity_at_the_limit_passes_and_one_lot_over_is_blocked() -> None:
    desk = Desk({"max_position": {"max_qty": 500}})
    desk.fill(300, 100.0)
    assert desk.passes("max_position", 200)
    result = desk.verdicts(201)["max_position"]
    assert not result.passed
    assert (result.value, result.limit) == (501, 500)
    assert "would be 501, beyond ±500 (held 300 + open buys 0 + order +201 ACME)" in result.message


def test_max_position_notional_at_the_limit_passes_and_one_lot_over_is_blocked() -> None:
    desk = Desk({"max_position": {"max_qty": None, "max_notional": 50_000}})
    assert desk.passes("max_position", 500)
    assert not desk.passes("max_position", 501)
    assert desk.passes("max_position", -500)
    assert not desk.passes("max_position", -501)


def test_max_position_per_instrument_limit_overrides_only_the_fields_it_gives() -> None:
    desk = Desk({"max_position": {"max_qty": 500, "max_notional": 1e9,
                                  "per_instrument": {"ACME": {"max_notional": 30_000}}}})
    assert desk.passes("max_position", 300)
    assert not desk.passes("max_position", 301)  # its own notional
    desk = Desk({"max_position": {"max_qty": 500,
                                  "per_instrument": {"ACME": {"max_notional": 1e9}}}})
    assert not desk.passes("max_position", 501)  # the default quantity still holds


def test_max_position_counts_open_orders_on_the_orders_side() -> None:
    desk = Desk({"max_position": {"max_qty": 500}})
    desk.send(300)
    assert desk.passes("max_position", 200)
    assert not desk.passes("max_position", 201)
    # an open sell does not make room for a buy: the buy could fill first
    desk.send(-400)
    assert not desk.passes("max_position", 201)
    assert desk.passes("max_position", -100)  # worst case for sells: 0 − 400 − 100
    assert not desk.passes("max_position", -101)


def test_open_orders_stop_counting_once_filled_or_ended() -> None:
    desk = Desk({"max_position": {"max_qty": 500}})
    first = desk.send(300)
    desk.risk.on_filled(first, "ACME", 100, 100 * 100.0)
    desk.fill(100, 100.0)
    assert desk.risk.pending_buy["ACME"] == 200
    assert not desk.passes("max_position", 201)
    desk.risk.on_ended(first, "ACME", 200)
    assert desk.risk.pending_buy["ACME"] == 0
    assert desk.passes("max_position", 400)
    assert not desk.passes("max_position", 401)


def test_max_position_lets_a_reducing_order_through_above_a_lowered_limit() -> None:
    desk = Desk({"max_position": {"max_qty": 500}})
    desk.fill(800, 100.0)
    assert desk.passes("max_position", -100)
    assert not desk.passes("max_position", 1)
    assert not desk.passes("max_position", -1400)  # flips to −600


def test_max_leverage_at_the_limit_passes_and_one_lot_over_is_blocked() -> None:
    desk = Desk({"max_leverage": {"limit": 1.0}})
    assert desk.passes("max_leverage", 1000)
    result = desk.verdicts(1001)["max_leverage"]
    assert not result.passed
    assert result.message == "1.0010 > 1.0000 (gross 100,100 / equity 100,000)"


def test_max_leverage_counts_open_orders_on_the_orders_side() -> None:
    desk = Desk({"max_leverage": {"limit": 1.0}})
    desk.send(600)
    assert desk.passes("max_leverage", 400)
    assert not desk.passes("max_leverage", 401)
    desk.send(-300)  # an open sell does not make room: the buy could fill first
    assert not desk.passes("max_leverage", 401)


def test_max_leverage_counts_the_fee_against_equity() -> None:
    desk = Desk({"max_leverage": {"limit": 1.0}}, fee_rate=0.001)
    assert not desk.passes("max_leverage", 1000)  # equity after the fee is 99,900
    assert desk.passes("max_leverage", 998)


def test_a_limit_buy_below_the_market_leaves_the_position_valued_at_the_mark() -> None:
    # 900 held at 100; 200 more bid at 60 make 1,100 worth 110,000 at the mark, not 66,000
    desk = Desk({"max_leverage": {"limit": 1.0},
                 "max_position": {"max_qty": None, "max_notional": 100_000}})
    desk.fill(900, 100.0)
    result = desk.verdicts(200, limit=60.0)
    assert not result["max_leverage"].passed
    assert result["max_leverage"].message == "1.10 > 1.00 (gross 110,000 / equity 100,000)"
    assert not result["max_position"].passed
    assert result["max_position"].message == ("position notional 110,000 > 100,000 (held 900 "
                                              "+ open buys 0 + order +200 ACME at 100)")
    # a sell limit above the market is valued at its limit, the higher price
    assert desk.verdicts(-1_100, limit=105.0)["max_leverage"].value == 200 * 105.0 / 100_000


def test_a_blocked_notional_says_the_contract_multiplier_it_was_computed_with() -> None:
    desk = Desk({"max_position": {"max_qty": None, "max_notional": 100_000},
                 "max_order_size": {"max_notional": 100_000}, "cash": {"buffer_bps": 0}},
                price=20.0, multiplier=50)
    verdicts = desk.verdicts(120)
    assert verdicts["max_position"].message == ("position notional 120,000 > 100,000 (held 0 + "
                                                "open buys 0 + order +120 ACME at 20 × 50)")
    assert verdicts["max_order_size"].message == "order notional 120,000 > 100,000 (120 × 20 × 50)"
    assert verdicts["cash"].message == ("needs 120,000 > 100,000 free (cash 100,000 − reserved 0; "
                                        "120 × 20 × 50 + 0 bps buffer + fees)")


def test_cash_at_the_limit_passes_and_one_lot_over_is_blocked() -> None:
    desk = Desk({"cash": {"buffer_bps": 0}})
    assert desk.passes("cash", 1000)
    result = desk.verdicts(1001)["cash"]
    assert not result.passed
    assert result.message.startswith("needs 100,100 > 100,000 free")


def test_cash_counts_the_buffer_fees_and_what_open_buys_reserved() -> None:
    desk = Desk({"cash": {"buffer_bps": 100}}, fee_rate=0.0)
    assert desk.passes("cash", 990)  # 990 × 100 × 1.01 = 99,990
    assert not desk.passes("cash", 991)
    desk.send(500)  # reserves 50,500
    assert desk.risk.reserved == pytest.approx(50_500)
    assert desk.passes("cash", 490)
    assert not desk.passes("cash", 491)
    assert desk.passes("cash", -10_000)  # a sell needs no cash


def test_cash_needs_the_worst_fees_per_unit_and_the_minimum_too() -> None:
    # 100 at 100 with a 0.05 per-unit charge: 10,000 + 5 in fees; a 20.00 minimum binds first
    desk = Desk({"cash": {"buffer_bps": 0}}, cash=10_005.0, fees={"per_unit": 0.05})
    assert desk.passes("cash", 100)
    assert not desk.passes("cash", 101)
    desk = Desk({"cash": {"buffer_bps": 0}}, cash=10_019.0,
                fees={"per_unit": 0.05, "minimum": 20.0})
    result = desk.verdicts(100)["cash"]
    assert not result.passed and result.value == pytest.approx(10_020.0)
    assert desk.passes("cash", 99)  # 9,900 + 20.00


def test_a_verdict_never_prints_a_value_equal_to_a_limit_it_is_not_equal_to() -> None:
    desk = Desk({"max_position": {"max_qty": 1_000}})
    desk.fill(999.6, 100.0)
    result = desk.verdicts(0.5)["max_position"]
    assert not result.passed
    assert result.message.startswith("position would be 1,000.1, beyond ±1,000.0 ")
    desk = Desk({"max_drawdown": {"tolerance": 0.04}, "cash": {"buffer_bps": 0}})
    desk.fill(1_000, 100.0)
    desk.quote(96.04)  # a drawdown of 3.96%
    assert desk.verdicts(1)["max_drawdown"].message == "drawdown 3.96% < 4.00%"


def test_the_order_rate_window_is_the_whole_per_seconds_to_the_nanosecond() -> None:
    desk = Desk({"order_rate": {"max_orders": 1, "per_seconds": 4.1}})
    desk.send(1, ts=0)
    assert not desk.passes("order_rate", 1, ts=4_099_999_999)  # still within 4.1 s of it
    assert desk.passes("order_rate", 1, ts=4_100_000_000)


def test_the_order_rate_books_stay_bounded_while_the_rule_is_off() -> None:
    desk = Desk({"order_rate": {"max_orders": 5, "per_seconds": 1}})
    desk.risk.toggle("order_rate", False)
    for second in range(1_000):
        desk.send(1, ts=second * 1_000_000_000)
    assert len(desk.risk.rule("order_rate")._sent) <= 2


def test_max_order_size_at_the_limit_passes_and_one_lot_over_is_blocked() -> None:
    desk = Desk({"max_order_size": {"max_qty": 100}})
    assert desk.passes("max_order_size", 100)
    assert desk.passes("max_order_size", -100)
    assert not desk.passes("max_order_size", 101)
    assert not desk.passes("max_order_size", -101)
    desk = Desk({"max_order_size": {"max_notional": 10_000}})
    assert desk.passes("max_order_size", 100)
    assert not desk.passes("max_order_size", 101)


def test_order_rate_allows_max_orders_in_the_window_and_blocks_the_next() -> None:
    desk = Desk({"order_rate": {"max_orders": 3, "per_seconds": 1.0}})
    second = 1_000_000_000
    for ts in (0, second // 2, second - 2):
        assert desk.passes("order_rate", 10, ts=ts)
        desk.send(10, ts=ts)
    result = desk.verdicts(10, ts=second - 1)["order_rate"]
    assert not result.passed
    assert result.message == "4 orders > 3 per 1s (3 already sent in the window)"
    assert desk.passes("order_rate", 10, ts=second)  # the first has left the window


def test_order_rate_counts_orders_sent_while_it_was_switched_off() -> None:
    desk = Desk({"order_rate": {"max_orders": 2, "per_seconds": 1.0}})
    desk.risk.toggle("order_rate", False)
    desk.send(10)
    desk.send(10)
    desk.risk.toggle("order_rate", True)
    assert not desk.passes("order_rate", 10, ts=5)


def test_price_band_at_the_band_passes_and_one_tick_over_is_blocked() -> None:
    desk = Desk({"price_band": {"pct": 2.0}})
    assert desk.passes("price_band", 10, limit=102.0)
    assert desk.passes("price_band", -10, limit=98.0)
    assert not desk.passes("price_band", 10, limit=102.01)
    assert not desk.passes("price_band", -10, limit=97.99)
    assert desk.passes("price_band", 10)  # a market order has no price to check


def test_kill_switch_blocks_every_order_while_engaged() -> None:
    desk = Desk({"kill_switch": {"engaged": True}})
    assert not desk.passes("kill_switch", 1)
    assert not desk.passes("kill_switch", -1)
    desk.risk.set_limit("kill_switch", "engaged", False)
    assert desk.passes("kill_switch", 1)


def test_every_enabled_rule_is_evaluated_even_after_one_blocks_and_disabled_ones_are_not() -> None:
    desk = Desk({"kill_switch": {"engaged": True}, "price_band": {"enabled": False}})
    verdicts = desk.verdicts(5_000)
    assert list(verdicts) == ["kill_switch", "max_drawdown", "max_position", "max_leverage",
                              "cash", "max_order_size", "order_rate"]
    assert {r for r, v in verdicts.items() if not v.passed} == {
        "kill_switch", "max_position", "max_leverage", "cash"}


def test_the_why_of_a_blocked_decision_names_the_blocker_first_then_the_passed_rules() -> None:
    desk = Desk({"max_leverage": {"limit": 2.0}, "max_position": {"max_qty": 5_000},
                 "max_drawdown": {"tolerance": 0.10}, **ONLY}, cash=100_000)
    desk.fill(-1_000, 100.0)  # short 1,000: cash 200,000, equity 100,000
    decision, _ = desk.risk.check(intent(-1_400))
    why = decision_why(decision)
    assert why.startswith("blocked by max_leverage: 2.40 > 2.00 (gross 240,000 / equity "
                          "100,000); passed ")
    assert "max_position 2,400/5,000" in why
    assert "drawdown 0% < 10%" in why
    assert "cash 200,000 free" in why


def test_the_why_of_an_allowed_decision_lists_every_rule_it_passed() -> None:
    desk = Desk()
    decision, _ = desk.risk.check(intent(10))
    why = decision_why(decision)
    assert why.startswith("allowed: passed kill switch not engaged, drawdown 0% < 10%, "
                          "max_position 10/1,000, leverage 0.01 ≤ 2.00")
    assert why.count(",") >= 7


def test_limits_set_at_run_time_are_checked() -> None:
    desk = Desk()
    with pytest.raises(ValueError, match="no parameter 'size'"):
        desk.risk.set_limit("max_position", "size", 1)
    with pytest.raises(ValueError, match="positive number"):
        desk.risk.set_limit("max_leverage", "limit", -1)
    with pytest.raises(ValueError, match="cannot be removed"):
        desk.risk.set_limit("max_leverage", "limit", None)
    with pytest.raises(ValueError, match="fraction"):
        desk.risk.set_limit("max_drawdown", "tolerance", 5)
    with pytest.raises(ValueError, match="whole number"):
        desk.risk.set_limit("order_rate", "max_orders", 2.5)
    with pytest.raises(ValueError, match="true or false"):
        desk.risk.set_limit("kill_switch", "engaged", "maybe")
    with pytest.raises(ValueError, match="no risk rule"):
        desk.risk.set_limit("max_size", "limit", 1)
    desk.risk.set_limit("max_position", "max_qty", None)
    assert desk.passes("max_position", 1_000_000)
