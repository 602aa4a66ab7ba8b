"""Trailers to evidence: each key's own kind and details, dated by the author date, delivered by the scan's
principal, and at most a bounded number of evidence items per commit and per write transaction."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.db import utcnow
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.models import Evidence, EvidenceKind
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gitlink import scan as scan_module
from sdl_tracker.gitlink.models import Commit, CommitEvidence
from sdl_tracker.gitlink.rules import MAX_EVIDENCE_PER_COMMIT
from sdl_tracker.gitlink.signals import psirt_case_named
from sdl_tracker.products.repositories import add_repository
from tests.factories import OPERATOR, make_product
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_scan import count, scan
from tests.psirt.test_cases import vulnerability

DEV = "Dana Developer <dev@example.com>"


def count_kind(session: Session, kind: EvidenceKind) -> int:
    return session.scalar(select(func.count()).select_from(Evidence).where(Evidence.kind == kind)) or 0


@pytest.fixture
def setup(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    return product, repo, repository


def test_each_trailer_creates_its_own_kind_filled_from_the_commit(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository = setup
    case = vulnerability(session, product)
    session.commit()
    sha = repo.commit(
        "Bound PDU lengths\n\n"
        "Security-Review: so@example.com\n"
        "Threat-Model: docs/threat-model.json\n"
        f"Fixes-PSIRT: {case.reference}\n"
        "Fuzzed-by: nightly-modbus\n",
        author=DEV,
        when="2026-03-04T09:30:00+01:00",
    )
    summary = scan(app, session, repository.id)
    assert (summary.evidence_created, summary.problems) == (4, [])
    found = {e.kind: e for e in session.scalars(select(Evidence).where(Evidence.kind != EvidenceKind.PROCESS_RECORD))}
    assert {kind: e.current.details for kind, e in found.items()} == {
        EvidenceKind.CODE_REVIEW: {
            "change": sha,
            "reviewer": "so@example.com",
            "cwe_top25_checked": False,
            "findings_total": 0,
            "findings_open": 0,
        },
        EvidenceKind.THREAT_MODEL_CHANGE: {"change": sha, "summary": "docs/threat-model.json"},
        EvidenceKind.PSIRT_FIX: {"case": case.reference, "change": sha},
        EvidenceKind.FUZZ_RUN: {"fuzzer": "nightly-modbus", "change": sha},
    }
    assert {kind: [r.ref for r in e.current.requirements] for kind, e in found.items()} == {
        EvidenceKind.CODE_REVIEW: ["SI-1"],
        EvidenceKind.THREAT_MODEL_CHANGE: ["SR-2"],
        EvidenceKind.PSIRT_FIX: ["DM-4"],
        EvidenceKind.FUZZ_RUN: ["SVV-3"],
    }
    for evidence in found.values():
        current = evidence.current
        assert current.effective_date.isoformat() == "2026-03-04"  # the author date, not the scan's
        assert current.author == DEV  # git's author, kept as the unverified identity
        assert current.submitted_by == OPERATOR.label and current.submitted_by_user_id is None  # who delivered it
        assert "not authenticated" in current.description


def test_a_future_author_date_dates_the_evidence_today(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit("From the future\n\nFuzzed-by: afl\n", when="2099-01-01T00:00:00Z")
    scan(app, session, repository.id)
    assert session.scalars(select(Evidence)).one().current.effective_date == utcnow().date()


def test_a_trailer_its_kind_cannot_hold_is_reported_and_nothing_made_of_it(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit(f"Fix\n\nThreat-Model: {'X' * 1001}\nFuzzed-by: afl\n")
    summary = scan(app, session, repository.id)
    assert summary.evidence_created == 1 and count(session, Evidence) == 1
    [problem] = summary.problems
    assert "Threat-Model" in problem and "details.summary" in problem


def test_without_a_case_register_a_fix_trailer_records_nothing_and_says_why(
    app: Flask,
    session: Session,
    setup,  # type: ignore[no-untyped-def]
) -> None:
    """gitlink alone cannot tell a real case from any text: the strict reading records no fix."""
    product, repo, repository = setup
    case = vulnerability(session, product)
    session.commit()
    sha = repo.commit(f"Fix\n\nFixes-PSIRT: {case.reference}\n")
    with psirt_case_named.muted():
        summary = scan(app, session, repository.id)
    assert summary.evidence_created == 0 and count_kind(session, EvidenceKind.PSIRT_FIX) == 0
    assert summary.problems == [
        f"{sha[:10]}: Fixes-PSIRT: case: no PSIRT case register is connected to confirm that the case exists"
    ]
    assert session.scalar(select(Commit.trailers).where(Commit.sha == sha)) == [["Fixes-PSIRT", case.reference]]


def test_one_commit_turns_at_most_the_bound_into_evidence_and_transactions_stay_small(
    app: Flask, session: Session, setup, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit("Init\n\nFuzzed-by: afl\n")
    flood = repo.commit("Fuzz everything\n\n" + "".join(f"Fuzzed-by: fuzzer-{n:04d}\n" for n in range(3000)))
    for n in range(30):
        repo.commit(f"Change {n}\n\nFuzzed-by: nightly\n")
    per_transaction: list[int] = []
    store = scan_module.store_commits

    def counting(session: Session, *args: Any, **kwargs: Any) -> Any:
        # Each call of store_commits is one write transaction of the scan.
        before = session.scalar(select(func.count()).select_from(Evidence)) or 0
        stored = store(session, *args, **kwargs)
        per_transaction.append((session.scalar(select(func.count()).select_from(Evidence)) or 0) - before)
        return stored

    monkeypatch.setattr(scan_module, "store_commits", counting)
    summary = scan(app, session, repository.id)
    assert summary.new_commits == 32 and summary.evidence_created == 1 + MAX_EVIDENCE_PER_COMMIT + 30
    assert max(per_transaction) <= scan_module.EVIDENCE_BATCH and sum(per_transaction) == summary.evidence_created
    assert summary.problems == [
        f"{flood[:10]}: 2,980 trailers beyond the 20 a commit may turn into evidence were not recorded"
        " (Fuzzed-by 2,980)"
    ]
    flood_id = session.scalar(select(Commit.id).where(Commit.sha == flood))
    linked = session.scalar(
        select(func.count()).select_from(CommitEvidence).where(CommitEvidence.commit_id == flood_id)
    )
    assert linked == MAX_EVIDENCE_PER_COMMIT
    assert (
        len(session.scalar(select(Commit.trailers).where(Commit.id == flood_id)) or []) == 3000
    )  # all kept on the commit


def test_the_trailer_kinds_schemas_refuse_what_they_cannot_hold(session: Session) -> None:
    product = make_product(session, "RTU")
    for kind, details, field in [
        ("fuzz-run", {"fuzzer": "afl"}, "details.change"),
        ("psirt-fix", {"change": "abc1234", "case": ""}, "details.case"),
        ("threat-model-change", {"change": "abc1234", "summary": "x", "extra": 1}, "details.extra"),
    ]:
        before = count(session, Evidence)
        with pytest.raises(Invalid) as caught:
            create_evidence(
                session,
                OPERATOR,
                product_id=product.id,
                kind=kind,
                data=EvidenceInput(
                    title="t",
                    requirements=["SVV-3"],
                    details=details,
                    files=[Upload("a.txt", "text/plain", io.BytesIO(b"a"))],
                ),
            )
        assert field in [e.field for e in caught.value.errors]
        assert count(session, Evidence) == before  # nothing written
