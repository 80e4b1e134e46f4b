"""The engine never imports the UI: each engine module, imported alone, leaves textual unloaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"desk.commands.play", "desk.__main__"}
"""The play command is the UI's entry point; `__main__` runs the CLI when imported."""


def engine_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "desk").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[:2] == ("desk", "app"):
            continue
        name = ".".join(parts).removesuffix(".__init__")
        if name not in SKIP:
            names.append(name)
    return names


def test_the_engine_module_list_covers_the_runner_and_snapshot() -> None:
    names = engine_modules()
    assert {"desk.engine", "desk.runner", "desk.snapshot", "desk.recording",
            "desk.cli"} <= set(names)
    assert not any(name.startswith("desk.app") for name in names)


@pytest.mark.parametrize("module", engine_modules())
def test_engine_module_does_not_import_textual(module: str) -> None:
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') "
            "or m.startswith('desk.app')); print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in {result.stdout.strip()} {result.stderr}"


def test_a_headless_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    """`desk run --json` reaches its first event sooner for what it leaves alone: the UI, Rich,
    the importers, and numpy's masked arrays (which `pa.array(ndarray)` would import)."""
    from desk.bench import bench_session, write_session
    from desk.benchdata import ensure_ticks

    data = ensure_ticks(tmp_path / "data", 1000)
    session = write_session(bench_session(data, tmp_path / "journal.arrow"),
                            tmp_path / "bench.toml")
    code = ("import sys; from desk.cli import main; code = main(['run', sys.argv[1], '--json']); "
            "heavy = ('textual', 'rich', 'desk.importers', 'numpy.ma', 'desk.app'); "
            "print(sorted(m for m in sys.modules if m in heavy or m.startswith("
            "tuple(h + '.' for h in heavy)))); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, str(session)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"market_events": 1000' in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
