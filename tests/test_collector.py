"""`desk run` keeps the garbage collector out of its start-up, and always gives it back."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import desk.config
from desk.collector import settle, starting
from tests.cli_run import run_cli


def test_run_starts_without_the_collector_and_runs_with_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, bool] = {}
    load = desk.config.load_session

    def load_and_look(*args: object, **kwargs: object) -> object:
        seen["loading"] = gc.isenabled()
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk.config, "load_session", load_and_look)
    session = tmp_path / "s.toml"
    session.write_text('[data.synthetic]\nevents = 300\n[[instruments]]\nsymbol = "ACME"\n')
    assert run_cli(["run", str(session), "--json", "--out", str(tmp_path / "out")]) == 0
    assert seen == {"loading": False}
    assert gc.isenabled()


def test_a_run_that_fails_before_it_settles_gives_the_collector_back(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[session\n")
    assert run_cli(["run", str(bad)]) == 2
    assert gc.isenabled()


def test_other_commands_keep_the_collector(tmp_path: Path) -> None:
    assert run_cli(["audit", str(tmp_path / "none.arrow")]) == 2
    assert gc.isenabled()


def test_starting_restores_a_collector_that_was_off() -> None:
    gc.disable()
    try:
        with starting():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_settle_turns_the_collector_on_within_start_up() -> None:
    thresholds = gc.get_threshold()
    try:
        with starting():
            settle()
            assert gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
