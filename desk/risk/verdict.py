"""The sentence a risk decision is journaled with: the blocking rules first, then the passed
ones."""

from __future__ import annotations

from desk.orders import RiskDecision, RuleResult


def decision_why(decision: RiskDecision) -> str:
    """Why an intent was allowed or blocked, in one line a person reads without the code.

    Blocked: "blocked by max_leverage: 2.31 > 2.00 (gross 231,000 / equity 100,000);
    passed max_position 300/500, cash 41,200 free, drawdown 3.1% < 10%".
    Every enabled rule appears, because every enabled rule was evaluated.
    """
    return verdicts_why(decision.results, decision.mode)


def verdicts_why(results: tuple[RuleResult, ...], mode: str) -> str:
    """`decision_why` from the verdicts and the mode alone (what the journal's writer receives)."""
    failed = [r for r in results if not r.passed]
    passed = [r for r in results if r.passed]
    if not results:
        return "allowed: every rule is switched off"
    compact = ", ".join(r.message for r in passed)
    if not failed:
        return f"allowed: passed {compact}"
    why = "blocked by " + "; ".join(_blocked(r) for r in failed)
    if mode != "ACTIVE" and not any(r.rule == "max_drawdown" for r in failed):
        why += f" (mode {mode})"
    return why + (f"; passed {compact}" if passed else "")


def _blocked(result: RuleResult) -> str:
    return f"{result.rule}: {result.message}"
