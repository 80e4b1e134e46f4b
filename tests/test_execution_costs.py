"""Fees, and execution quality: implementation shortfall split in latency, impact, fees, by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from exec_helpers import book, of_kind, run_script, trade

from desk.config import FeeModel
from desk.execution.costs import Fees
from desk.report import summarize


def test_taker_fee_is_bps_of_notional_plus_per_unit() -> None:
    fees = Fees(FeeModel(taker_bps=5, per_unit=0.01))
    assert fees.fee(100, 100.0, 1.0, maker=False) == pytest.approx(100 * 100 * 5e-4 + 100 * 0.01)
    assert fees.fee(-100, 100.0, 10.0, maker=False) == pytest.approx(100 * 1000 * 5e-4 + 1.0)


def test_minimum_fee_is_topped_up_once_per_order_and_a_maker_rebate_has_no_minimum() -> None:
    fees = Fees(FeeModel(taker_bps=1, maker_bps=-2, minimum=3.0))
    assert fees.fee(10, 100.0, 1.0, maker=False) == 3.0          # 0.10 raised to the minimum
    assert fees.fee(1000, 100.0, 1.0, maker=False) == pytest.approx(10.0)
    assert fees.fee(1000, 100.0, 1.0, maker=True) == pytest.approx(-20.0)
    # later fills of the same order pay only what takes its total beyond the minimum
    charged = [fees.charge(1.2, None), fees.charge(1.2, 1.2), fees.charge(1.2, 2.4)]
    assert charged == pytest.approx([3.0, 0.0, 0.6])
    assert sum(charged) == pytest.approx(max(3 * 1.2, 3.0))
    assert fees.charge(-0.5, 2.4) == -0.5


def test_affordable_quantity_pays_for_the_fee_whether_the_rate_or_the_minimum_binds() -> None:
    fees = Fees(FeeModel(taker_bps=10, per_unit=0.01, minimum=5.0))
    qty = fees.affordable(100_000.0, 100.0, 1.0, maker=False)     # the rate binds
    assert qty * 100 + fees.fee(qty, 100.0, 1.0, False) == pytest.approx(100_000.0)
    qty = fees.affordable(1_000.0, 100.0, 1.0, maker=False)       # the minimum binds
    assert qty == pytest.approx((1_000 - 5) / 100)
    assert qty * 100 + fees.fee(qty, 100.0, 1.0, False) == pytest.approx(1_000.0)
    assert fees.affordable(-1.0, 100.0, 1.0, maker=False) == 0.0


def test_affordable_quantity_after_an_earlier_fill_pays_only_the_rest_of_the_minimum() -> None:
    fees = Fees(FeeModel(taker_bps=10, minimum=5.0))
    # the order has been charged 2.00 by rate (5.00 paid): 3.00 more of rate is free
    qty = fees.affordable(1_000.0, 100.0, 1.0, maker=False, before=2.0)
    assert qty == pytest.approx(10.0)
    assert qty * 100 + fees.fee(qty, 100.0, 1.0, False, before=2.0) == pytest.approx(1_000.0)
    qty = fees.affordable(100_000.0, 100.0, 1.0, maker=False, before=2.0)
    assert qty * 100 + fees.fee(qty, 100.0, 1.0, False, before=2.0) == pytest.approx(100_000.0)
    assert fees.fee(qty, 100.0, 1.0, False, before=2.0) == pytest.approx(qty * 0.1 - 3.0)


def test_a_minimum_fee_does_not_shrink_a_buy_of_small_lots_that_cash_covers(
        tmp_path: Path) -> None:
    # 100 units at 100.00 cost 10,000 + a 1.00 fee; 10,050 cash covers them. Counting the
    # minimum once per 0.01 lot (100 per unit) would clip the buy to 50 units.
    rows = book(0, [(99.99, 1_000)], [(100.00, 1_000)]) + trade(100, 100.0, 1, "buy")
    execution = {"fees": {"taker_bps": 0.5, "minimum": 1.0}}
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 100, None]], execution,
                                    start_cash=10_050.0, lot_size=0.01)
    assert [f["details"]["qty"] for f in of_kind(journal, "fill")] == [100]
    assert not of_kind(journal, "cash_guard")
    assert engine.portfolio.cash == pytest.approx(10_050 - 10_000 - 1.0)


def test_a_buy_that_walks_beyond_its_cash_is_clipped_to_what_pays_for_itself_and_its_fee(
        tmp_path: Path) -> None:
    # risk approved 100 at the 100.00 ask; the walk reaches 101.00 where the cash runs out:
    # 50 at 100.00 (fee 1.00, the minimum, which covers the order's next 0.75 of fees too),
    # then (10,050 − 5,001) / 101.00 → 49.99
    rows = book(0, [(99.99, 1_000)], [(100.00, 50), (101.00, 1_000)]) + trade(100, 101.0, 1)
    execution = {"fees": {"taker_bps": 0.5, "minimum": 1.0}}
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 100, None]], execution,
                                    start_cash=10_050.0, lot_size=0.01)
    assert [f["details"]["qty"] for f in of_kind(journal, "fill")] == [50, 49.99]
    assert [f["details"]["fee"] for f in of_kind(journal, "fill")] == [1.0, 0.0]
    (guard,) = of_kind(journal, "cash_guard")
    assert guard["details"]["filled"] == 49.99
    assert engine.portfolio.cash == pytest.approx(10_050 - 5_000 - 1.0 - 49.99 * 101.0)
    assert engine.portfolio.cash >= 0


def test_an_order_walking_four_levels_pays_the_minimum_fee_once(tmp_path: Path) -> None:
    asks = [(100.01, 1), (100.02, 1), (100.03, 1), (100.04, 1)]
    rows = book(0, [(99.99, 300)], asks) + trade(100, 100.04, 1, "buy")
    execution = {"fees": {"taker_bps": 1.0, "minimum": 1.0}}
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 4, None]], execution)
    assert [f["details"]["fee"] for f in of_kind(journal, "fill")] == [1.0, 0.0, 0.0, 0.0]
    quality = of_kind(journal, "execution")[0]["details"]
    assert quality["fees"] == 1.0
    assert engine.portfolio.fees == 1.0
    assert engine.portfolio.cash == pytest.approx(1_000_000 - (100.01 + 100.02 + 100.03
                                                               + 100.04) - 1.0)


def test_an_order_filling_in_pieces_pays_the_minimum_then_only_the_rate_beyond_it(
        tmp_path: Path) -> None:
    # each 1,000-unit fill at 100.00 costs 10.00 by rate: the first pays the 25.00 minimum,
    # the second nothing, the third 5.00 (30.00 − 25.00), the fourth 10.00
    rows = (book(0, [(99.99, 400)], [(100.01, 500)]) + trade(10, 100.0, 1_000)
            + trade(20, 100.0, 1_000) + trade(30, 100.0, 1_000) + trade(40, 100.0, 1_000))
    execution = {"fees": {"maker_bps": 1.0, "minimum": 25.0}}
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 4_000, 100.0]], execution)
    fees = [f["details"]["fee"] for f in of_kind(journal, "fill")]
    assert fees == pytest.approx([25.0, 0.0, 5.0, 10.0])
    assert of_kind(journal, "execution")[0]["details"]["fees"] == pytest.approx(40.0)
    assert strategy.cash == pytest.approx([1_000_000 - 100_000 * k - fee for k, fee in
                                           zip((1, 2, 3, 4), (25, 25, 30, 40), strict=True)])


def test_execution_quality_of_one_order_matches_a_hand_computation(tmp_path: Path) -> None:
    # decision at 0 ms on mid 100.00; the order reaches the venue at 50 ms, where the book
    # has moved to 100.09 / 100.11 (mid 100.10), and buys 100 at 100.11 and 50 at 100.12
    rows = (book(0, [(99.99, 100)], [(100.01, 100)])
            + book(20, [(100.09, 100)], [(100.11, 100), (100.12, 200)])
            + trade(200, 100.12, 1, "buy"))
    execution = {"entry_latency": {"ms": 50}, "response_latency": {"ms": 5},
                 "fees": {"taker_bps": 1.0, "per_unit": 0.001}}
    engine, strategy, journal = run_script(tmp_path, rows, [[0, "order", 150, None]], execution)
    notional = 100 * 100.11 + 50 * 100.12
    fees = notional * 1e-4 + 150 * 0.001
    vwap = notional / 150
    latency = (100.10 - 100.00) * 150      # 15.00: the market moved while the order travelled
    impact = (vwap - 100.10) * 150         # 2.00: walking the book past the mid
    quality = of_kind(journal, "execution")[0]["details"]
    assert quality["decision_price"] == pytest.approx(100.00)
    assert quality["arrival_price"] == pytest.approx(100.10)
    assert quality["vwap"] == pytest.approx(vwap)
    assert quality["latency_cost"] == pytest.approx(latency)
    assert quality["impact_cost"] == pytest.approx(impact)
    assert quality["fees"] == pytest.approx(fees)
    assert quality["shortfall"] == pytest.approx(latency + impact + fees)
    assert quality["shortfall"] == pytest.approx(15.0 + 2.0 + 1.5017 + 0.15)
    # the fills are booked 5 ms after they happen, one by one
    delays = [f["ts_ns"] - f["details"]["venue_ts"] for f in of_kind(journal, "fill")]
    assert delays == [5_000_000] * 2
    assert strategy.positions == [100, 150]
    assert strategy.cash[0] == pytest.approx(1_000_000 - 100 * 100.11 - 100 * 100.11 * 1e-4 - 0.1)
    summary = summarize(engine, 1.0)
    assert summary["shortfall"] == pytest.approx(latency + impact + fees)
    assert summary["latency_cost"] == pytest.approx(latency)
    assert summary["fees"] == pytest.approx(fees)
    # the shortfall is what the desk lost against trading 150 at the decision price for free
    assert summary["equity"] == pytest.approx(1_000_000 + (100.10 - 100.00) * 150
                                              - latency - impact - fees)


def test_a_sell_that_gets_a_better_price_than_decided_has_a_negative_latency_cost(
        tmp_path: Path) -> None:
    rows = (book(0, [(99.99, 100)], [(100.01, 100)])
            + book(20, [(100.19, 100)], [(100.21, 100)]) + trade(200, 100.19, 1))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", -100, None]],
                               {"entry_latency": {"ms": 50}})
    quality = of_kind(journal, "execution")[0]["details"]
    assert quality["latency_cost"] == pytest.approx(-0.20 * 100)
    assert quality["impact_cost"] == pytest.approx(0.01 * 100)
