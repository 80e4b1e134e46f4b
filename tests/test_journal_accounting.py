"""The journal alone settles the books: cash, positions, average costs, realized PnL, fees and
each order's execution quality, recomputed from its fill records, equal what desk reports.

The recomputation here shares no code with `desk.portfolio`: average-cost
accounting written out again, so a slip in either shows as a disagreement.
Random order flow (market and limit orders, targets, cancels) on a synthetic
book, with multipliers, maker rebates, per-unit and minimum fees, the volume
cap and both cash policies, goes through long, short, flips and flat.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import make_session, run_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.audit import read_journal

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


class Books:
    """Average-cost books kept from fill records."""

    def __init__(self, cash: float, multiplier: float) -> None:
        self.cash = cash
        self.multiplier = multiplier
        self.qty: dict[str, float] = defaultdict(float)
        self.avg: dict[str, float] = defaultdict(float)
        self.realized = 0.0
        self.fees = 0.0

    def fill(self, symbol: str, qty: float, price: float, fee: float) -> float:
        held, avg = self.qty[symbol], self.avg[symbol]
        after = held + qty
        realized = 0.0
        if held == 0 or (held > 0) == (qty > 0):
            self.avg[symbol] = (held * avg + qty * price) / after
        else:
            closed = min(abs(qty), abs(held))
            realized = (price - avg) * closed * (1 if held > 0 else -1) * self.multiplier
            if abs(after) < 1e-9:
                after, self.avg[symbol] = 0.0, 0.0
            elif (after > 0) != (held > 0):
                self.avg[symbol] = price  # what is left opened at this fill's price
        self.qty[symbol] = after
        self.realized += realized
        self.cash -= qty * price * self.multiplier + fee
        self.fees += fee
        return realized


def fee_of(order_id: int, fill: dict[str, Any], charged: dict[int, float], multiplier: float,
           fees: dict[str, float]) -> float:
    """A fill's fee by the fee schedule: rate and per unit; a rebate as it is; the order's
    first charged fill pays at least the minimum, later ones what takes its total beyond it."""
    rate = fees["maker_bps" if fill["liquidity"] == "maker" else "taker_bps"] / 1e4
    units = abs(fill["qty"])
    own = units * fill["price"] * multiplier * rate + units * fees["per_unit"]
    if own < 0 or fees["minimum"] <= 0:
        return own
    before = charged.get(order_id)
    charged[order_id] = own + (before or 0.0)
    if before is None:
        return max(own, fees["minimum"])
    return max(before + own, fees["minimum"]) - max(before, fees["minimum"])


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-6)


def check_journal(journal: Path, start_cash: float, multiplier: float,
                  fees: dict[str, float]) -> dict[str, Any]:
    """Recompute the books from the journal and check every figure it states; returns the end
    record's details."""
    records = read_journal(journal).to_pylist()
    books = Books(start_cash, multiplier)
    charged: dict[int, float] = {}
    """Per order, the proportional fees of its charged fills so far (for the minimum)."""
    fills: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    arrival: dict[int, float] = {}
    end: dict[str, Any] = {}
    for record in records:
        kind, d = record["kind"], json.loads(record["details"] or "{}")
        if kind == "arrival":
            arrival[record["order_id"]] = d["arrival_price"]
        elif kind == "fill":
            assert record["order_id"] in arrival  # no fill before its order arrived
            assert record["ts_ns"] >= d["venue_ts"]
            assert close(d["fee"], fee_of(record["order_id"], d, charged, multiplier, fees))
            realized = books.fill(record["instrument"], d["qty"], d["price"], d["fee"])
            symbol = record["instrument"]
            assert close(d["position"], books.qty[symbol])
            assert close(d["avg_cost"], books.avg[symbol])
            assert close(d["realized"], realized)
            assert close(d["cash"], books.cash)
            fills[record["order_id"]].append((d["qty"], d["price"], d["fee"]))
        elif kind == "execution":
            mine = fills.pop(record["order_id"], [])
            filled = sum(q for q, _, _ in mine)
            paid = sum(f for _, _, f in mine)
            assert close(d["filled"], filled) and close(d["fees"], paid)
            if mine:
                vwap = sum(q * p for q, p, _ in mine) / filled
                assert close(d["vwap"], vwap)
                assert d["arrival_price"] == arrival[record["order_id"]]
                latency = (d["arrival_price"] - d["decision_price"]) * filled * multiplier
                impact = (vwap - d["arrival_price"]) * filled * multiplier
                assert close(d["latency_cost"], latency) and close(d["impact_cost"], impact)
                # the split adds up to the shortfall against the decision price
                whole = (vwap - d["decision_price"]) * filled * multiplier + paid
                assert close(d["shortfall"], whole)
            assert close(d["shortfall"], d["latency_cost"] + d["impact_cost"] + d["fees"])
        elif kind == "end":
            end = d
    assert close(end["cash"], books.cash)
    assert close(end["fees"], books.fees)
    assert close(end["realized"], books.realized)
    assert end["positions"].keys() == {s for s, q in books.qty.items() if q}
    for symbol, qty in end["positions"].items():
        assert close(qty, books.qty[symbol])
    assert close(end["equity"] - start_cash, end["realized"] + end["unrealized"] - end["fees"])
    return end


@SETTINGS
@given(seed=st.integers(0, 10_000), act=st.floats(0.05, 0.5), max_qty=st.integers(1, 2_000),
       latency=st.floats(0, 200), taker=st.floats(0, 20), maker=st.floats(-5, 5),
       per_unit=st.sampled_from([0.0, 0.01]), minimum=st.sampled_from([0.0, 2.0]),
       share=st.sampled_from([1.0, 0.3]), policy=st.sampled_from(["clip", "reserve"]),
       multiplier=st.sampled_from([1.0, 0.1, 50.0]))
def test_the_books_recomputed_from_the_journal_match_what_desk_reports(
        tmp_path: Path, seed: int, act: float, max_qty: int, latency: float, taker: float,
        maker: float, per_unit: float, minimum: float, share: float, policy: str,
        multiplier: float) -> None:
    start_cash = 100_000.0 * multiplier
    fees = {"taker_bps": taker, "maker_bps": maker, "per_unit": per_unit, "minimum": minimum}
    session = make_session(
        session={"seed": seed, "start_cash": start_cash},
        data={"synthetic": {"events": 1_200, "volatility_bps": 15.0, "jump_prob": 0.01}},
        instruments=[{"symbol": "ACME", "tick_size": 0.01, "lot_size": 1,
                      "multiplier": multiplier}],
        strategy={"use": "random_trader:RandomTrader",
                  "params": {"seed": seed, "act_prob": act, "max_qty": max_qty}},
        risk={"max_position": {"max_qty": max_qty * 2}, "max_leverage": {"limit": 5.0},
              "order_rate": {"max_orders": 50}},
        execution={"entry_latency": {"model": "uniform", "ms": latency, "jitter_ms": latency},
                   "response_latency": {"model": "constant", "ms": latency / 2},
                   "fees": fees,
                   "max_volume_share": share, "cash_policy": policy},
    )
    journal = tmp_path / f"j{seed}.arrow"
    engine = run_engine(session, journal)
    end = check_journal(journal, start_cash, multiplier, fees)
    portfolio = engine.portfolio
    assert close(end["equity"], portfolio.equity) and close(end["cash"], portfolio.cash)
    assert close(end["unrealized"], portfolio.unrealized)
    mark = portfolio.positions["ACME"].mark
    qty = end["positions"].get("ACME", 0.0)
    assert close(end["equity"], end["cash"] + qty * mark * multiplier)
