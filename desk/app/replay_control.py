"""What the replay keys do: pause, step, seek a decision, change speed, pick the book, save."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desk.errors import DeskError
from desk.figures import counted
from desk.runner import RunState

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp

REPLAY_OVER = "the replay is over: nothing left to play (s saves the session, q quits)"
"""Said when a replay key is pressed after the end."""


def _over(app: DeskApp) -> bool:
    """After the end a replay key has nothing left to act on: say so instead of nothing."""
    if not app.runner.done:
        return False
    app.notify(REPLAY_OVER, severity="warning", timeout=4)
    return True


def toggle_pause(app: DeskApp) -> None:
    """Space: pause, or resume watching the newest log rows."""
    if _over(app):
        return
    app.runner.toggle_pause()
    if app.runner.state is RunState.PLAYING:
        app.audit.follow()  # resuming is watching the newest rows again
    app.refresh_snapshot(now=True)


def step_one(app: DeskApp) -> None:
    """`n`: exactly one event, then paused."""
    if _over(app):
        return
    app.runner.step()
    app.refresh_snapshot(now=True)


def seek_decision(app: DeskApp) -> None:
    """`d`: run to the next risk decision (the runner's notice shows it once reached)."""
    if _over(app):
        return
    app.decision.hide()
    app.runner.seek_decision()


def faster(app: DeskApp) -> None:
    """`+`: the next speed up."""
    if _over(app):
        return
    app.runner.faster()
    app.refresh_snapshot(now=True)


def slower(app: DeskApp) -> None:
    """`-`: the next speed down."""
    if _over(app):
        return
    app.runner.slower()
    app.refresh_snapshot(now=True)


def next_instrument(app: DeskApp) -> None:
    """The book: following the action → the first instrument → … → the last → following."""
    runner = app.runner
    builder = runner.builder
    order: list[str | None] = [None, *builder.instruments]
    choice = order[(order.index(builder.pinned) + 1) % len(order)]
    runner.pin_instrument(choice)
    app.notify(f"book: {choice} (i: next)" if choice else
               "book: follows the latest risk decision or fill")
    app.refresh_snapshot(now=True)


def save(app: DeskApp) -> None:
    """`s`: the session with the operator's actions, as a TOML that replays; its path is told."""
    try:
        path = app.runner.save_session()
    except DeskError as error:
        app.notify(str(error), severity="error")
        return
    app.saved.append(path)
    count = len(app.runner.recorded_actions())
    app.notify(f"{path}\nwith {counted(count, 'operator action')}; replay it with "
               f"`desk run {path}`", title="session saved", timeout=8)
