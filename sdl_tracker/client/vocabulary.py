"""What the commit-msg hook checks a message against: the trailer keys the tracker reads, the
requirement ids it knows and its users' addresses (as salted digests), cached in the git directory so the
check works offline.

The keys are the tracker's (`gitlink.rules.VOCABULARY` and `TRACEABILITY`; the client may not import
the server, so a test holds this copy equal to them). The checks only warn: a commit is never refused
for its message.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence

# Lower-cased key -> how the tracker's documentation spells it (git compares keys case-insensitively).
KEYS = {
    "security-review": "Security-Review",
    "threat-model": "Threat-Model",
    "fixes-psirt": "Fixes-PSIRT",
    "fuzzed-by": "Fuzzed-by",
    "security-requirement": "Security-Requirement",
}
REQUIREMENT_KEY = "security-requirement"
REVIEW_KEY = "security-review"
STALE_AFTER = 7 * 24 * 3600.0  # seconds; past this the post-commit hook refreshes the cache when it can
# `#12` or `evidence 12`: a trailer naming existing evidence (gitlink.rules.EVIDENCE_REFERENCE).
EVIDENCE_REFERENCE = re.compile(r"^(?:evidence\s*)?#?(\d{1,12})$", re.IGNORECASE)
E_MAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
KEY_LINE = re.compile(r"^([A-Za-z0-9-]+)[ \t]*:", re.MULTILINE)
SHOWN = 80  # characters of a trailer's value quoted in a warning
SIMILAR = 0.8  # how alike (difflib's ratio) an unknown key must be to a known one to be taken for a typo


class Vocabulary:
    """The requirement ids a tracker knows (None: never fetched), its users' address digests (None: none
    fetched), when they were fetched, and from where."""

    __slots__ = ("fetched_at", "requirements", "reviewers", "server")

    def __init__(
        self,
        requirements: Iterable[str] | None,
        fetched_at: float = 0.0,
        server: str = "",
        reviewers: tuple[str, Iterable[str]] | None = None,
    ) -> None:
        self.requirements = None if requirements is None else frozenset(_folded(r) for r in requirements)
        self.fetched_at = fetched_at
        self.server = server
        self.reviewers = None if reviewers is None else (reviewers[0], frozenset(reviewers[1]))

    def is_user(self, email: str) -> bool | None:
        """Whether the address is a user's of the tracker (None: not known here)."""
        if self.reviewers is None:
            return None
        import hashlib  # only for a message that names a reviewer

        salt, digests = self.reviewers
        return hashlib.sha256((salt + email.strip().lower()).encode()).hexdigest() in digests

    def stale(self, now: float) -> bool:
        """Whether it is time to fetch the ids again."""
        return self.requirements is None or now - self.fetched_at > STALE_AFTER


def from_data(data: dict[str, object] | None) -> Vocabulary:
    """The vocabulary as cached (`Spool.read("vocabulary")`); an empty one if there is none or it is damaged."""
    ids = (data or {}).get("requirements")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return Vocabulary(None)
    fetched_at = (data or {}).get("fetched_at")
    reviewers = (data or {}).get("reviewers")
    digests = None
    if (
        isinstance(reviewers, dict)
        and isinstance(reviewers.get("salt"), str)
        and isinstance(reviewers.get("digests"), list)
    ):
        digests = (str(reviewers["salt"]), [d for d in reviewers["digests"] if isinstance(d, str)])
    return Vocabulary(
        ids, fetched_at if isinstance(fetched_at, float) else 0.0, str((data or {}).get("server", "")), digests
    )


def to_data(
    requirements: Sequence[str], server: str, reviewers: tuple[str, Sequence[str]] | None = None
) -> dict[str, object]:
    """What to cache: the ids and the reviewers' digests, where and when they were fetched."""
    data: dict[str, object] = {"server": server, "fetched_at": time.time(), "requirements": sorted(set(requirements))}
    if reviewers is not None:
        data["reviewers"] = {"salt": reviewers[0], "digests": sorted(set(reviewers[1]))}
    return data


def _folded(requirement: str) -> str:
    """An id as compared: case and runs of spaces do not matter (`cr  3.4` is `CR 3.4`)."""
    return " ".join(requirement.split()).upper()


def _shown(text: str) -> str:
    """A value quoted for a warning, cut short: the line is about the trailer, not a copy of it."""
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 1] + "…")


def _close(word: str, candidates: Iterable[str]) -> str | None:
    import difflib  # only when something is wrong

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=SIMILAR)
    return found[0] if found else None


def _trailer_warning(key: str, value: str, vocabulary: Vocabulary) -> str | None:
    """What is wrong with one trailer, if anything."""
    folded = key.lower()
    if folded not in KEYS:
        like = _close(folded, KEYS)
        if like is None and not folded.startswith("security-"):
            return None  # someone else's trailer (Signed-off-by, Change-Id...)
        hint = f"did you mean {KEYS[like]}?" if like else f"the tracker reads {', '.join(KEYS.values())}"
        return f"unknown trailer key {_shown(key)}: {hint}"
    if not value:
        return f"{key} has no value"
    if EVIDENCE_REFERENCE.match(value):
        return None
    if folded == REVIEW_KEY:
        address = E_MAIL.search(value)
        if address is None:
            return f"{key}: {_shown(value)} names no e-mail address; the tracker knows reviewers by e-mail"
        if vocabulary.is_user(address.group(0)) is False:
            return f"{key}: {_shown(address.group(0))} is no user of the tracker, so the review would not count"
        return None
    if folded != REQUIREMENT_KEY:
        return None
    known = vocabulary.requirements
    if known is None:
        return f"{key}: not checked, no list of requirements cached yet (sdl-tracker hook refresh)"
    if _folded(value) in known:
        return None
    like = _close(_folded(value), known)
    return f"{key}: {_shown(value)} is not a requirement the tracker knows" + (
        f" (did you mean {like}?)" if like else ""
    )


def check(trailers: Sequence[tuple[str, str]], message: str, vocabulary: Vocabulary) -> list[str]:
    """Warnings about a commit message: unknown keys that look like ours, our keys outside the trailer
    block (git does not read them), reviewers without an e-mail address, unknown requirement ids."""
    warnings = [w for key, value in trailers if (w := _trailer_warning(key, value, vocabulary)) is not None]
    read = Counter(key.lower() for key, _ in trailers)
    written = Counter(m.group(1).lower() for m in KEY_LINE.finditer(message) if m.group(1).lower() in KEYS)
    for folded, count in written.items():
        if count > read.get(folded, 0):
            warnings.append(
                f"a {KEYS[folded]}: line is not in the message's last paragraph, so git does not read it as a "
                "trailer (trailers go together at the end, after a blank line)"
            )
    return warnings
