"""Several instruments in one run: specs (multiplier, lot, tick), and an instrument with no price
yet, which is never valued at 0."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from exec_helpers import of_kind, run_loaded
from pydantic import Field

from desk.config import parse_session
from desk.strategy import Params, Strategy

MS = 1_000_000
COLUMNS = ("ts", "instrument", "kind", "side", "price", "size", "bid", "bid_size", "ask",
           "ask_size")


class StepsParams(Params):
    steps: list[list[Any]] = Field(default_factory=list)
    """`[ms, instrument, qty, limit or None]`: an order at the first market event at or after."""


class Steps(Strategy):
    """Sends each step's order at the first market event at or after its time."""

    Params = StepsParams

    def on_start(self) -> None:
        self.steps = list(self.params.steps)  # type: ignore[attr-defined]

    def _act(self, event: Any) -> None:
        while self.steps and self.steps[0][0] * MS <= self.ctx.now:
            _, symbol, qty, limit = self.steps.pop(0)
            self.ctx.order(symbol, qty, "scripted", limit=limit)

    on_trade = on_quote = on_book = on_bar = _act


def run_steps(tmp_path: Path, rows: list[dict[str, Any]], steps: list[list[Any]],
              instruments: list[dict[str, Any]], risk: dict[str, Any] | None = None,
              ) -> tuple[Any, list[dict[str, Any]]]:
    """Run `steps` on the rows (a mixed CSV with an instrument column, times in ms)."""
    with (tmp_path / "events.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})
    session = {
        "session": {"name": "instruments", "seed": 1, "start_cash": 1_000_000.0},
        "data": {"files": [{"path": "events.csv", "kind": "mixed", "ts_unit": "ms"}]},
        "instruments": instruments,
        "strategy": {"use": "test_instruments:Steps", "params": {"steps": steps}},
        "risk": {"order_rate": {"enabled": False}, "max_position": {"max_qty": 1e9},
                 **(risk or {})},
        "execution": {"entry_latency": {"model": "constant", "ms": 10},
                      "response_latency": {"model": "constant", "ms": 5}},
    }
    loaded = parse_session(session, "instruments", tmp_path / "session.toml")
    return run_loaded(tmp_path, loaded)


def _quote(ts: int, symbol: str, bid: float, ask: float) -> dict[str, Any]:
    return {"ts": ts, "instrument": symbol, "kind": "quote", "bid": bid, "bid_size": 50,
            "ask": ask, "ask_size": 50}


def _trade(ts: int, symbol: str, price: float) -> dict[str, Any]:
    return {"ts": ts, "instrument": symbol, "kind": "trade", "side": "buy", "price": price,
            "size": 10}


# BBB has no price until 5 ms in: an order sent at 0 ms reaches the venue after it has one
NO_PRICE_YET = [_trade(0, "AAA", 100.0), _quote(5, "BBB", 200.0, 200.5),
                _trade(1000, "AAA", 100.5), _quote(1000, "BBB", 201.0, 201.5)]
TWO = [{"symbol": "AAA"}, {"symbol": "BBB", "multiplier": 10}]


def test_a_market_order_for_an_instrument_with_no_price_yet_is_blocked_not_valued_at_0(
        tmp_path: Path) -> None:
    engine, journal = run_steps(tmp_path, NO_PRICE_YET, [[0, "BBB", 10, None]], TWO)
    (risk,) = of_kind(journal, "risk")
    verdicts = {v["rule"]: v for v in risk["details"]["verdicts"]}
    assert risk["details"]["blocked_by"] == ["max_leverage", "cash"]
    assert verdicts["cash"]["message"] == "no price for BBB yet: the order cannot be valued"
    assert verdicts["cash"]["value"] is None
    assert engine.stats.fills == 0 and engine.portfolio.cash == 1_000_000.0


def test_an_order_decided_with_no_price_counts_no_latency_cost(tmp_path: Path) -> None:
    engine, journal = run_steps(tmp_path, NO_PRICE_YET, [[0, "BBB", 10, None]], TWO,
                                risk={"cash": {"enabled": False},
                                      "max_leverage": {"enabled": False}})
    (done,) = of_kind(journal, "execution")
    # decided with no price, it reached the venue at mid 200.25 and bought at 200.5 (× 10)
    assert done["details"]["latency_cost"] == 0.0
    assert done["details"]["impact_cost"] == 25.0
    assert "decision –, arrival 200.25" in done["why"]
    assert done["details"]["decision_price"] is None  # no price, not a price of 0
    (intent,) = of_kind(journal, "intent")
    assert intent["details"]["decision_price"] is None
    assert engine.stats.latency_cost == 0.0
    assert engine.stats.decided_notional == 10 * 200.25 * 10


def test_a_limit_for_an_instrument_with_no_price_yet_is_not_measured_against_itself(
        tmp_path: Path) -> None:
    """With no mark, a limit is no fat finger only by luck: price_band blocks it."""
    _, journal = run_steps(tmp_path, NO_PRICE_YET, [[0, "BBB", 10, 150.0]], TWO)
    (risk,) = of_kind(journal, "risk")
    assert of_kind(journal, "order") == []
    assert risk["details"]["blocked_by"] == ["price_band"]
    band = next(v for v in risk["details"]["verdicts"] if v["rule"] == "price_band")
    assert not band["passed"] and band["value"] is None
    assert band["message"] == "no mark for BBB yet to measure limit 150 against"
