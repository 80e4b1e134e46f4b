"""The audit log's filter: `kind:risk,fill rule:max_position words`, parsed once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches

from desk.audit import TailRecord, details_of
from desk.query import KINDS


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which records the log shows. Empty parts match everything."""

    kinds: frozenset[str] = frozenset()
    rule: str | None = None
    words: str = ""

    @classmethod
    def parse(cls, text: str) -> AuditFilter:
        kinds: set[str] = set()
        rule = None
        words = []
        for part in text.split():
            if part.startswith("kind:"):
                kinds.update(k for k in part[5:].split(",") if k)
            elif part.startswith("rule:"):
                rule = part[5:] or None
            else:
                words.append(part.lower())
        return cls(frozenset(kinds), rule, " ".join(words))

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.rule or self.words)

    def describe(self) -> str:
        parts = []
        if self.kinds:
            parts.append("kind:" + ",".join(sorted(self.kinds)))
        if self.rule:
            parts.append(f"rule:{self.rule}")
        if self.words:
            parts.append(self.words)
        return " ".join(parts)

    def matches(self, record: TailRecord) -> bool:
        kind = record[2]
        if self.kinds and kind not in self.kinds:
            return False
        if self.rule is not None and not self._about_rule(record):
            return False
        # every word, anywhere and in any order: `sent 800` finds `sent sell 800 ACME`
        why = record[6].lower()
        return all(word in why for word in self.words.split())

    def _about_rule(self, record: TailRecord) -> bool:
        """A block by the rule, or a change to it (toggle, limit)."""
        if record[2] not in ("risk", "rule_toggle", "limit_change"):
            return False
        details = details_of(record[7])
        return details.get("rule") == self.rule or self.rule in details.get("blocked_by", ())


def unknown_kinds(wanted: AuditFilter) -> str:
    """What is wrong with the filter's kinds, in one sentence with the kinds there are; "" when
    each is a kind of record the journal has."""
    unknown = sorted(wanted.kinds - set(KINDS))
    if not unknown:
        return ""
    hints = []
    for kind in unknown:
        close = get_close_matches(kind, KINDS, n=1)
        hints.append(f"{kind!r}" + (f" (did you mean {close[0]}?)" if close else ""))
    return (f"unknown kind {', '.join(hints)}; the kinds are: {', '.join(KINDS)}")


def unknown_rule(wanted: AuditFilter, rules: Sequence[str]) -> str:
    """What is wrong with the filter's rule, in one sentence with the rules there are; "" when
    it names one of `rules` (or none). A typo would otherwise show an empty log that waits for
    rows that can never come."""
    rule = wanted.rule
    if rule is None or rule in rules:
        return ""
    close = get_close_matches(rule, rules, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown rule {rule!r}{hint}; the rules are: {', '.join(rules)}"
