"""Which of a batch's rows go on to become events: a bad row fails the replay or is skipped.

`desk.data.checks` finds the rows that break a rule with vectorised pyarrow
compute; here the session's `data.on_bad` decides what happens to them, and the
error or the data_quality record names them in the file's own terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desk.config import FileSource
from desk.data import checks
from desk.data.checks import (
    BOOK_KINDS,
    MIXED_KINDS,
    NEEDS,
    PRICE_FIELDS,
    REPEATABLE,
    SIZE_FIELDS,
    Duplicates,
    Problem,
)
from desk.data.locator import Locator
from desk.errors import DataError
from desk.figures import counted
from desk.timeutil import iso_ns

Issue = Callable[[int, str | None, str], None]
"""`issue(ts, instrument, message)`: report a skipped problem (journaled as data_quality)."""

_SHOWN = 5
"""Row numbers listed in a failure's message when several rows share its problem."""


@dataclass(slots=True)
class DataStats:
    """What reading a file found: rows read and rows skipped per problem."""

    rows: int = 0
    skipped: int = 0
    problems: Counter[str] = dataclass_field(default_factory=Counter)
    """Rows skipped per rule broken (a row that breaks two is counted under each), so that
    `desk data inspect` can say what a run would skip, in the replay's own words."""
    first_rows: dict[str, tuple[int, str]] = dataclass_field(default_factory=dict)
    """Per rule: (file row counted from 0, `file:row: column: what`) of its earliest row."""


class RowFilter:
    """The rows of each batch of one file that go on to become events.

    Args:
        source: the file's entry in the session (its kind, and whether duplicates are bad).
        on_bad: `fail` on the first bad row, or `skip` bad rows and journal them.
        go_on: ends the error a bad row fails with: how the reader of it can get past.
        locator: names rows and columns in the file's own terms.
        issue: journals a skipped problem.
        stats: counts the rows skipped.
        default_instrument: the instrument of a row that names none.
    """

    def __init__(self, source: FileSource, on_bad: str, go_on: str, locator: Locator,
                 issue: Issue, stats: DataStats, default_instrument: str | None) -> None:
        self.source = source
        self.on_bad = on_bad
        self.go_on = go_on
        self.locator = locator
        self.issue = issue
        self.stats = stats
        self.default_instrument = default_instrument
        self.last_ts: int | None = None
        """The time of the last row kept: time never goes back in a replay."""
        self._duplicates = Duplicates() if source.duplicates == "bad" and source.kind != "book" \
            else None
        self.repeatable: tuple[str, ...] = REPEATABLE
        """Kinds whose identical rows are not duplicates; trades join them when nothing in the file
        tells two trades apart (no column beyond desk's fields, such as a trade id): one order
        filling several resting orders of one size at one price prints identical trades."""

    def screen(self, batch: pa.RecordBatch, ts: pa.Array, cols: dict[str, pa.Array],
               first_row: int, found: list[Problem]) -> tuple[pa.Array, dict[str, pa.Array],
                                                               pa.Array]:
        """The batch's rows that pass, as (timestamps, columns, file rows counted from 0).

        Raises for the earliest bad row when `on_bad` is `fail`; `found` holds the problems
        met reading the columns.
        """
        blank = self._blank_rows(batch)
        problems = self._problems(cols, ts, batch, first_row, found)
        if blank is not None:
            keep = pc.invert(blank)
            problems = [p for p in problems if pc.any(p.mask.filter(keep)).as_py()]
            for problem in problems:
                problem.mask = pc.and_(problem.mask, keep)
        if problems and self.on_bad == "fail":
            self._fail(problems, first_row, batch.num_rows)
        rows = checks.arrow_of(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64))
        if problems or blank is not None:
            ts, cols, rows = self._skip(problems, blank, ts, cols, rows)
        if self.on_bad == "skip" and len(ts):
            ts, cols, rows = self._skip_late(ts, cols, rows)
        if len(ts):
            self.last_ts = ts[len(ts) - 1].as_py()
        return ts, cols, rows

    def _problems(self, cols: dict[str, pa.Array], ts: pa.Array, raw: pa.RecordBatch,
                  first_row: int, found: list[Problem]) -> list[Problem]:
        """Every rule some rows of this batch break (added to `found`, from reading the columns)."""
        kind = self.source.kind
        row_kinds = cols.get("kind")
        flag = partial(checks.found, found)
        # a value that did not read (text in a number column) is reported as that, not as missing
        unread = {p.field: pc.invert(p.mask) for p in found}

        def missing(field: str, mask: pa.Array) -> pa.Array:
            return pc.and_(mask, unread[field]) if field in unread else mask

        flag("ts", "missing timestamp", missing("ts", pc.is_null(ts)))
        if self.on_bad == "fail":  # skipping measures order against the rows it keeps
            late, latest = checks.out_of_order(ts, self.last_ts)
            flag("ts", "earlier than a row before it (out of order)", late, _earlier(ts, latest))
        # values a row's kind needs
        if row_kinds is None:
            for field in NEEDS[kind]:
                flag(field, "missing value", missing(field, pc.is_null(cols[field])))
            compare = kind not in self.repeatable
            unrepeatable = None  # every row, when compared at all
            check_side, book_rows = kind == "book", None
        else:
            kinds = checks.Coded(row_kinds)
            flag("kind", "missing kind", pc.is_null(row_kinds))
            present = kinds.present()
            unknown = [k for k in present if k not in MIXED_KINDS]
            if unknown:
                flag("kind", "unknown kind", kinds.mask(unknown.__contains__),
                     lambda i: f"{row_kinds[i].as_py()!r} (kinds: {', '.join(MIXED_KINDS)})")
            for name in present:
                if name in unknown:
                    continue
                of_kind = kinds.mask(name.__eq__)
                for field in NEEDS[name]:
                    if field not in cols:
                        row = first_row + int(pc.index(of_kind, True).as_py())
                        raise DataError(f"{self.locator.locate(row)}: "
                                        f"{self.locator.column(field)}: a {name} row "
                                        f"needs this column, and the file has none (it has: "
                                        f"{', '.join(raw.schema.names)})")
                    flag(field, "missing value", missing(field, pc.and_(of_kind,
                                                                        pc.is_null(cols[field]))),
                         checks.saying(f"a {name} row needs it"))
            compare = True
            repeatable = self.repeatable
            unrepeatable = kinds.mask(lambda k: k not in repeatable, missing=True)
            books = kinds.rows(BOOK_KINDS.__contains__)
            book_rows = checks.arrow_of(books)
            check_side = bool(books.any())
        if "instrument" in cols:
            blank = checks.Coded(cols["instrument"]).rows(lambda s: not s.strip(), missing=True)
            if row_kinds is not None:  # a risk_limit row names no instrument
                blank &= kinds.rows("risk_limit".__ne__)
            flag("instrument", "missing instrument", checks.arrow_of(blank))
        # values that are there but wrong
        for field in PRICE_FIELDS:
            if field in cols:
                values = cols[field]
                flag(field, "not a positive finite price", pc.invert(
                    pc.and_(pc.is_finite(values), pc.greater(values, 0))),
                     checks.value_of(values))
        for field in SIZE_FIELDS:
            if field in cols:
                values = cols[field]
                flag(field, "negative or not finite size", pc.invert(
                    pc.and_(pc.is_finite(values), pc.greater_equal(values, 0))),
                     checks.value_of(values))
        if "bid" in cols and "ask" in cols:
            bid, ask = cols["bid"], cols["ask"]
            flag("bid", "crossed quote: bid above ask", pc.greater(bid, ask),
                 lambda i: f"{bid[i].as_py()!r} > {ask[i].as_py()!r}")
        if "high" in cols and "low" in cols and cols["high"].null_count < len(cols["high"]):
            high, low = cols["high"], cols["low"]
            flag("high", "bar high below its low", pc.less(high, low),
                 lambda i: f"{high[i].as_py()!r} < {low[i].as_py()!r}")
            for field in ("open", "close"):
                if field in cols:
                    value = cols[field]
                    flag(field, f"bar {field} outside its low–high range",
                         checks.bar_outside(value, high, low), _beyond(value, high, low))
        if "side" in cols and check_side:
            side = cols["side"]
            unknown_side = pc.and_(pc.is_valid(side), pc.invert(checks.side_known(side)))
            if book_rows is not None:
                unknown_side = pc.and_(book_rows, unknown_side)
            flag("side", "a book level's side must be bid or ask", unknown_side,
                 checks.value_of(side))
        if self._duplicates is not None and compare:
            self._duplicates.find(raw, ts, unrepeatable, first_row, self.locator.row_word, found)
        return found

    def _blank_rows(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Rows of a CSV with no value at all (blank lines): dropped without a word."""
        if self.locator.format != "csv":
            return None
        blank = pc.is_null(batch.column(0))
        for column in batch.columns[1:]:
            blank = pc.and_(blank, pc.is_null(column))
        return blank if pc.any(blank).as_py() else None

    def _fail(self, problems: list[Problem], first_row: int, batch_size: int) -> None:
        """Raise for the earliest bad row: `file:row: column: what is wrong`, and how many share it
        in this batch (the rest of the file is not read to count them)."""
        problem = min(problems, key=lambda p: p.first)
        index = problem.first
        count = problem.count
        also = ""
        if count > 1:
            rows = pc.indices_nonzero(problem.mask).slice(0, _SHOWN).to_pylist()
            more = " …" if count > _SHOWN else ""
            also = (f" ({count:,} of this batch's {batch_size:,} rows share it: "
                    f"{self.locator.rows_named([first_row + r for r in rows])}{more})")
        hint = f" (or {problem.hint})" if problem.hint else ""
        raise DataError(f"{self.locator.locate(first_row + index)}: "
                        f"{self.locator.column(problem.field)}: "
                        f"{problem.about(index)}{also}; {self.go_on}{hint}")

    def _skip(self, problems: list[Problem], blank: pa.Array | None, ts: pa.Array,
              cols: dict[str, pa.Array], rows: pa.Array) -> tuple[pa.Array, dict[str, pa.Array],
                                                                   pa.Array]:
        """Drop the bad rows (and blank lines), journaling one data_quality record per problem."""
        bad = blank
        for problem in problems:
            bad = problem.mask if bad is None else pc.or_(bad, problem.mask)
        assert bad is not None
        keep = pc.invert(bad)
        kept_ts = ts.filter(keep)
        when = kept_ts[0].as_py() if len(kept_ts) else (self.last_ts or 0)
        for problem in sorted(problems, key=lambda p: p.first):
            self._journal_skip(problem, when, cols, rows)
        blanks = int(pc.sum(pc.cast(blank, pa.int64())).as_py() or 0) if blank is not None else 0
        self.stats.skipped += len(ts) - len(kept_ts) - blanks
        return kept_ts, {k: v.filter(keep) for k, v in cols.items()}, rows.filter(keep)

    def _journal_skip(self, problem: Problem, when: int, cols: dict[str, pa.Array],
                      rows: pa.Array) -> None:
        index = problem.first
        row = rows[index].as_py()
        self.stats.problems[problem.what] += problem.count
        first = self.stats.first_rows.get(problem.what)
        if first is None or row < first[0]:
            self.stats.first_rows[problem.what] = (row, f"{self.locator.locate(row)}: "
                                                        f"{self.locator.column(problem.field)}: "
                                                        f"{problem.about(index)}")
        symbol = self.default_instrument
        if "instrument" in cols and cols["instrument"][index].is_valid:
            symbol = str(cols["instrument"][index].as_py()) or symbol
        self.issue(when, symbol, f"{self.locator.locate(row, short=True)}: "
                   f"{self.locator.column(problem.field)}: {problem.about(index)}: "
                   f"{counted(problem.count, 'row')} skipped")

    def _skip_late(self, ts: pa.Array, cols: dict[str, pa.Array],
                   rows: pa.Array) -> tuple[pa.Array, dict[str, pa.Array], pa.Array]:
        """Drop rows earlier than a kept row before them: time never goes back in a replay."""
        late, latest = checks.out_of_order(ts, self.last_ts)
        if not pc.any(late).as_py():
            return ts, cols, rows
        problem = Problem("ts", "earlier than a row before it (out of order)", late,
                          _earlier(ts, latest))
        keep = pc.invert(late)
        kept = ts.filter(keep)
        when = kept[0].as_py() if len(kept) else (self.last_ts or 0)
        self._journal_skip(problem, when, cols, rows)
        self.stats.skipped += problem.count
        return kept, {k: v.filter(keep) for k, v in cols.items()}, rows.filter(keep)


def _earlier(ts: pa.Array, latest: pa.Array) -> Callable[[int], str]:
    """A late row's detail: its time and the later one before it, as times a person reads (to
    the nanosecond, UTC), not raw epoch nanoseconds."""
    return lambda i: f"{iso_ns(ts[i].as_py())} < {iso_ns(latest[i].as_py())}"


def _beyond(value: pa.Array, high: pa.Array, low: pa.Array) -> Callable[[int], str]:
    """A bad bar's detail: its open or close, and the range it should lie in."""
    return lambda i: f"{value[i].as_py()!r} not within {low[i].as_py()!r}–{high[i].as_py()!r}"
