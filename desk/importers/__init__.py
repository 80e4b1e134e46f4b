"""Importers: other people's market-data formats turned into desk's Parquet schema.

One module per format family; each exposes `run(sources, writer, options, meter)`.
`FORMATS` maps the name given to `desk data import --format` onto it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from desk.errors import DataError

if TYPE_CHECKING:  # the package itself stays light: `desk --help` and `desk run` import it
    from desk.data.writer import MarketWriter
    from desk.importers.source import Meter

FORMATS: dict[str, tuple[str, str]] = {
    # name: (module, what it reads)
    "csv": ("generic", "any CSV with a column mapping (--kind, --map, --ts-unit, --tz, ...)"),
    "parquet": ("generic", "any Parquet file with a column mapping"),
    "binance": ("binance_stream", "recorded Binance WebSocket streams, one `<local_ns> <json>` "
                                  "per line (.gz ok): depth synced with a REST snapshot, "
                                  "trade, aggTrade, bookTicker"),
    "binance-trades": ("binance_files", "Binance trades or aggTrades CSV dumps"),
    "binance-bookticker": ("binance_files", "Binance bookTicker CSV dumps"),
    "binance-depth": ("binance_files", "Binance futures order-book CSV (snap/set rows)"),
    "binance-klines": ("binance_files", "Binance klines CSV (bars, stamped at close)"),
    "tardis": ("tardis", "Tardis CSV: trades, incremental_book_L2, quotes, book_snapshot_N"),
    "databento": ("databento", "Databento CSV or DBN (.dbn, .dbn.zst): trades, tbbo, mbp-1, mbo, "
                               "ohlcv-*"),
    "lobster": ("lobster", "LOBSTER message + orderbook files (or their zip)"),
}


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read a source whose layout desk cannot tell by itself."""

    instrument: str | None = None
    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ts_unit: str = "ns"
    ts_format: str | None = None
    tz: str | None = None
    """Zone of naive times; None: the format's own default (UTC; New York for LOBSTER)."""
    price_scale: float = 1.0
    size_scale: float = 1.0
    buy: tuple[str, ...] = ()
    sell: tuple[str, ...] = ()
    bar_stamp: str | None = None
    interval_ns: int | None = None
    clock: str = "local"
    csv_delimiter: str = ","
    header: bool = True
    sort: bool = False
    """Sort rows out of time order (a newest-first source is reversed without being asked)."""


Importer: TypeAlias = "Callable[[list[Path], MarketWriter, ImportOptions, Meter], None]"


def importer(name: str) -> Importer:
    """The `run` function of format `name`."""
    if name not in FORMATS:
        raise DataError(f"unknown format {name!r}; formats: {', '.join(FORMATS)}")
    module = importlib.import_module(f"desk.importers.{FORMATS[name][0]}")
    specific = getattr(module, "run_" + name.replace("-", "_"), None)
    run: Importer = specific if specific is not None else module.run
    return run
