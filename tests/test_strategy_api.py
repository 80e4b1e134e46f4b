"""The strategy API: loading by entry point or module:Class, typed parameters, a narrow context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import make_session, run_engine
from pydantic import BaseModel, field_validator

from desk.audit import read_journal
from desk.engine import Engine
from desk.errors import StrategyError
from desk.strategy import Context, Params, Strategy, find_strategy, make_params, make_strategy
from strategies.momentum import Momentum


def test_momentum_is_found_by_its_entry_point_name_and_by_module_path() -> None:
    assert find_strategy("momentum") is Momentum
    assert find_strategy("strategies.momentum:Momentum") is Momentum


def test_unknown_strategy_names_what_is_installed() -> None:
    with pytest.raises(StrategyError, match=r"unknown strategy 'nope'.*momentum"):
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


def test_a_strategy_module_that_raises_at_import_is_one_line_naming_strategy_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "explodes.py").write_text("x = 1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StrategyError) as caught:
        find_strategy("explodes:Thing", "s.toml")
    assert str(caught.value) == ("s.toml: strategy.use: importing 'explodes' raised "
                                 "ZeroDivisionError: division by zero")
    assert isinstance(caught.value.__cause__, ZeroDivisionError)  # --debug shows where


@pytest.mark.parametrize("use", [":Mine", "mine:", " : "])
def test_a_use_without_its_module_or_its_class_says_which_form_it_takes(use: str) -> None:
    with pytest.raises(StrategyError) as caught:
        find_strategy(use, "s.toml")
    assert str(caught.value) == (f"s.toml: strategy.use: {use!r} is not package.module:Class "
                                 "(one of the two is missing)")


def test_an_unknown_strategy_names_the_key_and_the_file() -> None:
    with pytest.raises(StrategyError, match=r"^s\.toml: strategy\.use: unknown strategy 'x' "):
        find_strategy("x", "s.toml")


class _FailsToStart(Strategy):
    def __init__(self, params: Params, ctx: Context) -> None:
        raise KeyError("lookback")


class _StrictParams(Params):
    size: int = 1

    @field_validator("size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value == 13:
            raise TypeError("unlucky")  # not a ValueError: pydantic lets it through
        return value


class _Strict(Strategy):
    Params = _StrictParams


def test_a_strategy_that_raises_in_init_is_one_line_naming_strategy_use() -> None:
    engine = run_engine(make_session(), strict=False)
    with pytest.raises(StrategyError) as caught:
        make_strategy(_FailsToStart, Params(), engine.strategy.ctx, "s.toml")
    assert str(caught.value) == "s.toml: strategy.use: _FailsToStart.__init__ raised KeyError: " \
        "'lookback'"
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_parameter_model_that_raises_is_one_line_naming_strategy_params() -> None:
    with pytest.raises(StrategyError) as caught:
        make_params(_Strict, {"size": 13}, "s.toml")
    assert str(caught.value) == "s.toml: strategy.params: _Strict.Params raised TypeError: unlucky"


def test_inf_and_nan_are_refused_at_any_depth_of_the_parameters() -> None:
    """The script's steps are a model of its own, not desk's strict `Params`: a nan quantity
    in one of them was taken as it was."""
    from strategies.script import Script

    steps = [{"at": "+1s", "qty": 10.0}, {"at": "+2s", "qty": float("nan"),
                                          "limit_pct": float("-inf")}]
    with pytest.raises(StrategyError) as caught:
        make_params(Script, {"steps": steps}, "s.toml")
    assert str(caught.value).splitlines() == [
        "s.toml: strategy.params.steps[1].qty: Input should be a finite number (not nan)",
        "s.toml: strategy.params.steps[1].limit_pct: Input should be a finite number (not -inf)"]
    with pytest.raises(StrategyError, match=r"^s.toml: strategy.params.threshold: Input should "
                                            r"be a finite number \(not inf\)$"):
        make_params(Momentum, {"threshold": float("inf")}, "s.toml")


_BAD_ASKS = {
    "nan qty": "ValueError: ctx.order: qty nan for ACME is not a finite number",
    "inf target": "ValueError: ctx.target: qty inf for ACME is not a finite number",
    "text qty": "TypeError: ctx.order: qty '5' for ACME is not a number",
    "nan limit": "ValueError: ctx.target: limit nan for ACME is not a finite number",
    "reason 42": "TypeError: ctx.order: reason 42 is not text (a str)",
    "reason None": "TypeError: ctx.target: reason None is not text (a str)",
    "tif FOK": "ValueError: ctx.order: tif 'FOK' is neither 'GTC' nor 'IOC'",
}


@pytest.mark.parametrize("ask", list(_BAD_ASKS))
def test_an_order_no_order_can_be_made_of_is_the_strategys_fault_named_by_its_argument(
        tmp_path: Path, ask: str) -> None:
    """A reason that was not text stopped the journal's writer, and the run lost its journal;
    a nan quantity failed in the lot rounding as `cannot convert float NaN to integer`."""
    session = make_session(strategy={"use": "fault_strategies:AsksBadly",
                                     "params": {"ask": ask}})
    run_engine(session, tmp_path / "journal.arrow")
    records = read_journal(tmp_path / "journal.arrow").to_pylist()
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "session" and kinds[-1] == "end"
    assert not {"signal", "intent", "order"} & set(kinds)
    errors = [r["why"] for r in records if r["kind"] == "strategy_error"]
    assert errors == [f"strategy raised in on_trade: {_BAD_ASKS[ask]} (fault 1 of 3)"]


def test_an_order_from_the_strategys_constructor_stops_the_run_before_it_starts(
        tmp_path: Path) -> None:
    """It was sent at time 0, journaled before the session record, and ended unfilled against
    a market that did not exist yet."""
    session = make_session(strategy={"use": "fault_strategies:OrdersInInit", "params": {}})
    with pytest.raises(StrategyError) as caught:
        Engine(session, tmp_path / "journal.arrow")
    assert str(caught.value) == (
        "session: strategy.use: OrdersInInit.__init__ raised RuntimeError: ctx.target: the "
        "run has not started: send orders from on_start on, not from __init__")
    assert not (tmp_path / "journal.arrow").exists()


def _flattens_at_stop(tmp_path: Path, breaks: bool) -> tuple[Engine, list[dict[str, Any]]]:
    session = make_session(strategy={"use": "fault_strategies:FlattensAtStop",
                                     "params": {"breaks": breaks}})
    engine = run_engine(session, tmp_path / "journal.arrow")
    return engine, read_journal(tmp_path / "journal.arrow").to_pylist()


def test_an_order_sent_from_on_stop_reaches_the_venue_before_the_run_ends(
        tmp_path: Path) -> None:
    """It was journaled as sent and never arrived: the run ended with it in flight, the
    position open, and its signal caused by a market event long past."""
    engine, records = _flattens_at_stop(tmp_path, breaks=False)
    signal = next(r for r in records if r["why"] == "the data is over: go flat")
    assert signal["cause"] is None  # it follows from no market event
    after = [r["kind"] for r in records[records.index(signal):]]
    assert after == ["signal", "intent", "risk", "order", "arrival", "fill", "execution", "end"]
    assert engine.portfolio.positions["ACME"].qty == 0


def test_a_strategy_stopped_by_its_faults_is_not_called_at_the_end(tmp_path: Path) -> None:
    """Its on_stop was called all the same, and its orders were sent after it was stopped."""
    engine, records = _flattens_at_stop(tmp_path, breaks=True)
    stopped = next(i for i, r in enumerate(records) if r["kind"] == "strategy_stopped")
    assert [r["kind"] for r in records[stopped + 1:]] == ["end"]
    assert engine.portfolio.positions["ACME"].qty == 20


class _Loose(BaseModel):
    size: float = 1


class _LooseParams(Strategy):
    Params = _Loose  # type: ignore[assignment]


class _NoModel(Strategy):
    Params = dict  # type: ignore[assignment]


def test_parameters_that_are_not_desks_params_model_are_refused_naming_strategy_use() -> None:
    """A plain pydantic model took unknown parameters without a word (`sise = 5` for `size`),
    and a class that is no model failed as `AttributeError: ... 'model_validate'`."""
    find = f"{__name__}:_LooseParams"
    with pytest.raises(StrategyError) as caught:
        find_strategy(find, "s.toml")
    assert str(caught.value) == ("s.toml: strategy.use: _LooseParams.Params must be a subclass "
                                 "of desk.strategy.Params, not '_Loose'")
    with pytest.raises(StrategyError, match=r"^s\.toml: strategy\.use: _NoModel\.Params must be "
                                            r"a subclass of desk\.strategy\.Params, not 'dict'$"):
        find_strategy(f"{__name__}:_NoModel", "s.toml")
