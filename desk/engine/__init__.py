"""The engine: one deterministic loop that routes each event through the desk in a fixed order.

market event → market state → portfolio mark → risk mode → resting orders →
strategy → (signal → intent → risk decision → order). Scheduled facts (order
arrival, fill report, order end) and control changes come from the same queue.
The core is synchronous; `desk.runner` paces it for people and the app.

`loop` holds the `Engine` and its loop; the engine's other jobs are parts it is
made of, one module each: `market_side` (market events at the venue and at the
desk, marks), `order_side` (the strategy's intents, the venue's facts about
orders), `control` (risk limit and rule changes, operator commands) and
`strategy_host` (calling the strategy, its faults). `state` declares what they
share.
"""

from desk.engine.loop import Engine
from desk.engine.stats import Stats

__all__ = ["Engine", "Stats"]
