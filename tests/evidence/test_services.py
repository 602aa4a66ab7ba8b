"""Evidence services: every rule, the review, revisions, and the blob before its row."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.blobs import Blob, check_store, session_blobs
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.evidence import services as evidence_services
from sdl_tracker.evidence.models import Artifact, Evidence, EvidenceRevision, EvidenceScope, ReviewState
from sdl_tracker.evidence.queries import EvidenceQuery, get_artifact, list_evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence, revise_evidence, submit_evidence
from tests.factories import OPERATOR, make_product, make_release, make_user, member

TODAY = date(2026, 11, 26)


def upload(content: bytes = b"threat model v1", name: str = "model.json") -> Upload:
    return Upload(name, "application/json", io.BytesIO(content))


def attach(session: Session, actor, product, **changes):  # type: ignore[no-untyped-def]
    data = EvidenceInput(
        title="STRIDE model",
        requirements=["SR-2"],
        effective_date=TODAY - timedelta(days=3),
        files=[upload()],
        details={"threats_total": 5, "threats_open": 1, "threats_mitigated": 4},
    )
    kind = changes.pop("kind", "threat-model")
    if kind != "threat-model":
        data.details = None  # the default details are a threat model's
    for key, value in changes.pop("data", {}).items():
        setattr(data, key, value)
    return create_evidence(
        session,
        actor,
        product_id=product.id if product else None,
        kind=kind,
        data=data,
        today=TODAY,
        **changes,
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_developer_attaches_release_evidence(session: Session) -> None:
    product = make_product(session)
    make_release(session, product, "4.2.0")
    dev = member(session, product, "developer")
    evidence = attach(session, dev, product, data={"release_versions": ["4.2.0"], "requirements": ["SR-2", "SR-3"]})
    current = evidence.current
    assert evidence.scope is EvidenceScope.RELEASES and current.state is ReviewState.SUBMITTED
    assert [r.ref for r in current.requirements] == ["SR-2", "SR-3"]
    assert [r.version for r in current.releases] == ["4.2.0"]
    artifact = current.artifacts[0]
    assert artifact.size == 15 and len(artifact.blob_sha256) == 64
    with get_artifact(session, dev, artifact.id)[1] as stream:
        assert stream.read() == b"threat model v1"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:item:attach")).one()
    assert event.details["artifacts"][0]["sha256"] == artifact.blob_sha256


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"data": {"requirements": ["SR-99"]}}, "requirements"),
        ({"data": {"requirements": ["SM"]}}, "requirements"),  # a practice, not a requirement
        ({"data": {"effective_date": TODAY + timedelta(days=1)}}, "effective_date"),
        ({"data": {"title": " "}}, "title"),
        ({"data": {"files": []}}, "files"),
        ({"data": {"files": [Upload("empty.txt", "text/plain", io.BytesIO(b""))]}}, "file"),
        ({"kind": "horoscope"}, "kind"),
        ({"data": {"release_versions": ["9.9"]}}, "releases"),
    ],
)
def test_bad_input_writes_nothing(session: Session, changes: dict, field: str) -> None:
    product = make_product(session)
    before = (count(session, Evidence), count(session, Blob), count(session, AuditEvent))
    with pytest.raises(Invalid) as caught:
        attach(session, OPERATOR, product, **changes)
    assert field in {e.field for e in caught.value.errors}
    assert (count(session, Evidence), count(session, Blob), count(session, AuditEvent)) == before


def test_a_release_of_another_product_is_refused(session: Session) -> None:
    mine, other = make_product(session), make_product(session)
    make_release(session, other, "1.0")
    with pytest.raises(Invalid) as caught:
        attach(session, OPERATOR, mine, data={"release_versions": ["1.0"]})
    assert "has no release '1.0'" in caught.value.one_line()


def test_oversize_files_are_refused(session: Session) -> None:
    session_blobs(session).max_bytes = 10
    with pytest.raises(Invalid, match="larger than the limit"):
        attach(session, OPERATOR, make_product(session))
    assert count(session, Evidence) == 0


def test_identical_files_are_stored_once(session: Session) -> None:
    product = make_product(session)
    first, second = attach(session, OPERATOR, product), attach(session, OPERATOR, product)
    assert first.current.artifacts[0].blob_sha256 == second.current.artifacts[0].blob_sha256
    assert count(session, Blob) == 1 and count(session, Artifact) == 2


def test_editing_makes_a_revision_and_returns_accepted_evidence_to_review(session: Session) -> None:
    product = make_product(session)
    dev = member(session, product, "developer")
    officer = member(session, product, "security_officer")
    evidence = attach(session, dev, product)
    review_evidence(session, officer, evidence.id, accept=True)
    revision = revise_evidence(
        session,
        dev,
        evidence.id,
        data=EvidenceInput(title="STRIDE model, v2", files=[upload(b"threat model v2", "model-v2.json")]),
        today=TODAY,
    )
    assert revision.number == 2 and revision.state is ReviewState.SUBMITTED
    assert [a.filename for a in revision.artifacts] == ["model.json", "model-v2.json"]  # earlier files carried over
    first = evidence.revisions[0]
    assert first.state is ReviewState.ACCEPTED and first.title == "STRIDE model"  # history stays as it was
    with get_artifact(session, dev, first.artifacts[0].id)[1] as stream:
        assert stream.read() == b"threat model v1"


def test_review_rules(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    other_officer = member(session, product, "security_officer")
    dev = member(session, product, "developer")
    auditor = member(session, product, "auditor")
    evidence = attach(session, officer, product)
    with pytest.raises(Forbidden, match="own submission"):
        review_evidence(session, officer, evidence.id, accept=True)
    for not_a_reviewer in (dev, auditor):
        with pytest.raises(Forbidden):
            review_evidence(session, not_a_reviewer, evidence.id, accept=True)
    with pytest.raises(Forbidden, match="named reviewer"):
        review_evidence(session, OPERATOR, evidence.id, accept=True)
    with pytest.raises(Invalid, match="needs a reason"):
        review_evidence(session, other_officer, evidence.id, accept=False)
    rejected = review_evidence(session, other_officer, evidence.id, accept=False, reason="No data flow diagram.")
    assert rejected.state is ReviewState.REJECTED and rejected.reviewed_by == other_officer.label
    with pytest.raises(Invalid, match="only submitted"):
        review_evidence(session, other_officer, evidence.id, accept=True)
    resubmitted = revise_evidence(
        session, officer, evidence.id, data=EvidenceInput(description="DFD added"), today=TODAY
    )
    assert resubmitted.state is ReviewState.SUBMITTED
    assert review_evidence(session, other_officer, evidence.id, accept=True).state is ReviewState.ACCEPTED


def test_drafts_are_submitted_explicitly(session: Session) -> None:
    product = make_product(session)
    evidence = attach(session, OPERATOR, product, draft=True)
    assert evidence.current.state is ReviewState.DRAFT
    revise_evidence(session, OPERATOR, evidence.id, data=EvidenceInput(author="A. Author"), today=TODAY)
    assert evidence.current.state is ReviewState.DRAFT
    assert submit_evidence(session, OPERATOR, evidence.id).state is ReviewState.SUBMITTED
    with pytest.raises(Invalid, match="only a draft"):
        submit_evidence(session, OPERATOR, evidence.id)


def test_organisation_evidence(session: Session) -> None:
    product = make_product(session)
    make_release(session, product, "1.0")
    admin = principal_for(session, make_user(session, admin=True))
    officer = member(session, product, "security_officer")
    with pytest.raises(Forbidden):
        attach(session, officer, None, kind="process-document", data={"requirements": ["SM-1"]})
    evidence = attach(session, admin, None, kind="process-document", data={"requirements": ["SM-1"]})
    assert evidence.scope is EvidenceScope.ORGANISATION and evidence.product_id is None
    release = session.scalars(select(EvidenceRevision)).first()
    assert release is not None
    inherited = list_evidence(
        session, officer, EvidenceQuery(product.id, product.releases[0].id, include_organisation=True)
    )
    assert evidence in inherited  # every product inherits it
    assert evidence not in list_evidence(session, officer, EvidenceQuery(product.id))
    assert review_evidence(session, officer, evidence.id, accept=True).state is ReviewState.ACCEPTED


def test_release_lists(session: Session) -> None:
    product = make_product(session)
    for version in ("1.0", "2.0"):
        make_release(session, product, version)
    for_one = attach(session, OPERATOR, product, data={"release_versions": ["1.0"]})
    whole = attach(session, OPERATOR, product)
    two = product.releases[1]
    listed = list_evidence(session, OPERATOR, EvidenceQuery(product.id, two.id))
    assert whole in listed and for_one not in listed


def test_other_products_evidence_is_not_found(session: Session) -> None:
    mine, theirs = make_product(session), make_product(session)
    evidence = attach(session, OPERATOR, theirs)
    officer = member(session, mine, "security_officer")
    with pytest.raises(NotFound):
        review_evidence(session, officer, evidence.id, accept=True)
    with pytest.raises(NotFound):
        get_artifact(session, officer, evidence.current.artifacts[0].id)
    with pytest.raises(NotFound):
        revise_evidence(session, officer, evidence.id, data=EvidenceInput(title="mine now"), today=TODAY)


def test_a_failed_database_write_leaves_only_an_unreferenced_blob(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = make_product(session)
    session.commit()

    def broken_audit(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(evidence_services, "record", broken_audit)
    with pytest.raises(RuntimeError):
        attach(session, OPERATOR, product, data={"files": [upload(b"orphaned bytes")]})
    session.rollback()
    report = check_store(session)
    assert count(session, Evidence) == 0
    orphan = hashlib.sha256(b"orphaned bytes").hexdigest()
    # Other tests' rolled-back blobs share this store, so look for this one by name.
    assert report.missing == [] and report.corrupt == [] and orphan in report.unreferenced


def test_a_failed_blob_write_leaves_no_row(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    product = make_product(session)
    store = session_blobs(session)

    def full_disk(_stream: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "put", full_disk)
    with pytest.raises(OSError):
        attach(session, OPERATOR, product)
    session.rollback()
    assert count(session, Evidence) == 0 and count(session, Blob) == 0
    assert check_store(session).missing == []


def test_submitting_someone_elses_draft_does_not_make_it_theirs(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    developer = member(session, product, "developer")
    draft = attach(session, officer, product, draft=True)
    submit_evidence(session, developer, draft.id)
    with pytest.raises(Forbidden, match="own submission"):
        review_evidence(session, officer, draft.id, accept=True)  # the officer wrote it


def test_review_dates_are_checked(session: Session) -> None:
    product = make_product(session)
    with pytest.raises(Invalid) as caught:
        attach(session, OPERATOR, product, data={"review_due": TODAY - timedelta(days=30)})
    assert "review_due" in {e.field for e in caught.value.errors}
    make_release(session, product, "1.0", status="released")
    details = {"threats_total": 1, "next_review_due": (TODAY + timedelta(days=100)).isoformat()}
    with pytest.raises(Invalid) as caught:
        attach(session, OPERATOR, product, data={"details": details, "review_due": date(2099, 1, 1)})
    assert caught.value.errors[0].field == "review_due"
    ok = attach(session, OPERATOR, product, data={"details": details})
    assert ok.current.review_due == TODAY + timedelta(days=100)


def test_a_narrowed_token_brings_only_its_products_roles(session: Session) -> None:
    from dataclasses import replace

    mine, other = make_product(session), make_product(session)
    organisation = attach(session, OPERATOR, None, kind="process-document", data={"requirements": ["SM-1"]})
    officer = member(session, other, "security_officer", email="so@example.com")
    from sdl_tracker.accounts.services import add_member

    add_member(session, OPERATOR, mine.id, email="so@example.com", role="developer")
    from sdl_tracker.accounts.services import find_user

    user = find_user(session, "so@example.com")
    assert user is not None
    narrowed = replace(principal_for(session, user), token_products=frozenset({mine.id}))
    with pytest.raises(Forbidden):
        review_evidence(session, narrowed, organisation.id, accept=True)
    assert review_evidence(session, officer, organisation.id, accept=True).state is ReviewState.ACCEPTED


def test_tester_independence_is_kept_on_test_evidence_and_refused_on_other_kinds(session: Session) -> None:
    product = make_product(session)
    dev = member(session, product, "developer")
    evidence = attach(
        session, dev, product, kind="requirements-test", data={"tester_independence": "independent-department"}
    )
    assert evidence.current.tester_independence is not None
    assert evidence.current.tester_independence.value == "independent-department"
    revised = revise_evidence(session, dev, evidence.id, data=EvidenceInput(title="Retest"), today=TODAY)
    assert revised.tester_independence == evidence.revisions[0].tester_independence  # unchanged when not given
    before = count(session, Evidence)
    with pytest.raises(Invalid) as caught:
        attach(session, dev, product, data={"tester_independence": "independent-person"})
    assert "recorded on test evidence, not threat-model" in caught.value.one_line()
    with pytest.raises(Invalid) as caught:
        attach(session, dev, product, kind="penetration-test", data={"tester_independence": "a friend"})
    assert "unknown tester independence" in caught.value.one_line()
    assert count(session, Evidence) == before


def test_an_own_review_date_brings_the_review_forward_never_past_the_kinds_interval(session: Session) -> None:
    product = make_product(session)
    dev = member(session, product, "developer")
    effective = TODAY - timedelta(days=3)
    before = count(session, Evidence)
    with pytest.raises(Invalid) as caught:
        attach(session, dev, product, kind="process-document", data={"review_due": date(2099, 1, 1)})
    assert "process-document is reviewed at least every 24 months" in caught.value.one_line()
    assert count(session, Evidence) == before
    sooner = attach(session, dev, product, kind="process-document", data={"review_due": effective + timedelta(days=90)})
    assert sooner.current.review_due == effective + timedelta(days=90)
    # A record of an event has no interval: its own review date is the submitter's to set.
    test = attach(session, dev, product, kind="requirements-test", data={"review_due": date(2030, 1, 1)})
    assert test.current.review_due == date(2030, 1, 1)
