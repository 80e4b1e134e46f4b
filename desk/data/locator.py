"""Where a row or a column of a market-data file is, worded as people look for it.

A replay's errors and data_quality records name a row by the line a text
editor shows (CSV) or its row number (Parquet, Arrow), and a column by the
file's own name for it, not by desk's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from desk.data.csv_rows import CsvRows


class Locator:
    """Rows and columns of one file in the file's own terms.

    Args:
        path: the file.
        fmt: its format (`parquet`, `csv` or `arrow`).
        csv: the CSV reader of a CSV file, which knows the lines it set aside; None otherwise.
        columns: the session's mapping of desk fields onto the file's column names.
    """

    def __init__(self, path: Path, fmt: str, csv: CsvRows | None,
                 columns: Mapping[str, str]) -> None:
        self.path = path
        self.format = fmt
        self._csv = csv
        self._columns = columns

    def locate(self, row: int, short: bool = False) -> str:
        """Row `row` of the file (counted from 0 over the rows read) as people look for it.

        CSV: `file:LINE`, the line in a text editor (the header is line 1); Parquet
        and Arrow: `file: row N`, N counted from 1.
        """
        name = self.path.name if short else str(self.path)
        if self._csv is None:
            return f"{name}: row {self._number(row)}"
        return f"{name}:{self._number(row)}"

    def _number(self, row: int) -> int:
        """The line (CSV) or row (Parquet, Arrow) number alone, as `locate` counts it."""
        return self._csv.line_of(row) if self._csv is not None else row + 1

    def row_word(self, row: int) -> str:
        """`line 3` (CSV) or `row 3` (Parquet, Arrow)."""
        return f"{'line' if self.format == 'csv' else 'row'} {self._number(row)}"

    def rows_named(self, rows: list[int]) -> str:
        """`lines 3, 5, 9` (CSV) or `rows 2, 4, 8` (Parquet, Arrow)."""
        numbers = ", ".join(str(self._number(r)) for r in rows)
        return f"{'lines' if self.format == 'csv' else 'rows'} {numbers}"

    def column(self, field: str) -> str:
        """The file's name for desk field `field`."""
        return self._columns.get(field, field)
