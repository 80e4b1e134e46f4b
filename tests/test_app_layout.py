"""The desk fits the terminal at 80×24 and at 200×50: nothing overlaps, wraps, or runs off."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import (
    assert_rows_as_painted,
    make_app,
    open_rules,
    screen_text,
    session_app,
    shown,
    wait_until,
)

from desk.app.audit_log import KIND_WIDTH
from desk.runner import RunState

SIZES = [(80, 24), (200, 50)]
PANES = ("#header", "#book", "#risk", "#pnl", "#positions")


@pytest.mark.parametrize("size", SIZES)
async def test_d_shows_the_decision_without_pushing_the_screen_past_the_terminal(
        tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.pause(0.1)
        bar = app.query_one("#decision")
        assert bar.display and bar.region.height >= 3
        screen = app.screen
        assert screen.virtual_size.height <= size[1], "the screen scrolls: something overflows"
        regions = [app.query_one(p).region for p in (*PANES, "#audit", "#decision", "Footer")]
        for i, first in enumerate(regions):
            assert first.right <= size[0] and first.bottom <= size[1]
            for second in regions[i + 1:]:
                assert not first.overlaps(second), (first, second)
        assert app.query_one("Footer").region.bottom == size[1]
        # the verdict and at least the start of the explanation are on the terminal
        decision = app.runner.snapshot().decision
        rows = screen_text(app)
        assert any(f"#{decision.seq}" in row for row in rows)
        assert any(decision.why[:30] in row for row in rows)
        assert_rows_as_painted(app, bar)


@pytest.mark.parametrize("size", SIZES)
async def test_no_pane_line_wraps_or_runs_past_its_pane_on_the_risk_tour(
        tmp_path: Path, size: tuple[int, int]) -> None:
    app = session_app(tmp_path, "risk_tour")
    engine = app.runner.engine
    async with app.run_test(size=size) as pilot:
        # through every decision of the tour, into REDUCING (long verdicts, blocks, two books)
        while engine.risk.mode == "ACTIVE":
            await pilot.press("d")
            await wait_until(pilot, lambda: app.runner.state is not RunState.SEEKING,
                             tries=2_000)
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is not RunState.SEEKING, tries=2_000)
        await pilot.pause(0.1)
        assert engine.risk.mode == "REDUCING"
        assert app.query_one("#risk").border_title == "risk · REDUCING"
        for pane in (*PANES, "#decision"):
            widget = app.query_one(pane)
            if widget.display:
                assert_rows_as_painted(app, widget)
        rules = len(engine.risk.rules)
        risk_rows = shown(app.query_one("#risk")).splitlines()
        # each rule on its own row, in order: a wrapped row would push the next one down
        numbered = [row for row in risk_rows if row[:2].strip().isdigit()]
        assert [int(row.split()[0]) for row in numbered] == list(range(1, rules + 1))


async def test_the_risk_limits_column_takes_the_room_of_a_wide_pane(tmp_path: Path) -> None:
    app = session_app(tmp_path, "demo")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.1)
        risk = shown(app.query_one("#risk"))
        # 42 characters: cut at 34 before, although the pane is 150 wide
        assert "tolerance=0.05 halt=0.1 resume_below=0.02" in risk


async def test_the_log_shows_whole_kinds_and_cuts_the_why_with_an_ellipsis(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   strategy={"use": "app_helpers:Faulty", "max_faults": 2, "params": {}})
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.press("escape")
        await pilot.press("slash", *"kind:strategy_stopped,strategy_error,risk", "enter")
        await pilot.pause(0.1)
        log = app.query_one("#audit").log_view
        lines = [line for line in log.lines() if line.strip()]
        stopped = [line for line in lines if " strategy_stopped " in line]
        assert len(stopped) == 1 and len("strategy_stopped") == KIND_WIDTH
        cut = [line for line in lines if "…" in line]
        assert cut, "long risk verdicts are cut with an ellipsis"
        for line in cut:
            assert len(line) == log.size.width       # cut at the edge (the last cell is the thumb)
            assert line.rstrip(" ▐").endswith("…")


async def test_help_at_80_by_24_shows_every_key_on_the_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        rows = screen_text(app)
        text = "\n".join(rows)
        for key in ("space", "n/→", "d ", "1…9", "r ", "i ", "/", "s ", "q ", "?", "enter",
                    "ctrl+p", "→"):
            assert key in text, key
        assert sum("switch risk rule" in row for row in rows) == 1   # one row for 1…9


async def test_the_summary_title_fits_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path, paused=False, replay={"speed": "max"},
                   data={"synthetic": {"events": 600}})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.runner.state is RunState.FINISHED, tries=2_000)
        await pilot.pause(0.1)
        text = "\n".join(screen_text(app))
        assert "replay over · test" in text and "escape: back to the desk" in text


async def test_the_logs_column_header_follows_the_terminal_as_it_is_resized(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.audit.log_view
        await pilot.pause(0.05)
        assert log.lines()[0].split()[0] != "seq"     # 24 rows: no room for it
        for size, header in (((200, 50), True), ((80, 24), False), ((160, 45), True)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
            assert (log.lines()[0].split()[:2] == ["seq", "time"]) is header, size


async def test_at_100_columns_the_footer_shows_every_key_through_quit(tmp_path: Path) -> None:
    from textual.widgets._footer import FooterKey

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.query(FooterKey)
                         and all(key.region.width for key in app.query(FooterKey)))
        keys = {key.key: key.region for key in app.query(FooterKey)}
        palette = min(region.x for key, region in keys.items() if key == "ctrl+p")
        for key in ("space", "n", "d", "k", "plus", "r", "slash", "s", "question_mark", "q"):
            assert key in keys and keys[key].width > 0, key
            assert keys[key].right <= palette, (key, keys[key])


async def test_at_100_columns_the_pnl_pane_shows_leverage_beside_the_drawdown(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        pane = app.query_one("#pnl")
        lines = shown(pane).splitlines()
        row = next(line for line in lines if "(max " in line)
        assert row.split()[-2:] == ["leverage", "0.00"], row
        assert all(len(line) <= pane.size.width for line in lines)


async def test_a_long_instrument_name_is_cut_with_an_ellipsis_in_the_positions(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, instruments=[{"symbol": "BTCUSDT-PERPETUAL-X", "tick_size": 0.01,
                                           "lot_size": 1}],
                   strategy={"use": "momentum", "params": {"instrument": None}})
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.runner.engine.stats.fills:
            assert app.runner.step()
        app.refresh_snapshot(now=True)
        await pilot.pause(0.1)
        pane = app.query_one("#positions")
        row = next(line for line in shown(pane).splitlines() if line.startswith("BTCUSDT"))
        name = row.split()[0]
        assert name.endswith("…") and "BTCUSDT-PERPETUAL-X".startswith(name[:-1]), row


async def test_the_header_fits_itself_again_when_the_terminal_is_resized_while_paused(
        tmp_path: Path) -> None:
    # paused, no new snapshot comes: the header must still redo its line for the new width,
    # neither staying in its short form on a wide screen nor cut on a narrow one
    app = make_app(tmp_path)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.1)
        header = app.query_one("#header")
        assert not shown(header).startswith("desk · ")     # 60 columns: the short form
        await pilot.resize_terminal(200, 50)
        await pilot.pause(0.1)
        assert shown(header).startswith("desk · test")
        assert "1 event · " in shown(header)  # the full form counts the events
        await pilot.resize_terminal(60, 24)
        await pilot.pause(0.1)
        assert shown(header).rstrip().endswith("ACTIVE"), shown(header)


@pytest.mark.parametrize("size", [(80, 20), (100, 18), (60, 16), (80, 12)])
async def test_a_terminal_shorter_than_24_rows_shrinks_the_panes_instead_of_scrolling(
        tmp_path: Path, size: tuple[int, int]) -> None:
    # below 24 rows the desk used to scroll to its bottom: the risk pane's title (the mode)
    # and its first rules went off the top, out of reach of any key
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.pause(0.1)
        screen = app.screen
        assert screen.virtual_size.height <= size[1], "the screen scrolls: something overflows"
        assert screen.scroll_y == 0
        regions = [app.query_one(p).region for p in (*PANES, "#audit", "#decision", "Footer")]
        for i, first in enumerate(regions):
            assert first.height > 0 and first.bottom <= size[1], (i, first)
            for second in regions[i + 1:]:
                assert not first.overlaps(second), (first, second)
        rows = screen_text(app)
        assert any("risk · ACTIVE" in row for row in rows)
        assert any("1 ●on  kill_switch" in row for row in rows)
        decision = app.runner.snapshot().decision
        assert any(f"#{decision.seq}" in row for row in rows)


@pytest.mark.parametrize("size", [(80, 9), (60, 7)])
async def test_a_terminal_too_short_for_every_pane_keeps_the_risk_pane_at_the_top(
        tmp_path: Path, size: tuple[int, int]) -> None:
    # below 13 rows the panes' least heights did not fit: the screen scrolled to its bottom
    # and the header, the risk pane's title and its first rules went off the top
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED)
        await pilot.pause(0.1)
        assert app.screen.scroll_y == 0
        rows = screen_text(app)
        assert "PAUSED" in rows[0]
        assert "risk · ACTIVE" in rows[1]
        assert "1 ●on  kill_switch" in rows[2]
        assert "palette" in rows[-1]


@pytest.mark.parametrize("width", [60, 76, 84])
async def test_nothing_shows_past_the_palette_at_the_footers_right_edge(
        tmp_path: Path, width: int) -> None:
    # where the keys ran under the docked "^p palette", one of their letters showed in the
    # last column: "palettel"
    app = make_app(tmp_path)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: "palette" in screen_text(app)[-1])
        footer = screen_text(app)[-1]
        assert footer.rstrip().endswith("▏^p palette"), footer


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_every_limit_field_of_the_rules_screen_is_within_its_box(
        tmp_path: Path, size: tuple[int, int]) -> None:
    # side by side, the third limit of max_drawdown ran past the box at 80 columns, and the
    # second limit of three more rules at 60: out of sight, yet Tab still reached them
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await open_rules(pilot, app)
        await pilot.pause(0.1)
        box = app.screen.query_one("#box").content_region
        for field in app.screen.query("Input"):
            assert box.x <= field.region.x and field.region.right <= box.right, field.id
