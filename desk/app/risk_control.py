"""What the risk keys do: switch a rule, engage or release the kill switch, open the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desk.app.rules_screen import OVER, RulesScreen, rule_switched

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp

KILL_ENGAGED = "every new order is blocked from the next event (k releases it)"
"""Said when `k` engages the kill switch."""
KILL_RELEASED = "from the next event new orders are judged by the rules again (k engages it)"
"""Said when `k` releases it."""


def toggle_rule(app: DeskApp, number: int) -> None:
    """Keys 1–9: queue switching the rule of that number, and say what it will mean."""
    runner = app.runner
    rules = runner.engine.risk.rules
    if not 1 <= number <= len(rules):
        app.notify(f"there is no rule {number} (rules 1–{len(rules)})", severity="warning")
        return
    name = rules[number - 1].name
    enabled = runner.toggle_rule(name)
    if enabled is None:
        app.notify(OVER, title="nothing changed", severity="warning")
        return
    app.notify(**rule_switched(name, enabled))
    app.refresh_snapshot(now=True)


def toggle_kill(app: DeskApp) -> None:
    """`k`: queue engaging the kill switch, or releasing it when it is (or will be) engaged."""
    engaged = app.runner.toggle_kill()
    if engaged is None:
        app.notify(OVER, title="nothing changed", severity="warning")
        return
    if engaged:
        app.notify(KILL_ENGAGED, title="KILL SWITCH ENGAGED", severity="error", timeout=6)
    else:
        app.notify(KILL_RELEASED, title="kill switch released")
    app.refresh_snapshot(now=True)


def open_rules(app: DeskApp) -> None:
    """`r`: the rules screen, showing the switches as the keys queued so far left them."""
    app.refresh_snapshot(now=True)
    if app.last_snapshot is not None:
        app.push_screen(RulesScreen(app.last_snapshot.rules, app.runner.command,
                                    over=app.runner.done, refusal=app.runner.limit_refusal))
