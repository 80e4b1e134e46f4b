"""Orders as the desk sees them: what a strategy intends, what risk approved, and what is
working."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from desk.events import frozen_tuple


class OrderType(str, Enum):  # noqa: UP042 - StrEnum would change str()/format(); text uses .value
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(str, Enum):  # noqa: UP042 - StrEnum would change str()/format(); text uses .value
    GTC = "GTC"
    IOC = "IOC"


@frozen_tuple
class OrderIntent(NamedTuple):
    """What a strategy wants to do, before risk has looked at it. `qty` is signed: + buy, − sell."""

    intent_id: int
    ts: int
    instrument: str
    qty: float
    order_type: OrderType
    limit_price: float | None
    tif: TimeInForce
    reason: str
    signal_seq: int
    decision_price: float
    """The mark when the signal fired: the reference of implementation shortfall."""

    @property
    def side(self) -> int:
        return 1 if self.qty > 0 else -1


class RuleResult(NamedTuple):
    """One rule's verdict on one intent.

    A named tuple rather than a dataclass: eight are made per intent, and the
    journal's writer process receives them whole (a tuple pickles cheaply).
    """

    rule: str
    passed: bool
    value: float | None
    limit: float | None
    headroom: float | None
    text: str | Callable[..., str]
    """The sentence, or a module-level function that makes it from `args`: most verdicts are
    only ever written down, so their words are made when the journal writes them."""
    args: tuple[Any, ...] = ()

    @property
    def message(self) -> str:
        text = self.text
        return text if isinstance(text, str) else text(*self.args)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "value": self.value,
                "limit": self.limit, "headroom": self.headroom, "message": self.message}


@frozen_tuple
class RiskDecision(NamedTuple):
    """Every enabled rule's verdict on one intent, and the outcome."""

    intent: OrderIntent
    results: tuple[RuleResult, ...]
    mode: str
    approved: bool
    """True when every verdict passed (also when every rule is switched off)."""

    @property
    def blocked_by(self) -> list[str]:
        return [result.rule for result in self.results if not result.passed]


class OrderStatus(str, Enum):  # noqa: UP042 - StrEnum would change str()/format(); text uses .value
    SENT = "sent"
    WORKING = "working"
    FILLED = "filled"
    CANCELLED = "cancelled"
    ENDED = "ended"


@dataclass(slots=True)
class Order:
    """A live order, owned by the execution simulator; strategies see `OrderInfo` copies."""

    order_id: int
    instrument: str
    qty: float
    order_type: OrderType
    limit_price: float | None
    tif: TimeInForce
    submit_ts: int
    decision_price: float
    order_seq: int
    status: OrderStatus = OrderStatus.SENT
    arrival_ts: int = 0
    arrival_price: float = 0.0
    venue_filled: float = 0.0
    """Quantity filled at the venue (reports may still be on their way)."""
    reported: float = 0.0
    """Quantity whose fill reports have reached the desk."""
    notional: float = 0.0
    fees: float = 0.0
    queue_ahead: float = 0.0
    """Displayed size still ahead of a resting order at its price (see
    `desk.execution.queue_model`)."""
    queue_level: float = 0.0
    """The displayed size at the order's price when last seen."""
    queue_traded: float = 0.0
    """Traded at the order's price since the level was last seen (not a cancel)."""
    taking: bool = False
    """Still taking liquidity event by event, held back by `max_volume_share`."""
    cancel_requested: bool = False
    reserved_price: float = 0.0
    fills: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def side(self) -> int:
        return 1 if self.qty > 0 else -1

    @property
    def venue_open(self) -> float:
        """Signed quantity still working at the venue."""
        return self.qty - self.venue_filled

    @property
    def unreported(self) -> float:
        """Signed quantity the desk still counts as pending: sent but not yet reported filled or
        ended."""
        return self.qty - self.reported

    @property
    def done_at_venue(self) -> bool:
        return self.status in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.ENDED)

    @property
    def open_to_desk(self) -> bool:
        """What the desk knows: not every unit has been reported filled or ended yet."""
        return abs(self.unreported) > 1e-9


@frozen_tuple
class OrderInfo(NamedTuple):
    """A read-only copy of an order for strategies and the app."""

    order_id: int
    instrument: str
    qty: float
    filled: float
    order_type: OrderType
    limit_price: float | None
    status: OrderStatus


@frozen_tuple
class FillInfo(NamedTuple):
    """What a strategy is told when a fill report reaches the desk."""

    ts: int
    order_id: int
    instrument: str
    qty: float
    price: float
    fee: float


@dataclass(frozen=True, slots=True)
class RejectInfo:
    """What a strategy is told when risk blocks its intent."""

    ts: int
    instrument: str
    qty: float
    rules: tuple[str, ...]
    why: str
