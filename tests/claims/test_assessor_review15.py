"""An assessor's attempts to make the 4-2 vector overstate (review of issue 15)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy.orm import Session

from sdl_tracker.claims.judging import standing_of, vector_report
from sdl_tracker.claims.review import accept_claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.db import utcnow
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import OPERATOR, make_product, make_release, member

TODAY = utcnow().date()


def _test_report(session, product, officer, refs, versions=(), effective=None, independence=None):  # type: ignore[no-untyped-def]
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="requirements-test",
        data=EvidenceInput(
            title="tests",
            requirements=list(refs),
            release_versions=list(versions),
            effective_date=effective,
            tester_independence=independence,
            files=[Upload("r.txt", "text/plain", io.BytesIO(b"ok"))],
        ),
    )
    review_evidence(session, officer, evidence.id, accept=True)
    return evidence.id


def test_release_scoped_evidence_done_after_shipping_does_not_count_on_the_release_date(session: Session) -> None:
    """A released release is judged as of its release date; a test report dated after it did not exist
    then (coverage refuses it: `effective > as_of`), so it must not make a claim count on that date."""
    product = make_product(session)
    shipped = TODAY - timedelta(days=90)
    release = make_release(session, product, "1.0", status="released", release_date=shipped)
    officer = member(session, product, "security_officer")
    report = _test_report(session, product, officer, ["CR 1.1"], versions=["1.0"], effective=TODAY)
    claim = set_claim(
        session, officer, release.id, "CR 1.1", ClaimInput("implemented", "supplier_test", evidence_ids=[report])
    )
    standing = standing_of(session, claim)
    assert vector_report(session, officer, product.id, release.id).judged_on == shipped
    assert not standing.counts, "a test done 90 days after shipping counts for the shipped release as of its date"


def test_an_acceptance_given_after_shipping_does_not_count_on_the_release_date(session: Session) -> None:
    """Commit review refuses a review accepted after the release date (`accepted-later`); a claim's
    acceptance (a dated decision, `accepted_at`) given after shipping must not raise the shipped vector."""
    product = make_product(session, target_sl=dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 1))
    shipped = TODAY - timedelta(days=90)
    release = make_release(session, product, "1.0", status="released", release_date=shipped)
    first, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    set_claim(session, first, release.id, "CR 2.2", ClaimInput("not_applicable", justification="No radio at all"))
    accept_claim(session, second, release.id, "CR 2.2")  # today, 90 days after shipping
    report = vector_report(session, first, product.id, release.id)
    assert report.judged_on == shipped
    assert not report.standings["CR 2.2"].counts, "accepted after the release date, yet counts as of that date"
