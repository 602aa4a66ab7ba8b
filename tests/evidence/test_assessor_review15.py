"""An assessor's attempts to make 4-1 coverage overstate (review of issue 15)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy.orm import Session

from sdl_tracker.db import utcnow
from sdl_tracker.evidence.assessment import coverage
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.scoping import accept_scoping, propose_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import OPERATOR, make_product, make_release, member


def _accepted(session, author, reviewer, product, kind, refs, **fields):  # type: ignore[no-untyped-def]
    evidence = create_evidence(
        session,
        author,
        product_id=product.id if product else None,
        kind=kind,
        data=EvidenceInput(
            title=f"{kind} {refs}", requirements=refs, files=[Upload("x.txt", "text/plain", io.BytesIO(b"r"))], **fields
        ),
    )
    review_evidence(session, reviewer, evidence.id, accept=True)
    return evidence.id


def test_one_psirt_fix_is_not_the_record_of_receiving_assessing_and_disclosing(session: Session) -> None:
    """docs/assurance.md: once there is an occasion "each of DM-1..DM-5 needs its own records (the stricter
    reading: a fix alone does not show that the issue was received, assessed and disclosed)". One psirt-fix
    item that merely links DM-1..DM-5 must not turn all five green."""
    product = make_product(session)
    officer, dev = member(session, product, "security_officer"), member(session, product, "developer")
    dm = ["DM-1", "DM-2", "DM-3", "DM-4", "DM-5"]
    _accepted(session, OPERATOR, officer, None, "process-document", dm)
    _accepted(session, dev, officer, product, "psirt-fix", dm, details={"case": "PSIRT-1", "change": "abc1234"})
    cells = {c.ref: c for c in coverage(session, officer, product.id, None).cells}  # as of now, when they were made
    met = [ref for ref in dm if cells[ref].records.met]
    assert met == ["DM-4"], f"one fix record is taken as the records of {met}"


def test_a_scoping_out_accepted_after_shipping_does_not_shrink_the_shipped_figure(session: Session) -> None:
    """A released release is judged as of its release date. A requirement scoped out (SM-5) only after the
    release shipped was in scope on that date: the judged view must still count it in the denominator."""
    product = make_product(session)
    release = make_release(session, product, "1.0", status="released", release_date=date(2026, 3, 1))
    first, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    before = coverage(session, first, product.id, release).judged
    row = propose_scoping(session, first, product.id, requirement="SM-10", justification="No suppliers")
    accept_scoping(session, second, row.id)  # accepted now, long after 2026-03-01
    result = coverage(session, first, product.id, release)
    after = result.judged
    assert after.as_of == date(2026, 3, 1)
    assert result.current is not None and result.current.total == before.total - 1  # today's view does see it
    cell = next(c for c in after.cells if c.ref == "SM-10")
    assert (after.total, cell.state.value) == (before.total, "none"), "scoped out on the release date by a later act"


def test_records_made_after_shipping_do_not_raise_the_shipped_figure(session: Session) -> None:
    """A shipped release is judged as of its release date. A record entered and accepted only after it
    shipped, backdated to before that date (the submitter states the effective date; a trailer's is git's
    unauthenticated author date), was not on record then; commit review refuses the same case
    (`accepted-later`: recorded and accepted on or before the release date). Coverage must not count it."""
    today = utcnow().date()
    product = make_product(session)
    release = make_release(session, product, "1.0", status="released", release_date=today - timedelta(days=90))
    officer, dev = member(session, product, "security_officer"), member(session, product, "developer")
    _accepted(
        session, OPERATOR, officer, None, "process-document", ["SR-2"], effective_date=today - timedelta(days=200)
    )
    _accepted(
        session, dev, officer, product, "threat-model-change", ["SR-2"],
        effective_date=today - timedelta(days=100), details={"change": "abc1234", "summary": "late model"},
    )  # fmt: skip
    judged = coverage(session, officer, product.id, release, today=today).judged
    cell = next(c for c in judged.cells if c.ref == "SR-2")
    assert judged.as_of == today - timedelta(days=90)
    assert not cell.met, "a record entered and accepted 90 days after shipping makes the shipped release's SR-2 met"
