"""One module per `desk` command; each has `register(subparsers)`."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def given(what: str, empty: str = "an empty path") -> Callable[[str], str]:
    """An argparse type for a path (or a name) the user gives: an empty or blank value is
    refused in one line, never taken for the option left out (`--out ""` would run into
    the session's `audit.path`) nor for the current folder."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"give {what}, not {empty}")
        return text

    return check
