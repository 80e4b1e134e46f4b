"""The event queue: the time-ordered feed merged with the events the engine schedules itself.

The total order is `(ts, priority, seq)`. Feed events are already in time
order and carry the MARKET (or CONTROL) priority; scheduled events sit in a
heap. On a tie of `(ts, priority)` the feed goes first, as the older fact.
The queue is dry when the feed is and the heap holds nothing but timed
control changes: a change governs the events after it, and none comes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from desk.collector import paused
from desk.events import Priority


class EventQueue:
    """Merges a feed of event batches with a heap of scheduled events, deterministically."""

    __slots__ = ("_batch", "_feed", "_heap", "_pos", "_sched_seq", "popped")

    def __init__(self, feed: Iterator[list[Any]]) -> None:
        self._feed = feed
        self._batch: list[Any] = []
        self._pos = 0
        self._heap: list[tuple[int, int, int, Any]] = []
        self._sched_seq = 0
        self.popped = 0
        """How many events have left the queue: the seq of the next one."""

    def schedule(self, ts: int, priority: int, event: Any) -> None:
        """Queue an event of the engine's own (an arrival, a fill report, a control change)."""
        heapq.heappush(self._heap, (ts, priority, self._sched_seq, event))
        self._sched_seq += 1

    def _refill(self) -> bool:
        with paused():  # a batch of events is acyclic: no collection while it is made
            for batch in self._feed:
                if batch:
                    self._batch = batch
                    self._pos = 0
                    return True
        self._batch = []
        self._pos = 0
        return False

    def peek_feed_ts(self) -> int | None:
        """Timestamp of the next feed event, reading the next batch if needed."""
        if self._pos >= len(self._batch) and not self._refill():
            return None
        return int(self._batch[self._pos].ts)

    def peek_ts(self) -> int | None:
        """Timestamp of the next event in the total order (feed or scheduled), or None when dry."""
        feed_ts = self.peek_feed_ts()
        if feed_ts is None and self._only_controls():
            return None
        if self._heap and (feed_ts is None or self._heap[0][0] < feed_ts):
            return self._heap[0][0]
        return feed_ts

    def _only_controls(self) -> bool:
        """Whether the heap holds nothing but control changes (or nothing)."""
        heap = self._heap
        return not heap or (heap[0][1] == Priority.CONTROL
                            and all(entry[1] == Priority.CONTROL for entry in heap))

    def left_over(self) -> list[Any]:
        """The control changes still scheduled once the queue is dry, in time order: due after
        the last event, they never applied."""
        return [entry[3] for entry in sorted(self._heap)] if self._only_controls() else []

    def pop(self) -> tuple[int, Any] | None:
        """The next event in the total order with its timestamp, or None when both sources are
        dry."""
        if self._pos >= len(self._batch):
            self._refill()
        heap = self._heap
        if self._pos < len(self._batch):
            event = self._batch[self._pos]
            if heap:
                top = heap[0]
                if top[0] < event.ts or (top[0] == event.ts and top[1] < Priority.MARKET):
                    heapq.heappop(heap)
                    self.popped += 1
                    return top[0], top[3]
            self._pos += 1
            self.popped += 1
            return event.ts, event
        if heap and not self._only_controls():
            top = heapq.heappop(heap)
            self.popped += 1
            return top[0], top[3]
        return None

    def feed_window(self) -> tuple[list[Any], int]:
        """The current feed batch and the index of its next event, reading a batch if needed.

        For `Engine._run_feed`, which takes events from the batch itself and then
        moves `_pos` and `popped` on exactly as `pop()` would have.
        """
        if self._pos >= len(self._batch):
            self._refill()
        return self._batch, self._pos

    @property
    def heap(self) -> list[tuple[int, int, int, Any]]:
        """The scheduled events as a heap of (ts, priority, seq, event); read it, never push to
        it."""
        return self._heap

    @property
    def scheduled(self) -> int:
        return len(self._heap)
