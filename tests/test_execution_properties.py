"""Properties of the execution simulator over random markets, run through the whole engine.

The market is made from a hidden book that only changes by trades at its best
bid, orders joining and orders cancelling, so the true queue ahead of our
order is known even when the feed shows the book only in part (a top-2 book,
or quotes). Whatever the feed shows and whichever queue model runs, our order
must never get more from the trades than what has traded beyond the queue
that was ahead of it when it arrived.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from exec_helpers import MS, book, of_kind, quote, run_script, trade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BIDS = (99.99, 99.98, 99.97, 99.96)
FLOOR = (99.90, 1_000.0)
"""A deep bid nobody trades with, so the feed never shows an empty side."""
ASK = (100.01, 500.0)
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

sells = st.tuples(st.just("sell"), st.integers(1, 400))  # a sell trade at the best bid
ops = st.lists(st.one_of(
    sells, sells, sells,
    st.tuples(st.just("buy"), st.integers(1, 300)),       # a buy trade at the ask: bids untouched
    st.tuples(st.just("join"), st.sampled_from(BIDS), st.integers(1, 300)),
    st.tuples(st.just("cancel"), st.sampled_from(BIDS), st.integers(1, 300)),
), min_size=8, max_size=40)
sizes = st.lists(st.integers(0, 150), min_size=len(BIDS), max_size=len(BIDS))


def _show(ts: int, levels: dict[float, float], display: str,
          changed: float | None) -> list[dict[str, Any]]:
    """The feed's view of the hidden bids at `ts`: full deltas, a top-2 snapshot, or a quote."""
    shown = sorted(((p, s) for p, s in levels.items() if s > 0), reverse=True)
    if display == "full":
        if changed is None:
            return book(ts, [*shown, FLOOR], [ASK])
        return book(ts, [(changed, levels[changed])], [], snapshot=False)
    if display == "top2":
        return book(ts, [*shown, FLOOR][:2], [ASK])
    best = shown[0] if shown else FLOOR
    return quote(ts, best[0], best[1], ASK[0], ASK[1])


def _market(sizes: list[int], steps: list[tuple[Any, ...]], display: str,
            limit: float) -> tuple[list[dict[str, Any]], list[tuple[int, float, float]]]:
    """Rows for the feed, and the truth at our price: (ms, traded at or through it, cancelled)."""
    levels = {price: float(size) for price, size in zip(BIDS, sizes, strict=True)}
    rows = _show(0, levels, display, None)
    truth: list[tuple[int, float, float]] = []
    traded = cancelled = 0.0
    for i, step in enumerate(steps):
        ts = 10 * (i + 1)
        changed: float | None = None
        if step[0] == "sell":
            live = [p for p in BIDS if levels[p] > 0]
            if not live:
                continue
            changed = live[0]
            size = min(float(step[1]), levels[changed])
            levels[changed] -= size
            rows += trade(ts, changed, size, "sell")
            if changed <= limit:
                traded += size
        elif step[0] == "buy":
            rows += trade(ts, ASK[0], step[1], "buy")
        else:
            changed = step[1]
            if step[0] == "join":
                levels[changed] += step[2]
            else:
                gone = min(float(step[2]), levels[changed])
                levels[changed] -= gone
                if changed == limit:
                    cancelled += gone
        if changed is not None:
            rows += _show(ts, levels, display, changed)
        truth.append((ts, traded, cancelled))
    return rows, truth


@SETTINGS
@given(sizes=sizes, steps=ops,
       limit=st.sampled_from(BIDS), qty=st.integers(1, 300), orders=st.sampled_from([1, 2]),
       display=st.sampled_from(["full", "top2", "quote"]),
       model=st.sampled_from(["conservative", "probabilistic"]),
       share=st.sampled_from([1.0, 0.5]))
def test_a_resting_order_never_fills_before_the_queue_ahead_of_it_has_traded(
        sizes: list[int], steps: list[tuple[Any, ...]], limit: float, qty: int, orders: int,
        display: str, model: str, share: float) -> None:
    rows, truth = _market(sizes, steps, display, limit)
    ahead = float(sizes[BIDS.index(limit)])  # the true queue at our price when we arrive
    execution = {"queue_model": "probabilistic", "queue_power": 2.0} if model == "probabilistic" \
        else {}
    execution["max_volume_share"] = share
    with tempfile.TemporaryDirectory() as folder:
        _, strategy, journal = run_script(Path(folder), rows,
                                          [[0, "order", qty, limit]] * orders, execution)
    filled = 0.0
    for fill in of_kind(journal, "fill"):
        details = fill["details"]
        assert details["liquidity"] == "maker" and details["price"] == limit
        filled += details["qty"]
        at = details["venue_ts"] // MS
        traded, cancelled = max(((t, c) for ts, t, c in truth if ts <= at), default=(0.0, 0.0))
        # at best every cancel at our price was ahead of us; what traded beyond the rest is ours
        assert filled <= max(traded - max(ahead - cancelled, 0.0), 0.0) + 1e-9
    # partial fills reach the portfolio one by one, as their reports arrive
    _assert_booked_as_they_came(journal, strategy)


def _assert_booked_as_they_came(journal: list[dict[str, Any]], strategy: Any) -> None:
    position, cash = 0.0, 1_000_000.0
    expected: list[tuple[float, float]] = []
    for fill in of_kind(journal, "fill"):
        details = fill["details"]
        position += details["qty"]
        cash -= details["qty"] * details["price"] + details["fee"]
        expected.append((position, cash))
        assert details["position"] == position
    assert len(strategy.positions) == len(expected)
    for (want_position, want_cash), got_position, got_cash in zip(
            expected, strategy.positions, strategy.cash, strict=True):
        assert got_position == want_position
        assert abs(got_cash - want_cash) < 1e-6


actions = st.lists(st.one_of(
    st.tuples(st.integers(0, 60), st.just("order"), st.integers(-300, 300).filter(bool),
              st.sampled_from([None, 99.97, 99.99, 100.01, 100.03]),
              st.sampled_from(["GTC", "IOC"])),
    st.tuples(st.integers(0, 60), st.just("cancel"), st.integers(0, 3)),
), min_size=1, max_size=8)


@SETTINGS
@given(sizes=sizes, steps=ops,
       display=st.sampled_from(["full", "top2", "quote"]), script=actions,
       entry=st.tuples(st.sampled_from(["constant", "uniform", "lognormal"]),
                       st.integers(0, 40), st.integers(0, 40)),
       response=st.integers(0, 30), share=st.sampled_from([1.0, 0.3]))
def test_no_fill_happens_before_submit_plus_entry_latency(
        sizes: list[int], steps: list[tuple[Any, ...]], display: str,
        script: list[tuple[Any, ...]], entry: tuple[str, int, int], response: int,
        share: float) -> None:
    rows, _ = _market(sizes, steps, display, BIDS[0])
    script = sorted(script, key=lambda step: (step[0], step[1] == "cancel"))
    orders = sum(step[1] == "order" for step in script)
    # a cancel names the n-th order sent; keep only those whose order is sent before them
    steps_run = [list(step) for i, step in enumerate(script)
                 if step[1] == "order" or step[2] < sum(s[1] == "order" for s in script[:i])]
    model, ms, jitter = entry
    entry: dict[str, Any] = {"model": model, "ms": ms if model != "lognormal" else ms + 1}
    if model == "uniform":
        entry["jitter_ms"] = jitter
    execution = {"entry_latency": entry,
                 "response_latency": {"model": "constant", "ms": response},
                 "max_volume_share": share}
    with tempfile.TemporaryDirectory() as folder:
        _, strategy, journal = run_script(Path(folder), rows, steps_run, execution)
    sent = {r["order_id"]: r["ts_ns"] for r in of_kind(journal, "order")}
    arrived = {r["order_id"]: r["ts_ns"] for r in of_kind(journal, "arrival")}
    floor = 0 if model == "lognormal" else ms * MS
    assert len(sent) <= orders
    for order_id, ts in arrived.items():
        assert ts - sent[order_id] >= floor
    for fill in of_kind(journal, "fill"):
        venue_ts = fill["details"]["venue_ts"]
        assert venue_ts >= arrived[fill["order_id"]] >= sent[fill["order_id"]]
        assert fill["ts_ns"] - venue_ts >= response * MS
    _assert_booked_as_they_came(journal, strategy)
