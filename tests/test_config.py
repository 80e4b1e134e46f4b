"""The session file: every problem reported as `file: key.path: message`, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.config import load_session
from desk.errors import DeskError, SessionError

MINIMAL = '[data.synthetic]\nevents = 10\n[[instruments]]\nsymbol = "ACME"\n'


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SessionError) as caught:
        load_session(path)
    return str(caught.value)


def test_minimal_session_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL)
    loaded = load_session(path)
    assert loaded.config.instruments[0].symbol == "ACME"
    assert loaded.config.strategy.use == "momentum"
    assert loaded.resolve("x.csv") == tmp_path / "x.csv"


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + "[risk.max_leverage]\nlimt = 2\n")
    assert message == (f"{tmp_path / 's.toml'}: risk.max_leverage.limt: "
                       "Extra inputs are not permitted")


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[session]\nseed = "x"\nstart_cash = 0\n')
    lines = message.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith('session.seed: Input should be a valid integer (not "x")')
    assert lines[1].endswith("session.start_cash: Input should be greater than 0")


def test_a_fixed_slippage_of_the_whole_price_or_more_is_refused(tmp_path: Path) -> None:
    # 100% or more would sell at a price of zero or less
    message = _load(tmp_path, MINIMAL + "[execution]\nslippage = { bps = 10_000 }\n")
    assert message == (f"{tmp_path / 's.toml'}: execution.slippage.bps: "
                       "Input should be less than 10000")


@pytest.mark.parametrize(("fees", "message"), [
    ("taker_bps = 10_000", "execution.fees.taker_bps: Input should be less than 10000"),
    ("maker_bps = -10_000", "execution.fees.maker_bps: Input should be greater than -10000"),
    ("maker_bps = 10_000", "execution.fees.maker_bps: Input should be less than 10000"),
])
def test_a_fee_or_rebate_of_the_whole_notional_is_refused(tmp_path: Path, fees: str,
                                                          message: str) -> None:
    written = _load(tmp_path, MINIMAL + f"[execution]\nfees = {{ {fees} }}\n")
    assert written == f"{tmp_path / 's.toml'}: {message}"


@pytest.mark.parametrize(("section", "key", "words"), [
    ('entry_latency = { model = "constant", ms = 100, jitter_ms = 50 }',
     "execution.entry_latency.jitter_ms", "the constant model takes no jitter_ms (it takes: ms)"),
    ('response_latency = { model = "uniform", ms = 1, sigma = 0.8 }',
     "execution.response_latency.sigma", "the uniform model takes no sigma (it takes: ms, "
     "jitter_ms)"),
    ('feed_latency = { model = "empirical", ms = 5, samples_ms = [1, 2] }',
     "execution.feed_latency.ms", "the empirical model takes no ms (it takes: samples_ms)"),
    ("slippage = { bps = 1, k = 2 }", "execution.slippage.k",
     "the fixed model takes no k (it takes: bps)"),
    ("queue_power = 3.0", "execution.queue_power",
     "the conservative queue model takes no queue_power (it takes: nothing more)"),
])
def test_a_key_the_chosen_model_does_not_read_is_refused_not_ignored(
        tmp_path: Path, section: str, key: str, words: str) -> None:
    message = _load(tmp_path, MINIMAL + f"[execution]\n{section}\n")
    assert message == f"{tmp_path / 's.toml'}: {key}: {words}"


def test_list_items_are_named_by_index(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[[risk.schedule]]\nat = "+1s"\nrule = "cash"\n')
    assert "risk.schedule[0]: give `param` and `value`, or `enabled`" in message


def test_data_needs_exactly_one_source(tmp_path: Path) -> None:
    message = _load(tmp_path, '[data]\non_bad = "skip"\n[[instruments]]\nsymbol = "A"\n')
    assert "data: give [data.synthetic] or at least one [[data.files]]" in message


def test_duplicate_instruments_are_rejected(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[[instruments]]\nsymbol = "ACME"\n')
    assert message.endswith(": instruments[1].symbol: 'ACME' is listed twice (first as "
                            "instruments[0])")


def test_invalid_toml_and_missing_file_are_one_line(tmp_path: Path) -> None:
    assert "invalid TOML" in _load(tmp_path, "[session\n")
    with pytest.raises(SessionError, match="no such session file"):
        load_session(tmp_path / "absent.toml")


def test_times_are_checked_at_load_not_mid_run(tmp_path: Path) -> None:
    message = _load(tmp_path, '[data.synthetic]\nstart = "monday"\n[[instruments]]\nsymbol = "A"\n'
                    '[replay]\nstop = "2024-13-01"\n')
    assert message.splitlines() == [
        f"{tmp_path / 's.toml'}: data.synthetic.start: 'monday' is not an ISO time such as "
        '"2024-01-02T14:30:00Z"',
        f"{tmp_path / 's.toml'}: replay.stop: '2024-13-01' is not an ISO time such as "
        '"2024-01-02T14:30:00Z"']
    message = _load(tmp_path, MINIMAL + '[[risk.schedule]]\nat = "tomorrow"\nrule = "cash"\n'
                    "enabled = false\n")
    assert message.endswith("risk.schedule[0].at: 'tomorrow' is neither an ISO time nor an "
                            'offset like "+90s" or "+2m10s"')


def test_compound_schedule_offsets_load(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + '[[risk.schedule]]\nat = "+2m10s"\nrule = "cash"\nenabled = false\n')
    assert load_session(path).config.risk.schedule[0].at == "+2m10s"


def test_drawdown_thresholds_must_come_in_order(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + "[risk.max_drawdown]\ntolerance = 0.05\n"
                    "resume_below = 0.05\n")
    assert message.endswith("risk.max_drawdown: resume_below (0.05) must be below tolerance "
                            "(0.05), or the mode flips back and forth on every tick")
    message = _load(tmp_path, MINIMAL + "[risk.max_drawdown]\ntolerance = 0.05\nhalt = 0.04\n")
    assert message.endswith("risk.max_drawdown: halt (0.04) must be at least tolerance (0.05): "
                            "REDUCING comes before HALTED")


def test_names_that_point_nowhere_are_errors_naming_their_key(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + "[risk.max_position.per_instrument.XYZ]\nmax_qty = 5\n"
                    '[[risk.schedule]]\nat = "+1s"\nrule = "leverage"\nenabled = false\n')
    assert message.splitlines() == [
        f"{tmp_path / 's.toml'}: risk.max_position.per_instrument.XYZ: 'XYZ' is not in "
        "[[instruments]] (ACME)",
        f"{tmp_path / 's.toml'}: risk.schedule[0].rule: no risk rule 'leverage' (rules: "
        "max_position, max_leverage, max_drawdown, cash, max_order_size, order_rate, price_band, "
        "kill_switch)"]


def test_a_missing_data_file_is_found_when_the_session_loads(tmp_path: Path) -> None:
    message = _load(tmp_path, '[[data.files]]\npath = "trades.csv"\n[[instruments]]\n'
                    'symbol = "ACME"\n')
    assert message == f"{tmp_path / 's.toml'}: data.files[0].path: no such file: " \
        f"{tmp_path / 'trades.csv'}"


def test_a_missing_data_file_the_sessions_comments_say_how_to_import_is_said_to_be_made_so(
        tmp_path: Path) -> None:
    body = '[[data.files]]\npath = "trades.parquet"\n[[instruments]]\nsymbol = "ACME"\n'
    recipe = ("# desk data import trades.csv --format csv --kind trade \\\n"
              "#   --out trades.parquet\n")
    message = _load(tmp_path, recipe + body)
    assert message == (f"{tmp_path / 's.toml'}: data.files[0].path: no such file: "
                       f"{tmp_path / 'trades.parquet'} (made by `desk data import`: the comments "
                       f"at the top of {tmp_path / 's.toml'} give the command)")
    # comments that name another file, or no import, give no such hint
    for comments in ("# desk data import x.csv --out other.parquet\n", "# trades.parquet\n"):
        assert _load(tmp_path, comments + body).endswith(f"{tmp_path / 'trades.parquet'}")


def test_a_union_gets_one_line_not_one_per_branch(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[replay]\nspeed = "fast"\n')
    assert message == (f"{tmp_path / 's.toml'}: replay.speed: Input should be a valid number "
                       "or 'max'")


def test_the_strategy_and_its_parameters_are_checked_when_the_session_loads(
        tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + '[strategy]\nuse = "momentum"\nparams = { lookback = 0 }\n')
    with pytest.raises(DeskError) as caught:
        load_session(path)
    assert str(caught.value) == (f"{path}: strategy.params.lookback: Input should be greater "
                                 "than or equal to 1")
    path.write_text(MINIMAL + '[strategy]\nuse = "nope"\n')
    with pytest.raises(DeskError, match=r"s\.toml: strategy\.use: unknown strategy 'nope'"):
        load_session(path)


def _actions(*actions: str) -> str:
    """`[[operator_actions]]` tables, one per string of its keys."""
    return "".join(f"[[operator_actions]]\n{keys}\n" for keys in actions)


def test_operator_actions_are_checked_when_the_session_loads_as_the_schedule_is(
        tmp_path: Path) -> None:
    where = f"{tmp_path / 's.toml'}: "
    cases = {
        'seq = 1\naction = "toggle"\nrule = "nosuch"\nenabled = false':
            "operator_actions[0].rule: no risk rule 'nosuch' (rules: max_position, max_leverage, "
            "max_drawdown, cash, max_order_size, order_rate, price_band, kill_switch)",
        'seq = 1\naction = "set"\nrule = "max_position"\nparam = "bogus"\nvalue = 5':
            "operator_actions[0].param: rule max_position has no parameter 'bogus' (it has: "
            "max_qty, max_notional)",
        'seq = 1\naction = "set"\nrule = "max_position"\nparam = "max_qty"\nvalue = -5':
            "operator_actions[0].value: max_position.max_qty must be a positive number, not -5",
        'seq = 1\naction = "set"\nrule = "max_position"\nparam = "max_qty"\nvalue = nan':
            "operator_actions[0].value: max_position.max_qty must be a positive number, not nan",
        'seq = 1\naction = "set"\nrule = "max_position"\nparam = "max_qty"\nvalue = "lots"':
            "operator_actions[0].value: max_position.max_qty must be a number, not 'lots' "
            '(or "none" to remove the limit)',
        'seq = 1\naction = "set"\nrule = "max_leverage"\nparam = "limit"\nvalue = "none"':
            "operator_actions[0].value: max_leverage.limit cannot be removed (set a number)",
        'seq = 1\naction = "toggle"\nenabled = false':
            "operator_actions[0].rule: missing: action 'toggle' needs a rule",
        'seq = 1\naction = "kill"\nparam = "engaged"':
            "operator_actions[0].param: action 'kill' takes no param (it takes: enabled)",
        'seq = 1\naction = "set"\nrule = "cash"\nparam = "buffer_bps"\nvalue = 5\nenabled = true':
            "operator_actions[0].enabled: action 'set' takes no enabled (it takes: rule, param, "
            "value)",
    }
    for keys, line in cases.items():
        assert _load(tmp_path, MINIMAL + _actions(keys)) == where + line, keys


def test_a_negative_cash_buffer_is_refused_saying_that_zero_is_allowed(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[[risk.schedule]]\nat = "+1s"\nrule = "cash"\n'
                    'param = "buffer_bps"\nvalue = -3\n')
    assert message == (f"{tmp_path / 's.toml'}: risk.schedule[0].value: cash.buffer_bps must be "
                       "zero or a positive number, not -3")
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + _actions('seq = 1\naction = "set"\nrule = "cash"\n'
                                       'param = "buffer_bps"\nvalue = 0'))
    assert load_session(path).config.operator_actions[0].value == 0


def test_a_set_without_a_value_is_refused_and_none_removes_a_limit(tmp_path: Path) -> None:
    """TOML has no null: a `set` without `value` once removed the limit in silence."""
    message = _load(tmp_path, MINIMAL + _actions(
        'seq = 1\naction = "set"\nrule = "max_position"\nparam = "max_qty"'))
    assert message == (f"{tmp_path / 's.toml'}: operator_actions[0].value: missing: action 'set' "
                       'needs a value (the new limit, or "none" to remove it)')
    message = _load(tmp_path, MINIMAL + '[[risk.schedule]]\nat = "+1s"\nrule = "max_position"\n'
                    'param = "max_qty"\n')
    assert message.endswith("risk.schedule[0]: `param = 'max_qty'` needs a `value` (the new "
                            'limit, or "none" to remove it)')
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + _actions('seq = 1\naction = "set"\nrule = "max_position"\n'
                                       'param = "max_qty"\nvalue = "none"')
                    + '[[risk.schedule]]\nat = "+1s"\nrule = "max_order_size"\nparam = "max_qty"\n'
                    'value = "none"\n')
    assert load_session(path).config.operator_actions[0].value == "none"


def test_drawdown_limits_out_of_order_when_a_change_applies_are_refused_at_load(
        tmp_path: Path) -> None:
    """Judged against the limits in force then: the session's, and the changes before it."""
    limits = "[risk.max_drawdown]\ntolerance = 0.05\nhalt = 0.10\n"
    message = _load(tmp_path, MINIMAL + limits + _actions(
        'seq = 10\naction = "set"\nrule = "max_drawdown"\nparam = "halt"\nvalue = 0.01'))
    assert message == (f"{tmp_path / 's.toml'}: operator_actions[0].value: max_drawdown.halt "
                       "(0.01) must be at least tolerance (0.05): REDUCING comes before HALTED")
    schedule = ('[[risk.schedule]]\nat = "+2h"\nrule = "max_drawdown"\nparam = "halt"\n'
                'value = 0.03\n'
                '[[risk.schedule]]\nat = "+1h"\nrule = "max_drawdown"\nparam = "tolerance"\n'
                'value = {}\n')
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + limits + schedule.format(0.02))  # tolerance lowered first: fine
    load_session(path)
    message = _load(tmp_path, MINIMAL + limits + schedule.format(0.04).replace('"+1h"', '"+3h"'))
    assert message == (f"{tmp_path / 's.toml'}: risk.schedule[0].value: max_drawdown.halt (0.03) "
                       "must be at least tolerance (0.05): REDUCING comes before HALTED")


def test_drawdown_changes_whose_order_the_file_does_not_tell_are_left_to_the_run(
        tmp_path: Path) -> None:
    """A schedule and operator actions both changing the limits, or offsets mixed with absolute
    times: which applies first depends on the data, so the run judges them as they come."""
    limits = "[risk.max_drawdown]\ntolerance = 0.05\nhalt = 0.10\n"
    lower = ('[[risk.schedule]]\nat = "+1s"\nrule = "max_drawdown"\nparam = "tolerance"\n'
             'value = 0.02\n')
    halt = 'seq = 500\naction = "set"\nrule = "max_drawdown"\nparam = "halt"\nvalue = 0.03'
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + limits + lower + _actions(halt))
    load_session(path)
    path.write_text(MINIMAL + limits + lower.replace('"+1s"', '"2024-01-02T14:30:01Z"')
                    + '[[risk.schedule]]\nat = "+2s"\nrule = "max_drawdown"\nparam = "halt"\n'
                    'value = 0.03\n')
    load_session(path)


@pytest.mark.parametrize(("value", "said"), [
    ("5", "not 5; for 5% write 0.05"), ("0", "not 0"), ("1.5", "not 1.5; for 1.5% write 0.015")])
def test_a_fraction_written_as_a_percentage_is_told_how_to_write_it(tmp_path: Path, value: str,
                                                                     said: str) -> None:
    message = _load(tmp_path, MINIMAL + f"[risk.max_drawdown]\ntolerance = {value}\n")
    assert message == (f"{tmp_path / 's.toml'}: risk.max_drawdown.tolerance: a fraction above 0 "
                       f"and at most 1 (0.1 is 10%), {said}")


def test_a_limit_a_rule_may_go_without_is_removed_in_its_table_with_none(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + '[risk.max_position]\nmax_qty = "none"\n'
                    '[risk.max_drawdown]\nhalt = "none"\n')
    risk = load_session(path).config.risk
    assert risk.max_position.max_qty is None and risk.max_drawdown.halt is None
    message = _load(tmp_path, MINIMAL + '[risk.max_position]\nmax_qty = "nothing"\n')
    assert message.startswith(f"{path}: risk.max_position.max_qty: ")


def test_a_limit_removed_in_its_table_stays_removed_in_a_saved_copy(tmp_path: Path) -> None:
    from desk.recording import save_session

    path = tmp_path / "s.toml"
    path.write_text(MINIMAL + '[risk.max_position]\nmax_qty = "none"\n'
                    '[risk.max_position.per_instrument.ACME]\nmax_notional = "none"\n')
    saved = save_session(load_session(path), [], tmp_path / "saved.toml")
    risk = load_session(saved).config.risk
    assert risk.max_position.max_qty is None  # not the default 1,000 back
    assert risk.max_position.per_instrument["ACME"].max_notional is None
