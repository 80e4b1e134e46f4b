"""Bars never leak the future: from every bar source, the replayed bar arrives at its close.

Each case imports a real sample and derives, from the source's own columns or
the data README, when every bar closes; the strategy must be given each bar at
exactly that time, never earlier. (LOBSTER has no bars.)
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REAL
from importing import needs_real, ns, replay_bars, run_import

MINUTE = 60_000_000_000
DAY = 24 * 60 * MINUTE
BARS = REAL / "nautilus_trader/databento/historical_bars_catalog/databento"


def _nt_closes() -> list[tuple[str, int, float]]:
    """NinjaTrader minute bars are stamped at their end: the stamp is the close."""
    rows = csv.reader((REAL / "pyalgotrade/nt-spy-minute-2011-03.csv").open(), delimiter=";")
    return [("SPY", int(datetime.strptime(r[0], "%Y%m%d %H%M%S").replace(tzinfo=UTC).timestamp())
             * 10**9, float(r[4])) for r in rows]


def _yahoo_closes() -> list[tuple[str, int, float]]:
    """Yahoo daily bars are stamped with the day they open (and listed newest first)."""
    rows = csv.DictReader((REAL / "pyalgotrade/orcl-2000-yahoofinance.csv").open())
    return sorted(("ORCL", ns(r["Date"]) + DAY, float(r["Close"])) for r in rows)


def _kline_closes() -> list[tuple[str, int, float]]:
    """Binance klines carry their open time and their last millisecond (close_time)."""
    rows = csv.reader((REAL / "nautilus_trader/ADABTC-1m-2021-11-27.csv").open())
    closes = [("ADABTC", int(r[6]) * 1_000_000 + 1_000_000, float(r[4])) for r in rows]
    assert all(ts == int(r[0]) * 1_000_000 + MINUTE for (_, ts, _), r in zip(
        closes, csv.reader((REAL / "nautilus_trader/ADABTC-1m-2021-11-27.csv").open()),
        strict=True))
    return closes


def _xcme_closes() -> list[tuple[str, int, float]]:
    """The CME 6E file stamps each one-minute bar at its open (the data README)."""
    with gzip.open(REAL / "nautilus_trader/xcme/6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
                   "rt") as lines:
        return [("6EH4", ns(r["timestamp_utc"]) + MINUTE, float(r["close"]))
                for r in csv.DictReader(lines)]


def _dbn_closes() -> list[tuple[str, int, float | None]]:
    """Databento ohlcv-1m: 30 one-minute bars per contract opening 23:40 → 00:09 (the data
    README, which gives no prices: only the times are checked)."""
    first = ns("2024-07-01T23:41:00")
    return sorted((symbol, first + i * MINUTE, None) for symbol in ("ESU4", "NQU4")
                  for i in range(30))


Closes = Callable[[], list[tuple[str, int, float | None]]]
"""(instrument, when the bar closes, its close price or None) of every bar of a source."""

CASES: dict[str, tuple[str, list[Path], dict[str, object], dict[str, float], Closes]] = {
    "generic --bar-stamp close (NinjaTrader)": (
        "csv", [REAL / "pyalgotrade/nt-spy-minute-2011-03.csv"],
        {"kind": "bar", "instrument": "SPY", "bar_stamp": "close", "header": False,
         "csv_delimiter": ";", "ts_format": "%Y%m%d %H%M%S",
         "columns": {"ts": "0", "open": "1", "high": "2", "low": "3", "close": "4",
                     "volume": "5"}},
        {"SPY": 0.01}, _nt_closes),
    "generic --bar-stamp open --interval 1d (Yahoo, newest first)": (
        "csv", [REAL / "pyalgotrade/orcl-2000-yahoofinance.csv"],
        {"kind": "bar", "instrument": "ORCL", "bar_stamp": "open", "interval_ns": DAY,
         "columns": {"ts": "Date", "open": "Open", "high": "High", "low": "Low",
                     "close": "Close", "volume": "Volume"}},
        {"ORCL": 0.01}, _yahoo_closes),
    "generic --bar-stamp open --interval 1m (CME, gzip)": (
        "csv", [REAL / "nautilus_trader/xcme/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"],
        {"kind": "bar", "instrument": "6EH4", "bar_stamp": "open", "interval_ns": MINUTE,
         "columns": {"ts": "timestamp_utc"}},
        {"6EH4": 0.00005}, _xcme_closes),
    "binance-klines": (
        "binance-klines", [REAL / "nautilus_trader/ADABTC-1m-2021-11-27.csv"], {},
        {"ADABTC": 1e-8}, _kline_closes),
    "databento DBN ohlcv-1m": (
        "databento", [BARS / "futures_ohlcv-1m_2024-07-01T23-40_2024-07-02T00-10.dbn.zst"], {},
        {"ESU4": 0.25, "NQU4": 0.25}, _dbn_closes),
}


@needs_real
@pytest.mark.parametrize("case", list(CASES))
def test_every_bar_source_replays_each_bar_at_its_close(case: str, tmp_path: Path) -> None:
    fmt, sources, options, ticks, closes = CASES[case]
    out = tmp_path / "bars.parquet"
    run_import(fmt, sources, out, **options)  # type: ignore[arg-type]
    seen = replay_bars(tmp_path, out, ticks)
    assert seen, "no bar replayed"
    assert all(now == bar.ts for now, bar in seen)  # given to the strategy at its own stamp
    got = sorted((bar.instrument, bar.ts, bar.close) for _, bar in seen)
    expected = sorted(closes(), key=lambda c: (c[0], c[1]))
    assert [(s, ts) for s, ts, _ in got] == [(s, ts) for s, ts, _ in expected]
    assert [c for *_, c in got] == pytest.approx(
        [c if c is not None else g for (*_, c), (*_, g) in zip(expected, got, strict=True)])
    assert [ts for _, ts, _ in sorted(got, key=lambda c: c[1])] == [bar.ts for _, bar in seen]
