"""desk's own market-data schema: one Parquet layout for trades, quotes, L2 levels and bars.

Every importer writes this layout and `kind = "mixed"` replays it with no column
mapping. One row is one trade, one quote, one bar, or one L2 price level; the
rows of one book event are consecutive and share `ts`, `instrument` and `kind`.
Columns a row's kind does not use are null.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"

SCHEMA = pa.schema([
    pa.field("ts", pa.int64(), nullable=False),          # epoch nanoseconds, UTC
    pa.field("instrument", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),       # trade|quote|bar|book_snapshot|book_delta
    pa.field("price", pa.float64()),                     # trade price, or the book level's price
    pa.field("size", pa.float64()),                      # trade size, or the level's new size
    # trade: the aggressor, +1 buy / -1 sell / 0 unknown; book: +1 bid / -1 ask
    pa.field("side", pa.int8()),
    pa.field("bid", pa.float64()),
    pa.field("bid_size", pa.float64()),
    pa.field("ask", pa.float64()),
    pa.field("ask_size", pa.float64()),
    pa.field("open", pa.float64()),
    pa.field("high", pa.float64()),
    pa.field("low", pa.float64()),
    pa.field("close", pa.float64()),                     # bars are stamped at their close
    pa.field("volume", pa.float64()),
    pa.field("seq", pa.int64()),                         # book: the venue's update id, if any
    pa.field("prev_seq", pa.int64()),                    # book: the update id this one follows
], metadata={"desk.schema": SCHEMA_VERSION})

COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
KINDS = ("trade", "quote", "bar", "book_snapshot", "book_delta")


def conform(table: pa.Table) -> pa.Table:
    """`table` with every desk column in order and type; missing columns become nulls."""
    n = table.num_rows
    arrays = []
    for field in SCHEMA:
        if field.name in table.column_names:
            arrays.append(table.column(field.name).cast(field.type))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
