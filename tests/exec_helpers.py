"""Helpers for the execution tests: a tiny market written as a CSV, and a scripted strategy.

A test writes the market it needs row by row (book levels, quotes, trades),
states what the strategy does at which millisecond, and runs the whole engine
on it, so every figure the test checks went through the real event path.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import Field

from desk.audit import details_of, read_journal
from desk.config import LoadedSession, parse_session
from desk.engine import Engine
from desk.orders import FillInfo
from desk.strategy import Params, Strategy

MS = 1_000_000
COLUMNS = ("ts", "kind", "side", "price", "size", "bid", "bid_size", "ask", "ask_size")


def book(ts_ms: float, bids: list[tuple[float, float]], asks: list[tuple[float, float]],
         snapshot: bool = True) -> list[dict[str, Any]]:
    """Rows of one book event: a snapshot, or a delta (size 0 deletes a level)."""
    kind = "book_snapshot" if snapshot else "book_delta"
    return ([{"ts": ts_ms, "kind": kind, "side": "bid", "price": p, "size": s} for p, s in bids]
            + [{"ts": ts_ms, "kind": kind, "side": "ask", "price": p, "size": s} for p, s in asks])


def trade(ts_ms: float, price: float, size: float, side: str = "sell") -> list[dict[str, Any]]:
    """One trade row; `side` is the aggressor."""
    return [{"ts": ts_ms, "kind": "trade", "side": side, "price": price, "size": size}]


def quote(ts_ms: float, bid: float, bid_size: float, ask: float,
          ask_size: float) -> list[dict[str, Any]]:
    return [{"ts": ts_ms, "kind": "quote", "bid": bid, "bid_size": bid_size, "ask": ask,
             "ask_size": ask_size}]


class ScriptParams(Params):
    script: list[list[Any]] = Field(default_factory=list)
    """Steps `[ms, "order", qty, limit or None, tif]` or `[ms, "cancel", n]` (n-th order sent)."""


class Scripted(Strategy):
    """Does each step of its script at the first callback at or after the step's time."""

    Params = ScriptParams

    def on_start(self) -> None:
        self.steps = list(self.params.script)  # type: ignore[attr-defined]
        self.ids: list[int | None] = []
        self.fills: list[FillInfo] = []
        self.positions: list[float] = []
        self.cash: list[float] = []
        self.cancels: list[bool] = []
        self.seen: list[tuple[int, int]] = []
        """(ctx.now, event.ts) of every market event, to measure feed latency."""

    def _act(self) -> None:
        now = self.ctx.now
        while self.steps and self.steps[0][0] * MS <= now:
            step = self.steps.pop(0)
            if step[1] == "order":
                qty, limit, tif = step[2], step[3], step[4] if len(step) > 4 else "GTC"
                self.ids.append(self.ctx.order("ACME", qty, "scripted", limit=limit, tif=tif))
            else:
                order_id = self.ids[step[2]]
                assert order_id is not None
                self.cancels.append(self.ctx.cancel(order_id, "scripted cancel"))

    def on_trade(self, trade: Any) -> None:
        self.seen.append((self.ctx.now, trade.ts))
        self._act()

    def on_quote(self, quote: Any) -> None:
        self.seen.append((self.ctx.now, quote.ts))
        self._act()

    def on_book(self, book: Any) -> None:
        self.seen.append((self.ctx.now, book.ts))
        self._act()

    def on_bar(self, bar: Any) -> None:
        self.seen.append((self.ctx.now, bar.ts))
        self._act()

    def on_fill(self, fill: FillInfo) -> None:
        self.fills.append(fill)
        self.positions.append(self.ctx.portfolio.position("ACME"))
        self.cash.append(self.ctx.portfolio.cash)
        self._act()


def write_events(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The rows as a `mixed` CSV, in the order given (which must be time order)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})
    return path


def session_dict(execution: dict[str, Any] | None = None, script: list[list[Any]] | None = None,
                 start_cash: float = 1_000_000.0, seed: int = 3,
                 lot_size: float = 1.0) -> dict[str, Any]:
    """A session on `events.csv`: the scripted strategy, and risk rules that never bind here."""
    return {
        "session": {"name": "exec-test", "seed": seed, "start_cash": start_cash},
        "data": {"files": [{"path": "events.csv", "kind": "mixed", "instrument": "ACME",
                            "ts_unit": "ms"}]},
        "instruments": [{"symbol": "ACME", "tick_size": 0.01, "lot_size": lot_size}],
        "strategy": {"use": "exec_helpers:Scripted", "params": {"script": script or []}},
        "risk": {"order_rate": {"enabled": False}, "price_band": {"enabled": False},
                 "max_position": {"max_qty": 1e9}, "max_leverage": {"limit": 100.0}},
        "execution": execution or {},
    }


def run_loaded(tmp_path: Path, loaded: LoadedSession) -> tuple[Engine, list[dict[str, Any]]]:
    """Run a loaded session to the end, strict, journaled in `tmp_path`; the engine and its
    journal's records, their details parsed."""
    engine = Engine(loaded, tmp_path / "journal.arrow", strict=True)
    try:
        engine.run()
    finally:
        engine.close()
    journal = read_journal(tmp_path / "journal.arrow").to_pylist()
    for record in journal:
        record["details"] = details_of(record["details"])
    return engine, journal


def run_script(tmp_path: Path, rows: list[dict[str, Any]], script: list[list[Any]],
               execution: dict[str, Any] | None = None, start_cash: float = 1_000_000.0,
               seed: int = 3, lot_size: float = 1.0,
               ) -> tuple[Engine, Scripted, list[dict[str, Any]]]:
    """Run the engine on `rows` with the script; returns the engine, strategy and journal."""
    write_events(tmp_path / "events.csv", rows)
    loaded = parse_session(session_dict(execution, script, start_cash, seed, lot_size), "exec-test",
                           tmp_path / "session.toml")
    engine, journal = run_loaded(tmp_path, loaded)
    strategy = engine.strategy
    assert isinstance(strategy, Scripted)
    return engine, strategy, journal


def of_kind(journal: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [record for record in journal if record["kind"] == kind]
