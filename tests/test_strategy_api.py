"""The strategy API: loading by entry point or module:Class, typed parameters, a narrow context."""

from __future__ import annotations

import pytest

from conftest import make_session, run_engine
from desk.errors import StrategyError
from desk.strategy import Context, Strategy, find_strategy, make_params
from strategies.momentum import Momentum


def test_momentum_is_found_by_its_entry_point_name_and_by_module_path() -> None:
    assert find_strategy("momentum") is Momentum
    assert find_strategy("strategies.momentum:Momentum") is Momentum


def test_unknown_strategy_names_what_is_installed() -> None:
    with pytest.raises(StrategyError, match="unknown strategy 'nope'.*momentum"):
        find_strategy("nope")
    with pytest.raises(StrategyError, match="has no 'Nope'"):
        find_strategy("strategies.momentum:Nope")
    with pytest.raises(StrategyError, match="not a subclass"):
        find_strategy("desk.errors:DeskError")


def test_parameters_are_checked_by_the_strategys_own_model() -> None:
    with pytest.raises(StrategyError) as caught:
        make_params(Momentum, {"lookback": 0, "sise": 5}, "s.toml")
    lines = str(caught.value).splitlines()
    assert "s.toml: strategy.params.lookback: Input should be greater than or equal to 1" in lines
    assert "s.toml: strategy.params.sise: Extra inputs are not permitted" in lines


def test_context_offers_views_and_intent_only() -> None:
    public = {name for name in dir(Context) if not name.startswith("_")}
    assert public == {"cancel", "market", "now", "open_orders", "order", "portfolio", "target"}
    assert not any(hasattr(Strategy, name) for name in ("risk", "execution", "engine"))


def test_momentum_signal_reason_states_momentum_against_threshold() -> None:
    engine = run_engine(make_session())
    reasons = [r[6] for r in engine.journal.tail if r[2] == "signal"]
    assert reasons, "the test market should make momentum fire"
    assert all("momentum" in why and "threshold" in why and "target" in why for why in reasons)
