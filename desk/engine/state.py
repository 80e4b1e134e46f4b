"""What the engine's parts share: declared once, so that each part type-checks on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.audit import Journal
    from desk.config import InstrumentSpec, LoadedSession, OperatorAction, Session
    from desk.engine.stats import Stats
    from desk.execution.latency import Latency
    from desk.execution.simulator import ExecutionSimulator
    from desk.invariants import Invariants
    from desk.market import MarketState, MarketView
    from desk.orders import OrderInfo, RejectInfo, TimeInForce
    from desk.portfolio import Portfolio, PortfolioView
    from desk.queue import EventQueue
    from desk.risk.engine import ModeChange, RiskEngine
    from desk.strategy import Strategy


class EngineState:
    """The attributes `Engine._build` sets, and the methods one part calls on another."""

    loaded: LoadedSession
    config: Session
    seed: int
    strict: bool
    specs: dict[str, InstrumentSpec]
    journal: Journal
    stats: Stats
    now: int
    finished: bool
    market: MarketState
    venue: MarketState
    """The market at the venue; the same object as the desk's `market` without feed latency."""
    feed_latency: Latency | None
    _feed_free: int
    portfolio: Portfolio
    portfolio_view: PortfolioView
    market_view: MarketView
    risk: RiskEngine
    queue: EventQueue
    execution: ExecutionSimulator
    _next_intent: int
    _event_record: int | None
    """The seq of the journaled market event the strategy is answering, once journaled."""
    _current: Any
    """The market event the strategy is answering; None for what follows from no market event."""
    _rejects: list[RejectInfo]
    _order_chain: dict[int, int]
    commands: list[OperatorAction]
    operator_log: list[OperatorAction]
    _replay_actions: list[OperatorAction]
    _replay_pos: int
    _handlers: dict[type, Callable[[Any], object]]
    strategy_active: bool
    strategy_faults: int
    strategy: Strategy
    _hears_fills: bool
    _started: bool
    _invariants: Invariants | None
    _band: list[Any]

    if TYPE_CHECKING:  # defined by one part, called by another
        def _call_strategy(self, callback: Any, *args: Any) -> None: ...
        def _unsteady(self) -> None: ...
        def _journal_mode(self, change: ModeChange, source: str) -> None: ...
        def _judge_mode(self, source: str) -> None: ...
        def _target(self, symbol: str, qty: float, reason: str, evidence: dict[str, Any],
                    limit: float | None = None) -> int | None: ...
        def _order(self, symbol: str, qty: float, reason: str, limit: float | None, tif: str,
                   evidence: dict[str, Any]) -> int | None: ...
        def _intend(self, symbol: str, qty: float, reason: str, limit: float | None,
                    tif: TimeInForce, evidence: dict[str, Any],
                    target: float | None = None) -> int | None: ...
        def _cancel(self, order_id: int, reason: str) -> bool: ...
        def _open_orders(self, symbol: str | None) -> list[OrderInfo]: ...
        def _round_lot(self, symbol: str, qty: float) -> float: ...
