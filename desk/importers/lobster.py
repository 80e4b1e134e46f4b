"""LOBSTER message + orderbook files: NASDAQ order events and the book after each one.

Times are seconds after midnight (to the nanosecond) in New York; the date is
in the file name (`GOOG_2012-06-21_34200000_57600000_message_1.csv`). Prices
are dollars times 10000. Executions (types 4, 5) become trades whose aggressor is
the opposite of the resting order's direction; the book file becomes quotes
(level 1) or an L2 snapshot followed by the levels that changed (deeper files).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from itertools import zip_longest
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desk.data.writer import MarketWriter
from desk.errors import DataError
from desk.figures import counted
from desk.importers import ImportOptions
from desk.importers.source import Meter, check_exists, text_lines

_NAME = re.compile(r"(?P<symbol>[A-Za-z0-9.]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_"
                   r"(?P<what>message|orderbook)_(?P<levels>\d+)\.csv$")
_EMPTY = 9_999_999_999
SCALE = 1e-4


Pair = tuple[Path, str | None, str, str | None, re.Match[str]]


def _pairs(sources: list[Path]) -> Iterator[Pair]:
    """(container, message member or path, orderbook member or path, zip?, name match) per day."""
    for path in sources:
        check_exists(path)
        if path.suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
            except (zipfile.BadZipFile, OSError) as error:
                raise DataError(f"{path}: not a readable zip: {error}") from None
            if not any(_NAME.search(name) for name in names):
                raise DataError(f"{path}: no LOBSTER message file in the zip "
                                "(SYMBOL_DATE_START_END_message_LEVELS.csv)")
            for name in names:
                match = _NAME.search(name)
                if match and match["what"] == "message":
                    book = name.replace("_message_", "_orderbook_")
                    if book not in names:
                        raise DataError(f"{path}: {name} has no orderbook file beside it")
                    yield path, name, book, "zip", match
            continue
        match = _NAME.search(path.name)
        if match is None:
            raise DataError(f"{path}: not a LOBSTER file name (SYMBOL_DATE_START_END_"
                            "message_LEVELS.csv): the date comes from the name")
        if match["what"] == "orderbook":
            continue  # read beside its message file
        book_path = path.with_name(path.name.replace("_message_", "_orderbook_"))
        check_exists(book_path)
        yield path, None, str(book_path), None, match


def _seconds_ns(text: str) -> int:
    whole, _, fraction = text.strip().partition(".")
    return int(whole) * 1_000_000_000 + int((fraction + "000000000")[:9])


def run(sources: list[Path], writer: MarketWriter, opts: ImportOptions, meter: Meter) -> None:
    try:
        zone = ZoneInfo(opts.tz or "America/New_York")
    except (ZoneInfoNotFoundError, ValueError):
        raise DataError(f"--tz: unknown time zone {opts.tz!r}") from None
    for path, message_member, book_name, is_zip, match in _pairs(sources):
        try:
            day = datetime.strptime(match["date"], "%Y-%m-%d").replace(tzinfo=zone)
        except ValueError:
            named = f"{path}/{message_member}" if is_zip else str(path)
            raise DataError(f"{named}: the date in the file name, {match['date']!r}, is not a "
                            "date (YYYY-MM-DD)") from None
        midnight = int(day.timestamp()) * 1_000_000_000
        symbol = opts.instrument or match["symbol"]
        levels = int(match["levels"])
        what = "a LOBSTER file"
        if is_zip:
            messages = text_lines(path, meter, message_member, what)
            books = text_lines(path, meter, book_name, what)
            where, book_where = f"{path}/{message_member}", f"{path}/{book_name}"
        else:
            messages = text_lines(path, meter, what=what)
            books = text_lines(Path(book_name), meter, what=what)
            where, book_where = str(path), book_name
        _day(writer, symbol, midnight, levels, messages, books, where, book_where)


def _day(writer: MarketWriter, symbol: str, midnight: int, levels: int,
         messages: Iterator[tuple[int, str]], books: Iterator[tuple[int, str]], where: str,
         book_where: str) -> None:
    previous: tuple[dict[float, float], dict[float, float]] | None = None
    number = 0
    writer.locate = lambda: f"{where}:{number}"
    for pair in zip_longest(messages, books):
        if pair[0] is None or pair[1] is None:
            # a longer file of either kind means the pair does not belong together
            raise DataError(f"{where}: the message and orderbook files have different lengths")
        (number, message), (_, book) = pair
        try:
            m = message.split(",")
            ts = midnight + _seconds_ns(m[0])
            kind, size, price, direction = int(m[1]), float(m[3]), int(m[4]), int(m[5])
        except (IndexError, ValueError):
            raise DataError(f"{where}:{number}: not a LOBSTER message row (time, type, order id, "
                            f"size, price, direction): {message[:60]!r}") from None
        try:
            cells = [int(float(c)) for c in book.split(",")]
        except ValueError:
            raise DataError(f"{book_where}:{number}: not a LOBSTER orderbook row (numbers): "
                            f"{book[:60]!r}") from None
        if len(cells) != 4 * levels:
            raise DataError(f"{book_where}:{number}: the orderbook row has {len(cells)} fields, "
                            f"expected {4 * levels} for {counted(levels, 'level')}")
        if kind in (4, 5):
            writer.trade(ts, symbol, price * SCALE, size, -direction)
        elif kind == 6:
            writer.trade(ts, symbol, price * SCALE, size, 0)
        elif kind == 7:
            writer.problem("trading halt messages (type 7)", f"{where}:{number}")
        asks = {cells[i] * SCALE: float(cells[i + 1]) for i in range(0, len(cells), 4)
                if abs(cells[i]) != _EMPTY and cells[i + 1] > 0}
        bids = {cells[i + 2] * SCALE: float(cells[i + 3]) for i in range(0, len(cells), 4)
                if abs(cells[i + 2]) != _EMPTY and cells[i + 3] > 0}
        if levels == 1:
            if previous is not None and (bids, asks) == previous:
                continue
            previous = (bids, asks)
            if not bids or not asks:
                writer.problem("book rows with an empty side: no quote written",
                               f"{where}:{number}")
                continue
            (bid, bid_size), = bids.items()
            (ask, ask_size), = asks.items()
            writer.quote(ts, symbol, bid, bid_size, ask, ask_size)
            continue
        if previous is None:
            for price_, size_ in bids.items():
                writer.level(ts, symbol, True, 1, price_, size_)
            for price_, size_ in asks.items():
                writer.level(ts, symbol, True, -1, price_, size_)
        else:
            for side, now, before in ((1, bids, previous[0]), (-1, asks, previous[1])):
                for price_ in before.keys() - now.keys():
                    writer.level(ts, symbol, False, side, price_, 0.0)
                for price_, size_ in now.items():
                    if before.get(price_) != size_:
                        writer.level(ts, symbol, False, side, price_, size_)
        previous = (bids, asks)

