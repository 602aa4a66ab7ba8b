"""A release's CRA file as a whole: everything missing on a new release, each part recorded until nothing is, and
the checklist on the file's page, the readiness page, the API and `sdl-tracker cra check` (exit 1 while missing)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.cra.applicability import record_point
from sdl_tracker.cra.completeness import release_file
from sdl_tracker.cra.declarations import (
    DeclarationInput,
    UserInformationInput,
    record_declaration,
    record_user_information,
)
from sdl_tracker.cra.records import (
    RiskAssessmentInput,
    SupportPeriodInput,
    current_risk_assessment,
    record_risk_assessment,
    record_support_period,
)
from sdl_tracker.cra.rules import ALWAYS_APPLICABLE, ANNEX_I_POINTS, USER_INFORMATION_REFS, Area
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.products.models import Product, Release
from tests.factories import ApiClient, attach, csrf_token, login, make_product, make_release, member, signed_in

from .fixtures_points import pin

pytestmark = pytest.mark.db

OFFICER, DEVELOPER = "so@example.com", "dev@example.com"


@pytest.fixture
def plc(session: Session) -> Product:
    """A default-category PLC with a release 1.0, an officer and a developer."""
    product = make_product(session, "PLC", vendor="Example Industrial")
    make_release(session, product, "1.0")
    member(session, product, "security_officer", OFFICER)
    member(session, product, "developer", DEVELOPER)
    session.commit()
    return product


def person(session: Session, email: str) -> Principal:
    user = find_user(session, email)
    assert user is not None
    return principal_for(session, user)


def officer_of(session: Session, product: Product) -> Principal:
    return person(session, OFFICER)


def release_of(product: Product) -> Release:
    return next(r for r in product.releases if r.version == "1.0")


def accepted(session: Session, product: Product, title: str, kind: str = "other") -> int:
    """Evidence a developer attached and the officer accepted."""
    evidence = attach(session, person(session, DEVELOPER), product, title, kind=kind)
    review_evidence(session, officer_of(session, product), evidence.id, accept=True)
    return evidence.id


def fill_everything(session: Session, product: Product) -> None:
    """Every part of release 1.0's file, recorded through the services."""
    officer = officer_of(session, product)
    release = release_of(product)
    note = accepted(session, product, "Data handling and update commitments")
    for ref in ANNEX_I_POINTS:
        if ref == "I.2i":
            record_point(
                session,
                officer,
                release.id,
                ref,
                applicable=False,
                justification="The PLC offers no service other devices depend on.",
                measures="",
                evidence_ids=[],
            )
        else:
            record_point(
                session, officer, release.id, ref, applicable=True, justification="", measures="Described.",
                evidence_ids=[note],
            )  # fmt: skip
    upload = Upload("model.json", "application/json", io.BytesIO(b'{"threats": []}'))
    due = (date.today() + timedelta(days=180)).isoformat()
    model = EvidenceInput(
        title="PLC threat model",
        requirements=["SR-2"],
        files=[upload],
        details={"threats_total": 2, "next_review_due": due},
    )
    threat_model = create_evidence(
        session, person(session, DEVELOPER), product_id=product.id, kind="threat-model", data=model
    ).id
    review_evidence(session, officer, threat_model, accept=True)
    record_risk_assessment(
        session,
        officer,
        product.id,
        RiskAssessmentInput(
            intended_purpose="Control of a filling line.",
            foreseeable_use="Programmed from an engineering station in the plant network.",
            foreseeable_misuse="Connected directly to the internet.",
            operational_environment="Zone 2 of an IEC 62443-3-2 zone model.",
            assets="Process logic, recipes, credentials.",
            expected_use_months=180,
            threat_model_evidence_id=threat_model,
        ),
    )
    record_support_period(
        session,
        officer,
        product.id,
        SupportPeriodInput(
            starts_on=date(2026, 1, 1),
            ends_on=date(2040, 12, 1),
            ends_precision="month",
            expected_use_months=180,
            method="The expected use time of controllers of this class, from the installed base.",
            shorter_reason="",
            published_where="https://example.com/support",
        ),
    )
    record_user_information(
        session,
        officer,
        release.id,
        {ref: UserInformationInput(f"Text of {ref}.", None) for ref in USER_INFORMATION_REFS},
    )
    record_declaration(
        session,
        officer,
        release.id,
        DeclarationInput(
            manufacturer_name="Example Industrial",
            manufacturer_address="1 Factory Road, 12345 Town",
            representative="",
            product_identification="PLC, firmware 1.0",
            object_description="The PLC's firmware, version 1.0.",
            conformity_route="module_a",
            presumption_basis="",
            presumption_basis_reference="",
            notified_body_name="",
            notified_body_number="",
            certificate_reference="",
            other_standards=[],
            declaration_url="https://example.com/doc",
            place_of_issue="Town",
            date_of_issue=date(2026, 12, 1),
            signatory_name="A. Officer",
            signatory_function="Head of product security",
        ),
    )
    session.commit()


def test_a_new_release_lacks_every_part_of_its_file(session: Session, plc: Product) -> None:
    file = release_file(session, officer_of(session, plc), release_of(plc).id)
    assert not file.complete
    unassessed = [m.key for m in file.missing_in(Area.POINT)]
    assert unassessed == list(ANNEX_I_POINTS)
    assert [m.key for m in file.missing_in(Area.RISK)] == [""]
    assert [m.key for m in file.missing_in(Area.SUPPORT)] == [""]
    assert [m.key for m in file.missing_in(Area.USER_INFORMATION)] == list(USER_INFORMATION_REFS)
    assert [m.key for m in file.missing_in(Area.DECLARATION)] == [""]
    assert file.mapping.pinned == "2026.2" and not file.mapping.behind
    assert file.standards[:2] == ("IEC 62443-4-1:2018", "IEC 62443-4-2:2019")
    assert "not harmonised standards cited in the Official Journal" in file.standards_note


def test_a_file_with_every_part_recorded_lacks_nothing(session: Session, plc: Product) -> None:
    fill_everything(session, plc)
    file = release_file(session, officer_of(session, plc), release_of(plc).id)
    assert [m.message for m in file.missing] == []
    assert file.points_done == len(ANNEX_I_POINTS)
    assert file.user_information_done == file.user_information_total == len(USER_INFORMATION_REFS)


def test_a_point_backed_only_by_evidence_awaiting_review_is_incomplete(session: Session, plc: Product) -> None:
    fill_everything(session, plc)
    officer = officer_of(session, plc)
    release = release_of(plc)
    # II.8's accepted note is replaced by an item still awaiting review: free-of-charge updates are then unshown.
    pending = attach(session, officer, plc, "Free-of-charge update policy (draft awaiting review)")
    record_point(
        session, officer, release.id, "II.8", applicable=True, justification="", measures="Described.",
        evidence_ids=[pending.id],
    )  # fmt: skip
    file = release_file(session, officer, release.id)
    messages = [m.message for m in file.missing]
    assert any(m.startswith("Annex I Part II (8): needs other evidence (free-of-charge") for m in messages)
    assert all(m.startswith("Annex I Part II (8)") for m in messages)


def test_the_checklist_links_each_fix_and_shows_on_the_readiness_page(
    client: FlaskClient, session: Session, plc: Product
) -> None:
    release = release_of(plc)
    login(client, DEVELOPER)
    page = client.get(f"/releases/{release.id}/cra").get_data(as_text=True)
    assert "Annex I Part I (2)(d): applicability not assessed" in page
    assert f'href="/releases/{release.id}/cra/points/I.2d"' in page
    assert f'href="/products/{plc.id}/cra/risk-assessment"' in page
    assert f'href="/releases/{release.id}/cra/user-information#AII.8c"' in page
    readiness = client.get(f"/releases/{release.id}/readiness").get_data(as_text=True)
    assert 'id="cra"' in readiness and "missing</b> before it can be exported" in readiness
    fill_everything(session, plc)
    readiness = client.get(f"/releases/{release.id}/readiness").get_data(as_text=True)
    assert "<b>complete</b>: nothing is missing" in readiness


def test_the_api_and_the_command_line_say_what_is_missing(
    app: Flask, api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(plc)
    body = api.call("GET", f"/api/v1/releases/{release.id}/cra", api.as_user(DEVELOPER)).json
    assert body["complete"] is False and (body["mapping"]["pinned"], body["mapping"]["newer"]) == ("2026.2", [])
    assert {"area": "risk", "key": "", "message": "no cybersecurity risk assessment recorded (Art. 13(2))"} in body[
        "missing"
    ]
    assert [p["ref"] for p in body["points"]] == list(ANNEX_I_POINTS)
    runner = app.test_cli_runner()
    checked = runner.invoke(cli, ["cra", "check", "PLC", "1.0"])
    assert checked.exit_code == 1 and "no support period recorded (Art. 13(8))" in checked.output
    fill_everything(session, plc)
    assert runner.invoke(cli, ["cra", "check", "PLC", "1.0"]).exit_code == 0
    shown = runner.invoke(cli, ["cra", "show", "PLC", "1.0"])
    assert shown.exit_code == 0 and "complete: nothing is missing" in shown.output
    assert api.call("GET", f"/api/v1/releases/{release.id}/cra", api.as_user(DEVELOPER)).json["complete"] is True
    unknown = runner.invoke(cli, ["cra", "check", "PLC", "9.9"])
    assert unknown.exit_code == 2 and len(unknown.output.strip().splitlines()) == 1


def test_a_stranger_learns_nothing(api: ApiClient, session: Session, plc: Product) -> None:
    other = make_product(session, "Elsewhere")
    member(session, other, "security_officer", "stranger@example.com")
    session.commit()
    response = api.call("GET", f"/api/v1/releases/{release_of(plc).id}/cra", api.as_user("stranger@example.com"))
    assert response.status_code == 404


def test_always_applicable_points_are_the_issue_s() -> None:
    assert "I.1" in ALWAYS_APPLICABLE and all(ref in ALWAYS_APPLICABLE for ref in ANNEX_I_POINTS if ref[:3] == "II.")


def test_a_release_behind_the_newest_mapping_is_moved_on_from_its_file_page(
    app: Flask, session: Session, plc: Product
) -> None:
    release = release_of(plc)
    pin(session, release, "2026.1")
    session.commit()
    path = f"/releases/{release.id}/cra"
    page = signed_in(app, DEVELOPER).get(path).get_data(as_text=True)
    assert "assessed with mapping <b>2026.1</b> (newer: 2026.2)" in page and "Move 1.0 to this version" not in page
    officer = signed_in(app, OFFICER)
    assert "Move 1.0 to this version" in officer.get(path).get_data(as_text=True)
    token = csrf_token(officer, path)
    moved = officer.post(f"{path}/mapping", data={"csrf_token": token, "version": "2026.2", "next": path})
    assert moved.status_code == 302 and moved.headers["Location"].endswith(path)
    assert "assessed with mapping <b>2026.2</b></p>" in officer.get(path).get_data(as_text=True)


def test_a_risk_assessment_on_a_threat_model_awaiting_review_rests_on_nothing(session: Session, plc: Product) -> None:
    fill_everything(session, plc)
    officer = officer_of(session, plc)
    upload = Upload("model.json", "application/json", io.BytesIO(b'{"threats": [1]}'))
    due = (date.today() + timedelta(days=180)).isoformat()
    data = EvidenceInput(
        title="PLC threat model v2", requirements=["SR-2"], files=[upload],
        details={"threats_total": 3, "next_review_due": due},
    )  # fmt: skip
    draft = create_evidence(session, person(session, DEVELOPER), product_id=plc.id, kind="threat-model", data=data)
    current = current_risk_assessment(session, officer, plc.id)
    assert current is not None
    record_risk_assessment(
        session,
        officer,
        plc.id,
        RiskAssessmentInput(
            intended_purpose=current.intended_purpose,
            foreseeable_use=current.foreseeable_use,
            foreseeable_misuse=current.foreseeable_misuse,
            operational_environment=current.operational_environment,
            assets=current.assets,
            expected_use_months=current.expected_use_months,
            threat_model_evidence_id=draft.id,
        ),
    )
    [missing] = release_file(session, officer, release_of(plc).id).missing
    assert missing.message == "risk assessment: not resting on an accepted threat model of the product"
