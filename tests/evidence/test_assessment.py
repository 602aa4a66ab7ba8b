"""Coverage, scoping, review intervals and the organisation's maturity through the database and every door."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from flask import Flask, url_for
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.db import utcnow
from sdl_tracker.errors import Forbidden, Invalid
from sdl_tracker.evidence.assessment import coverage, current_maturity, organisation_maturity, record_maturity
from sdl_tracker.evidence.coverage import CoverageState
from sdl_tracker.evidence.models import PracticeMaturity, ProductReviewInterval, RequirementScoping
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.scoping import accept_scoping, propose_scoping, withdraw_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.products.models import Product
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member, recorded_on


def _file() -> Upload:
    return Upload("x.txt", "text/plain", io.BytesIO(b"record"))


def _accepted(
    session: Session,
    author: Principal,
    reviewer: Principal,
    product: Product | None,
    kind: str,
    refs: list[str],
    **fields: object,
) -> int:
    evidence = create_evidence(
        session,
        author,
        product_id=product.id if product else None,
        kind=kind,
        data=EvidenceInput(title=f"{kind} {refs}", requirements=refs, files=[_file()], **fields),  # type: ignore[arg-type]
    )
    review_evidence(session, reviewer, evidence.id, accept=True)
    if isinstance(fields.get("effective_date"), date):
        recorded_on(session, evidence, fields["effective_date"])  # type: ignore[arg-type]  # made on the day it happened
    return evidence.id


def _cells(session: Session, actor: Principal, product: Product, release=None):  # type: ignore[no-untyped-def]
    """The coverage cells as of the real today: the records these tests make are made now."""
    return {c.ref: c for c in coverage(session, actor, product.id, release).cells}


def test_a_release_needs_its_process_and_its_own_records(session: Session) -> None:
    product = make_product(session)
    old = make_release(session, product, "1.0", status="released", release_date=date(2026, 3, 1))
    new = make_release(session, product, "2.0")
    officer, dev = member(session, product, "security_officer"), member(session, product, "developer")
    # One organisation-wide process document for everything, and an organisation-wide "record".
    _accepted(session, OPERATOR, officer, None, "process-document", ["SI-1", "SD-1", "DM-1", "DM-2"])
    _accepted(session, OPERATOR, officer, None, "process-record", ["SD-1"])
    review = _accepted(
        session, dev, officer, product, "code-review", ["SI-1"], release_versions=["1.0"],
        effective_date=date(2026, 2, 1), details={"change": "a..b", "reviewer": "Rita"},
    )  # fmt: skip
    on_new = _cells(session, officer, product, new)
    assert on_new["SI-1"].process.state is CoverageState.ACCEPTED and on_new["SI-1"].records.state is CoverageState.NONE
    assert not on_new["SI-1"].met  # the 1.0 review does not cover 2.0
    assert _cells(session, officer, product, old)["SI-1"].records.deciding == review
    assert on_new["SD-1"].records.state is CoverageState.NONE  # the organisation's record is not the product's
    assert on_new["SM-4"].state is CoverageState.NONE and len(on_new) == 47
    # DM: process in place, not exercised, until the product has an issue; then each needs its records.
    assert on_new["DM-1"].state is CoverageState.NOT_EXERCISED and on_new["DM-1"].met
    _accepted(session, OPERATOR, officer, None, "process-document", ["DM-4"])
    _accepted(
        session, dev, officer, product, "psirt-fix", ["DM-4"], details={"case": "PSIRT-2026-0001", "change": "abc1234"}
    )
    after = _cells(session, officer, product, new)
    # The fix is DM-4's record; it shows nothing of receiving (DM-1) or assessing the issue (DM-3).
    assert after["DM-4"].met and not after["DM-1"].met and not after["DM-3"].met
    assert after["DM-1"].next_step.startswith("Attach")


def test_a_released_release_is_judged_on_its_release_date_with_today_beside(session: Session) -> None:
    product = make_product(session)
    release = make_release(session, product, "1.0", status="released", release_date=date(2026, 3, 1))
    officer, dev = member(session, product, "security_officer"), member(session, product, "developer")
    _accepted(session, OPERATOR, officer, None, "process-document", ["SR-2"], effective_date=date(2026, 1, 5))
    _accepted(
        session, dev, officer, product, "threat-model", ["SR-2"], release_versions=["1.0"],
        effective_date=date(2026, 2, 1), details={"threats_total": 3, "next_review_due": "2026-06-01"},
    )  # fmt: skip
    today = utcnow().date()
    result = coverage(session, officer, product.id, release, today=today)
    judged = {c.ref: c for c in result.judged.cells}
    assert result.judged.as_of == date(2026, 3, 1) and judged["SR-2"].met
    assert result.current is not None and result.current.as_of == today
    assert {c.ref: c for c in result.current.cells}["SR-2"].state is CoverageState.EXPIRED


def test_tester_independence_through_every_door(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "developer", email="dev@example.com")
    _accepted(session, OPERATOR, officer, None, "process-document", ["SVV-4"])
    session.commit()
    token = api.as_user("dev@example.com")
    details = {"tool": "Red team", "scope": "fw", "findings": {"critical": 0, "high": 0}}
    metadata = {"kind": "penetration-test", "title": "Pen test", "requirements": ["SVV-4"], "releases": ["1.0"]}
    created = api.call(
        "POST",
        f"/api/v1/products/{product.id}/evidence",
        token,
        data={"metadata": json.dumps({**metadata, "tester_independence": "independent-person", "details": details}),
              "file": (io.BytesIO(b"r"), "r.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["current"]["tester_independence"] == "independent-person"
    bad = api.call(
        "POST",
        f"/api/v1/products/{product.id}/evidence",
        token,
        data={"metadata": json.dumps({**metadata, "kind": "other", "tester_independence": "independent-person"}),
              "file": (io.BytesIO(b"r"), "r.txt")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert bad.status_code == 422 and "test evidence" in bad.get_data(as_text=True)
    review_evidence(session, officer, body["id"], accept=True)
    session.commit()
    svv4 = _cells(session, officer, product)["SVV-4"]
    assert svv4.records.state is CoverageState.INSUFFICIENT and "below the minimum" in svv4.records.notes[0]
    runner = app.test_cli_runner()
    edited = runner.invoke(
        cli, ["evidence", "edit", str(body["id"]), "--tester-independence", "independent-department", "--as",
              "dev@example.com"],
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    refused = runner.invoke(cli, ["evidence", "edit", str(body["id"]), "--tester-independence", "sort-of"])
    assert refused.exit_code == 2
    shown = json.loads(runner.invoke(cli, ["evidence", "show", str(body["id"]), "--json"]).output)
    assert shown["current"]["tester_independence"] == "independent-department" and shown["current"]["number"] == 2
    added = runner.invoke(
        cli, ["evidence", "add", "P", "--kind", "requirements-test", "--title", "RT", "--requirement", "SVV-1",
              "--file", __file__, "--tester-independence", "independent-person", "--json"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["current"]["tester_independence"] == "independent-person"
    client = app.test_client()
    login(client, "dev@example.com")
    form = client.get(f"/products/{product.id}/evidence/new?kind=penetration-test").get_data(as_text=True)
    assert 'name="tester_independence"' in form and "Independent department" in form
    assert 'name="tester_independence"' not in client.get(
        f"/products/{product.id}/evidence/new?kind=design-review"
    ).get_data(as_text=True)
    page = client.get(f"/evidence/{body['id']}").get_data(as_text=True)
    assert "Tester independence" in page and "Independent department" in page


def test_scoping_out_needs_another_officers_acceptance(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    first = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    runner = app.test_cli_runner()
    with pytest.raises(Forbidden):
        propose_scoping(
            session, member(session, product, "developer"), product.id, requirement="SM-10", justification="x"
        )
    before = session.scalar(select(func.count()).select_from(RequirementScoping))
    with pytest.raises(Invalid) as caught:
        propose_scoping(session, first, product.id, requirement="XX-1", justification=" ")
    assert {e.field for e in caught.value.errors} == {"requirement", "justification"}
    assert session.scalar(select(func.count()).select_from(RequirementScoping)) == before
    proposed = runner.invoke(
        cli, ["evidence", "scope-out", "P", "SM-10", "--justification", "No third-party suppliers", "--as",
              "so@example.com"],
    )  # fmt: skip
    assert proposed.exit_code == 0, proposed.output
    scoping_id = int(proposed.output.strip())
    # Proposed: still in the denominator.
    assert coverage(session, first, product.id, None).judged.total == 47
    own = runner.invoke(cli, ["evidence", "scoping-accept", str(scoping_id), "--as", "so@example.com"])
    assert own.exit_code == 2 and "own scoping-out" in own.output
    accepted = api.call("POST", f"/api/v1/scoping/{scoping_id}/accept", api.as_user("so2@example.com"))
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    result = coverage(session, first, product.id, None)
    assert result.judged.total == 46 and {c.ref: c for c in result.cells}["SM-10"].state is CoverageState.SCOPED_OUT
    listed = json.loads(runner.invoke(cli, ["evidence", "scoping", "P", "--json"]).output)
    assert listed[0]["requirement"] == "SM-10" and listed[0]["accepted_by"].endswith(":so2@example.com")
    client = app.test_client()
    login(client, "so@example.com")
    path = f"/products/{product.id}/coverage"
    page = client.get(path).get_data(as_text=True)
    assert "No third-party suppliers" in page and "0 of 46 requirements met" in page
    withdrawn = client.post(
        f"/scoping/{scoping_id}/withdraw",
        data={"reason": "We now buy a TLS stack", "csrf_token": csrf_token(client, path)},
        follow_redirects=True,
    )  # fmt: skip
    assert "scoping-out withdrawn" in withdrawn.get_data(as_text=True)
    assert coverage(session, first, product.id, None).judged.total == 47
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("evidence:scoping:%"))))
    assert actions == {"evidence:scoping:propose", "evidence:scoping:accept", "evidence:scoping:withdraw"}
    session.expire_all()  # the web request changed the row
    with pytest.raises(Invalid):
        withdraw_scoping(session, first, scoping_id, reason="again")
    with pytest.raises(Invalid):
        accept_scoping(session, member(session, product, "security_officer"), scoping_id)


def test_maturity_is_the_organisations_and_bounded_by_evidence(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    other = make_product(session, "Q")
    officer = member(session, product, "security_officer", email="so@example.com")
    dev = member(session, product, "developer", email="dev@example.com")
    elsewhere = member(session, other, "security_officer", email="q@example.com")
    session.commit()
    today = utcnow().date()
    with pytest.raises(Invalid) as refused:
        record_maturity(session, officer, practice="SD", level=2, rationale="we design", assessed_on=today)
    message = refused.value.errors[0].message
    assert refused.value.errors[0].field == "level" and "at most ML1" in message and "SD-1" in message
    assert session.scalar(select(func.count()).select_from(PracticeMaturity)) == 0
    with pytest.raises(Forbidden):
        record_maturity(session, dev, practice="SD", level=1, rationale="x", assessed_on=today)
    _accepted(session, OPERATOR, officer, None, "process-document", ["SD-1", "SD-2", "SD-3", "SD-4"])
    record_maturity(session, elsewhere, practice="SD", level=2, rationale="documented", assessed_on=today)
    assert current_maturity(session)["SD"].level == 2 and current_maturity(session)["SD"].product_id is None
    with pytest.raises(Invalid) as refused:
        record_maturity(session, officer, practice="SD", level=3, rationale="practised", assessed_on=today)
    assert "ML3 needs accepted, current records of use" in refused.value.errors[0].message
    for ref in ("SD-1", "SD-2", "SD-4"):
        _accepted(session, dev, officer, product, "design-document", [ref], details={})
    make_release(session, product, "1.0")
    _accepted(session, dev, officer, product, "design-review", ["SD-3"], release_versions=["1.0"],
              details={"change": "design r1", "reviewer": "Ann"})  # fmt: skip
    views = {m.practice: m for m in organisation_maturity(session, officer)}
    assert views["SD"].organisation.level == 3 and 4 in views["SD"].organisation.missing
    on_q = {m.practice: m for m in coverage(session, elsewhere, other.id, None).maturity.values()}
    assert on_q["SD"].product is not None and on_q["SD"].product.level == 2  # Q's own evidence: processes only
    session.commit()
    token = api.as_user("so@example.com")
    recorded = api.call(
        "POST", "/api/v1/organisation/maturity", token,
        json={"practice": "SD", "level": 3, "rationale": "Design reviews per release", "assessed_on": "2026-12-01"},
    )  # fmt: skip
    assert recorded.status_code == 201
    sd = next(p for p in recorded.get_json()["practices"] if p["practice"] == "SD")
    assert sd["recorded"]["level"] == 3 and sd["organisation_supports"]["level"] == 3
    too_high = api.call(
        "POST", "/api/v1/organisation/maturity", token,
        json={"practice": "SD", "level": 4, "rationale": "x", "assessed_on": "2026-12-01"},
    )  # fmt: skip
    assert too_high.status_code == 422 and "SM-13" in too_high.get_data(as_text=True)
    runner = app.test_cli_runner()
    cli_refused = runner.invoke(cli, ["evidence", "maturity", "sr", "2", "--rationale", "r", "--as", "so@example.com"])
    assert cli_refused.exit_code == 2 and "SR-1" in cli_refused.output
    assert runner.invoke(cli, ["evidence", "maturity", "sr", "1", "--rationale", "start"]).exit_code == 0
    text = runner.invoke(cli, ["evidence", "coverage", "P"]).output
    assert "maturity SD: recorded ML3, organisation's evidence supports ML3, P's ML3" in text
    client = app.test_client()
    login(client, "so@example.com")
    path = f"/products/{product.id}/coverage"
    posted = client.post(
        path, data={"practice": "SD", "level": "4", "rationale": "r", "assessed_on": "2026-12-02",
                    "csrf_token": csrf_token(client, path)},
    )  # fmt: skip
    page = posted.get_data(as_text=True)
    assert "the evidence supports at most ML3 for SD" in page
    assert session.scalar(select(func.count()).select_from(PracticeMaturity)) == 3


def test_review_intervals_per_product(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    officer = member(session, product, "security_officer", email="so@example.com")
    dev = member(session, product, "developer", email="dev@example.com")
    _accepted(session, OPERATOR, officer, None, "process-document", ["SI-2"])
    _accepted(session, dev, officer, product, "static-analysis", ["SI-2"], effective_date=date(2026, 1, 10))
    session.commit()
    assert _cells(session, officer, product)["SI-2"].met  # static analysis: no default interval
    runner = app.test_cli_runner()
    assert (
        runner.invoke(
            cli, ["evidence", "review-interval", "P", "static-analysis", "6", "--as", "so@example.com"]
        ).exit_code
        == 0
    )
    si2 = _cells(session, officer, product)["SI-2"]
    assert si2.records.state is CoverageState.EXPIRED and "expired on 2026-07-10" in si2.records.notes[0]
    token = api.as_user("so@example.com")
    listed = api.call("GET", f"/api/v1/products/{product.id}/review-intervals", token).get_json()
    assert next(i for i in listed["items"] if i["kind"] == "static-analysis") == {
        "kind": "static-analysis", "default_months": None, "product_set": True, "months": 6,
    }  # fmt: skip
    bad = api.call("PUT", f"/api/v1/products/{product.id}/review-intervals/static-analysis", token, json={"months": 0})
    assert bad.status_code == 422
    unknown = api.call("PUT", f"/api/v1/products/{product.id}/review-intervals/poetry", token, json={"months": 3})
    assert unknown.status_code == 422
    assert (
        api.call("DELETE", f"/api/v1/products/{product.id}/review-intervals/static-analysis", token).status_code == 200
    )
    assert _cells(session, officer, product)["SI-2"].met
    assert runner.invoke(cli, ["evidence", "review-interval", "P", "threat-model", "soon"]).exit_code == 2
    client = app.test_client()
    login(client, "so@example.com")
    path = f"/products/{product.id}/review-intervals"
    saved = client.post(
        path, data={"kind": "process-document", "months": "never", "csrf_token": csrf_token(client, path)},
        follow_redirects=True,
    )  # fmt: skip
    assert "Review interval of process-document saved." in saved.get_data(as_text=True)
    row = session.get(ProductReviewInterval, (product.id, "process-document"))
    assert row is not None and row.months is None
    client = app.test_client()
    login(client, "dev@example.com")
    assert (
        client.post(path, data={"kind": "sbom", "months": "3", "csrf_token": csrf_token(client, path)}).status_code
        == 403
    )
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("evidence:interval:%"))))
    assert actions.count("evidence:interval:set") == 2 and actions.count("evidence:interval:reset") == 1


def test_coverage_doors_agree(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    token = api.as_user("so@example.com")
    body = api.call("GET", f"/api/v1/products/{product.id}/coverage?release=1.0", token).get_json()
    assert body["release"] == "1.0" and len(body["judged"]["requirements"]) == 47 and body["current"] is None
    first = body["judged"]["requirements"][0]
    assert first["process"]["state"] == "none" and first["suggested_kind"] == "process-document"
    runner = app.test_cli_runner()
    printed = json.loads(runner.invoke(cli, ["evidence", "coverage", "P", "--release", "1.0", "--json"]).output)
    assert printed == body
    text = runner.invoke(cli, ["evidence", "coverage", "P"]).output
    assert "SR   Specification of security requirements: 0/5 met" in text
    assert runner.invoke(cli, ["evidence", "coverage", "P", "--release", "9.9"]).exit_code == 2
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}/coverage?release=1.0").get_data(as_text=True)
    assert "0 of 47 requirements met (process and records of use) for this release" in page
    assert "kind=process-document" in page


def test_the_heat_map_links_what_url_for_links(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "2.0+b/7:x")  # characters a query string may leave as they are, or not
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    for version in (None, "2.0+b/7:x"):
        page = client.get(f"/products/{product.id}/coverage", query_string={"release": version} if version else {})
        with app.test_request_context():
            attach = url_for(
                "evidence.new", product_id=product.id, kind="process-document", requirements="SM-1", release=version
            )
        assert f'href="{escape(attach)}"' in page.get_data(as_text=True), version


def test_the_demo_comes_out_honest(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    shipped = json.loads(
        runner.invoke(cli, ["evidence", "coverage", "NW-PLC 5000 firmware", "--release", "4.2.0", "--json"]).output
    )
    assert shipped["current"] is not None  # released: judged on its release date, today's view beside
    for cell in shipped["judged"]["requirements"] + shipped["current"]["requirements"]:
        assert not cell["met"] or cell["process"]["state"] == "accepted"
        assert cell["records"]["state"] != "accepted" or cell["records"]["evidence"] is not None
    for practice in shipped["maturity"]:
        if practice["recorded"]:
            assert practice["recorded"]["level"] <= practice["organisation_supports"]["level"]


def test_the_kept_heat_map_moves_with_the_evidence_and_offers_attaching_only_to_those_who_may(
    app: Flask, session: Session
) -> None:
    """The heat map is rendered once and kept until the chain moves: a new record shows on the next view,
    and a reader who may not attach evidence never gets the links another reader's rendering had."""
    product = make_product(session, "P")
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "auditor", email="auditor@example.com")
    session.commit()
    path = f"/products/{product.id}/coverage"
    new_link = f'href="/products/{product.id}/evidence/new?'

    readers = {}
    for email in ("so@example.com", "auditor@example.com"):  # signed in first: a sign-in moves the chain too
        readers[email] = app.test_client()
        login(readers[email], email)

    def heat_map(email: str) -> str:
        page = readers[email].get(path).get_data(as_text=True)
        return page[page.index('<table class="heatmap') : page.index("</table>", page.index('<table class="heatmap'))]

    def next_step_of_sr2(email: str) -> str:  # the SR-2 row of "What to do next", kept like the heat map
        page = readers[email].get(path).get_data(as_text=True)
        steps = page[page.index("<h2>What to do next</h2>") : page.index("</section>", page.index("What to do next"))]
        return steps[steps.index("<b>SR-2</b>") : steps.index("</tr>", steps.index("<b>SR-2</b>"))]

    before = heat_map("so@example.com")
    assert new_link in before and "/evidence/" in before
    assert new_link not in heat_map("auditor@example.com")  # rendered (and kept) apart for a reader who may not
    for _ in range(2):
        assert new_link in next_step_of_sr2("so@example.com") and "state-accepted" not in next_step_of_sr2(
            "so@example.com"
        )
        assert new_link not in next_step_of_sr2("auditor@example.com")
    evidence_id = _accepted(
        session, officer, member(session, product, "security_officer"), product, "process-document", ["SR-2"]
    )
    session.commit()
    assert f'href="/evidence/{evidence_id}"' not in before
    assert f'href="/evidence/{evidence_id}"' in heat_map("so@example.com")
    assert f'href="/evidence/{evidence_id}"' in heat_map("auditor@example.com")
    assert "state-accepted" in next_step_of_sr2("so@example.com")  # the process is in place, the records are not
    assert "state-accepted" in next_step_of_sr2("auditor@example.com")
