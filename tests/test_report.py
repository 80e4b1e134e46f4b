"""The end-of-run summary table: its figures as a person reads them."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from desk.report import summary_table

SUMMARY: dict[str, Any] = {
    "session": "s", "seed": 1, "events": 10, "equity": 100.0, "start_cash": 100.0,
    "return": 0.0, "max_drawdown": 0.0, "realized": 0.0, "unrealized": 0.0,
    "positions": {"BTCUSDT": -0.00009}, "mode": "ACTIVE", "signals": 5, "orders_allowed": 1,
    "orders_blocked": 4, "blocked_by": {"max_position": 3, "order_rate": 2}, "fills": 1,
    "filled_qty": 1.0, "fee_cost": 0.0, "latency_cost": 0.0, "impact_cost": 0.0,
    "shortfall": 0.0, "shortfall_bps": 0.0, "traded_notional": 0.0, "data_issues": 0,
    "strategy_faults": 0, "strategy_active": True, "journal_records": 20,
    "wall_seconds": 1.0, "events_per_second": 10.0,
}


def _text(summary: dict[str, Any]) -> str:
    out = io.StringIO()
    Console(file=out, width=120).print(summary_table(summary))
    return out.getvalue()


def test_blocked_by_counts_that_exceed_the_blocked_orders_say_why() -> None:
    assert "an order blocked by several rules counts under each" in _text(SUMMARY)
    once = {**SUMMARY, "blocked_by": {"max_position": 3, "order_rate": 1}}
    assert "several rules" not in _text(once)


def test_small_positions_are_written_out_not_in_exponent_form() -> None:
    text = _text(SUMMARY)
    assert "BTCUSDT -0.00009" in text and "e-05" not in text


def test_fractional_lots_filled_are_counted_as_they_are_not_rounded_to_whole_units() -> None:
    text = _text({**SUMMARY, "fills": 3, "filled_qty": 0.4})
    assert "3 (0.4 units)" in text


def test_units_of_several_instruments_are_counted_apart_not_added_up() -> None:
    text = _text({**SUMMARY, "fills": 3, "filled_qty": 300.5,
                  "filled_by": {"BTCUSDT": 0.5, "ES": 300.0}})
    assert "3 (units: BTCUSDT 0.5, ES 300)" in text and "300.5" not in text
    assert "3 (2 units)" in _text({**SUMMARY, "fills": 3, "filled_qty": 2.0,
                                   "filled_by": {"ES": 2.0}})
