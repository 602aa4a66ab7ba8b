"""Scan summaries and release commits as JSON."""

from __future__ import annotations

from typing import Any

from .services import ReleaseCommits, ScanSummary


def summary_json(summary: ScanSummary) -> dict[str, Any]:
    """What `repo scan --json` prints."""
    return {
        "repository": summary.repository,
        "new_commits": summary.new_commits,
        "trailers": summary.trailers,
        "evidence_created": summary.evidence_created,
        "evidence_linked": summary.evidence_linked,
        "unreachable": summary.unreachable,
        "seconds": summary.seconds,
        "problems": summary.problems,
    }


def release_commits_json(result: ReleaseCommits) -> dict[str, Any]:
    """What `release commits --json` and the API give."""
    return {
        "product": result.product,
        "release": result.release,
        "previous": result.previous,
        "commits": result.total,
        "reviewed": len(result.reviewed),
        "summary": f"{len(result.reviewed)} of {result.total} commits reviewed",
        "unreviewed": result.unreviewed,
        "evidence_linked": result.evidence_linked,
        "problems": result.problems,
    }
