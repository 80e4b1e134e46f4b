"""A strategy module that fails while it is imported (the bad-input corpus)."""

raise RuntimeError("boom at import")
