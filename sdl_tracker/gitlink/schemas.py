"""Scan summaries and release commits as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from .intake import CommitView, Outcome, Result
from .models import CommitState, SigningKey
from .rules import NotReviewed
from .services import ReleaseCommits, ScanSummary
from .signatures import KeyKind, SignatureStatus


class ScanSummaryOut(BaseModel):
    """What a repository scan did."""

    repository: str
    new_commits: int
    trailers: int
    evidence_created: int
    evidence_linked: int
    unreachable: int
    signatures_checked: int
    signatures_verified: int
    seconds: float
    problems: list[str]

    @classmethod
    def of(cls, summary: ScanSummary) -> ScanSummaryOut:
        """What `repo scan --json` prints."""
        return cls.model_validate(summary, from_attributes=True)


class ReviewConsidered(BaseModel):
    """One review a commit's verdict weighed, and why it does not count ("" when it does)."""

    evidence: int | None
    reason: str
    explanation: str


class CommitReviewOut(BaseModel):
    """One commit of a release and whether it counts as reviewed (IEC 62443-4-1 SI-1)."""

    sha: str
    subject: str
    unverified_author: str = Field(
        description="the author as git recorded it (`Name <email>`): nobody authenticated it"
    )
    reviewed: bool = Field(description="reviewed on the day the release is judged on")
    reason: str = Field(
        description="why it does not count: " + ", ".join(r.value for r in NotReviewed) + "; empty when it does"
    )
    explanation: str
    review: int | None = Field(description="the review evidence that decides")
    reviewer: str
    accepted_by: str
    accepted_on: date | None
    reviews: list[ReviewConsidered]
    reviewed_today: bool = Field(description="whether it counts as reviewed today")
    today: str = Field(description="today's explanation")
    signature: str = Field(
        description="the verdict on its signature: verified (its author is the user whose key signed it), "
        "unverified, unsigned; empty when not checked yet"
    )
    signature_reason: str
    state: CommitState = Field(
        description="delivered: a client sent it and no scan has found it in the repository's history yet; "
        "reachable; unreachable: rewritten history no longer holds it"
    )


class LinkedCommit(BaseModel):
    """A commit whose trailers link evidence; `reachable` is false once history no longer holds it."""

    sha: str
    evidence: list[int]
    reachable: bool


class ReleaseCommitsOut(BaseModel):
    """A release's commits since the previous release, and their review coverage as of `judged_on` (a released
    release's date, else today), with today's count beside it."""

    product: str
    release: str
    previous: str | None
    released: bool
    judged_on: date | None
    commits: int
    reviewed: int
    reviewed_today: int
    summary: str
    reviewed_commits: list[CommitReviewOut]
    unreviewed: list[CommitReviewOut]
    evidence_linked: list[LinkedCommit]
    problems: list[str]

    @classmethod
    def of(cls, result: ReleaseCommits) -> ReleaseCommitsOut:
        """What `release commits --json`, the API and the commits page show."""
        return cls(
            product=result.product,
            release=result.release,
            previous=result.previous,
            released=result.released,
            judged_on=result.judged_on,
            commits=result.total,
            reviewed=len(result.reviewed),
            reviewed_today=result.reviewed_today,
            summary=review_summary(result),
            reviewed_commits=[CommitReviewOut.model_validate(c, from_attributes=True) for c in result.reviewed],
            unreviewed=[CommitReviewOut.model_validate(c, from_attributes=True) for c in result.unreviewed],
            evidence_linked=[LinkedCommit.model_validate(c) for c in result.evidence_linked],
            problems=result.problems,
        )


def review_summary(result: ReleaseCommits) -> str:
    """ "N of M commits reviewed", as of the release date for a released release, with today's count beside."""
    counted = f"{len(result.reviewed)} of {result.total} commits reviewed"
    if result.released and result.judged_on is not None:
        return f"{counted} as of the release date {result.judged_on.isoformat()} ({result.reviewed_today} today)"
    return counted


class TrailerOut(BaseModel):
    """One trailer of a commit message, as `git interpret-trailers --parse --no-divider` reads it."""

    key: str
    value: str


class CommitLinkOut(BaseModel):
    """Evidence a commit's trailer created or named."""

    evidence: int
    trailer: str


class CommitOut(BaseModel):
    """A stored commit: its state, what git recorded (unverified), its trailers and the evidence they made."""

    repository: str
    sha: str
    state: CommitState = Field(
        description="delivered: a client sent it and no scan has found it in the repository's history yet; "
        "reachable: a scan found it; unreachable: rewritten history no longer holds it"
    )
    parents: list[str]
    unverified_author: str = Field(description="`Name <email>` as git recorded it: nobody authenticated it")
    authored_at: datetime
    unverified_committer: str
    committed_at: datetime
    subject: str
    trailers: list[TrailerOut]
    evidence: list[CommitLinkOut]
    delivered_by: str | None = Field(description="who delivered it through the API, when a client did first")
    signature: str | None = Field(
        description="the signature header the object carries (gpgsig, gpgsig-sha256); null when unsigned"
    )
    signature_status: SignatureStatus | None = Field(
        description="verified: a valid signature by a key registered to the user whose e-mail is the author's; "
        "unverified (see signature_reason); unsigned; null: not checked yet"
    )
    signature_reason: str | None = Field(description="who verified it, or why it is not verified")
    signature_signer: str | None = Field(description="the signing key's fingerprint, when known")
    problems: list[str] = Field(description="trailers this delivery could not turn into evidence, and why")

    @classmethod
    def of(cls, view: CommitView) -> CommitOut:
        """A commit as the intake API answers it."""
        commit = view.commit
        return cls(
            repository=view.repository,
            sha=commit.sha,
            state=commit.state,
            parents=list(commit.parents),
            unverified_author=f"{commit.author_name} <{commit.author_email}>",
            authored_at=commit.authored_at,
            unverified_committer=f"{commit.committer_name} <{commit.committer_email}>",
            committed_at=commit.committed_at,
            subject=commit.subject,
            trailers=[TrailerOut(key=str(key), value=str(value)) for key, value in commit.trailers],
            evidence=[CommitLinkOut(evidence=evidence, trailer=trailer) for evidence, trailer in view.links],
            delivered_by=commit.delivered_by,
            signature=commit.signature,
            signature_status=SignatureStatus(commit.signature_status) if commit.signature_status else None,
            signature_reason=commit.signature_reason,
            signature_signer=commit.signature_signer,
            problems=list(view.problems),
        )


class DeliveryOut(BaseModel):
    """What became of one commit of a batch delivery."""

    sha: str
    result: Result = Field(
        description="stored (new), known (held already), refused (see problem; nothing stored) or deferred "
        "(send it again: the batch reached its bound of evidence items)"
    )
    commit: CommitOut | None
    problem: str

    @classmethod
    def of(cls, outcome: Outcome) -> DeliveryOut:
        """One item of a batch delivery's answer."""
        return cls(
            sha=outcome.sha,
            result=outcome.result,
            commit=CommitOut.of(outcome.view) if outcome.view else None,
            problem=outcome.problem,
        )


class SigningKeyOut(BaseModel):
    """A public key its owner signs commits with."""

    id: int
    kind: KeyKind
    fingerprint: str = Field(description="OpenPGP: the primary key's fingerprint; SSH: SHA256:… as ssh-keygen prints")
    label: str
    identities: list[str] = Field(description="the OpenPGP key's user ids, or the SSH key's comment")
    expires_at: datetime | None
    created_at: datetime
    public_key: str

    @classmethod
    def of(cls, key: SigningKey) -> SigningKeyOut:
        """A key as the API shows it."""
        return cls.model_validate(key, from_attributes=True)


class SigningKeyRemovedOut(BaseModel):
    """What removing a key changed."""

    id: int
    fingerprint: str
    commits_unverified: int = Field(description="commits the key had verified, unverified now")
