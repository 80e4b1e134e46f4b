"""Queue position of a resting limit order: how much displayed size is still ahead of it.

A replay does not show where our order would sit among the real orders at its
price, so the position is a model. Both models start behind everything
displayed at the price when the order arrives and advance by trades at the
price. A price the feed does not show at arrival (beyond a top-N book, or
behind the best of a quote) hides an unknown queue: the order joins behind
`UNSEEN` (infinite) size, which no trade at the price gets through, and takes
the whole size displayed there when the level first appears, never less. The
models differ in how they read a displayed size that shrank for reasons other
than trades (cancels):

- `conservative` moves us forward only as far as it must: the size ahead can
  never exceed what is displayed at the price (hftbacktest's risk-averse model);
- `probabilistic` draws, for each such decrease, whether it came from ahead of
  us or from behind, with the probability of "behind" `f(back) / (f(back) +
  f(front))` for `f(x) = x**power` (hftbacktest's power-function model, drawn
  from a seeded generator instead of taken as its expectation).
"""

from __future__ import annotations

import math
import random

from desk.orders import Order

UNSEEN = math.inf
"""The queue ahead of an order whose price level has not been displayed since it arrived."""


class QueueModel:
    """The conservative model; also the base of the probabilistic one."""

    name = "conservative"

    def join(self, order: Order, displayed: float | None) -> None:
        """The order starts to rest behind `displayed` size at its price; None: not displayed."""
        if displayed is None:
            displayed = UNSEEN
        order.queue_ahead = displayed
        order.queue_level = displayed
        order.queue_traded = 0.0

    def on_trade(self, order: Order, size: float) -> float:
        """A trade of `size` at the order's price advances the queue; returns what reached us."""
        order.queue_traded += size
        left = order.queue_ahead - size
        if left >= 0:
            order.queue_ahead = left
            return 0.0
        order.queue_ahead = 0.0
        return -left

    def cleared(self, order: Order) -> None:
        """A trade went through the order's price: the level, and the queue ahead, are gone."""
        order.queue_ahead = order.queue_level = order.queue_traded = 0.0

    def on_depth(self, order: Order, displayed: float) -> None:
        """The displayed size at the order's price is now `displayed`.

        The first sight of a level the order joined unseen puts the whole of it
        ahead: what was there when the order arrived is unknown, and what the
        level shows now is the most it can be that we can see.
        """
        if order.queue_level == UNSEEN:
            order.queue_ahead = order.queue_level = displayed
            order.queue_traded = 0.0
            return
        self._cancelled(order, order.queue_level, displayed)
        if order.queue_ahead > displayed:
            order.queue_ahead = displayed
        order.queue_level = displayed
        order.queue_traded = 0.0

    def _cancelled(self, order: Order, before: float, after: float) -> None:
        """A decrease of the level not explained by trades; the conservative model ignores it."""


class ProbabilisticQueue(QueueModel):
    """Cancels at the price are drawn as ahead of or behind the order, seeded."""

    name = "probabilistic"

    def __init__(self, power: float, seed: int) -> None:
        self.power = power
        self._rng = random.Random(seed)

    def _cancelled(self, order: Order, before: float, after: float) -> None:
        change = before - after - order.queue_traded
        if change <= 0:
            return
        front = order.queue_ahead
        back = max(before - order.queue_traded - front, 0.0)
        weight_back = back ** self.power
        weight_front = front ** self.power
        total = weight_back + weight_front
        behind = weight_back / total if total > 0 else 1.0
        if self._rng.random() < behind:
            # the cancel came from behind us, except whatever exceeds what stood behind
            front -= max(change - back, 0.0)
        else:
            front -= change
        order.queue_ahead = max(front, 0.0)


def make_queue_model(name: str, power: float, seed: int) -> QueueModel:
    if name == "probabilistic":
        return ProbabilisticQueue(power, seed)
    return QueueModel()
