"""The error types of desk: one base, one subclass per domain.

A `DeskError` is a user's mistake or an environment problem that the CLI turns
into one clear line and exit code 2. Expected business outcomes (a blocked
order, a rejected fill) are journaled events, never exceptions.
"""

from __future__ import annotations


def first_line(error: BaseException) -> str:
    """The gist of an error from a library, for a message that must stay one line: its first
    line, or its type's name when it has no text."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


_ESCAPES = {code: repr(chr(code))[1:-1]
            for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}
"""Control characters (line ends among them) as Python writes them in a string: `\\n`, `\\x1b`."""


def one_line(text: str) -> str:
    """`text` with its control characters escaped, so that values read from a file (a quoted CSV
    field with a line end, a column name with a tab) cannot break a message's one line, nor send
    a terminal its escape codes."""
    return text.translate(_ESCAPES)


class DeskError(Exception):
    """Base of every error desk reports to a person as one line."""

    title = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SessionError(DeskError):
    """The session file is missing, malformed, or names something that does not exist."""

    title = "session"


class DataError(DeskError):
    """A market-data file cannot be read or breaks a data-quality rule. Its message is one line
    whatever the file holds: values quoted from the file have their control characters escaped."""

    title = "data"

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class StrategyError(DeskError):
    """A strategy cannot be found, loaded or configured."""

    title = "strategy"


class JournalError(DeskError):
    """An audit journal cannot be read, or a record asked for is not in it."""

    title = "journal"


class OutputError(DeskError):
    """A file desk must write (the journal) cannot be created where the user asked for it."""

    title = "output"


class InvariantError(DeskError):
    """A DESIGN §2 invariant broke during a strict run: a bug in desk, never the user's."""

    title = "invariant"

    def __init__(self, invariant: str, event_seq: int, detail: str) -> None:
        super().__init__(f"invariant {invariant} broken at event seq {event_seq}: {detail}")
        self.invariant = invariant
        self.event_seq = event_seq
