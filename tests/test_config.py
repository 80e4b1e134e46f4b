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


def test_list_items_are_named_by_index(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[[risk.schedule]]\nat = "+1s"\nrule = "cash"\n')
    assert "risk.schedule[0]: give `param` and `value`, or `enabled`" in message


def test_data_needs_exactly_one_source(tmp_path: Path) -> None:
    message = _load(tmp_path, '[data]\non_bad = "skip"\n[[instruments]]\nsymbol = "A"\n')
    assert "data: give [data.synthetic] or at least one [[data.files]]" in message


def test_duplicate_instruments_are_rejected(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[[instruments]]\nsymbol = "ACME"\n')
    assert "instrument listed twice: ACME" in message


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
