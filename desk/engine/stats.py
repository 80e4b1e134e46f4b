"""The engine's counters for the end-of-run summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    """Counters for the end-of-run summary."""

    events: int = 0
    market_events: int = 0
    signals: int = 0
    intents: int = 0
    approved: int = 0
    blocked: int = 0
    blocked_by: dict[str, int] = field(default_factory=dict)
    fills: int = 0
    filled_qty: float = 0.0
    filled_by: dict[str, float] = field(default_factory=dict)
    """Units filled per instrument: units of different instruments do not add up."""
    decided_notional: float = 0.0
    """Σ |filled| · decision price · multiplier of finished orders: what shortfall is measured
    against."""
    latency_cost: float = 0.0
    impact_cost: float = 0.0
    fee_cost: float = 0.0
    orders_done: int = 0
    data_issues: int = 0
    strategy_faults: int = 0
    cash_guards: int = 0
