"""Pure git rules: the trailer vocabulary, commit ranges over stored parents, release refs, and when a
commit counts as reviewed (IEC 62443-4-1 SI-1)."""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..evidence.standing import stood_on


@dataclass(frozen=True)
class TrailerRule:
    """What a trailer key means: the evidence it creates (or names), the requirement it shows, and the
    details field its value fills (the commit's SHA fills `change`)."""

    kind: str
    requirement: str
    title: str  # formatted with the trailer value and the commit's short SHA
    value_field: str
    # The value names a PSIRT case: evidence only for a real case of the commit's product, which the case register
    # confirms (gitlink.signals.psirt_case_named), its value then written as the register writes the case's name.
    names_psirt_case: bool = False

    def details(self, sha: str, value: str) -> dict[str, Any]:
        """The details of the evidence this trailer creates: what the kind's schema needs, from the trailer."""
        return {"change": sha, self.value_field: value}


# Documented in integrations/README.md. Keys compare case-insensitively, as git's do.
VOCABULARY: dict[str, TrailerRule] = {
    "security-review": TrailerRule("code-review", "SI-1", "Security review of {short} by {value}", "reviewer"),
    "threat-model": TrailerRule("threat-model-change", "SR-2", "Threat model changed in {short}: {value}", "summary"),
    "fixes-psirt": TrailerRule("psirt-fix", "DM-4", "{value} addressed in {short}", "case", names_psirt_case=True),
    "fuzzed-by": TrailerRule("fuzz-run", "SVV-3", "{short} fuzzed by {value}", "fuzzer"),
}
TRACEABILITY = "security-requirement"  # records which CR a commit implements; no evidence of its own
EVIDENCE_REFERENCE = re.compile(r"^(?:evidence\s*)?#?(\d{1,12})$", re.IGNORECASE)
# At most this many trailers of one commit become (or link) evidence; the rest is reported by the scan.
MAX_EVIDENCE_PER_COMMIT = 20


def rule_for(key: str) -> TrailerRule | None:
    """The rule of a trailer key, if it is in the vocabulary."""
    return VOCABULARY.get(key.strip().lower())


def evidence_trailers(
    trailers: Sequence[tuple[str, str]] | Sequence[Sequence[str]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A commit's trailers that create or link evidence, in message order, split at the per-commit bound:
    (those recorded, those beyond it)."""
    found = [(str(t[0]), str(t[1])) for t in trailers if rule_for(str(t[0])) is not None]
    return found[:MAX_EVIDENCE_PER_COMMIT], found[MAX_EVIDENCE_PER_COMMIT:]


def beyond_bound_problem(sha: str, beyond: Sequence[tuple[str, str]]) -> str:
    """The scan's report of the trailers a commit had beyond the bound (never dropped silently)."""
    keys: dict[str, int] = {}
    for key, _value in beyond:
        keys[key] = keys.get(key, 0) + 1
    which = ", ".join(f"{key} {n:,}" for key, n in sorted(keys.items()))
    return (
        f"{sha[:10]}: {len(beyond):,} trailers beyond the {MAX_EVIDENCE_PER_COMMIT} a commit may turn into "
        f"evidence were not recorded ({which})"
    )


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
    if re.fullmatch(r"[0-9a-f]{7,64}", ref):
        matches = [sha for sha in known if sha.startswith(ref)]
        return matches[0] if len(matches) == 1 else None
    return None


# --- Commit review (IEC 62443-4-1 SI-1, clause 8.2) --------------------------------------------------

SHA_PREFIX = re.compile(r"[0-9a-f]{7,64}")
CHANGE_TOKEN = re.compile(r"[\s,;]+")


class CommitIndex:
    """The stored commits of one repository: abbreviated SHAs resolved and ranges computed over the stored
    parent links, never by running git."""

    def __init__(self, parents: Mapping[str, Sequence[str]]) -> None:
        self.parents = parents
        self._sorted = sorted(parents)
        self._named: dict[str, frozenset[str]] = {}

    def resolve(self, token: str) -> str | None:
        """A full or abbreviated (at least 7 hex digits) SHA as the one stored commit it names, else None."""
        token = token.strip().lower()
        if not SHA_PREFIX.fullmatch(token):
            return None
        if token in self.parents:
            return token
        at = bisect.bisect_left(self._sorted, token)
        matches = self._sorted[at : at + 2]
        hits = [sha for sha in matches if sha.startswith(token)]
        return hits[0] if len(hits) == 1 else None

    def named(self, change: str) -> frozenset[str]:
        """The commits a review's `change` names: SHAs and `a..b` ranges (commits reachable from b and not
        from a), separated by spaces, commas or semicolons. Anything else (a change request id) names none."""
        cached = self._named.get(change)
        if cached is not None:
            return cached
        found: set[str] = set()
        for token in CHANGE_TOKEN.split(change.strip()):
            base, sep, tip = token.partition("..")
            if sep:
                if tip.startswith("."):
                    continue  # `a...b` (symmetric difference) is not a review range
                start, end = self.resolve(base), self.resolve(tip)
                if start is not None and end is not None:
                    found.update(commits_between(self.parents, end, start))
            elif (sha := self.resolve(token)) is not None:
                found.add(sha)
        result = frozenset(found)
        self._named[change] = result
        return result


class NotReviewed(enum.StrEnum):
    """Why a commit's review does not count."""

    NO_REVIEW = "no-review"
    ACCEPTED_LATER = "accepted-later"  # accepted (or recorded) only after the date the release is judged on
    NOT_ACCEPTED = "review-not-accepted"
    ACCEPTOR_IS_AUTHOR = "acceptor-is-author"
    ACCEPTOR_UNKNOWN = "acceptor-unknown"
    REVIEWER_IS_AUTHOR = "reviewer-is-author"
    REVIEWER_UNKNOWN = "reviewer-unknown"
    NOT_A_CODE_REVIEW = "not-a-code-review"
    NAMES_ANOTHER_CHANGE = "review-names-another-change"
    # The product requires verified authors and no signature verified this one (a commit-level reason: it is
    # applied after the reviews are weighed, whatever they say).
    AUTHOR_NOT_VERIFIED = "author-not-verified"


# When several reviews of a commit fail, the one closest to counting is named first.
REASON_ORDER = list(NotReviewed)


@dataclass(frozen=True)
class ReviewRevision:
    """One revision of code-review evidence, as far as commit review needs it."""

    evidence_id: int
    recorded_on: date  # when the revision was made
    change: str
    reviewer: str  # details.reviewer: an e-mail address, or `Name <email>`
    state: str  # draft, submitted, accepted, rejected
    accepted_at: datetime | None  # when an officer accepted it (accepted revisions only)
    acceptor_email: str | None  # the accepting user's e-mail, None if that user is gone


@dataclass(frozen=True)
class Verdict:
    """Whether one review makes a commit reviewed on a day: `reason` None when it counts."""

    evidence_id: int | None
    reason: NotReviewed | None
    text: str
    revision: ReviewRevision | None = None

    @property
    def counts(self) -> bool:
        """Whether this review makes the commit reviewed."""
        return self.reason is None


def reviewer_email(reviewer: str) -> str:
    """The e-mail address a review names: `Name <email>` or a bare address, lower-cased."""
    match = re.search(r"<([^<>]+)>", reviewer)
    return (match.group(1) if match else reviewer).strip().lower()


def revision_on(revisions: Sequence[ReviewRevision], day: date) -> ReviewRevision | None:
    """What the evidence said on `day`: its newest revision recorded on or before it."""
    return stood_on(revisions, day, lambda revision: revision.recorded_on)


def judge_review(
    revisions: Sequence[ReviewRevision],
    *,
    sha: str,
    author_email: str,
    named: Callable[[str], frozenset[str]],
    known_emails: frozenset[str],
    on: date,
) -> Verdict:
    """Whether a code review makes the commit `sha` reviewed on the day `on` (today, or the release date).

    It counts only when, as the evidence stood that day, its `change` names the commit (`named` maps a
    change to the commits it names, CommitIndex.named), it
    was accepted (by a security officer or administrator, never its own submitter) on or before that
    day, its reviewer is a known user, and neither the reviewer nor the acceptor is the commit's
    author. The author is git's, which nobody authenticated: a developer who commits under a colleague's
    name can pass the author checks (docs/assurance.md).
    """
    evidence_id = revisions[-1].evidence_id if revisions else None
    revision = revision_on(revisions, on)
    if revision is None:
        return Verdict(evidence_id, NotReviewed.ACCEPTED_LATER, f"#{evidence_id} was recorded after {on.isoformat()}")
    author = author_email.strip().lower()
    ident = f"#{revision.evidence_id}"
    if sha not in named(revision.change):
        change = revision.change or "no change"
        return Verdict(revision.evidence_id, NotReviewed.NAMES_ANOTHER_CHANGE, f"{ident} names {change}")
    reviewer = reviewer_email(revision.reviewer)
    if reviewer not in known_emails:
        return Verdict(
            revision.evidence_id, NotReviewed.REVIEWER_UNKNOWN, f"{ident}: reviewer {reviewer!r} is no known user"
        )
    if reviewer == author:
        return Verdict(revision.evidence_id, NotReviewed.REVIEWER_IS_AUTHOR, f"{ident}: the reviewer is the author")
    if revision.state != "accepted" or revision.accepted_at is None:
        return Verdict(revision.evidence_id, NotReviewed.NOT_ACCEPTED, f"{ident} is {revision.state}, not accepted")
    if revision.accepted_at.date() > on:
        return Verdict(
            revision.evidence_id,
            NotReviewed.ACCEPTED_LATER,
            f"{ident} was accepted on {revision.accepted_at.date().isoformat()}, after {on.isoformat()}",
        )
    if revision.acceptor_email is None:
        return Verdict(revision.evidence_id, NotReviewed.ACCEPTOR_UNKNOWN, f"{ident}: its acceptor is gone")
    if revision.acceptor_email.strip().lower() == author:
        return Verdict(revision.evidence_id, NotReviewed.ACCEPTOR_IS_AUTHOR, f"{ident}: the acceptor is the author")
    return Verdict(revision.evidence_id, None, f"{ident} accepted", revision)


def first_reason(verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict that decides a commit: one that counts, else the failure closest to counting, else none."""
    for verdict in verdicts:
        if verdict.counts:
            return verdict
    if not verdicts:
        return Verdict(None, NotReviewed.NO_REVIEW, "no review names this commit")
    return min(verdicts, key=lambda v: REASON_ORDER.index(v.reason) if v.reason else -1)
