"""`tools/journal_digest.py`: the guard of speed work digests records by value, not by bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desk.audit import Journal

TOOL = Path(__file__).resolve().parent.parent / "tools" / "journal_digest.py"


def _journal(path: Path, details_text: str, why: str = "a fill") -> Path:
    journal = Journal(path)
    journal.record("note", 1, "first")
    journal.add("fill", 2, "ACME", 0, 7, why, details_text)
    journal.close()
    return path


def _digest(*paths: Path) -> list[str]:
    result = subprocess.run([sys.executable, str(TOOL), *map(str, paths)], capture_output=True,
                            text=True, check=True)
    return [line.split()[0] for line in result.stdout.splitlines()]


def test_the_same_values_in_other_json_text_have_the_same_digest(tmp_path: Path) -> None:
    one = _journal(tmp_path / "a.arrow", '{"qty":1e-05,"note":"\\u2264"}')
    other = _journal(tmp_path / "b.arrow", '{"note":"≤","qty":0.00001}')
    assert _digest(one, other) == [_digest(one)[0]] * 2


def test_another_value_or_sentence_changes_the_digest(tmp_path: Path) -> None:
    base = _journal(tmp_path / "a.arrow", '{"qty":1.0}')
    value = _journal(tmp_path / "b.arrow", '{"qty":1.5}')
    words = _journal(tmp_path / "c.arrow", '{"qty":1.0}', why="a partial fill")
    digests = _digest(base, value, words)
    assert len(set(digests)) == 3


def test_without_a_journal_it_says_how_to_use_it() -> None:
    result = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "journal_digest.py" in result.stderr
