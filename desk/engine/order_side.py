"""The engine's order side: the strategy's intents through risk, and the venue's facts about
orders (arrival, fills, end) with each order's execution quality."""

from __future__ import annotations

from typing import Any

from desk import records
from desk.engine.state import EngineState
from desk.events import CancelArrived, FillReported, OrderArrived, OrderEnded
from desk.figures import signed
from desk.orders import (
    FillInfo,
    Order,
    OrderInfo,
    OrderIntent,
    OrderStatus,
    OrderType,
    RejectInfo,
    TimeInForce,
)
from desk.risk.verdict import decision_why

_new = tuple.__new__
"""Builds a named tuple from a tuple of its fields without a Python-level call."""

_DONE = frozenset((OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.ENDED))
"""The statuses of `Order.done_at_venue`."""

_SCALARS = frozenset((int, float, str, bool, type(None)))
"""Evidence of these types cannot change after the strategy hands it over."""


def _before_start(call: str) -> RuntimeError:
    """An order asked for in the strategy's constructor: the run has no time, no market and no
    session record yet, so the order would be journaled before the run it belongs to."""
    return RuntimeError(f"{call}: the run has not started: send orders from on_start on, not "
                        "from __init__")


class OrderSide(EngineState):
    """signal → intent → risk decision → order, and arrival → fill → execution quality, each
    journaled with its cause."""

    def _market_record(self) -> int | None:
        """Journal the market event a signal follows from, once per event."""
        if self._event_record is None and self._current is not None:
            event = self._current
            state = self.market.states[event.instrument]
            self._event_record = self.journal.add(
                "market", event.ts, event.instrument, None, None, records.market,
                records.market_args(event, state.bid, state.ask, state.last, state.mark,
                                    self.queue.popped - 1))
        return self._event_record

    def _target(self, symbol: str, qty: float, reason: str, evidence: dict[str, Any],
                limit: float | None = None) -> int | None:
        if not self._started:
            raise _before_start("ctx.target")
        spec = self.specs.get(symbol)
        if spec is None:
            raise KeyError(f"unknown instrument {symbol!r}")
        lot = spec.lot_size  # as _round_lot
        delta = round(round((qty - self.portfolio.positions[symbol].qty
                             - self.risk.pending[symbol]) / lot) * lot, 10)
        if delta == 0:
            return None
        if limit is not None:
            tick = self.specs[symbol].tick_size
            limit = round(round(limit / tick) * tick, 10)
        return self._intend(symbol, delta, reason, limit, TimeInForce.GTC, evidence, target=qty)

    def _order(self, symbol: str, qty: float, reason: str, limit: float | None, tif: str,
               evidence: dict[str, Any]) -> int | None:
        if not self._started:
            raise _before_start("ctx.order")
        self._check_symbol(symbol)
        qty = self._round_lot(symbol, qty)
        if qty == 0:
            return None
        if limit is not None:
            tick = self.specs[symbol].tick_size
            limit = round(round(limit / tick) * tick, 10)
        return self._intend(symbol, qty, reason, limit, TimeInForce(tif), evidence)

    def _intend(self, symbol: str, qty: float, reason: str, limit: float | None, tif: TimeInForce,
                evidence: dict[str, Any], target: float | None = None) -> int | None:
        """signal → intent → every rule's verdict → order or block, each journaled with its
        cause."""
        journal = self.journal
        ts = self.now
        stats = self.stats
        market_seq = self._market_record()
        if _SCALARS.issuperset(map(type, evidence.values())):
            signal_seq = journal.add("signal", ts, symbol, market_seq, None, records.signal,
                                     (reason, evidence))
        else:  # evidence the strategy might change later: its words are taken now
            signal_seq = journal.record("signal", ts, reason, symbol, market_seq, None, **evidence)
        stats.signals += 1
        state = self.market.states[symbol]
        order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET
        intent = _new(OrderIntent, (self._next_intent, ts, symbol, qty, order_type, limit, tif,
                                    reason, signal_seq, state.mark))
        self._next_intent += 1
        stats.intents += 1
        plain = (intent.intent_id, qty, symbol, order_type.value, limit, tif.value, state.mark)
        intent_seq = journal.add("intent", ts, symbol, signal_seq, None, records.intent,
                                 (*plain, target))
        decision, exposure = self.risk.check(intent)
        if decision.approved:
            order_id = self.execution.peek_next_id()
            decision_seq = journal.add("risk", ts, symbol, intent_seq, order_id, records.allowed,
                                       (decision.mode, records.verdicts_args(decision.results)))
            approved = self.risk.approve(decision, exposure, decision_seq)
            order_seq = journal.add("order", ts, symbol, decision_seq, order_id, records.order,
                                    (*plain, order_id))
            order = self.execution.submit(approved, ts, order_seq)
            self.risk.on_sent(order.order_id, approved)
            stats.approved += 1
            return order.order_id
        why = decision_why(decision)
        journal.record("risk", ts, why, symbol, intent_seq, None, approved=False,
                       mode=decision.mode, blocked_by=decision.blocked_by,
                       verdicts=[r.as_dict() for r in decision.results])
        stats.blocked += 1
        for rule in decision.blocked_by:
            stats.blocked_by[rule] = stats.blocked_by.get(rule, 0) + 1
        self._rejects.append(RejectInfo(ts, symbol, qty, tuple(decision.blocked_by), why))
        return None

    def _cancel(self, order_id: int, reason: str) -> bool:
        order = self.execution.cancellable(order_id)
        if order is None:
            return False
        seq = self.journal.record("cancel", self.now, f"cancel order #{order_id}: {reason}",
                                  order.instrument, order.order_seq, order_id)
        self.execution.cancel(order, self.now, seq)
        return True

    def _open_orders(self, symbol: str | None) -> list[OrderInfo]:
        # the status the desk knows from its reports, never the venue's own
        return [OrderInfo(o.order_id, o.instrument, o.qty, o.reported, o.order_type,
                          o.limit_price, OrderStatus.WORKING if o.reported else OrderStatus.SENT)
                for o in self.execution.working(symbol)]

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.specs:
            raise KeyError(f"unknown instrument {symbol!r}")

    def _round_lot(self, symbol: str, qty: float) -> float:
        lot = self.specs[symbol].lot_size
        return round(round(qty / lot) * lot, 10)

    # --- the venue's facts --------------------------------------------------------------

    def _on_arrival(self, event: OrderArrived) -> None:
        order = self.execution.orders[event.order_id]
        self.execution.on_arrival(event)
        latency_ms = (event.ts - order.submit_ts) / 1e6
        rests = order.order_type is OrderType.LIMIT and not order.done_at_venue \
            and not order.taking
        self._order_chain[order.order_id] = self.journal.add(
            "arrival", event.ts, order.instrument, order.order_seq, order.order_id,
            records.arrival, (order.order_id, latency_ms, order.arrival_price,
                              order.limit_price if rests else None, order.queue_ahead))

    def _on_cancel_arrival(self, event: CancelArrived) -> None:
        self.execution.on_cancel_arrival(event)

    def _on_fill(self, report: FillReported) -> None:
        order = self.execution.orders[report.order_id]
        symbol = report.instrument
        effect = self.portfolio.apply_fill(symbol, report.qty, report.price, report.fee)
        self._unsteady()
        spec = self.specs[symbol]
        cost = report.qty * report.price * spec.multiplier + report.fee
        self.execution.on_reported(report)
        self.risk.on_filled(order.order_id, symbol, report.qty, cost)
        order.reported += report.qty
        order.notional += report.qty * report.price
        order.fees += report.fee
        stats = self.stats
        stats.fills += 1
        stats.filled_qty += abs(report.qty)
        stats.filled_by[symbol] = stats.filled_by.get(symbol, 0.0) + abs(report.qty)
        slip_bps = ((report.price / order.arrival_price - 1) * 1e4 * order.side
                    if order.arrival_price else 0.0)
        self.journal.add(
            "fill", report.ts, symbol, self._order_chain.get(order.order_id, order.order_seq),
            order.order_id, records.fill,
            (symbol, report.qty, report.price, report.fee, report.liquidity, report.venue_ts,
             slip_bps, effect.qty_before, effect.qty_after, effect.avg_cost_after,
             effect.realized, effect.cash_after))
        # a fill moves equity too (its fee, its price against the mark): the mode follows it
        # before the strategy hears of the fill, as it follows a mark
        self._judge_mode("drawdown")
        self._current = None  # what follows a fill follows from no market event
        if self.strategy_active and self._hears_fills:
            info = _new(FillInfo, (report.ts, order.order_id, symbol, report.qty, report.price,
                                   report.fee))
            self._call_strategy(self.strategy.on_fill, info)
        if order.status in _DONE and abs(order.qty - order.reported) < 1e-9:
            self._order_done(order, "filled")

    def _on_order_ended(self, event: OrderEnded) -> None:
        order = self.execution.orders[event.order_id]
        unfilled = order.qty - order.venue_filled
        self.risk.on_ended(order.order_id, order.instrument, unfilled)
        order.reported += unfilled
        self.journal.record("order_end", event.ts, f"order #{order.order_id} ended: "
                            f"{event.reason}; {signed(unfilled)} unfilled", order.instrument,
                            order.order_seq, order.order_id, reason=event.reason,
                            unfilled=unfilled)
        if abs(order.unreported) < 1e-9:
            self._order_done(order, event.reason)

    def _order_done(self, order: Order, how: str) -> None:
        """Journal the order's execution quality: implementation shortfall split in three."""
        self.risk.on_ended(order.order_id, order.instrument, 0.0)
        filled = order.venue_filled
        mult = self.specs[order.instrument].multiplier
        # an order decided before its instrument had a price has no decision price: its latency
        # cost cannot be measured and counts from the arrival, not as the whole notional
        decided = order.decision_price or order.arrival_price
        if filled:
            vwap = order.notional / filled
            arrival = order.arrival_price or decided
            latency = (arrival - decided) * filled * mult
            impact = (vwap - arrival) * filled * mult
        else:
            vwap = latency = impact = 0.0
        shortfall = latency + impact + order.fees
        stats = self.stats
        stats.orders_done += 1
        stats.latency_cost += latency
        stats.decided_notional += abs(filled) * decided * mult
        stats.impact_cost += impact
        stats.fee_cost += order.fees
        self.journal.add(
            "execution", self.now, order.instrument, order.order_seq, order.order_id,
            records.execution, (order.order_id, how, filled, vwap, order.decision_price,
                                order.arrival_price, latency, impact, order.fees, shortfall))
        self.execution.forget(order.order_id)
        self._order_chain.pop(order.order_id, None)

    def _spendable(self, order: Order) -> float:
        return self.portfolio.cash - self.risk.reserved_by_others(order.order_id)
