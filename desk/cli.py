"""The `desk` command line. Each command lives in `desk.commands.<name>` and imports only what it
needs."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from desk.collector import starting
from desk.errors import DeskError, first_line
from desk.termination import EXIT_CODE as TERMINATED
from desk.termination import Terminated

COMMANDS = [
    "run",
    "data",
    "audit",
    "explain",
    "bench",
    "compare",
    "sweep",
    "play",
]
"""Modules of `desk.commands`, in the order `desk --help` lists them."""


_SIGNED = re.compile(r"-\.?\d")
"""A word that starts like a negative number (`-5s`, `-1h`, `-0.5`, `-1e-4`): a value, never an
option, as no option of desk is spelled so."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in one line, like every other error of desk (its subcommands'
    parsers are of the same class).

    argparse reads `--every -5s` as the option `--every` without its value and the
    option `-5s` (it takes only plain numbers such as `-5` for values), so a negative
    duration would fail with a message about the wrong thing. Such a word after an
    option that takes a value is that option's value, as in `--every=-5s`, and the
    option's own check then says what is wrong with it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._valued: set[str] = set()

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.option_strings and action.nargs is None:  # takes exactly one value
            self._valued.update(action.option_strings)
        return action

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self._attach_signed_values(words), namespace)

    def _attach_signed_values(self, words: list[str]) -> list[str]:
        """`--opt -5s` → `--opt=-5s` for this parser's options that take a value."""
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word == "--":  # the rest are positionals, as the user asked
                return out + words[i:]
            if (i + 1 < len(words) and _SIGNED.match(words[i + 1]) is not None
                    and self._takes_value(word)):
                out.append(f"{word}={words[i + 1]}")
                i += 2
                continue
            out.append(word)
            i += 1
        return out

    def _takes_value(self, word: str) -> bool:
        """Whether `word` names an option of this parser that takes one value, spelled whole or,
        as argparse allows, by a prefix that fits no other long option."""
        if word in self._valued:
            return True
        if not (self.allow_abbrev and word.startswith("--") and len(word) > 2):
            return False
        fits = [name for name in self._option_string_actions if name.startswith(word)]
        return len(fits) == 1 and fits[0] in self._valued

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="desk", description="An event-driven trading-desk simulator.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"desk.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # a command that calls settle() once it has started starts without the collector
        with starting() if getattr(args, "settles", False) else contextlib.nullcontext():
            code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except DeskError as error:
        if args.debug:
            raise
        for line in str(error).splitlines():
            print(f"desk: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Terminated:  # SIGTERM, raised by a command that cleans up after itself
        return TERMINATED
    except BrokenPipeError:
        return _reader_went_away()
    except OSError as error:  # the disk or the terminal failed us: say which, in one line
        if args.debug:
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"desk: {where}{error.strerror or error}", file=sys.stderr)
        try:
            sys.stdout.flush()
        except OSError:  # it was stdout that failed (a full disk behind `>`)
            _drop_stdout()
        return 2
    except Exception as error:  # a bug of desk's own: one line, the traceback on request
        if args.debug:
            raise
        print(f"desk: unexpected error: {type(error).__name__}: {first_line(error)} (desk --debug "
              f"{args.command} … shows where)", file=sys.stderr)
        return 1


def _reader_went_away() -> int:
    """The reader of our output closed the pipe (`desk audit j --json | head -1`): stop quietly.

    Python would print a traceback, then another when it flushes stdout at exit;
    pointing stdout at /dev/null silences the second (the recipe of Python's
    `signal` docs). 141 is what a shell reports for a process ended by SIGPIPE.
    """
    _drop_stdout()
    return 141


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail again with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
