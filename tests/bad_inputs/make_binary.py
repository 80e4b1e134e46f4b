"""Write the Parquet and Arrow files of the bad-input corpus (run from anywhere; they are
committed).

Each file is a few rows of trades or quotes with one fault. Truncated and garbage
files are cut from a good one, so they are as a disk or a killed writer leaves them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent / "data"
T0 = 1_704_205_800_000_000_000
S = 1_000_000_000


def trades(prices: list[float | None], sizes: list[float | None] | None = None,
           ts: list[int | None] | None = None) -> pa.Table:
    n = len(prices)
    return pa.table({"ts": pa.array(ts or [T0 + i * S for i in range(n)], pa.int64()),
                     "price": pa.array(prices, pa.float64()),
                     "size": pa.array(sizes or [5.0] * n, pa.float64())})


def quotes(rows: list[tuple[float | None, float, float, float]], ts: list[int] | None = None
           ) -> pa.Table:
    return pa.table({"ts": pa.array(ts or [T0 + i * S for i in range(len(rows))], pa.int64()),
                     "bid": pa.array([r[0] for r in rows], pa.float64()),
                     "bid_size": pa.array([r[1] for r in rows], pa.float64()),
                     "ask": pa.array([r[2] for r in rows], pa.float64()),
                     "ask_size": pa.array([r[3] for r in rows], pa.float64())})


def write_arrow(table: pa.Table, path: Path) -> None:
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)


def main() -> None:
    good = trades([100.0, 100.01, 100.02, 100.03])
    pq.write_table(trades([100.0, float("nan"), 100.02]), HERE / "trade_nan_price.parquet")
    pq.write_table(trades([100.0, 100.01, 100.02], [5.0, 5.0, None]),
                   HERE / "trade_null_size.parquet")
    pq.write_table(trades([100.0, 100.01, 100.02], ts=[T0, T0 + 2 * S, T0 + S]),
                   HERE / "trade_out_of_order.parquet")
    pq.write_table(quotes([(99.99, 100, 100.01, 100), (100.0, 100, 100.02, 100),
                           (100.0, 100, 100.02, 100)], ts=[T0, T0 + S, T0 + S]),
                   HERE / "quote_duplicate.parquet")
    pq.write_table(good.slice(0, 0), HERE / "empty.parquet")
    pq.write_table(pa.table({"ts": pa.array([T0, T0 + S], pa.int64()),
                             "price": ["100.00", "n/a"], "size": [5.0, 5.0]}),
                   HERE / "trade_text_price.parquet")
    pq.write_table(pa.table({"ts": [T0 / S, float("nan"), T0 / S + 2],
                             "price": [100.0, 100.01, 100.02], "size": [5.0, 5.0, 5.0]}),
                   HERE / "trade_nan_time.parquet")
    pq.write_table(good.drop(["size"]), HERE / "trade_missing_column.parquet")
    whole = (HERE / "good.parquet")
    pq.write_table(good, whole)
    data = whole.read_bytes()
    whole.unlink()
    (HERE / "trade_truncated.parquet").write_bytes(data[: len(data) // 2])
    write_arrow(trades([100.0, 100.01, 100.02], [5.0, -1.0, 5.0]),
                HERE / "trade_negative_size.arrow")
    write_arrow(quotes([(99.99, 100, 100.01, 100), (100.05, 100, 100.02, 100)]),
                HERE / "quote_crossed.arrow")
    write_arrow(trades([100.0, 100.01, 100.02], ts=[T0 + S, T0, T0 + 2 * S]),
                HERE / "trade_out_of_order.arrow")
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, good.schema) as writer:
        writer.write_table(good)
    arrow = sink.getvalue().to_pybytes()
    (HERE / "trade_truncated.arrow").write_bytes(arrow[: len(arrow) - 40])
    (HERE / "garbage.arrow").write_bytes(b"not an arrow file at all\n" * 4)
    pq.write_table(pa.table({"ts": pa.array([T0, T0 + S], pa.int64()), "price": [True, False],
                             "size": [5.0, 5.0]}), HERE / "trade_price_bool.parquet")
    latin1 = pa.array([b"ACME", b"ACM\xc9", b"ACME"], pa.binary()).view(pa.string())
    write_arrow(trades([100.0, 100.01, 100.02]).append_column("instrument", latin1),
                HERE / "trade_not_utf8.arrow")
    offsets = pa.py_buffer(np.array([0, 4, 2, 12], dtype=np.int32).tobytes())
    damaged = pa.StringArray.from_buffers(3, offsets, pa.py_buffer(b"ACMEACMEACME"))
    write_arrow(trades([100.0, 100.01, 100.02]).append_column("instrument", damaged),
                HERE / "trade_damaged.arrow")


if __name__ == "__main__":
    main()
