"""`Fixes-PSIRT:` trailers record DM-4 only for a real case of the commit's product: an exercise, a number no case
has, another product's case or text that names no case records nothing, and the delivery or the scan says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.products.models import Product, Repository
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case
from tests.factories import OPERATOR, ApiClient, make_product, member
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_intake import Hook, world  # noqa: F401 - the fixture
from tests.gitlink.test_scan import scan
from tests.psirt.test_cases import ago, vulnerability

pytestmark = pytest.mark.db

World = tuple[Product, GitRepo, Repository, Hook]  # the PLC's repository and the hook its developer delivers with


def opened(product: Product, session: Session, **facts: Any) -> PsirtCase:
    """A vulnerability case of `product` received five hours ago, opened by the operator with `facts`."""
    return create_case(
        session,
        OPERATOR,
        product.id,
        kind="vulnerability",
        title="Frame overflow",
        source="customer",
        received_at=ago(hours=5),
        facts=facts,
    )


def fixes(session: Session) -> list[Evidence]:
    """Every psirt-fix evidence item (DM-4 from a commit)."""
    return list(session.scalars(select(Evidence).where(Evidence.kind == "psirt-fix")))


# The review's finding, its assertions as it wrote them: it failed while any value became DM-4 evidence.
@pytest.mark.parametrize("named", ["exercise", "missing", "other-product"])
def test_a_fixes_psirt_trailer_records_dm4_only_for_a_real_case_of_the_product(
    session: Session, api: ApiClient, tmp_path: Path, named: str
) -> None:
    """A commit saying `Fixes-PSIRT: <an exercise>`, a number no case has, or another product's case records no
    DM-4 evidence of real handling (it used to, all the same)."""
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    member(session, product, "developer", email="dev@example.com")
    exercise = vulnerability(session, product, exercise=True)
    other = opened(make_product(session, "Gateway"), session)
    session.commit()
    reference = {
        "exercise": exercise.reference,
        "missing": f"PSIRT-{exercise.year}-9999",
        "other-product": other.reference,
    }[named]
    hook = Hook(api, product, "plc", api.as_user("dev@example.com", scopes=["commits:submit"]))
    sha = repo.commit(f"Bound the frame length\n\nFixes-PSIRT: {reference}\n")
    assert hook.send(repo, sha).status_code == 201
    fixes = session.scalar(select(func.count()).select_from(Evidence).where(Evidence.kind == "psirt-fix"))
    assert fixes == 0


def test_a_fix_of_a_real_case_of_the_product_records_dm4_once_under_the_cases_name(
    app: Flask,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    product, repo, repository, hook = world
    case = opened(product, session)
    session.commit()
    written = f"psirt-{case.year}-{case.number}"  # any letter case, without the zeros: the same case
    sha = repo.commit(f"Bound the frame length\n\nFixes-PSIRT: {written}\nFixes-PSIRT: {case.reference}\n")
    answer = hook.send(repo, sha)
    assert answer.status_code == 201, answer.get_json()
    view = answer.get_json()
    [fix] = fixes(session)
    assert fix.current.details == {"case": case.reference, "change": sha}
    assert fix.current.title == f"{case.reference} addressed in {sha[:10]}"
    assert [r.ref for r in fix.current.requirements] == ["DM-4"]
    assert [link["evidence"] for link in view["evidence"]] == [fix.id]
    assert view["problems"] == [
        f"{sha[:10]}: Fixes-PSIRT: case: {case.reference} is named twice by this commit: its fix is recorded once"
    ]
    assert [t["value"] for t in view["trailers"]] == [written, case.reference]  # kept as git has them
    found = scan(app, session, repository.id)  # the scan finds the delivered commit: stored and recorded once
    assert found.evidence_created == 0 and [f.id for f in fixes(session)] == [fix.id]


@pytest.mark.parametrize("named", ["exercise", "missing", "other-product", "garbage", "absurd"])
def test_a_trailer_naming_no_real_case_of_the_product_records_nothing_and_says_why(
    session: Session,
    world: World,  # noqa: F811
    named: str,
) -> None:
    product, repo, _repository, hook = world
    exercise = opened(product, session, exercise=True)
    other = opened(make_product(session, "Gateway"), session)
    session.commit()
    missing = f"PSIRT-{exercise.year:04d}-9999"
    value, reason = {
        "exercise": (exercise.reference, f"{exercise.reference} is an exercise, which counts for nothing"),
        "missing": (missing, f"no case {missing} of this product"),
        # Another product's case reads as one that does not exist: a trailer tells nothing of other products.
        "other-product": (other.reference, f"no case {other.reference} of this product"),
        "garbage": ("the frame overflow", "not a case reference: 'the frame overflow' (PSIRT-YYYY-NNNN)"),
        "absurd": (f"PSIRT-2026-{'9' * 5000}", f"not a case reference: 'PSIRT-2026-{'9' * 29}' (PSIRT-YYYY-NNNN)"),
    }[named]
    sha = repo.commit(f"Bound the frame length\n\nFixes-PSIRT: {value}\nFuzzed-by: nightly\n")
    answer = hook.send(repo, sha)
    assert answer.status_code == 201, answer.get_json()
    view = answer.get_json()
    problem = f"{sha[:10]}: Fixes-PSIRT: case: {reason}"
    assert view["problems"] == [problem]
    assert [link["trailer"] for link in view["evidence"]] == ["Fuzzed-by"]  # the commit's other trailers count
    assert fixes(session) == []
    assert session.scalar(select(Commit.trailers).where(Commit.sha == sha)) == [
        ["Fixes-PSIRT", value],
        ["Fuzzed-by", "nightly"],
    ]
    delivered = session.scalars(select(AuditEvent).where(AuditEvent.action == "gitlink:commit:deliver")).one()
    assert delivered.details["problems"] == [problem]


def test_a_scan_reports_why_a_fix_trailer_recorded_nothing(
    app: Flask,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    product, repo, repository, _hook = world
    exercise = opened(product, session, exercise=True)
    session.commit()
    sha = repo.commit(f"Tabletop fix\n\nFixes-PSIRT: {exercise.reference}\n")
    summary = scan(app, session, repository.id)
    assert summary.evidence_created == 0 and fixes(session) == []
    assert summary.problems == [
        f"{sha[:10]}: Fixes-PSIRT: case: {exercise.reference} is an exercise, which counts for nothing"
    ]
