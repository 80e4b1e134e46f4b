"""Resting limit orders: queue position, no fill before the queue ahead is consumed, partials."""

from __future__ import annotations

import random
from pathlib import Path

from exec_helpers import MS, book, of_kind, quote, run_script, trade

from desk.execution.queue_model import ProbabilisticQueue, QueueModel
from desk.orders import Order, OrderType, TimeInForce

BIDS = [(99.99, 300), (99.98, 400)]
ASKS = [(100.01, 200), (100.02, 400)]


def _fills(journal: list[dict]) -> list[tuple[int, float]]:
    return [(f["details"]["venue_ts"] // MS, f["details"]["qty"]) for f in of_kind(journal, "fill")]


def test_resting_bid_fills_only_after_the_displayed_size_ahead_has_traded(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + trade(10, 99.99, 100) + trade(15, 99.99, 1000, "buy")
            + trade(20, 99.99, 150) + trade(30, 99.99, 100) + trade(40, 99.99, 200)
            + trade(50, 99.99, 500))
    engine, strategy, journal = run_script(tmp_path, rows, [[0, "order", 200, 99.99]])
    # 300 ahead: 100 + 150 leave 50 ahead (the buy-initiated print does not touch bids);
    # the trade at 30 ms takes those 50 and 50 of ours; the one at 40 ms the other 150
    assert _fills(journal) == [(30, 50), (40, 150)]
    assert strategy.positions == [50, 200]
    assert all(f["details"]["liquidity"] == "maker" for f in of_kind(journal, "fill"))
    arrival = of_kind(journal, "arrival")[0]
    assert arrival["details"]["queue_ahead"] == 300
    assert "rests at 99.99 behind 300 shown" in arrival["why"]
    assert not engine.execution.resting["ACME"]


def test_a_trade_through_the_limit_fills_the_resting_order_up_to_the_trade_size(
        tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(10, 99.98, 120) + trade(20, 99.97, 500)
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 200, 99.99]])
    assert _fills(journal) == [(10, 120), (20, 80)]
    assert strategy.positions == [120, 200]


def test_cancels_ahead_move_the_order_up_when_the_level_shrinks_below_the_queue_ahead(
        tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + trade(10, 99.99, 100)
            + book(11, [(99.99, 200)], [], snapshot=False)   # the trade, as the level shows it
            + book(12, [(99.99, 120)], [], snapshot=False)   # 80 cancelled: at least 80 was ahead
            + trade(20, 99.99, 150) + trade(30, 99.99, 1))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.99]])
    assert _fills(journal) == [(20, 30), (30, 1)]


def test_a_level_growing_behind_the_order_does_not_push_it_back(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + book(5, [(99.99, 900)], [], snapshot=False)
            + trade(10, 99.99, 350))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.99]])
    assert _fills(journal) == [(10, 50)]


def test_the_other_side_moving_onto_the_limit_fills_only_what_is_shown_there_first_in_line(
        tmp_path: Path) -> None:
    # 50 offered at our 99.99 (100.00 is beyond it): we are first in line there now and get
    # those 50 at our limit; the other 150 rest with nothing ahead, and the next sell takes them
    rows = (book(0, BIDS, ASKS) + book(10, [(99.98, 400)], [(99.99, 50), (100.0, 100)])
            + book(20, [(99.98, 400)], [(100.0, 100)]) + trade(30, 99.99, 30))
    engine, strategy, journal = run_script(tmp_path, rows, [[0, "order", 200, 99.99]])
    assert _fills(journal) == [(10, 50), (30, 30)]
    assert [fill.price for fill in strategy.fills] == [99.99, 99.99]
    assert all(f["details"]["liquidity"] == "maker" for f in of_kind(journal, "fill"))
    (order,) = engine.execution.resting["ACME"]
    assert (order.venue_open, order.queue_ahead) == (120, 0)


def test_the_other_side_moving_through_the_limit_gives_a_share_of_each_level_at_the_limit(
        tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(10, [(99.97, 400)], [(99.98, 40), (99.99, 50), (100.0, 90)])
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 200, 99.99]],
                                      {"max_volume_share": 0.5})
    assert _fills(journal) == [(10, 20), (10, 25)]
    assert {fill.price for fill in strategy.fills} == {99.99}


def test_a_quote_moving_onto_the_limit_fills_no_more_than_its_size(tmp_path: Path) -> None:
    rows = (quote(0, 99.99, 300, 100.01, 200) + quote(10, 99.98, 300, 99.99, 1)
            + trade(20, 99.99, 5, "buy"))
    engine, _, journal = run_script(tmp_path, rows, [[0, "order", 1_000, 99.99]])
    assert _fills(journal) == [(10, 1)]
    (order,) = engine.execution.resting["ACME"]
    assert (order.venue_open, order.queue_ahead) == (999, 0)


def test_an_order_at_a_price_not_shown_takes_the_whole_level_ahead_when_it_appears(
        tmp_path: Path) -> None:
    # a bid at 99.97 below the quote's best: what rests there is unknown, so no trade there
    # fills it until the level is seen; then all 500 shown are ahead of it
    rows = (quote(0, 99.99, 300, 100.01, 200) + trade(5, 99.97, 1_000)
            + quote(10, 99.97, 500, 99.99, 200) + trade(20, 99.97, 10)
            + trade(30, 99.97, 495))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.97]])
    assert _fills(journal) == [(30, 5)]
    arrival = of_kind(journal, "arrival")[0]
    assert arrival["details"]["queue_ahead"] is None  # strict JSON: no Infinity in the journal
    assert "behind an unknown queue" in arrival["why"]


def test_an_order_beyond_a_top_n_book_is_behind_the_level_when_it_first_shows(
        tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + trade(5, 99.97, 1_000)
            + book(10, [(99.99, 0), (99.98, 0), (99.97, 500), (99.96, 100)], [], snapshot=False)
            + trade(20, 99.97, 10) + trade(30, 99.97, 495) + trade(40, 99.96, 30))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.97]])
    # 500 ahead from 10 ms: 505 traded leaves 5 for us; then a trade through takes 30 more
    assert _fills(journal) == [(30, 5), (40, 30)]


def test_a_trade_through_an_unseen_level_fills_and_the_level_cannot_push_the_order_back(
        tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + trade(5, 99.96, 40)
            + book(10, [(99.99, 0), (99.98, 0), (99.97, 500)], [], snapshot=False)
            + trade(20, 99.97, 10))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.97]])
    assert _fills(journal) == [(5, 40), (20, 10)]


def _order_fills(journal: list[dict]) -> list[tuple[int, int, float]]:
    return [(f["order_id"], f["details"]["venue_ts"] // MS, f["details"]["qty"])
            for f in of_kind(journal, "fill")]


def test_one_trade_through_two_of_our_bids_fills_the_better_one_first_and_only_once(
        tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(10, 99.97, 100) + trade(20, 99.97, 150)
    _, strategy, journal = run_script(tmp_path, rows,
                                      [[0, "order", 100, 99.99], [0, "order", 100, 99.98]])
    first, second = strategy.ids
    assert _order_fills(journal) == [(first, 10, 100), (second, 20, 100)]


def test_our_two_orders_at_one_price_queue_behind_each_other(tmp_path: Path) -> None:
    # nobody shown at 99.99: the first order takes 100 of the 150, the second the other 50
    rows = (book(0, [(99.98, 400)], ASKS) + trade(10, 99.99, 150) + trade(20, 99.99, 100))
    _, strategy, journal = run_script(tmp_path, rows,
                                      [[0, "order", 100, 99.99], [0, "order", 100, 99.99]])
    first, second = strategy.ids
    assert _order_fills(journal) == [(first, 10, 100), (second, 10, 50), (second, 20, 50)]


def test_our_second_order_waits_for_the_shown_queue_and_for_our_first(tmp_path: Path) -> None:
    # both behind 300 shown: 350 traded gives the first 50, and the second is then at the front
    rows = book(0, BIDS, ASKS) + trade(10, 99.99, 350) + trade(20, 99.99, 100)
    _, strategy, journal = run_script(tmp_path, rows,
                                      [[0, "order", 100, 99.99], [0, "order", 100, 99.99]])
    first, second = strategy.ids
    assert _order_fills(journal) == [(first, 10, 50), (first, 20, 50), (second, 20, 50)]


def test_a_trade_while_the_book_is_crossed_fills_no_resting_order(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + book(10, [(100.05, 50)], [], snapshot=False)
            + trade(20, 99.98, 500) + book(30, [(100.05, 0)], [], snapshot=False)
            + trade(40, 99.98, 60))
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 100, 99.99]])
    assert [r["why"] for r in of_kind(journal, "data_quality")][-1] == "book uncrossed"
    assert _fills(journal) == [(40, 60)]


def test_probabilistic_queue_runs_the_same_session_deterministically(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + book(5, [(99.99, 150)], [], snapshot=False)
            + trade(10, 99.99, 100) + book(11, [(99.99, 50)], [], snapshot=False)
            + trade(20, 99.99, 100) + trade(30, 99.99, 100))
    runs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        _, _, journal = run_script(folder, rows, [[0, "order", 100, 99.99]],
                                   {"queue_model": "probabilistic", "queue_power": 2})
        runs.append(_fills(journal))
    assert runs[0] == runs[1]
    assert sum(qty for _, qty in runs[0]) == 100


def _order() -> Order:
    return Order(order_id=1, instrument="ACME", qty=100, order_type=OrderType.LIMIT,
                 limit_price=99.99, tif=TimeInForce.GTC, submit_ts=0, decision_price=100.0,
                 order_seq=0)


def test_probabilistic_cancel_is_behind_us_with_the_power_function_odds() -> None:
    model = ProbabilisticQueue(power=2.0, seed=11)
    ahead_moved = 0
    draws = 4000
    for _ in range(draws):
        order = _order()
        model.join(order, 100)       # 100 ahead of us
        model.on_depth(order, 400)   # 300 joined behind us
        model.on_depth(order, 390)   # 10 cancelled: behind with odds 300² : 100² = 0.9
        assert order.queue_ahead in (90, 100)
        ahead_moved += order.queue_ahead == 90
    assert abs(ahead_moved / draws - 0.1) < 0.02


def test_probabilistic_queue_is_never_behind_the_conservative_one() -> None:
    rng = random.Random(5)
    for seed in range(50):
        conservative, probabilistic = QueueModel(), ProbabilisticQueue(3.0, seed)
        first, second = _order(), _order()
        level = 500.0
        conservative.join(first, level)
        probabilistic.join(second, level)
        for _ in range(40):
            if rng.random() < 0.4:
                size = rng.uniform(0, 80)
                reached = (conservative.on_trade(first, size), probabilistic.on_trade(second, size))
                assert reached[1] >= reached[0]
                level = max(level - size, 0.0)
            else:
                level = max(level + rng.uniform(-120, 60), 0.0)
                conservative.on_depth(first, level)
                probabilistic.on_depth(second, level)
            assert second.queue_ahead <= first.queue_ahead + 1e-9
            assert 0 <= second.queue_ahead <= level + 1e-9


def test_volume_share_caps_what_one_trade_gives_a_resting_order(tmp_path: Path) -> None:
    rows = (book(0, [(99.99, 0.0), (99.98, 400)], ASKS) + trade(10, 99.99, 100)
            + trade(20, 99.99, 100) + trade(30, 99.99, 100))
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 120, 99.99]],
                                      {"max_volume_share": 0.5})
    assert _fills(journal) == [(10, 50), (20, 50), (30, 20)]
    assert strategy.positions == [50, 100, 120]
