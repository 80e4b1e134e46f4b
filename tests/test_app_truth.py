"""What the desk says stays true as the replay moves on: no explanation, limit or field left
showing something that no longer holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import make_app, pane_row, seek_decision, shown

from desk.config import OperatorAction


async def test_the_decision_bar_does_not_outlive_a_newer_decision_reached_by_steps(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(120, 40)) as pilot:
        await seek_decision(pilot, app, 1)
        first = app.last_snapshot.decision
        assert first is not None and f"#{first.seq}" in shown(app.query_one("#decision"))
        while engine.journal.counts.get("risk", 0) < 2:   # step by step to the next decision
            app.runner.step()
        await pilot.press("n")                              # and one step more, by the key
        await pilot.pause(0.1)
        bar = app.query_one("#decision")
        assert not bar.display or f"#{first.seq} " not in shown(bar), shown(bar)


async def test_a_decision_the_logs_filter_hides_is_not_said_to_be_in_the_log(
        tmp_path: Path) -> None:
    # with the log filtered to fills, `d` stops at a risk decision the log does not show: the
    # bar must not send the person to its row (enter would explain whatever row is selected)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"kind:fill", "enter")
        await seek_decision(pilot, app, 1)
        bar = shown(app.query_one("#decision"))
        assert "enter on it in the log" not in bar, bar
        assert "filter hides it" in bar
        seq = app.last_snapshot.decision.seq
        await pilot.press("slash")                            # the filter emptied: it is there,
        app.query_one("#audit-filter").value = ""             # and the bar says so at once
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert "enter on it in the log" in shown(app.query_one("#decision"))
        assert app.query_one("#audit").selected_seq() == seq
        await pilot.press("slash", *"kind:fill", "enter")     # hidden again
        await pilot.pause(0.05)
        assert "filter hides it" in shown(app.query_one("#decision"))
        await pilot.press("slash")                            # a new decision, no filter
        app.query_one("#audit-filter").value = ""
        await pilot.press("enter")
        await seek_decision(pilot, app, 2)
        assert "enter on it in the log" in shown(app.query_one("#decision"))


async def test_a_limit_refused_or_left_unapplied_does_not_stay_in_its_field(
        tmp_path: Path) -> None:
    from app_helpers import open_rules

    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(100, 40)) as pilot:
        await open_rules(pilot, app)
        tolerance = app.screen.query_one("#limit-max_drawdown-tolerance")
        before = tolerance.value
        tolerance.focus()
        tolerance.value = "2"                         # not a fraction: the engine refuses it
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert tolerance.value == before              # the limit in force, not the refused one
        tolerance.value = "abc"
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert tolerance.value == before
        size = app.screen.query_one("#limit-max_order_size-max_qty")
        size.focus()
        size.value = "50"
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert size.value == "50"                     # taken: it stays
        size.value = "7"                              # typed, then left without enter
        await pilot.press("tab")
        await pilot.pause(0.05)
        assert size.value == "50"
        told = [n for n in app._notifications if "not applied" in n.message]
        assert len(told) == 1 and "'7'" in told[0].message
        assert [(a.param, a.value) for a in engine.commands] == [("max_qty", 50.0)]
        await pilot.press("escape")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_a_rule_whose_limit_changed_after_its_verdict_shows_no_room_under_the_old_limit(
        tmp_path: Path, size: tuple[int, int]) -> None:
    # max_order_size judged an order of 100 against 1,000 (room 900); then its limit became 50:
    # until the next decision the pane must not go on saying 100/1,000 room 900
    app = make_app(tmp_path, risk={"max_order_size": {"max_qty": 1_000}})
    engine = app.runner.engine
    async with app.run_test(size=size) as pilot:
        await seek_decision(pilot, app, 1)
        row = pane_row(app, "#risk", "max_order_size")
        assert "1,000" in row and "900" in row
        app.runner.command(OperatorAction(seq=0, action="set", rule="max_order_size",
                                          param="max_qty", value=50))
        await pilot.press("n")                            # applied before this event
        await pilot.pause(0.05)
        assert engine.journal.counts.get("risk", 0) == 1  # no decision since
        row = pane_row(app, "#risk", "max_order_size")
        assert "900" not in row and "not judged" in row, row
        await seek_decision(pilot, app, 2)                # judged again: figures again
        row = pane_row(app, "#risk", "max_order_size")
        assert "not judged" not in row and "50" in row, row


async def test_the_wide_risk_pane_gives_the_kill_switch_its_words_not_figures(
        tmp_path: Path) -> None:
    # engaged, its verdict carries 1 / 0 / 0: numbers that mean nothing under value, limit and
    # headroom; the row shows dashes there and the state in words, as the narrow pane does
    app = make_app(tmp_path, risk={"kill_switch": {"engaged": True}})
    async with app.run_test(size=(200, 50)) as pilot:
        await seek_decision(pilot, app, 1)
        row = pane_row(app, "#risk", "kill_switch")
        figures = row.split("kill_switch", 1)[1].split()
        assert figures[:4] == ["engaged=yes", "–", "–", "–"], row
        assert "ENGAGED" in " ".join(figures[4:]), row


async def test_a_rule_that_measured_nothing_says_why_instead_of_a_dash_over_its_limit(
        tmp_path: Path) -> None:
    # the price band has nothing to measure on a market order: "–/2" said less than its verdict
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await seek_decision(pilot, app, 1)
        row = pane_row(app, "#risk", "price_band")
        assert "n/a (market" in row and "–/" not in row, row


def test_the_summary_says_why_its_blocks_per_rule_add_up_to_more_than_the_blocks() -> None:
    # one order blocked by kill_switch and order_rate: 1 + 1 rows under 1 block, which read as
    # a miscount unless said (as `desk run`'s summary says it)
    import io
    from dataclasses import replace

    from conftest import make_session
    from rich.console import Console

    from desk.app.summary_screen import summary_table
    from desk.engine import Engine
    from desk.runner import Runner

    def text(blocked: int, blocked_by: dict[str, int]) -> str:
        snap = Runner(Engine(make_session(), None), paused=True).snapshot()
        snap = replace(snap, stats={**snap.stats, "blocked": blocked, "blocked_by": blocked_by})
        console = Console(file=io.StringIO(), width=100, color_system=None)
        console.print(summary_table(snap))
        return console.file.getvalue()  # type: ignore[attr-defined]

    both = text(1, {"kill_switch": 1, "order_rate": 1})
    assert "blocked by kill_switch" in both and "blocked by order_rate" in both
    assert "counts under each" in both
    assert "several rules" not in text(2, {"kill_switch": 1, "order_rate": 1})
