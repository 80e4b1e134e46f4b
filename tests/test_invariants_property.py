"""Property tests: random markets and random order flow never break DESIGN §2's invariants.

Every run is strict, so cash ≥ 0 and the accounting identity are checked after
every single event; at the end the journal must hold a complete causal chain
for every fill, and positions must equal the sum of the journal's fills.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import make_session, run_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.audit import read_journal

RANDOM = {"use": "random_trader:RandomTrader"}
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_causal_chains(journal: Path, positions: dict[str, float]) -> None:
    """Every fill leads back to market → signal → intent → risk → order; fills sum to positions."""
    records = {r["seq"]: r for r in read_journal(journal).to_pylist()}
    totals: dict[str, float] = defaultdict(float)
    for record in records.values():
        if record["kind"] != "fill":
            continue
        totals[record["instrument"]] += __import__("json").loads(record["details"])["qty"]
        chain = []
        seq = record["cause"]
        while seq is not None:
            chain.append(records[seq]["kind"])
            seq = records[seq]["cause"]
        assert chain[:4] == ["arrival", "order", "risk", "intent"], chain
        assert chain[4] == "signal"
        assert chain[5:] in (["market"], [])  # a flatten after faults has no market event
    for symbol, qty in positions.items():
        assert abs(totals[symbol] - qty) < 1e-6


@SETTINGS
@given(seed=st.integers(0, 10_000), act=st.floats(0.05, 0.6), max_qty=st.integers(1, 3_000),
       latency=st.floats(0, 300), slip=st.floats(0, 50), fee=st.floats(0, 30),
       cash=st.floats(1_000, 1_000_000), policy=st.sampled_from(["clip", "reserve"]),
       multiplier=st.sampled_from([1.0, 0.1, 50.0]))
def test_random_order_flow_on_a_synthetic_market_keeps_every_invariant(
        tmp_path: Path, seed: int, act: float, max_qty: int, latency: float, slip: float,
        fee: float, cash: float, policy: str, multiplier: float) -> None:
    session = make_session(
        session={"seed": seed, "start_cash": cash},
        data={"synthetic": {"events": 1_500, "volatility_bps": 20.0, "jump_prob": 0.01}},
        instruments=[{"symbol": "ACME", "tick_size": 0.01, "lot_size": 1,
                      "multiplier": multiplier}],
        strategy={**RANDOM, "params": {"seed": seed, "act_prob": act, "max_qty": max_qty}},
        risk={"max_position": {"max_qty": max_qty * 2}, "max_leverage": {"limit": 5.0},
              "order_rate": {"max_orders": 50}},
        execution={"entry_latency": {"model": "uniform", "ms": latency, "jitter_ms": latency},
                   "response_latency": {"model": "lognormal", "ms": latency + 1},
                   "slippage": {"bps": slip}, "fees": {"taker_bps": fee, "maker_bps": fee / 2},
                   "cash_policy": policy},
    )
    journal = tmp_path / f"j{seed}.arrow"
    engine = run_engine(session, journal)
    assert engine.portfolio.cash >= 0
    for symbol, qty in engine.portfolio_view.positions().items():
        assert abs(qty) <= max_qty * 2 + 1e-9, (symbol, qty)
    assert_causal_chains(journal, engine.portfolio_view.positions())


event_rows = st.lists(
    st.tuples(st.sampled_from(["trade", "quote"]), st.integers(0, 5_000_000),
              st.floats(1.0, 1_000.0), st.floats(0.01, 5.0), st.integers(1, 1_000)),
    min_size=1, max_size=300)


@SETTINGS
@given(rows=event_rows, seed=st.integers(0, 1_000))
def test_random_event_streams_from_a_file_keep_every_invariant(
        tmp_path: Path, rows: list[tuple[str, int, float, float, int]], seed: int) -> None:
    ts, kind, price, size, bid, ask, bid_size, ask_size = [], [], [], [], [], [], [], []
    now = 1_700_000_000_000_000_000
    for row_kind, gap, level, spread, qty in rows:
        now += gap
        ts.append(now)
        kind.append(row_kind)
        level = round(level, 2)
        if row_kind == "trade":
            price.append(level)
            size.append(float(qty))
            bid.append(None), ask.append(None), bid_size.append(None), ask_size.append(None)
        else:
            price.append(None), size.append(None)
            bid.append(level), ask.append(round(level + spread, 2))
            bid_size.append(float(qty)), ask_size.append(float(qty))
    path = tmp_path / f"events{seed}.parquet"
    pq.write_table(pa.table({"ts": ts, "instrument": ["ACME"] * len(ts), "kind": kind,
                             "price": pa.array(price, pa.float64()),
                             "size": pa.array(size, pa.float64()),
                             "bid": pa.array(bid, pa.float64()), "ask": pa.array(ask, pa.float64()),
                             "bid_size": pa.array(bid_size, pa.float64()),
                             "ask_size": pa.array(ask_size, pa.float64())}), path)
    session = make_session(
        # identical rows at one time are kept: the data checks would call them duplicates
        # (tests/test_data_checks.py); here they are a market the invariants must survive
        tmp_path, data={"synthetic": None, "files": [{"path": path.name, "kind": "mixed",
                                                     "duplicates": "keep"}]},
        strategy={**RANDOM, "params": {"seed": seed, "act_prob": 0.5, "max_qty": 200}},
        execution={"entry_latency": {"ms": 1}, "response_latency": {"ms": 1},
                   "fees": {"taker_bps": 5}})
    journal = tmp_path / f"f{seed}.arrow"
    engine = run_engine(session, journal)
    assert engine.stats.market_events == len(rows)
    assert_causal_chains(journal, engine.portfolio_view.positions())
