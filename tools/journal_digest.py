"""A digest of a journal's records, for checking that a change to the code left a run's facts as
they were.

The digest covers every column of every record, with each record's details
parsed and written again in one canonical form: two journals have the same
digest when they hold the same records with the same values, whatever the
Arrow version or the JSON encoder that wrote them. Speed work compares the
digests of several sessions' journals before and after a change.

    python tools/journal_digest.py runs/demo/journal.arrow [more journals or run folders]
"""

from __future__ import annotations

import hashlib
import json
import sys

from desk.audit import read_journal

COLUMNS = ("seq", "ts_ns", "kind", "instrument", "cause", "order_id", "why", "details")


def canonical_details(text: str | None) -> str:
    """The details' JSON text in one form: keys sorted, compact, ASCII escapes, repr floats."""
    if not text:
        return ""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def digest(path: str) -> tuple[str, int]:
    """The sha256 of a journal's records in canonical form, and how many records there are."""
    table = read_journal(path)
    columns = [table.column(name).to_pylist() for name in COLUMNS]
    columns[-1] = [canonical_details(text) for text in columns[-1]]
    sha = hashlib.sha256()
    for row in zip(*columns, strict=True):
        sha.update("\t".join(map(str, row)).encode())
        sha.update(b"\n")
    return sha.hexdigest(), table.num_rows


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    for path in paths:
        sha, rows = digest(path)
        print(f"{sha[:16]} {rows:>9,} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
