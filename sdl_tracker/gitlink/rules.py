"""Pure git rules: the trailer vocabulary, commit ranges over stored parents, release refs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TrailerRule:
    """What a trailer key means: the evidence it creates (or names) and the requirement it shows."""

    kind: str
    requirement: str
    title: str  # formatted with the trailer value and the commit's short SHA


# Documented in integrations/README.md. Keys compare case-insensitively, as git's do.
VOCABULARY: dict[str, TrailerRule] = {
    "security-review": TrailerRule("code-review", "SI-1", "Security review of {short} by {value}"),
    "threat-model": TrailerRule("other", "SR-2", "Threat model updated in {short}: {value}"),
    "fixes-psirt": TrailerRule("other", "DM-4", "{value} addressed in {short}"),
    "fuzzed-by": TrailerRule("other", "SVV-3", "{short} fuzzed by {value}"),
}
TRACEABILITY = "security-requirement"  # records which CR a commit implements; no evidence of its own
EVIDENCE_REFERENCE = re.compile(r"^(?:evidence\s*)?#?(\d{1,12})$", re.IGNORECASE)


def rule_for(key: str) -> TrailerRule | None:
    """The rule of a trailer key, if it is in the vocabulary."""
    return VOCABULARY.get(key.strip().lower())


def evidence_reference(value: str) -> int | None:
    """`#12` or `evidence 12`: a trailer naming existing evidence rather than describing new."""
    match = EVIDENCE_REFERENCE.match(value.strip())
    return int(match.group(1)) if match else None


def commits_between(parents: Mapping[str, Sequence[str]], tip: str, base: str | None) -> list[str]:
    """Commits reachable from `tip` but not from `base`, over the stored parent links (no git needed)."""

    def ancestors(start: str | None) -> set[str]:
        seen: set[str] = set()
        stack = [start] if start else []
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in parents:
                continue
            seen.add(sha)
            stack.extend(parents[sha])
        return seen

    excluded = ancestors(base)
    return sorted(ancestors(tip) - excluded)


def resolve_ref(refs: Mapping[str, str], known: set[str], ref: str) -> str | None:
    """A release's git ref (tag, branch or SHA) as a commit, from the refs stored at the last scan."""
    for name in (f"refs/tags/{ref}", f"refs/heads/{ref}", ref):
        if name in refs:
            return refs[name]
    if re.fullmatch(r"[0-9a-f]{7,40}", ref):
        matches = [sha for sha in known if sha.startswith(ref)]
        return matches[0] if len(matches) == 1 else None
    return None
