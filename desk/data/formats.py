"""The formats `desk data import` reads, by name: which importer module reads each, and what it is.

Its own module so that building the command line (every `desk` command does)
does not import the importers package.
"""

from __future__ import annotations

IMPORT_FORMATS: dict[str, tuple[str, str]] = {
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
