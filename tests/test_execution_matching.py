"""Matching at arrival: walking the book, partials when depth runs out, the share cap, slippage."""

from __future__ import annotations

from pathlib import Path

import pytest
from exec_helpers import book, of_kind, quote, run_script, trade

ASKS = [(100.00, 100), (100.01, 200), (100.02, 300)]
BIDS = [(99.99, 150), (99.98, 250), (99.97, 200)]


def test_market_buy_walks_the_asks_level_by_level_at_the_hand_computed_vwap(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(100, 99.99, 1)
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 250, None]])
    fills = of_kind(journal, "fill")
    assert [(f["details"]["qty"], f["details"]["price"]) for f in fills] == [(100, 100.00),
                                                                            (150, 100.01)]
    execution = of_kind(journal, "execution")[0]["details"]
    assert execution["vwap"] == pytest.approx((100 * 100.00 + 150 * 100.01) / 250)
    assert execution["filled"] == 250
    assert engine.portfolio_view.position("ACME") == 250
    assert engine.portfolio.cash == pytest.approx(1_000_000 - 100 * 100.00 - 150 * 100.01)


def test_market_sell_beyond_the_depth_fills_what_is_there_and_ends_the_rest(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(100, 100.0, 1, "buy")
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", -700, None]])
    fills = of_kind(journal, "fill")
    assert [(f["details"]["qty"], f["details"]["price"]) for f in fills] == [
        (-150, 99.99), (-250, 99.98), (-200, 99.97)]
    end = of_kind(journal, "order_end")[0]["details"]
    assert end["unfilled"] == -100
    assert "no more liquidity" in end["reason"]
    execution = of_kind(journal, "execution")[0]["details"]
    assert execution["vwap"] == pytest.approx((150 * 99.99 + 250 * 99.98 + 200 * 99.97) / 600)
    assert engine.portfolio_view.position("ACME") == -600
    assert engine.risk.pending["ACME"] == 0


def test_limit_order_takes_up_to_its_price_then_rests_the_remainder(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(100, 100.02, 1, "buy")
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 400, 100.01]])
    fills = of_kind(journal, "fill")
    assert [(f["details"]["qty"], f["details"]["price"]) for f in fills] == [(100, 100.00),
                                                                            (200, 100.01)]
    assert not of_kind(journal, "order_end")
    (resting,) = engine.execution.resting["ACME"]
    assert resting.venue_open == 100
    assert resting.queue_ahead == 0  # nobody else bids at 100.01
    assert [o.filled for o in engine.strategy.ctx.open_orders()] == [300]


def test_ioc_limit_remainder_is_cancelled_not_rested(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(100, 100.02, 1, "buy")
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 400, 100.01, "IOC"]])
    assert sum(f["details"]["qty"] for f in of_kind(journal, "fill")) == 300
    end = of_kind(journal, "order_end")[0]["details"]
    assert (end["reason"], end["unfilled"]) == ("IOC remainder cancelled", 100)
    assert not engine.execution.resting["ACME"]


def test_volume_share_cap_spreads_a_market_order_over_book_events(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + book(10, BIDS, ASKS) + book(20, BIDS, ASKS)
            + trade(30, 100.0, 1, "buy"))
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 400, None]],
                                      {"max_volume_share": 0.5})
    fills = [(f["details"]["venue_ts"] // 1_000_000, f["details"]["qty"], f["details"]["price"])
             for f in of_kind(journal, "fill")]
    # half of each level shown at arrival (t=0), then the remaining 100 at the next book event
    assert fills == [(0, 50, 100.00), (0, 100, 100.01), (0, 150, 100.02),
                     (10, 50, 100.00), (10, 50, 100.01)]
    assert strategy.positions == [50, 150, 300, 350, 400]


def test_volume_share_is_a_share_of_each_level_so_a_deep_book_does_not_lift_it(
        tmp_path: Path) -> None:
    # 10 at the touch and 49 levels of 1,000 behind it: a tenth of each level per event,
    # 1 + 49 × 100 = 4,901 at once, never the whole touch; the other 99 at the next event
    asks = [(100.01, 10)] + [(round(100.01 + 0.01 * i, 2), 1_000) for i in range(1, 50)]
    rows = book(0, BIDS, asks) + book(10, BIDS, asks) + trade(30, 100.0, 1, "buy")
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 5_000, None]],
                                      {"max_volume_share": 0.1})
    fills = [(f["details"]["venue_ts"] // 1_000_000, f["details"]["qty"], f["details"]["price"])
             for f in of_kind(journal, "fill")]
    first = [fill for fill in fills if fill[0] == 0]
    assert first[0] == (0, 1, 100.01)
    assert all(qty == 100 for _, qty, _ in first[1:]) and len(first) == 50
    assert [fill for fill in fills if fill[0] == 10] == [(10, 1, 100.01), (10, 98, 100.02)]
    assert strategy.positions[-1] == 5_000


def test_a_share_too_small_for_a_lot_still_takes_one_lot_per_event(tmp_path: Path) -> None:
    asks = [(100.00, 5), (100.01, 5)]
    rows = book(0, BIDS, asks) + book(10, BIDS, asks) + trade(30, 100.0, 1, "buy")
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 3, None]],
                               {"max_volume_share": 0.1})
    assert [(f["details"]["venue_ts"] // 1_000_000, f["details"]["qty"])
            for f in of_kind(journal, "fill")] == [(0, 1), (10, 1)]


def test_without_a_book_a_market_order_fills_at_the_quote_plus_fixed_bps(tmp_path: Path) -> None:
    rows = quote(0, 99.90, 500, 100.00, 500) + trade(100, 100.0, 1, "buy")
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, None]],
                               {"slippage": {"model": "fixed", "bps": 10}})
    (fill,) = of_kind(journal, "fill")
    assert fill["details"]["price"] == 100.10


def test_square_root_impact_is_k_sigma_sqrt_q_over_adv(tmp_path: Path) -> None:
    rows = quote(0, 99.90, 50_000, 100.00, 50_000) + trade(100, 99.9, 1)
    slippage = {"model": "sqrt", "k": 1.0, "daily_vol_bps": 150, "daily_volume": 1_000_000}
    _, _, journal = run_script(tmp_path, rows, [[0, "order", -10_000, None]],
                               {"slippage": slippage})
    (fill,) = of_kind(journal, "fill")
    # 0.015 · sqrt(10_000 / 1_000_000) = 15 bps below the bid of 99.90, rounded down to the tick
    assert fill["details"]["price"] == 99.75
    assert fill["details"]["qty"] == -10_000


def test_a_sell_whose_impact_passes_the_whole_price_fills_at_one_tick_never_at_zero_or_below(
        tmp_path: Path) -> None:
    rows = quote(0, 99.90, 50_000, 100.00, 50_000) + trade(100, 99.9, 1)
    # 100 · 0.015 · sqrt(50_000 / 100_000) ≈ 106%: the model's sell price is below zero
    slippage = {"model": "sqrt", "k": 100.0, "daily_vol_bps": 150, "daily_volume": 100_000}
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", -50_000, None]],
                                    {"slippage": slippage})
    (fill,) = of_kind(journal, "fill")
    assert fill["details"]["price"] == 0.01
    assert engine.portfolio.cash == pytest.approx(1_000_000 + 50_000 * 0.01)


def test_volume_share_cap_without_a_book_limits_each_take_to_a_share_of_the_quote(
        tmp_path: Path) -> None:
    rows = (quote(0, 99.90, 100, 100.00, 100) + quote(10, 99.90, 100, 100.00, 100)
            + quote(20, 99.90, 100, 100.00, 100) + trade(30, 100.0, 1, "buy"))
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 50, None]],
                                      {"max_volume_share": 0.2})
    assert [f["details"]["qty"] for f in of_kind(journal, "fill")] == [20, 20, 10]
    assert strategy.positions == [20, 40, 50]
