"""Run `desk` in the test process, as the console script would, and undo what a run leaves
behind."""

from __future__ import annotations

import gc

from desk.cli import main


def run_cli(argv: list[str]) -> int:
    """`desk ARGV` in-process; its exit code.

    `desk run` freezes the objects alive at its start out of the garbage
    collector's way (right for a process that ends with the run); in a test
    process that runs it many times they are unfrozen again, or every run's
    cycles would stay for good.
    """
    try:
        return main(argv)
    finally:
        gc.unfreeze()
