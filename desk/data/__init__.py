"""Market-data sources: seeded synthetic markets and files replayed in record batches."""

from __future__ import annotations

import stat
from pathlib import Path

REPLAY_HINT = ('the replay stops at the first bad row (`desk data inspect` counts them; a '
               'session skips them with data.on_bad = "skip")')


def not_regular(path: Path) -> str | None:
    """Why `path` cannot be read as a data file when it exists and is neither a regular file nor
    a folder (callers say what a folder is), else None.

    A fifo would block the open until some other process writes to it, and a device
    or a socket never ends: such a path is refused at once rather than waited on.
    """
    try:
        mode = path.stat().st_mode
    except OSError:  # missing, or unreachable: the caller's open says which
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    what = ("a fifo" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
    return f"not a regular file ({what}); give a data file"
