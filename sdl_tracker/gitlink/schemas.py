"""Scan summaries and release commits as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from pydantic import BaseModel

from .services import ReleaseCommits, ScanSummary


class ScanSummaryOut(BaseModel):
    """What a repository scan did."""

    repository: str
    new_commits: int
    trailers: int
    evidence_created: int
    evidence_linked: int
    unreachable: int
    seconds: float
    problems: list[str]

    @classmethod
    def of(cls, summary: ScanSummary) -> ScanSummaryOut:
        """What `repo scan --json` prints."""
        return cls.model_validate(summary, from_attributes=True)


class UnreviewedCommit(BaseModel):
    """A commit without review evidence that counts."""

    sha: str
    subject: str
    author: str


class LinkedCommit(BaseModel):
    """A commit whose trailers link evidence; `reachable` is false once history no longer holds it."""

    sha: str
    evidence: list[int]
    reachable: bool


class ReleaseCommitsOut(BaseModel):
    """A release's commits since the previous release, and their review coverage."""

    product: str
    release: str
    previous: str | None
    commits: int
    reviewed: int
    summary: str
    unreviewed: list[UnreviewedCommit]
    evidence_linked: list[LinkedCommit]
    problems: list[str]

    @classmethod
    def of(cls, result: ReleaseCommits) -> ReleaseCommitsOut:
        """What `release commits --json`, the API and the commits page show."""
        return cls(
            product=result.product,
            release=result.release,
            previous=result.previous,
            commits=result.total,
            reviewed=len(result.reviewed),
            summary=f"{len(result.reviewed)} of {result.total} commits reviewed",
            unreviewed=[UnreviewedCommit.model_validate(c) for c in result.unreviewed],
            evidence_linked=[LinkedCommit.model_validate(c) for c in result.evidence_linked],
            problems=result.problems,
        )
