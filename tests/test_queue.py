"""The event queue: a total order (ts, priority, seq) over the feed and the engine's own events."""

from __future__ import annotations

from desk.events import OrderArrived, Priority, RuleToggled, Trade
from desk.queue import EventQueue


def _trade(ts: int) -> Trade:
    return Trade(ts, "ACME", 100.0, 1.0)


def test_feed_and_scheduled_events_merge_in_time_order() -> None:
    queue = EventQueue(iter([[_trade(10), _trade(30)], [_trade(50)]]))
    queue.schedule(40, Priority.ARRIVAL, OrderArrived(40, 1))
    queue.schedule(20, Priority.ARRIVAL, OrderArrived(20, 2))
    order = []
    while (item := queue.pop()) is not None:
        order.append(item[0])
    assert order == [10, 20, 30, 40, 50]
    assert queue.popped == 5


def test_at_the_same_time_control_goes_before_market_and_market_before_arrival() -> None:
    queue = EventQueue(iter([[_trade(10)]]))
    queue.schedule(10, Priority.ARRIVAL, OrderArrived(10, 1))
    queue.schedule(10, Priority.CONTROL, RuleToggled(10, "cash", False))
    kinds = []
    while (item := queue.pop()) is not None:
        kinds.append(type(item[1]).__name__)
    assert kinds == ["RuleToggled", "Trade", "OrderArrived"]


def test_scheduled_ties_keep_the_order_they_were_scheduled_in() -> None:
    queue = EventQueue(iter([]))
    for order_id in (3, 1, 2):
        queue.schedule(5, Priority.REPORT, OrderArrived(5, order_id))
    ids = []
    while (item := queue.pop()) is not None:
        ids.append(item[1].order_id)
    assert ids == [3, 1, 2]


def test_empty_batches_in_the_feed_are_passed_over() -> None:
    queue = EventQueue(iter([[], [_trade(1)], [], [_trade(2)]]))
    assert queue.peek_feed_ts() == 1
    assert [queue.pop()[0], queue.pop()[0], queue.pop()] == [1, 2, None]  # type: ignore[index]


def test_the_queue_is_dry_when_only_control_changes_are_left_after_the_feed() -> None:
    queue = EventQueue(iter([[_trade(10)]]))
    queue.schedule(50, Priority.CONTROL, RuleToggled(50, "cash", False))
    queue.schedule(20, Priority.REPORT, OrderArrived(20, 1))
    queue.schedule(15, Priority.CONTROL, RuleToggled(15, "cash", True))
    times = []
    while (item := queue.pop()) is not None:
        times.append(item[0])
    assert times == [10, 15, 20]
    assert queue.peek_ts() is None
    assert queue.left_over() == [RuleToggled(50, "cash", False)]
