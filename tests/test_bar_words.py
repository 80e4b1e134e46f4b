"""Records of bar data read as bars: no quote is no price 0, a count of bars is not of trades."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import make_session, run_engine

from desk.audit import read_journal


def test_momentum_on_bars_says_bars_a_missing_quote_is_a_dash_and_targets_have_commas(
        tmp_path: Path) -> None:
    closes = [1.30, 1.31, 1.32, 1.33, 1.32, 1.30, 1.28, 1.27]
    pq.write_table(pa.table({
        "ts": pa.array([1_704_200_000_000_000_000 + i * 60_000_000_000 for i in range(8)],
                       pa.int64()),
        "open": closes, "high": [c + 0.005 for c in closes], "low": [c - 0.005 for c in closes],
        "close": closes, "volume": [1_000.0] * 8}), tmp_path / "bars.parquet")
    session = make_session(
        tmp_path, data={"synthetic": None,
                        "files": [{"path": "bars.parquet", "kind": "bar", "instrument": "ACME"}]},
        strategy={"use": "momentum", "params": {"lookback": 2, "threshold": 0.001,
                                                "size": 50_000, "cooldown": 0}},
        risk={"max_position": {"max_qty": 100_000}, "max_leverage": {"limit": 10.0},
              "max_order_size": {"max_qty": 200_000}})
    run_engine(session, tmp_path / "journal.arrow")
    table = read_journal(tmp_path / "journal.arrow")
    rows = list(zip(table.column("kind").to_pylist(), table.column("why").to_pylist(),
                    strict=True))
    signals = [why for kind, why in rows if kind == "signal"]
    assert signals and all(" over 2 bars " in why for why in signals)
    assert any("target +50,000" in why for why in signals)
    assert any("target -50,000" in why for why in signals)
    markets = [why for kind, why in rows if kind == "market"]
    assert markets and all(why.startswith("bar ACME bid – ask – last ") for why in markets)


def test_a_signal_on_a_book_event_names_it_in_words() -> None:
    from desk.events import BookDelta, BookSnapshot
    from desk.records import market, market_args

    snapshot = BookSnapshot(1, "ACME", ((100.0, 5.0),), ((100.5, 4.0),))
    delta = BookDelta(2, "ACME", ((100.1, 2.0),), ())
    assert market(market_args(snapshot, 100.0, 100.5, 0.0, 100.25, 7))[0] == \
        "book snapshot ACME bid 100 ask 100.5 last –"
    assert market(market_args(delta, 100.1, 100.5, 100.2, 100.3, 8))[0].startswith(
        "book update ACME bid 100.1 ask 100.5 last 100.2")
