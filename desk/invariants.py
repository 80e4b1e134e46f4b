"""DESIGN §2 invariants checked after every event of a strict run (`desk run --strict`).

Each check names the invariant it guards, so a violation reads
`invariant NAME broken at event seq N: detail`. Invariants 3 and 4 (the risk
gate, read-only views) hold by construction (types and capabilities) and are
tested directly; invariant 6 (causal chains) is a property of the journal and is
checked on it by `desk.audit` readers and the tests.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from desk.errors import InvariantError
from desk.portfolio import FillEffect, Portfolio

if TYPE_CHECKING:
    from desk.engine import Engine

Fingerprint = tuple[float, float, tuple[tuple[float, float, float], ...]]

_TOLERANCE = 1e-9
_QTY = 1e-6
"""Absolute slack for sums of quantities and of reserved cash (float residue of many fills)."""


def fingerprint(portfolio: Portfolio) -> Fingerprint:
    """Everything only `apply_fill` may write: cash, fees, and each position's qty, cost,
    realized."""
    return (portfolio.cash, portfolio.fees,
            tuple((p.qty, p.avg_cost, p.realized) for p in portfolio.positions.values()))


class Invariants:
    """Watches one engine. Wraps its portfolio's `apply_fill` to learn what the books may look
    like."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        portfolio = engine.portfolio
        original = portfolio.apply_fill
        self._expected = fingerprint(portfolio)

        def apply_fill(symbol: str, qty: float, price: float, fee: float) -> FillEffect:
            effect = original(symbol, qty, price, fee)
            self._expected = fingerprint(portfolio)
            return effect

        portfolio.apply_fill = apply_fill  # type: ignore[method-assign]

    def check(self) -> None:
        """Raise InvariantError for the first broken invariant after the event just handled."""
        engine = self.engine
        p = engine.portfolio
        seq = engine.queue.popped - 1

        def broken(name: str, detail: str) -> InvariantError:
            return InvariantError(name, seq, detail)

        for symbol, pos in p.positions.items():
            if not (math.isfinite(pos.qty) and math.isfinite(pos.avg_cost)
                    and math.isfinite(pos.realized)):
                raise broken("finite_books", f"{symbol} position {pos.qty}, cost {pos.avg_cost}")
        if not math.isfinite(p.cash):
            raise broken("finite_books", f"cash {p.cash}")
        # 2. cash and positions change only in Portfolio.apply_fill()
        now = fingerprint(p)
        if now != self._expected:
            raise broken("positions_change_only_in_apply_fill",
                         f"books changed outside apply_fill: {_diff(self._expected, now)}")
        # 1. cash never goes negative
        if p.cash < -_TOLERANCE * max(1.0, p.start_cash):
            raise broken("cash_non_negative", f"cash {p.cash:,.6f}")
        # 5. equity = cash + Σ qty·mark·multiplier,
        #    and equity − start = realized + unrealized − fees
        equity = p.equity
        direct = p.cash + sum(pos.qty * pos.mark * pos.multiplier for pos in p.positions.values())
        if abs(equity - direct) > _TOLERANCE * max(1.0, abs(equity), abs(direct)):
            raise broken("equity_identity", f"equity {equity!r} vs cash + Σ qty·mark·mult "
                         f"{direct!r}")
        error = p.accounting_error()
        if error > _TOLERANCE:
            raise broken("accounting_identity", f"relative error {error:.3e}")
        self._check_order_books(broken)

    def _check_order_books(self, broken: Any) -> None:
        """What risk counts as pending and reserved is exactly what the live orders still hold."""
        engine = self.engine
        orders = engine.execution.orders
        risk = engine.risk
        live: dict[str, float] = dict.fromkeys(risk.pending, 0.0)
        for order in orders.values():
            live[order.instrument] += order.unreported
        for symbol, pending in risk.pending.items():
            if abs(pending - live[symbol]) > _QTY * max(1.0, abs(pending)):
                raise broken("pending_matches_open_orders", f"{symbol}: risk counts {pending:+g} "
                             f"pending, open orders hold {live[symbol]:+g}")
        reserves = risk._reserve_by_order
        total = sum(reserves.values())
        if abs(risk.reserved - total) > _QTY * max(1.0, total):
            raise broken("reserved_matches_orders", f"reserved {risk.reserved:,.6f} vs "
                         f"{total:,.6f} held by orders")
        for order_id, amount in reserves.items():
            if amount < -_QTY:
                raise broken("reserved_matches_orders", f"order #{order_id} reserves {amount:g}")
            if order_id not in orders:
                raise broken("no_leaked_reservation", f"order #{order_id} is done but still "
                             f"reserves {amount:,.2f}")
        leaked = [order_id for order_id in engine._order_chain if order_id not in orders]
        if leaked:
            raise broken("no_leaked_order_state", f"orders {leaked[:5]} done but still tracked")
        if engine.execution.inflight_cost < -_QTY:
            raise broken("inflight_cash_non_negative",
                         f"in-flight cost {engine.execution.inflight_cost:g}")


def _diff(before: Fingerprint, after: Fingerprint) -> str:
    parts = []
    if before[0] != after[0]:
        parts.append(f"cash {before[0]!r} → {after[0]!r}")
    if before[1] != after[1]:
        parts.append(f"fees {before[1]!r} → {after[1]!r}")
    for i, (old, new) in enumerate(zip(before[2], after[2], strict=True)):
        if old != new:
            parts.append(f"position {i}: {old} → {new}")
    return "; ".join(parts) or "unknown"
