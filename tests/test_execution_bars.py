"""Resting limit orders on bar data: a bar whose range goes through the limit fills it there."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from exec_helpers import MS, of_kind, run_loaded, session_dict

from desk.config import parse_session

MINUTE = 60_000


def bars(*ohlcv: tuple[float, float, float, float, float]) -> list[dict[str, Any]]:
    """One bar a minute, each stamped at its close (ms)."""
    return [{"ts": MINUTE * (i + 1), "open": o, "high": h, "low": low, "close": c, "volume": v}
            for i, (o, h, low, c, v) in enumerate(ohlcv)]


def run_bars(tmp_path: Path, rows: list[dict[str, Any]], script: list[list[Any]],
             execution: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with (tmp_path / "bars.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ("ts", "open", "high", "low", "close", "volume"))
        writer.writeheader()
        writer.writerows(rows)
    data = session_dict({"entry_latency": {"model": "constant", "ms": 100},
                         "response_latency": {"model": "constant", "ms": 20},
                         **(execution or {})}, script)
    data["data"] = {"files": [{"path": "bars.csv", "kind": "bar", "instrument": "ACME",
                               "ts_unit": "ms"}]}
    _, journal = run_loaded(tmp_path, parse_session(data, "bars", tmp_path / "session.toml"))
    return journal


def fills(journal: list[dict[str, Any]]) -> list[tuple[int, float, float, str]]:
    return [(f["details"]["venue_ts"] // MS, f["details"]["qty"], f["details"]["price"],
             f["details"]["liquidity"]) for f in of_kind(journal, "fill")]


def test_a_bar_through_a_resting_buy_fills_it_whole_at_its_limit_as_maker(tmp_path: Path) -> None:
    rows = bars((100, 101, 99.5, 100, 0), (100, 100.5, 99.6, 100, 0),
                (100, 100.2, 98.9, 99.2, 0), (99.2, 99.5, 98.0, 98.5, 0))
    journal = run_bars(tmp_path, rows, [[MINUTE, "order", 300, 99.0]])
    assert fills(journal) == [(3 * MINUTE, 300, 99.0, "maker")]
    assert of_kind(journal, "execution")[0]["details"]["vwap"] == 99.0


def test_a_bar_through_a_resting_sell_fills_it_and_a_touch_does_not(tmp_path: Path) -> None:
    rows = bars((100, 100.5, 99.5, 100, 0), (100, 101.0, 99.8, 100.5, 0),
                (100.5, 101.2, 100.1, 101, 0))
    journal = run_bars(tmp_path, rows, [[MINUTE, "order", -200, 101.0]])
    # the second bar's high only touches 101: the queue there is unknown; the third goes through
    assert fills(journal) == [(3 * MINUTE, -200, 101.0, "maker")]


def test_a_bar_that_began_before_the_order_arrived_does_not_fill_it(tmp_path: Path) -> None:
    rows = bars((100, 100.5, 99.5, 100, 0), (100, 100.5, 97.0, 100, 0),
                (100, 100.5, 99.5, 100, 0), (100, 100.5, 98.0, 99, 0))
    # sent at the first bar's close, it arrives 100 ms into the second bar, whose low may be
    # earlier: only the fourth bar, wholly after the arrival, can fill it
    journal = run_bars(tmp_path, rows, [[MINUTE, "order", 100, 99.0]])
    assert fills(journal) == [(4 * MINUTE, 100, 99.0, "maker")]


def test_a_bars_volume_caps_what_each_bar_fills(tmp_path: Path) -> None:
    rows = bars((100, 100.5, 99.5, 100, 1_000), (100, 100.5, 99.5, 100, 1_000),
                (100, 100.2, 98.5, 99, 1_000), (99, 99.5, 98.0, 98.5, 1_000),
                (98.5, 99.5, 98.0, 98.5, 1_000))
    journal = run_bars(tmp_path, rows, [[MINUTE, "order", 450, 99.0]],
                       {"max_volume_share": 0.2})
    assert [(ts, qty) for ts, qty, _, _ in fills(journal)] == [
        (3 * MINUTE, 200), (4 * MINUTE, 200), (5 * MINUTE, 50)]
