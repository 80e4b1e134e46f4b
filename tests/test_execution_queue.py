"""Resting limit orders: queue position, no fill before the queue ahead is consumed, partials."""

from __future__ import annotations

import random
from pathlib import Path

from exec_helpers import MS, book, of_kind, run_script, trade

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


def test_the_other_side_moving_onto_the_limit_fills_the_resting_order_whole(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(10, [(99.98, 400)], [(99.99, 50), (100.0, 100)])
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 200, 99.99]])
    assert _fills(journal) == [(10, 200)]
    assert strategy.fills[0].price == 99.99


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
