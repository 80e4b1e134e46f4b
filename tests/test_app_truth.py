"""What the desk says stays true as the replay moves on: no explanation, limit or field left
showing something that no longer holds."""

from __future__ import annotations

from pathlib import Path

from app_helpers import make_app, shown, wait_until

from desk.runner import RunState


async def test_the_decision_bar_does_not_outlive_a_newer_decision_reached_by_steps(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    engine = app.runner.engine
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED
                         and engine.journal.counts.get("risk", 0) == 1)
        await pilot.pause(0.1)
        first = app.last_snapshot.decision
        assert first is not None and f"#{first.seq}" in shown(app.query_one("#decision"))
        while engine.journal.counts.get("risk", 0) < 2:   # step by step to the next decision
            app.runner.step()
        await pilot.press("n")                              # and one step more, by the key
        await pilot.pause(0.1)
        bar = app.query_one("#decision")
        assert not bar.display or f"#{first.seq} " not in shown(bar), shown(bar)
