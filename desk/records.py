"""The journal's frequent records: their sentences and details, made from immutable arguments.

An order's life writes eight records (market event, signal, intent, risk
decision, order, arrival, fill, execution quality). The engine hands the
journal each one as a `Render` from this module and a tuple of the values it
needs, all immutable; the words and the JSON are made when the record's batch
is written or the record is read (`desk.audit.Journal.add`). The text is the
same as if it had been made at once: only when differs.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from desk.audit import encode_details
from desk.figures import money, num, signed
from desk.orders import RuleResult


def _json(details: dict[str, Any]) -> str:
    """Details whose keys are already in sorted order, as compact JSON (pydantic-core's encoder).

    Five times faster than `json` for these small dicts of numbers, and the
    same values: floats are written in their shortest round-trip form (`1e-5`
    where `json` writes `1e-05`), text as UTF-8 (where `json` escapes to
    ASCII). A value it cannot write falls back to the general encoder.
    """
    try:
        return to_json(details).decode()
    except PydanticSerializationError:
        return encode_details(details)


def _ms(x: float) -> str:
    """A latency in milliseconds: 21.8, 0.05, 0."""
    return num(x, 1) if x >= 0.1 else num(x, 3)


_EVENT_WORDS = {"BookSnapshot": "book snapshot", "BookDelta": "book update"}
"""A market event's words where its type's name is not one (`trade`, `quote` and `bar` are)."""


def _price(x: float) -> str:
    """A price the desk has seen, or `–` for none yet (no quote, no trade): never a price 0."""
    return num(x) if x > 0 else "–"


def _known(x: float) -> float | None:
    """A price for the journal's details: None (null) for none yet, never a price of 0 that a
    reader would take for one and measure a latency cost against."""
    return x if x > 0 else None


def _average(x: float) -> str:
    """An average price (a VWAP): seven significant digits, the rest is arithmetic."""
    return num(float(f"{x:.7g}"))


_SKIP_FIELDS = frozenset(("ts", "instrument", "bids", "asks", "bid", "ask"))
"""Event fields a market record leaves out: they are its own columns, or the book (too big)."""


_FIELDS: dict[type, tuple[tuple[str, ...], Any]] = {}
"""Per event type: the fields a market record keeps, and a getter of their values."""

_DESK_FIELDS = ("event", "bid", "ask", "last", "mark", "queue_seq")
"""What a market record adds to its event's fields: the event's type and the desk's view."""

_ORDER: dict[tuple[str, ...], tuple[tuple[str, ...], Any]] = {}
"""Per tuple of event fields: the record's keys sorted, and a getter of their values in that
order from the event's values followed by `_DESK_FIELDS`' values."""


def market_args(event: Any, bid: float, ask: float, last: float, mark: float,
                queue_seq: int) -> tuple[Any, ...]:
    """A market event as the plain values its record needs: never a whole book's levels."""
    kind = type(event)
    known = _FIELDS.get(kind)
    if known is None:
        names = tuple(k for k in event.__slots__ if k not in _SKIP_FIELDS)
        known = _FIELDS[kind] = (names, _getter(names))
    names, values = known
    return kind.__name__, event.instrument, names, values(event), bid, ask, last, mark, queue_seq


def _getter(names: tuple[str, ...]) -> Any:
    """A function of an event giving the values of `names`, always as a tuple."""
    if not names:
        return lambda event: ()
    get = operator.attrgetter(*names)
    return get if len(names) > 1 else (lambda event: (get(event),))


def market(args: tuple[Any, ...]) -> tuple[str, str]:
    """The market event a signal follows from, and the desk's quote and mark at the time."""
    name, instrument, names, values, bid, ask, last, mark, queue_seq = args
    order = _ORDER.get(names)
    if order is None:
        order = _ORDER[names] = _sorted_fields(names)
    keys, pick = order
    return (f"{_EVENT_WORDS.get(name, name.lower())} {instrument} bid {_price(bid)} "
            f"ask {_price(ask)} last {_price(last)}",
            _json(dict(zip(keys, pick((*values, name, bid, ask, last, mark, queue_seq)),
                           strict=True))))


def _sorted_fields(names: tuple[str, ...]) -> tuple[tuple[str, ...], Any]:
    """The keys of a market record in sorted order, and where each one's value is.

    A desk field of the same name as an event field wins, as `dict.update` would.
    """
    where = {name: index for index, name in enumerate(names) if name not in _DESK_FIELDS}
    where.update({name: len(names) + index for index, name in enumerate(_DESK_FIELDS)})
    keys = tuple(sorted(where))
    get = operator.itemgetter(*(where[key] for key in keys))
    return keys, get


def signal(args: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    """The strategy's reason and its evidence (values that cannot change after the call)."""
    reason, evidence = args
    if not evidence:
        return reason, ""
    return reason, _json(dict(sorted(evidence.items())) if len(evidence) > 1 else evidence)


def intent_what(qty: float, instrument: str, limit: float | None, tif: str) -> str:
    """"buy 100 ACME at market", "sell 5 XYZ limit 101.5 GTC"."""
    return f"{'buy' if qty > 0 else 'sell'} {num(abs(qty))} {instrument} " + (
        f"limit {num(limit)} {tif}" if limit is not None else "at market")


def intent(args: tuple[Any, ...]) -> tuple[str, str]:
    """What the strategy asked for, and the target it was aiming at."""
    intent_id, qty, instrument, order_type, limit, tif, decision_price, target = args
    why = intent_what(qty, instrument, limit, tif) + (
        f" (target {signed(target)})" if target is not None else "")
    return why, _json({
        "decision_price": _known(decision_price), "intent_id": intent_id, "limit": limit,
        "order_type": order_type, "qty": qty, "tif": tif})


def verdicts_args(results: tuple[RuleResult, ...]) -> tuple[tuple[Any, ...], ...]:
    """Verdicts as plain tuples: a named tuple pickles through a Python call, a tuple does not."""
    return tuple(map(tuple, results))


def allowed(args: tuple[str, tuple[tuple[Any, ...], ...]]) -> tuple[str, str]:
    """An approved decision: every rule's verdict (each sentence made once, for both columns)."""
    mode, plain = args
    verdicts = []
    for rule, passed, value, limit, headroom, text, text_args in plain:
        message = text if isinstance(text, str) else text(*text_args)
        verdicts.append({"headroom": headroom, "limit": limit, "message": message,
                         "passed": passed, "rule": rule, "value": value})
    if not verdicts:
        why = "allowed: every rule is switched off"
    else:  # every verdict passed: as `desk.risk.verdict.verdicts_why` words it
        why = "allowed: passed " + ", ".join(v["message"] for v in verdicts)
    return why, _json({"approved": True, "mode": mode, "verdicts": verdicts})


def order(args: tuple[Any, ...]) -> tuple[str, str]:
    """The order sent for an approved intent."""
    _, qty, instrument, order_type, limit, tif, _, order_id = args
    return f"sent {intent_what(qty, instrument, limit, tif)} as order #{order_id}", \
        _json({"limit": limit, "order_type": order_type, "qty": qty})


def arrival(args: tuple[int, float, float, float | None, float]) -> tuple[str, str]:
    """An order reached the venue: its latency, the market there, its place in the queue."""
    order_id, latency_ms, arrival_price, limit, queue_ahead = args
    known = limit is not None and math.isfinite(queue_ahead)
    if limit is None:
        where = ""
    elif known:
        where = f"; rests at {num(limit)} behind {num(queue_ahead)} shown"
    else:  # a price not displayed yet: the queue there is unknown until it shows
        where = f"; rests at {num(limit)} behind an unknown queue (its price is not shown yet)"
    return (f"order #{order_id} reached the venue after {_ms(latency_ms)} ms; market there "
            f"{num(arrival_price)}{where}",
            _json({"arrival_price": arrival_price, "latency_ms": latency_ms,
                   "queue_ahead": queue_ahead if known else None}))


def fill(args: tuple[Any, ...]) -> tuple[str, str]:
    """A fill report booked: price, cost against arrival, fee, and what it did to the portfolio."""
    (symbol, qty, price, fee, liquidity, venue_ts, slip_bps, before, after, avg_cost, realized,
     cash) = args
    return (f"filled {signed(qty)} {symbol} at {num(price)} ({liquidity}, {slip_bps:+.1f} bps "
            f"vs arrival), fee {money(fee)}: position {num(before)} → {num(after)}, realized "
            f"{'+' if realized > 0 else ''}{money(realized)}, cash {money(cash)}",
            _json({"avg_cost": avg_cost, "cash": cash, "fee": fee, "liquidity": liquidity,
                   "position": after, "price": price, "qty": qty, "realized": realized,
                   "slippage_bps": slip_bps, "venue_ts": venue_ts}))


def execution(args: tuple[Any, ...]) -> tuple[str, str]:
    """An order's execution quality: implementation shortfall split in latency, impact and fees."""
    (order_id, how, filled, vwap, decision, arrival_price, latency, impact, fees,
     shortfall) = args
    done = f"{signed(filled)} at VWAP {_average(vwap)}" if filled else "nothing filled"
    return (f"order #{order_id} {how}: {done}; decision {_price(decision)}, arrival "
            f"{_price(arrival_price)}; shortfall {money(shortfall)} = latency {money(latency)} + "
            f"impact {money(impact)} + fees {money(fees)}",
            _json({"arrival_price": arrival_price, "decision_price": _known(decision),
                   "fees": fees, "filled": filled, "impact_cost": impact,
                   "latency_cost": latency, "shortfall": shortfall, "vwap": vwap}))
