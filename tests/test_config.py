"""The session file: every problem reported as `file: key.path: message`, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.config import load_session
from desk.errors import SessionError

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
    assert message == f"{tmp_path / 's.toml'}: risk.max_leverage.limt: Extra inputs are not permitted"


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    message = _load(tmp_path, MINIMAL + '[session]\nseed = "x"\nstart_cash = 0\n')
    lines = message.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("session.seed: Input should be a valid integer, unable to parse "
                             "string as an integer")
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
