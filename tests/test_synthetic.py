"""The seeded synthetic market: reproducible, an L2 book on every step, trades at the touch."""

from __future__ import annotations

from desk.config import SyntheticSource
from desk.data.synthetic import SyntheticMarket
from desk.events import BookSnapshot, Trade


def _events(seed: int, **overrides: object) -> list[object]:
    config = SyntheticSource(events=3_000, **overrides)  # type: ignore[arg-type]
    market = SyntheticMarket(config, ["ACME", "XYZ"], {"ACME": 0.01, "XYZ": 0.05},
                             {"ACME": 1.0, "XYZ": 10.0}, seed, chunk=500)
    return [event for batch in market.batches() for event in batch]


def test_same_seed_same_events_other_seed_other_events() -> None:
    assert _events(3) == _events(3)
    assert _events(3) != _events(4)


def test_events_are_in_time_order_and_about_as_many_as_asked() -> None:
    events = _events(1)
    stamps = [e.ts for e in events]  # type: ignore[attr-defined]
    assert stamps == sorted(stamps)
    assert 2_700 <= len(events) <= 3_300


def test_every_book_has_five_levels_a_side_on_the_tick_and_never_crosses() -> None:
    for event in _events(2):
        if isinstance(event, BookSnapshot):
            assert len(event.bids) == 5 and len(event.asks) == 5
            assert event.bids[0][0] < event.asks[0][0]
            tick = 0.01 if event.instrument == "ACME" else 0.05
            for price, size in event.bids + event.asks:
                assert abs(price / tick - round(price / tick)) < 1e-6
                assert size > 0


def test_trades_print_at_the_touch_in_whole_lots() -> None:
    book: dict[str, BookSnapshot] = {}
    trades = 0
    for event in _events(5):
        if isinstance(event, BookSnapshot):
            book[event.instrument] = event
        elif isinstance(event, Trade):
            trades += 1
            top = book[event.instrument]
            assert event.price in (top.bids[0][0], top.asks[0][0])
            lot = 1.0 if event.instrument == "ACME" else 10.0
            assert event.size % lot == 0
    assert trades > 500
