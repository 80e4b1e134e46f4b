"""Latency: the models, the legs (entry, response, feed), cancels that travel too and race fills."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from conftest import make_session, run_engine
from exec_helpers import MS, book, of_kind, run_script, trade

from desk.audit import details_of, read_journal
from desk.config import LatencyModel
from desk.execution.latency import Latency

BIDS = [(99.99, 100), (99.98, 400)]
ASKS = [(100.01, 200), (100.02, 400)]


# --- the models ----------------------------------------------------------------------


def test_constant_latency_is_exact() -> None:
    leg = Latency(LatencyModel(model="constant", ms=12.5), seed=1)
    assert {leg.sample() for _ in range(100)} == {12_500_000}


def test_uniform_latency_stays_in_its_range_and_repeats_with_the_seed() -> None:
    draws = [Latency(LatencyModel(model="uniform", ms=20, jitter_ms=30), seed=4).sample()
             for _ in range(1)]
    leg = Latency(LatencyModel(model="uniform", ms=20, jitter_ms=30), seed=4)
    samples = [leg.sample() for _ in range(2000)]
    assert samples[0] == draws[0]
    assert min(samples) >= 20 * MS and max(samples) <= 50 * MS
    assert max(samples) - min(samples) > 25 * MS
    other = Latency(LatencyModel(model="uniform", ms=20, jitter_ms=30), seed=5)
    assert [other.sample() for _ in range(20)] != samples[:20]


def test_lognormal_latency_has_its_median_at_ms_and_a_right_tail() -> None:
    leg = Latency(LatencyModel(model="lognormal", ms=40, sigma=0.5), seed=2)
    samples = [leg.sample() / MS for _ in range(4001)]
    assert statistics.median(samples) == pytest.approx(40, rel=0.05)
    assert statistics.mean(samples) > statistics.median(samples)
    assert min(samples) > 0


def test_empirical_latency_draws_only_the_observed_values_and_all_of_them() -> None:
    leg = Latency(LatencyModel(model="empirical", samples_ms=[1, 5, 250]), seed=3)
    assert {leg.sample() for _ in range(300)} == {1 * MS, 5 * MS, 250 * MS}


# --- the legs in a run -------------------------------------------------------------------


def test_no_fill_is_made_before_submit_plus_entry_latency_nor_reported_before_the_response(
        tmp_path: Path) -> None:
    session = make_session(execution={
        "entry_latency": {"model": "uniform", "ms": 20, "jitter_ms": 30},
        "response_latency": {"model": "lognormal", "ms": 5, "sigma": 0.8},
    }, risk={"order_rate": {"enabled": False}})
    run_engine(session, tmp_path / "j.arrow")
    records = read_journal(tmp_path / "j.arrow").to_pylist()
    sent = {r["order_id"]: r["ts_ns"] for r in records if r["kind"] == "order"}
    arrived = {r["order_id"]: r["ts_ns"] for r in records if r["kind"] == "arrival"}
    fills = [r for r in records if r["kind"] == "fill"]
    assert len(fills) > 20
    for order_id, ts in arrived.items():
        assert 20 * MS <= ts - sent[order_id] <= 50 * MS
    for fill in fills:
        venue_ts = details_of(fill["details"])["venue_ts"]
        assert venue_ts >= arrived[fill["order_id"]] >= sent[fill["order_id"]] + 20 * MS
        assert fill["ts_ns"] >= venue_ts


def test_feed_latency_shows_the_strategy_the_market_late_and_costs_latency(tmp_path: Path) -> None:
    rows = (book(0, BIDS, ASKS) + book(10, [(100.09, 100)], [(100.11, 300)])
            + trade(100, 100.11, 1, "buy"))
    _, strategy, journal = run_script(tmp_path, rows, [[0, "order", 100, None]],
                                           {"feed_latency": {"model": "constant", "ms": 30}})
    assert {now - ts for now, ts in strategy.seen} == {30 * MS}
    # the strategy acted at 30 ms on the book of 0 ms (mid 100.00); the venue was at 100.10 by then
    quality = of_kind(journal, "execution")[0]["details"]
    assert quality["decision_price"] == pytest.approx(100.00)
    assert quality["arrival_price"] == pytest.approx(100.10)
    assert quality["latency_cost"] == pytest.approx(0.10 * 100)
    assert quality["vwap"] == pytest.approx(100.11)
    assert of_kind(journal, "fill")[0]["details"]["venue_ts"] == 30 * MS


def test_a_cancel_travels_with_the_entry_latency_and_its_end_with_the_response(
        tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(20, BIDS, ASKS) + trade(40, 99.99, 500)
    execution = {"entry_latency": {"ms": 10}, "response_latency": {"ms": 5}}
    engine, strategy, journal = run_script(tmp_path, rows,
                                           [[0, "order", 50, 99.99], [20, "cancel", 0]], execution)
    assert strategy.cancels == [True]
    assert not of_kind(journal, "fill")
    (end,) = of_kind(journal, "order_end")
    assert end["ts_ns"] == (20 + 10 + 5) * MS
    assert end["details"]["reason"] == "cancelled"
    assert engine.portfolio_view.position("ACME") == 0
    assert engine.risk.pending["ACME"] == 0


# --- a cancel racing a fill -------------------------------------------------------------


def test_a_fill_that_reaches_the_order_before_its_cancel_wins_the_race(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(20, BIDS, ASKS) + trade(25, 99.99, 200)
    execution = {"entry_latency": {"ms": 10}, "response_latency": {"ms": 5}}
    engine, strategy, journal = run_script(tmp_path, rows,
                                           [[0, "order", 50, 99.99], [20, "cancel", 0]], execution)
    assert strategy.cancels == [True]  # the desk could not know yet
    assert [f["details"]["venue_ts"] for f in of_kind(journal, "fill")] == [25 * MS]
    (late,) = of_kind(journal, "cancel_reject")
    assert late["ts_ns"] == 30 * MS and "too late" in late["why"]
    (request,) = of_kind(journal, "cancel")
    assert (late["instrument"], late["cause"]) == ("ACME", request["seq"])
    assert not of_kind(journal, "order_end")
    assert engine.portfolio_view.position("ACME") == 50


def test_a_cancel_after_a_partial_fill_cancels_only_the_remainder(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(20, BIDS, ASKS) + trade(25, 99.99, 120)
    execution = {"entry_latency": {"ms": 10}, "response_latency": {"ms": 5}}
    engine, _, journal = run_script(tmp_path, rows,
                                           [[0, "order", 50, 99.99], [20, "cancel", 0]], execution)
    assert [f["details"]["qty"] for f in of_kind(journal, "fill")] == [20]
    (end,) = of_kind(journal, "order_end")
    assert end["details"]["unfilled"] == 30
    assert of_kind(journal, "execution")[0]["details"]["filled"] == 20
    assert engine.portfolio_view.position("ACME") == 20
    assert engine.risk.pending["ACME"] == 0


def test_a_cancel_arriving_after_the_order_is_filled_and_booked_is_rejected_not_a_crash(
        tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + trade(12, 99.99, 500) + trade(14, 99.99, 1)
    execution = {"entry_latency": {"ms": 10}, "response_latency": {"ms": 1}}
    engine, strategy, journal = run_script(tmp_path, rows,
                                           [[0, "order", 50, 99.99], [12, "cancel", 0]], execution)
    # filled at 12 ms, booked at 13 ms; the cancel sent at 12 ms reaches the venue at 22 ms
    assert strategy.cancels == [True]
    assert of_kind(journal, "execution")[0]["ts_ns"] == 13 * MS
    (late,) = of_kind(journal, "cancel_reject")
    assert late["ts_ns"] == 22 * MS
    # the venue has forgotten the order by then; the rejection still follows from the request
    (request,) = of_kind(journal, "cancel")
    assert (late["instrument"], late["cause"]) == ("ACME", request["seq"])
    assert engine.portfolio_view.position("ACME") == 50


def test_a_cancel_never_overtakes_its_order_on_the_entry_link(tmp_path: Path) -> None:
    rows = book(0, BIDS, ASKS) + book(1, BIDS, ASKS) + trade(500, 99.99, 1)
    execution = {"entry_latency": {"model": "empirical", "samples_ms": [1, 200]}}
    arrivals = set()
    for seed in range(8):
        folder = tmp_path / str(seed)
        folder.mkdir()
        _, _, journal = run_script(folder, rows, [[0, "order", 50, 99.99], [1, "cancel", 0]],
                                   execution, seed=seed)
        arrivals.add(of_kind(journal, "arrival")[0]["ts_ns"] // MS)
        arrival = of_kind(journal, "arrival")[0]["ts_ns"]
        (end,) = of_kind(journal, "order_end")
        assert end["details"]["reason"] == "cancelled"
        assert end["ts_ns"] >= arrival
    assert 200 in arrivals  # some runs drew the slow leg for the order


def test_a_lognormal_leg_never_takes_longer_than_an_hour() -> None:
    from desk.config import LatencyModel
    from desk.execution.latency import CAP_NS, Latency

    leg = Latency(LatencyModel(model="lognormal", ms=3_600_000, sigma=3.0), seed=3)
    draws = [leg.sample() for _ in range(5_000)]
    assert max(draws) == CAP_NS  # the tail reaches the cap here, and stops there
    assert min(draws) >= 0


def test_explain_keeps_an_orders_own_effect_apart_from_other_orders_filled_in_between(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desk.cli import main

    # two resting buys at one price, each taking 5% of every trade: their fills alternate
    rows = book(0, BIDS, ASKS) + [r for i in range(8) for r in trade(20 + i, 99.99, 300)]
    _, _, journal = run_script(tmp_path, rows, [[0, "order", 50, 99.99], [0, "order", 50, 99.99]],
                               {"max_volume_share": 0.05})
    assert [f["order_id"] for f in of_kind(journal, "fill")][:3] == [1, 2, 1]
    assert main(["explain", str(tmp_path / "journal.arrow"), "1"]) == 0
    effect = capsys.readouterr().out.strip().splitlines()[-1]
    assert effect.startswith("effect on the portfolio: position +50 by this order (0 → 95 from "
                             "before its first fill to after its last, with +45 from other "
                             "orders' fills in between)"), effect
