"""The fast run loop is a pure speed-up: its journal is byte-identical to stepping event by
event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desk.bench import bench_session
from desk.benchdata import make_ticks, write_parquet
from desk.config import LoadedSession, load_session, parse_session
from desk.engine import Engine
from desk.events import Trade
from desk.strategy import Strategy
from tests.conftest import BASE, ROOT, make_session, merge


def _journal(session: LoadedSession, path: Path, fast: bool, strict: bool = False,
             max_events: int | None = None) -> bytes:
    engine = Engine(session, path, strict=strict)
    try:
        if fast:
            engine.run(max_events=max_events)
        elif max_events is None:
            while engine.step():
                pass
        else:
            for _ in range(max_events):
                if not engine.step():
                    break
    finally:
        engine.close()
    return path.read_bytes()


def _same(session: LoadedSession, tmp_path: Path, **kwargs: Any) -> bytes:
    fast = _journal(session, tmp_path / "fast.arrow", True, **kwargs)
    stepped = _journal(session, tmp_path / "step.arrow", False, **kwargs)
    assert fast == stepped
    return fast


@pytest.fixture
def bench(tmp_path: Path) -> LoadedSession:
    data = write_parquet(make_ticks(20_000), tmp_path / "ticks.parquet")
    return parse_session(bench_session(data, tmp_path / "unused.arrow"), "bench")


def test_benchmark_session_journal_is_identical_fast_and_stepped(bench: LoadedSession,
                                                                 tmp_path: Path) -> None:
    journal = _same(bench, tmp_path)
    assert len(journal) > 100_000  # hundreds of orders, each with its whole causal chain


def test_benchmark_session_is_identical_in_strict_mode_and_when_stopped_early(
        bench: LoadedSession, tmp_path: Path) -> None:
    _same(bench, tmp_path, strict=True)
    _same(bench, tmp_path, max_events=7_777)


def test_demo_journal_is_identical_fast_and_stepped(demo_path: Path, tmp_path: Path) -> None:
    _same(load_session(demo_path), tmp_path, max_events=40_000)


def test_recorded_operator_actions_and_scheduled_changes_land_on_the_same_event(
        tmp_path: Path) -> None:
    session = make_session(
        risk={"schedule": [{"at": "+30s", "rule": "max_position", "param": "max_qty",
                            "value": 50}]},
        execution={"entry_latency": {"model": "uniform", "ms": 5, "jitter_ms": 20}},
        operator_actions=[{"seq": 1_001, "action": "kill"},
                          {"seq": 2_500, "action": "kill", "enabled": False},
                          {"seq": 3_000, "action": "toggle", "rule": "order_rate"}])
    journal = _same(session, tmp_path, strict=True)
    assert b"kill_switch" in journal


def test_a_strategy_that_raises_is_stopped_at_the_same_event(tmp_path: Path) -> None:
    data = merge(BASE, {})
    data["strategy"] = {"use": "tests.test_fast_run:Raising", "max_faults": 3}
    session = parse_session(data, "test-session")
    journal = _same(session, tmp_path)
    assert b"strategy_stopped" in journal


class Raising(Strategy):
    """Trades, and raises on every 400th trade, so faults interleave with orders."""

    def on_start(self) -> None:
        self.seen = 0

    def on_trade(self, trade: Trade) -> None:
        self.seen += 1
        if self.seen % 400 == 0:
            raise RuntimeError(f"boom at trade {self.seen}")
        if self.seen % 50 == 0:
            self.ctx.target(trade.instrument, 10 if self.seen % 100 else -10, "flip")


def test_a_passive_session_on_books_and_quotes_is_identical_fast_and_stepped(
        tmp_path: Path) -> None:
    # book updates, resting orders in a probabilistic queue, cancels, a strategy on books
    session = load_session(ROOT / "sessions" / "exec_passive.toml")
    journal = _same(session, tmp_path, max_events=12_000)
    assert b'"liquidity":"maker"' in journal and b"cancel" in journal


class QuotesAndBooks(Strategy):
    """Acts on quotes and book updates (not trades), and raises now and then."""

    def on_start(self) -> None:
        self.seen = 0

    def on_quote(self, quote: Any) -> None:
        self._tick(quote.instrument)

    def on_book(self, book: Any) -> None:
        self._tick(book.instrument)

    def _tick(self, symbol: str) -> None:
        self.seen += 1
        if self.seen % 333 == 0:
            raise RuntimeError(f"boom at update {self.seen}")
        if self.seen % 40 == 0:
            self.ctx.target(symbol, 10 if self.seen % 80 else -10, "flip on the book")


def _mixed_file(path: Path, rows: int = 3_000) -> Path:
    """Quotes, book updates (some stale), trades: the market events `Engine._run_feed` takes."""
    lines = ["ts,kind,instrument,price,size,side,bid,bid_size,ask,ask_size,seq"]
    seq = 100
    for k in range(rows):
        ts = 1_700_000_000_000_000_000 + k * 50_000_000
        mid = 100 + (k % 37) * 0.01 - (k % 11) * 0.02
        step = k % 4
        if step == 0:
            lines.append(f"{ts},quote,ACME,,,,{mid - 0.01:.2f},300,{mid + 0.01:.2f},300,")
        elif step == 1:
            seq += -3 if (k // 4) % 25 == 0 else 1  # now and then a stale update, skipped
            lines.append(f"{ts},book_delta,ACME,{mid - 0.01:.2f},{200 + k % 7},1,,,,,{seq}")
            lines.append(f"{ts},book_delta,ACME,{mid + 0.01:.2f},{210 + k % 5},-1,,,,,{seq}")
        else:
            lines.append(f"{ts},trade,ACME,{mid:.2f},{5 + k % 3},{1 if k % 2 else -1},,,,,")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_strategy_on_quotes_and_books_is_identical_fast_and_stepped(tmp_path: Path) -> None:
    data = merge(BASE, {})
    del data["data"]
    data["data"] = {"files": [{"path": str(_mixed_file(tmp_path / "feed.csv")),
                               "kind": "mixed"}]}
    data["strategy"] = {"use": "tests.test_fast_run:QuotesAndBooks", "max_faults": 5}
    journal = _same(parse_session(data, "test-session"), tmp_path)
    assert journal.count(b"strategy_error") >= 3  # faults on quotes and books
    assert b"stale book update" in journal
    assert journal.count(b"flip on the book") >= 20  # orders from quote and book callbacks
