"""Findings of a review that tried to break the VEX and CSAF feature as an attacker and as an assessor would, each
fixed and kept here: shared vulnerability rows that one product's case or import rewrote for all, an embargoed
case's facts shown to other products, release exports that stated embargoed or exercise cases, a vendor fix
that pointed backwards, publishing that depended on who published, and messages that were not one line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.errors import Invalid
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case, update_case
from sdl_tracker.vex.exports import release_vex
from sdl_tracker.vex.models import CsafProfile, VexDecision, Vulnerability
from sdl_tracker.vex.publishing import csaf_document
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, ApiClient, make_product, make_release, make_user, member
from tests.vex.cases import CVE, V31, decide, release_id
from tests.vex.test_importer import OFFICER, STRANGER, actor, osv_list, portfolio, run

pytestmark = pytest.mark.db


def new_case(session: Session, actor: Principal, product: Product, **facts: object) -> PsirtCase:
    return create_case(
        session,
        actor,
        product.id,
        kind="vulnerability",
        title="Overflow",
        source="internal",
        received_at=datetime.now(UTC) - timedelta(days=1),
        facts={"description": "A long frame overflows.", **facts},
    )


def test_a_cases_new_cve_moves_its_own_decisions_and_leaves_another_products_alone(
    session: Session, plc: Product, officer: Principal
) -> None:
    other = make_product(session, "Elsewhere")
    theirs = make_release(session, other, "9.0")
    their_officer = member(session, other, "security_officer")
    record_decision(session, their_officer, theirs.id, "CVE-2023-1111", DecisionInput("affected", action="Patch."))
    made = new_case(session, officer, plc, cve_ids=["CVE-2023-1111"])
    decide(session, officer, plc, made, "1.0", DecisionInput("fixed"))
    update_case(session, officer, made.id, {"cve_ids": ["CVE-2023-2222"]})
    decide(session, officer, plc, made, "1.1", DecisionInput("fixed"))
    session.expire_all()
    their_decision = session.scalars(select(VexDecision).where(VexDecision.release_id == theirs.id)).one()
    assert their_decision.vulnerability.name == "CVE-2023-1111"
    ours = session.scalars(select(VexDecision).where(VexDecision.release_id.in_([r.id for r in plc.releases]))).all()
    assert {d.vulnerability.name for d in ours} == {"CVE-2023-2222"}
    assert session.scalars(select(Vulnerability).where(Vulnerability.case_id == made.id)).one().name == "CVE-2023-2222"


def test_linking_a_case_keeps_what_an_import_knew_of_the_cve(app: Flask, session: Session) -> None:
    product = portfolio(session)
    run(app, osv_list("osv-GHSA-jfh8-c2jp-5v3q.json"))
    session.expire_all()
    before = session.scalars(select(Vulnerability).where(Vulnerability.name == "CVE-2021-44228")).one()
    known = (list(before.aliases), before.cvss_v31, list(before.cwe_ids))
    assert "GHSA-jfh8-c2jp-5v3q" in known[0] and known[1]
    officer = actor(session, OFFICER)
    made = new_case(session, officer, product, cve_ids=["CVE-2021-44228"])
    second = next(r for r in product.releases if r.version == "2.0")
    record_decision(session, officer, second.id, made.reference, DecisionInput("fixed"))
    session.expire_all()
    after = session.scalars(select(Vulnerability).where(Vulnerability.name == "CVE-2021-44228")).one()
    assert (list(after.aliases), after.cvss_v31, list(after.cwe_ids)) == known and after.case_id == made.id


def test_an_embargoed_cases_facts_stay_off_its_public_cve(
    app: Flask, session: Session, plc: Product, officer: Principal
) -> None:
    embargo = (date.today() + timedelta(days=30)).isoformat()
    aware = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    made = new_case(session, officer, plc, cve_ids=[CVE], cwe_ids=[787], cvss_v31=V31, embargo_until=embargo)
    update_case(session, officer, made.id, {"aware_at": aware})
    decide(session, officer, plc, made, "1.0", DecisionInput("affected", action="Update to 1.1."))
    other = make_product(session, "Elsewhere")
    member(session, other, "developer", "stranger@else.example")
    session.commit()
    api = ApiClient(app.test_client(), app)
    shown = api.call("GET", f"/api/v1/vulnerabilities/{CVE}", api.as_user("stranger@else.example"))
    assert shown.status_code == 200
    assert (shown.json["cvss_v31"], shown.json["cwe_ids"], shown.json["known_exploited"]) == ("", [], False)


def test_a_supplier_file_from_another_products_officer_changes_no_known_vulnerability(
    app: Flask, session: Session
) -> None:
    portfolio(session)
    run(app, osv_list("osv-GHSA-jfh8-c2jp-5v3q.json"))
    session.expire_all()
    log4j = session.scalars(select(Vulnerability).where(Vulnerability.name == "CVE-2021-44228")).one()
    before = (list(log4j.aliases), log4j.known_exploited, log4j.cvss_v31)
    tampering = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "vulnerabilities": [
            {
                "id": "CVE-2021-44228",
                "description": "Nothing to see.",
                "references": [{"id": "CVE-2020-25649", "source": {"name": "x"}}],
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "urn:cdx:x/1#pkg:npm/nothing-we-ship@1.0.0"}],
            },
            {
                "id": "CVE-2020-25649",
                "references": [{"id": "GHSA-jfh8-c2jp-5v3q", "source": {"name": "x"}}],
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "urn:cdx:x/1#pkg:npm/nothing-we-ship@1.0.0"}],
            },
        ],
    }
    run(app, json.dumps(tampering).encode(), "vex.json", actor(session, STRANGER))
    session.expire_all()
    log4j = session.scalars(select(Vulnerability).where(Vulnerability.name == "CVE-2021-44228")).one()
    assert (list(log4j.aliases), log4j.known_exploited, log4j.cvss_v31) == before
    jackson = session.scalars(select(Vulnerability).where(Vulnerability.name == "CVE-2020-25649")).one()
    assert jackson.aliases == [] and not jackson.known_exploited


@pytest.mark.parametrize("facts", [{"embargo_until": "future"}, {"exercise": True}])
def test_a_release_export_states_nothing_of_an_embargoed_case_or_an_exercise(
    session: Session, plc: Product, officer: Principal, facts: dict[str, object]
) -> None:
    if facts.get("embargo_until") == "future":
        facts = {"embargo_until": (date.today() + timedelta(days=30)).isoformat()}
    made = new_case(session, officer, plc, cve_ids=[CVE], cvss_v31=V31, **facts)
    decide(session, officer, plc, made, "1.0", DecisionInput("affected", action="Update to 1.1."))
    decide(session, officer, plc, made, "1.0", DecisionInput("affected", action="Update to 1.1."))
    record_decision(session, officer, release_id(session, plc, "1.0"), "CVE-2023-1111", DecisionInput("fixed"))
    exported = release_vex(session, officer, release_id(session, plc, "1.0"), format="csaf")
    assert exported.statements == 1 and exported.left_out == 1
    assert CVE not in exported.data.decode()


def test_a_fix_in_an_older_line_is_no_update_for_a_newer_affected_release(
    session: Session, plc: Product, officer: Principal
) -> None:
    made = new_case(session, officer, plc, cve_ids=[CVE], cvss_v31=V31)
    decide(session, officer, plc, made, "1.0", DecisionInput("fixed"))  # a backport
    decide(session, officer, plc, made, "1.1", DecisionInput("affected", action="Block port 502."))
    decide(session, officer, plc, made, "2.0", DecisionInput("fixed"))
    document = json.loads(csaf_document(session, officer, made.id, profile=CsafProfile.ADVISORY).content)
    (fix,) = [r for r in document["vulnerabilities"][0]["remediations"] if r["category"] == "vendor_fix"]
    assert fix["details"] == "Update to 2.0 or later." and fix["product_ids"] == ["CSAFPID-R:PLC:1.1"]


def test_publishing_a_case_reads_only_its_own_products_decisions_whoever_publishes(
    session: Session, plc: Product, officer: Principal, case: PsirtCase
) -> None:
    other = make_product(session, "Elsewhere")
    theirs = make_release(session, other, "9.0")
    make_release(session, other, "9.1")  # carries their decision forward, unconfirmed
    record_decision(session, OPERATOR, theirs.id, CVE, DecisionInput("affected", action="Patch."))
    make_release(session, other, "9.2")
    admin = Principal.operator("tests")
    assert make_user(session, "admin2@example.com", admin=True)
    for reader in (officer, admin):
        document = csaf_document(session, reader, case.id, profile=CsafProfile.VEX)
        assert document.refusals == () and document.left_out == 0, reader


def test_control_characters_never_reach_a_component_or_a_message(session: Session, plc: Product) -> None:
    officer = member(session, plc, "security_officer")
    for purl in ("pkg:npm/a%0a%1b%5b31m", "pkg:npm/%E2%80%AE", "pkg:npm/%00"):
        with pytest.raises(Invalid, match="no control or format characters"), session.begin_nested():
            record_decision(
                session, officer, release_id(session, plc, "1.0"), CVE, DecisionInput("fixed"), component=purl
            )
    assert "\n" not in Invalid.field("file", "bad id 'A\nB\x1b[31m'").one_line()
