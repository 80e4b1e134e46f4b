"""The panes show the figures the engine holds, at 80×24 and at 200×50."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import make_app, pane_row, seek_decision, shown, wait_until

from desk.app.audit_log import MAX_ROWS
from desk.runner import RunState


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_panes_show_the_figures_the_engine_holds(tmp_path: Path,
                                                       size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=size) as pilot:
        for _ in range(3):   # through a few decisions, so there are fills and a position
            await pilot.press("d")
            await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        while engine.stats.fills == 0 or engine.portfolio.positions["ACME"].qty == 0:
            await pilot.press("n")
        await pilot.pause(0.1)
        p = engine.portfolio
        pnl = shown(app.query_one("#pnl"))
        assert f"{p.equity:,.2f}" in pnl
        assert f"{p.drawdown:.2%}" in pnl
        positions = shown(app.query_one("#positions"))
        qty = p.positions["ACME"].qty
        assert f"{qty:+,.0f}" in positions
        assert f"{p.positions['ACME'].avg_cost:,.2f}" in positions
        book = shown(app.query_one("#book"))
        state = engine.market.states["ACME"]
        assert f"{state.bid:.2f}" in book and f"{state.ask:.2f}" in book
        risk = shown(app.query_one("#risk"))
        for rule in engine.risk.rules:
            assert rule.name in risk
        header = shown(app.query_one("#header"))
        assert "PAUSED" in header and f"{engine.stats.events:,}" in header
        for pane in ("#book", "#risk", "#pnl", "#positions", "#audit"):
            region = app.query_one(pane).region
            assert region.width > 0 and region.height > 0
            assert region.right <= size[0] and region.bottom <= size[1]


async def test_panes_do_not_overlap_at_80_by_24(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.05)
        regions = [app.query_one(p).region for p in
                   ("#header", "#book", "#risk", "#pnl", "#positions", "#audit")]
        for i, first in enumerate(regions):
            for second in regions[i + 1:]:
                assert not first.overlaps(second), (first, second)
        assert app.query_one("#audit").region.height >= 4


async def test_enter_on_a_log_row_opens_its_causal_chain(tmp_path: Path) -> None:
    from desk.app.chain_screen import ChainScreen

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.pause(0.1)
        seq = app.query_one("#audit").selected_seq()
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert isinstance(app.screen, ChainScreen)
        text = shown(app.screen.query_one("#chain"))
        for kind in ("market", "signal", "intent", "risk"):
            assert kind in text
        assert f"▶ #{seq}" in text


async def test_slash_filters_the_log_by_kind(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):
            await pilot.press("d")
            await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.pause(0.1)
        await pilot.press("slash")
        await pilot.press(*"kind:risk", "enter")
        log = app.query_one("#audit").log_view
        kinds = [record[2] for record in log.rows]
        assert kinds and set(kinds) == {"risk"}
        rows = [line.split() for line in log.lines()[1:] if line.strip()]  # under the header
        assert log.show_header and rows and all(row[2] in ("risk", "BLOCKED") for row in rows)
        await pilot.press("n")   # keys reach the desk again once the filter is applied
        assert app.runner.engine.stats.events > 0
        await pilot.press("slash", "end", *["backspace"] * 9, *"nothing like this", "enter")
        assert log.rows == []
        told = [n.message for n in app._notifications if n.title == "filter"]
        assert told and told[-1].startswith("no row matches 'nothing like this' yet")


async def test_the_book_shows_prices_and_sizes_with_the_instruments_decimals(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, instruments=[{"symbol": "ACME", "tick_size": 0.001,
                                           "lot_size": 0.01}],
                   data={"synthetic": {"events": 4_000, "step_ms": 100, "level_size": 3.0}})
    engine = app.runner.engine
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", "n", "n")
        await pilot.pause(0.05)
        book = shown(app.query_one("#book"))
        state = engine.market.states["ACME"]
        assert f"{state.bid:,.3f}" in book and f"{state.ask:,.3f}" in book
        bid_size = next(size for price, size in state.book.bid_levels() if price == state.bid)
        assert f"{bid_size:,.2f}" in book     # 1.37 lots, not "1"


async def test_the_log_shows_the_date_on_the_first_row_of_a_new_day(tmp_path: Path) -> None:
    from desk.timeutil import format_ns

    # a run of about four and a half minutes from 23:58:30: the day changes in it
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"start": "2024-01-02T23:58:30Z"}})
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape")
        await pilot.pause(0.1)
        log = app.query_one("#audit").log_view
        days = {format_ns(record[1])[:10] for record in log.rows}
        assert days == {"2024-01-02", "2024-01-03"}, "the log spans midnight"
        starts = [i for i in range(1, log.row_count)
                  if format_ns(log.rows[i][1])[:10] != format_ns(log.rows[i - 1][1])[:10]]
        assert len(starts) == 1
        first = log.rows[starts[0]]
        for index in (starts[0] - 1, starts[0]):  # drawn plain below the cursor, then under it
            await pilot.press("end")
            assert log.select_seq(log.rows[index][0])
            await pilot.pause(0.05)
            lines = [line for line in log.lines() if line.strip()]
            dated = [line for line in lines if "2024-01-0" in line]
            assert len(dated) == 1, lines
            seq, time, _kind, date = dated[0].split()[:4]
            assert (int(seq), date) == (first[0], "2024-01-03")
            assert time == format_ns(first[1])[11:23] and time.startswith("00:00:")
        # the log's first row shows its date too
        await pilot.press("home")
        await pilot.pause(0.05)
        top = next(line for line in log.lines() if line.strip() and "seq" not in line)
        seq, time, _kind, date = top.split()[:4]
        assert (int(seq), date) == (log.rows[0][0], format_ns(log.rows[0][1])[:10])


async def test_the_row_that_becomes_first_when_older_rows_are_dropped_shows_its_date() -> None:
    from textual.app import App, ComposeResult

    from desk.app.audit_log import AuditLog

    class LogApp(App[None]):
        def compose(self) -> ComposeResult:
            yield AuditLog(id="log")

    start = 1_704_240_000_000_000_000  # 2024-01-03 00:00 UTC
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(AuditLog)
        def add(first: int) -> None:
            log.append([(seq, start + seq * 1_000_000_000, "fill", "ACME", None, None,
                         f"row {seq}", "") for seq in range(first, first + 10)],
                       None)  # type: ignore[arg-type]  # no theme: plain rows
            log.lines()  # drawn as they come, as in a run

        for first in range(0, MAX_ROWS, 10):
            add(first)
        log.action_home()  # the person reads the oldest rows while new ones come
        for _ in range(15):
            log.action_cursor(1)
        await pilot.pause(0.05)
        assert (log.top, log.cursor) == (0, 15)
        log.lines()
        add(MAX_ROWS)
        assert log.rows[0][0] == 10, "older rows were dropped"
        top = next(line for line in log.lines() if line.strip())
        assert top.split()[:4] == ["10", "00:00:10.000", "fill", "2024-01-03"]
        assert log.new_day(1) is None


async def test_an_instrument_with_no_price_shows_dashes_never_a_price_of_0(tmp_path: Path) -> None:
    app = make_app(tmp_path, instruments=[{"symbol": "ACME"}, {"symbol": "BETA"}],
                   data={"synthetic": {"instruments": ["ACME"]}})
    engine = app.runner.engine
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.1)
        assert engine.market.states["ACME"].last == 0  # a book, no trade yet
        row = pane_row(app, "#positions", "BETA").split()
        assert row[:4] == ["BETA", "+0", "–", "–"]  # no average of a flat position, no mark
        assert "last –" in shown(app.query_one("#book"))


async def test_a_market_order_filled_at_the_venue_shows_what_the_desk_still_awaits(
        tmp_path: Path) -> None:
    # the venue has filled it, its fill reports are on their way: not `+0`
    app = make_app(tmp_path, execution={"entry_latency": {"model": "constant", "ms": 20},
                                        "response_latency": {"model": "constant", "ms": 5}})
    execution = app.runner.engine.execution
    async with app.run_test(size=(160, 45)) as pilot:
        await seek_decision(pilot, app, 1)
        order = next(iter(execution.working("ACME")))
        while order.venue_filled == 0:
            await pilot.press("n")
        await pilot.pause(0.1)
        assert order.open_to_desk and order.venue_open == 0
        book = shown(app.query_one("#book"))
        assert f"ours: #{order.order_id} {order.qty:+g} mkt" in book
