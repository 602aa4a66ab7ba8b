"""Known vulnerabilities in: real OSV, KEV and supplier files (tests/vex/data/feeds) imported against releases whose
SBOMs hold the matching components; matches become decisions under investigation, supplier statements proposals,
officers' decisions stay; KEV marks; undecidable matches reported; a second import changes nothing; bad files and
actors refused with nothing written; and which releases a vulnerability affects."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import principal_for_email
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.evidence.services import Upload
from sdl_tracker.jobs.registry import DatabasePhases
from sdl_tracker.products.models import Product, Release
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.exports import release_vex
from sdl_tracker.vex.importer import ImportResult, import_feed
from sdl_tracker.vex.models import DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
from sdl_tracker.vex.queries import VulnerabilityFilter, affected_releases, list_vulnerabilities
from sdl_tracker.vex.rules import Status
from sdl_tracker.vex.schemas import ImportResultOut
from sdl_tracker.vex.services import DecisionInput, confirm_decision, delete_decision, record_decision
from tests.factories import OPERATOR, make_product, make_release, member

pytestmark = pytest.mark.db

FEEDS = Path(__file__).resolve().parent / "data" / "feeds"
OSV_FILES = (
    "osv-GHSA-jfh8-c2jp-5v3q.json",
    "osv-GHSA-35jh-r3h4-6jhm.json",
    "osv-GHSA-w596-4wvx-j9j6.json",
    "osv-GO-2021-0113.json",
    "osv-OSV-2023-162.json",
)
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"
LODASH = "pkg:npm/lodash"
PY = "pkg:pypi/py"
TEXT = "pkg:golang/golang.org/x/text"
LIBXML2 = "pkg:generic/libxml2"
JACKSON = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
OFFICER, DEVELOPER, STRANGER = "so@example.com", "dev@example.com", "other@example.com"


def bom(*purls: str) -> bytes:
    """A CycloneDX 1.6 SBOM of a firmware holding these components (purls with versions)."""
    components = [
        {
            "type": "library",
            "bom-ref": f"c{n}",
            "name": purl.rpartition("/")[2].partition("@")[0],
            "version": purl.rpartition("@")[2],
            "purl": purl,
        }
        for n, purl in enumerate(purls)
    ]
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "plc-firmware"}},
        "components": components,
    }
    return json.dumps(document).encode()


def shipping(session: Session, release: Release, *purls: str) -> None:
    import_sbom(session, OPERATOR, release.id, Upload("sbom.json", "", io.BytesIO(bom(*purls))))


def portfolio(session: Session) -> Product:
    """PLC 1.0 ships the vulnerable versions, PLC 2.0 the fixed ones; Elsewhere 3.0 (another product) ships a
    vulnerable lodash. PLC has an officer and a developer, Elsewhere an officer of its own."""
    product = make_product(session, "PLC")
    first, second = make_release(session, product, "1.0"), make_release(session, product, "2.0")
    elsewhere = make_product(session, "Elsewhere")
    third = make_release(session, elsewhere, "3.0")
    shipping(
        session,
        first,
        f"{LOG4J}@2.14.1",
        f"{LODASH}@4.17.20",
        f"{PY}@1.11.0",
        f"{TEXT}@v0.3.6",
        f"{LIBXML2}@2.11.0",
        f"{JACKSON}@2.10.0",
    )
    shipping(session, second, f"{LOG4J}@2.17.1", f"{LODASH}@4.17.21", f"{PY}@1.11.0")
    shipping(session, third, f"{LODASH}@4.17.20")
    member(session, product, "security_officer", OFFICER)
    member(session, product, "developer", DEVELOPER)
    member(session, elsewhere, "security_officer", STRANGER)
    session.commit()
    return product


@pytest.fixture
def plc(session: Session) -> Product:
    """The portfolio."""
    return portfolio(session)


def actor(session: Session, email: str) -> Principal:
    return principal_for_email(session, email, origin="tests")


def run(app: Flask, data: bytes, name: str = "feed.json", who: Principal = OPERATOR) -> ImportResult:
    return import_feed(DatabasePhases(app_db(app), who), data, name)


def osv_list(*names: str) -> bytes:
    return json.dumps([json.loads((FEEDS / n).read_bytes()) for n in names or OSV_FILES]).encode()


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def release(session: Session, product: str, version: str) -> Release:
    return session.scalars(
        select(Release).join(Product).where(Product.name == product, Release.version == version)
    ).one()


def decisions(session: Session, product: str = "PLC", version: str = "1.0") -> dict[tuple[str, str], VexDecision]:
    session.expire_all()
    found = session.scalars(select(VexDecision).where(VexDecision.release_id == release(session, product, version).id))
    return {(d.vulnerability.name, d.component_purl): d for d in found}


def counts(session: Session) -> tuple[int, int, int]:
    """Vulnerabilities, decisions, VEX audit events."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Vulnerability)) or 0,
        session.scalar(select(func.count()).select_from(VexDecision)) or 0,
        session.scalar(select(func.count()).where(AuditEvent.action.startswith("vex:"))) or 0,
    )


def vulnerability(session: Session, name: str) -> Vulnerability:
    session.expire_all()
    return session.scalars(select(Vulnerability).where(Vulnerability.name == name)).one()


# --- OSV ---------------------------------------------------------------------------------------------------------


def test_osv_matches_become_unconfirmed_decisions_under_investigation_in_every_release_shipping_them(
    app: Flask, session: Session, plc: Product
) -> None:
    result = run(app, osv_list(), "osv.json")
    assert (result.format, result.records) == ("osv-list", 5)
    assert (result.vulnerabilities_created, result.vulnerabilities_updated) == (5, 0)
    # PLC 1.0: log4j, lodash, py and x/text; Elsewhere 3.0: lodash. PLC 2.0 ships fixed versions, except py,
    # whose record is last_affected 1.11.0 (no fix).
    assert (result.decisions_proposed, result.skipped, result.undecidable) == (6, 0, 1)
    first = decisions(session)
    assert sorted(first) == [
        ("CVE-2021-23337", LODASH),
        ("CVE-2021-38561", TEXT),
        ("CVE-2021-44228", LOG4J),
        ("CVE-2022-42969", PY),
    ]
    assert all(
        (d.status, d.origin, d.confirmed, d.decided_by)
        == (Status.UNDER_INVESTIGATION, DecisionOrigin.MATCH, False, "cli:tests")
        for d in first.values()
    )
    assert sorted(decisions(session, "PLC", "2.0")) == [("CVE-2022-42969", PY)]
    assert sorted(decisions(session, "Elsewhere", "3.0")) == [("CVE-2021-23337", LODASH)]
    # The GIT range says nothing about versions: reported, never a decision.
    (undecided,) = result.undecidable_matches
    assert (undecided.vulnerability, undecided.product, undecided.release) == ("OSV-2023-162", "PLC", "1.0")
    assert undecided.component == "generic/libxml2@2.11.0" and "GIT range" in undecided.reason
    # Named by the one CVE among its ids, its own id an alias; CVSS scored and normalised; CWE ids kept.
    log4shell = vulnerability(session, "CVE-2021-44228")
    assert log4shell.aliases == ["GHSA-jfh8-c2jp-5v3q"] and log4shell.source is VulnerabilitySource.OSV
    assert log4shell.cvss_v31 == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert log4shell.cwe_ids == [20, 400, 502, 917] and "Log4j" in log4shell.title
    assert vulnerability(session, "CVE-2021-38561").aliases == ["GO-2021-0113", "GHSA-ppp9-7jff-5vj2"]
    assert vulnerability(session, "OSV-2023-162").aliases == []  # no CVE: its own id
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "vex:feed:import"))
    assert event.target_id == result.sha256 and event.details["file"] == "osv.json"
    assert event.details["decisions_proposed"] == 6 and event.details["format"] == "osv-list"
    creations = session.scalar(select(func.count()).where(AuditEvent.action == "vex:decision:create"))
    assert creations == 6


def test_importing_the_same_file_again_changes_nothing_and_audits_nothing(
    app: Flask, session: Session, plc: Product
) -> None:
    run(app, osv_list())
    before = counts(session)
    again = run(app, osv_list())
    assert counts(session) == before
    assert (again.vulnerabilities_created, again.vulnerabilities_updated, again.decisions_proposed) == (0, 0, 0)
    assert (again.decisions_unchanged, again.undecidable) == (6, 1)
    # One record at a time is the same as the list.
    for name in OSV_FILES:
        assert run(app, feed(name), name).decisions_proposed == 0
    assert counts(session) == before


def test_an_officers_decision_is_never_replaced_nor_one_carried_forward(
    app: Flask, session: Session, plc: Product
) -> None:
    officer = actor(session, OFFICER)
    first = release(session, "PLC", "1.0")
    kept = DecisionInput("not_affected", "vulnerable_code_not_in_execute_path", impact="JNDI lookups are disabled.")
    record_decision(session, officer, first.id, "CVE-2021-44228", kept, component=LOG4J)
    session.commit()
    result = run(app, osv_list())
    assert (result.decisions_proposed, result.skipped) == (5, 1)
    log4j = decisions(session)[("CVE-2021-44228", LOG4J)]
    assert (log4j.status, log4j.confirmed, log4j.origin) == (Status.NOT_AFFECTED, True, DecisionOrigin.OFFICER)
    assert log4j.decided_by == f"user:{OFFICER}"
    # A new release carries 1.0's decisions forward, unconfirmed: a match does not replace them either.
    later = make_release(session, plc, "1.1")
    shipping(session, later, f"{LOG4J}@2.14.1", f"{LODASH}@4.17.20")
    session.commit()
    again = run(app, osv_list())
    assert (again.decisions_proposed, again.skipped) == (0, 3)
    carried = decisions(session, "PLC", "1.1")[("CVE-2021-44228", LOG4J)]
    assert (carried.status, carried.origin) == (Status.NOT_AFFECTED, DecisionOrigin.CARRIED)


def test_a_withdrawn_record_and_ids_the_tracker_does_not_keep_are_reported_not_imported(
    app: Flask, session: Session, plc: Product
) -> None:
    withdrawn = json.loads(feed("osv-GHSA-35jh-r3h4-6jhm.json"))
    withdrawn["withdrawn"] = "2024-01-01T00:00:00Z"
    odd = json.loads(feed("osv-OSV-2023-162.json"))
    odd["id"] = "not an id"
    broken_vector = json.loads(feed("osv-GHSA-w596-4wvx-j9j6.json"))
    broken_vector["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"}]
    result = run(app, json.dumps([withdrawn, odd, broken_vector]).encode())
    assert result.vulnerabilities_created == 1 and result.decisions_proposed == 2  # py in 1.0 and 2.0
    assert any("withdrawn" in w for w in result.warnings)
    assert any(w.startswith("not an id: not imported") for w in result.warnings)
    assert any("CVSS vector" in w and "3.0" in w for w in result.warnings)
    assert vulnerability(session, "CVE-2022-42969").cvss_v31 == ""


def test_a_record_withdrawn_later_retracts_its_unconfirmed_matches_and_keeps_confirmed_ones(
    app: Flask, session: Session, plc: Product
) -> None:
    assert run(app, osv_list("osv-GHSA-35jh-r3h4-6jhm.json")).decisions_proposed == 2  # PLC 1.0, Elsewhere 3.0
    kept = decisions(session, "PLC", "1.0")[("CVE-2021-23337", LODASH)]
    confirm_decision(session, actor(session, OFFICER), kept.id)
    session.commit()
    withdrawn = json.loads(feed("osv-GHSA-35jh-r3h4-6jhm.json"))
    withdrawn["withdrawn"] = "2024-01-01T00:00:00Z"
    result = run(app, json.dumps([withdrawn]).encode())
    assert (result.retracted, result.decisions_proposed) == (1, 0)
    assert ("CVE-2021-23337", LODASH) not in decisions(session, "Elsewhere", "3.0")
    assert decisions(session, "PLC", "1.0")[("CVE-2021-23337", LODASH)].confirmed
    deleted = session.scalars(select(AuditEvent).where(AuditEvent.action == "vex:decision:delete")).all()
    assert len(deleted) == 1 and deleted[0].details["old"]["origin"] == "match"
    assert run(app, json.dumps([withdrawn]).encode()).retracted == 0  # nothing left to retract


# --- KEV ---------------------------------------------------------------------------------------------------------


def test_the_kev_catalog_marks_vulnerabilities_known_exploited_before_and_after_osv(
    app: Flask, session: Session, plc: Product
) -> None:
    run(app, feed("osv-GHSA-jfh8-c2jp-5v3q.json"))
    kev = run(app, feed("kev-trimmed.json"), "known_exploited_vulnerabilities.json")
    assert (kev.format, kev.records, kev.known_exploited) == ("kev", 3, 3)
    assert (kev.vulnerabilities_created, kev.vulnerabilities_updated, kev.decisions_proposed) == (2, 1, 0)
    log4shell = vulnerability(session, "CVE-2021-44228")
    assert (log4shell.known_exploited, log4shell.kev_date_added) == (True, date(2021, 12, 10))
    assert log4shell.source is VulnerabilitySource.OSV and log4shell.aliases == ["GHSA-jfh8-c2jp-5v3q"]
    git = vulnerability(session, "CVE-2025-48384")
    assert git.source is VulnerabilitySource.KEV and git.known_exploited and git.title
    # KEV first, then OSV: the record lands on the catalog's row, takes its facts, stays known exploited.
    assert run(app, feed("kev-trimmed.json")).vulnerabilities_updated == 0
    log4j_2 = json.loads(feed("osv-GHSA-jfh8-c2jp-5v3q.json"))
    log4j_2["id"], log4j_2["aliases"] = "GHSA-7rjr-3q55-vv33", ["CVE-2021-45046"]
    osv = run(app, json.dumps(log4j_2).encode())
    assert (osv.vulnerabilities_created, osv.vulnerabilities_updated, osv.known_exploited) == (0, 1, 1)
    second = vulnerability(session, "CVE-2021-45046")
    assert second.source is VulnerabilitySource.KEV and second.kev_date_added == date(2023, 5, 1)
    assert second.aliases == ["GHSA-7rjr-3q55-vv33"] and second.cvss_v31
    assert ("CVE-2021-45046", LOG4J) in decisions(session)


# --- suppliers' VEX ----------------------------------------------------------------------------------------------


def test_a_suppliers_cyclonedx_statement_is_a_proposal_an_officer_confirms(
    app: Flask, session: Session, plc: Product
) -> None:
    result = run(app, feed("cyclonedx-vex.json"), "supplier.cdx.json")
    assert (result.format, result.decisions_proposed, result.vulnerabilities_created) == ("cyclonedx", 1, 1)
    proposal = decisions(session)[("CVE-2020-25649", JACKSON)]
    assert (proposal.status, proposal.origin, proposal.confirmed) == (
        Status.NOT_AFFECTED,
        DecisionOrigin.SUPPLIER,
        False,
    )
    assert proposal.justification is not None and proposal.justification.value == "vulnerable_code_not_in_execute_path"
    assert proposal.impact.startswith("Automated dataflow analysis")
    confirmed = confirm_decision(session, actor(session, OFFICER), proposal.id)
    session.commit()
    assert confirmed.confirmed and confirmed.decided_by == f"user:{OFFICER}"
    again = run(app, feed("cyclonedx-vex.json"))
    assert (again.decisions_proposed, again.skipped) == (0, 1)


def test_a_suppliers_statement_replaces_a_match_and_the_suppliers_next_document_replaces_it(
    app: Flask, session: Session, plc: Product
) -> None:
    run(app, osv_list("osv-GHSA-35jh-r3h4-6jhm.json"))
    document = json.loads(feed("cyclonedx-vex.json"))
    statement = document["vulnerabilities"][0]
    statement["id"], statement["references"] = "CVE-2021-23337", []
    statement["affects"] = [{"ref": f"{LODASH}@4.17.20"}]
    result = run(app, json.dumps(document).encode())
    assert (result.decisions_proposed, result.skipped) == (2, 0)  # PLC 1.0 and Elsewhere 3.0
    replaced = decisions(session)[("CVE-2021-23337", LODASH)]
    assert (replaced.status, replaced.origin) == (Status.NOT_AFFECTED, DecisionOrigin.SUPPLIER)
    statement["analysis"] = {"state": "exploitable", "response": ["update"]}
    statement["recommendation"] = "Update lodash to 4.17.21."
    newer = run(app, json.dumps(document).encode())
    assert newer.decisions_proposed == 2
    now = decisions(session)[("CVE-2021-23337", LODASH)]
    assert (now.status, now.action, now.confirmed) == (Status.AFFECTED, "Update lodash to 4.17.21.", False)
    # The match comes back with the next OSV import: it does not replace the supplier's statement.
    assert run(app, osv_list("osv-GHSA-35jh-r3h4-6jhm.json")).skipped == 2


def test_csaf_statements_become_proposals_or_are_reported_unused(app: Flask, session: Session, plc: Product) -> None:
    # As published, neither CSAF example names a purl: nothing matches, every statement is listed.
    plain = run(app, feed("csaf-vex-sec-vex-2022-0001.json"))
    assert (plain.records, plain.unused, plain.decisions_proposed) == (3, 3, 0)
    assert all("names no purl" in u.reason for u in plain.unused_statements)
    assert [u.vulnerability for u in plain.unused_statements] == ["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"]
    assert plain.vulnerabilities_created == 3  # the vulnerabilities a file names become known all the same
    # With a purl helper on its product (as a supplier's SBOM-aware CSAF has), the statements apply.
    document = json.loads(feed("csaf-vex-2022-evd-uc-03-ms-001.json"))
    product = document["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
    product["product_identification_helper"] = {"purl": f"{LODASH}@4.17.20"}
    result = run(app, json.dumps(document).encode(), "evd.json")
    by_status: dict[Status, int] = {}
    for d in decisions(session).values():
        assert d.origin is DecisionOrigin.SUPPLIER and not d.confirmed
        by_status[d.status] = by_status.get(d.status, 0) + 1
    # Its not-affected statements give an impact but no flag: no decision can carry them without a justification.
    assert Status.NOT_AFFECTED not in by_status and by_status[Status.AFFECTED] >= 1
    assert result.unused == sum(1 for u in result.unused_statements if "justification" in u.reason) > 0
    assert result.decisions_proposed == 2 * sum(by_status.values())  # PLC 1.0 and Elsewhere 3.0


def test_a_document_that_contradicts_itself_decides_nothing_there(app: Flask, session: Session, plc: Product) -> None:
    document = json.loads(feed("cyclonedx-vex.json"))
    statement = document["vulnerabilities"][0]
    statement["affects"] = [
        {"ref": JACKSON, "versions": [{"range": "vers:maven/>=2.0.0|<2.11.0"}]},
        {"ref": JACKSON, "versions": [{"version": "2.10.0", "status": "unaffected"}]},
    ]
    result = run(app, json.dumps(document).encode())
    assert (result.decisions_proposed, result.undecidable) == (0, 1)
    assert "different statements" in result.undecidable_matches[0].reason


# --- bad files and actors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "not valid JSON"),
        (bom(f"{LODASH}@4.17.20"), "an SBOM, not a VEX"),
        (b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}', "OpenVEX"),
        (b"[]", "empty JSON list"),
        (json.dumps([{"id": "GHSA-35jh-r3h4-6jhm", "modified": "yesterday"}]).encode(), "'modified'"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_and_nothing_is_written(
    app: Flask, session: Session, plc: Product, content: bytes, says: str
) -> None:
    before = counts(session)
    with pytest.raises(Invalid) as caught:
        run(app, content)
    assert says in caught.value.one_line() and "\n" not in caught.value.one_line()
    assert caught.value.errors[0].field == "file"
    assert counts(session) == before


def test_who_may_import_what(app: Flask, session: Session, plc: Product) -> None:
    before = counts(session)
    with pytest.raises(Forbidden):
        run(app, feed("cyclonedx-vex.json"), who=actor(session, DEVELOPER))
    officer = actor(session, OFFICER)
    for name in ("kev-trimmed.json", "osv-GHSA-35jh-r3h4-6jhm.json"):
        with pytest.raises(Forbidden, match="only administrators import OSV"):
            run(app, feed(name), who=officer)
    narrowed = Principal(label="token:x", is_admin=True, scopes=frozenset())
    with pytest.raises(Forbidden, match="vex:decide"):
        run(app, feed("kev-trimmed.json"), who=narrowed)
    assert counts(session) == before
    # An officer imports a supplier's VEX for their own product's releases only.
    document = json.loads(feed("cyclonedx-vex.json"))
    document["vulnerabilities"][0]["affects"] = [{"ref": f"{LODASH}@4.17.20"}]
    result = run(app, json.dumps(document).encode(), who=officer)
    assert result.decisions_proposed == 1
    assert ("CVE-2020-25649", LODASH) in decisions(session)
    assert decisions(session, "Elsewhere", "3.0") == {}


def test_the_result_is_what_the_api_and_the_job_publish(app: Flask, session: Session, plc: Product) -> None:
    result = run(app, osv_list())
    published = ImportResultOut.of(result).model_dump(mode="json")
    assert published == json.loads(json.dumps(asdict(result)))


# --- which releases does it affect -------------------------------------------------------------------------------


def test_which_releases_a_vulnerability_affects_by_name_or_alias(app: Flask, session: Session, plc: Product) -> None:
    run(app, osv_list())
    run(app, feed("kev-trimmed.json"))
    officer = actor(session, OFFICER)
    record_decision(
        session,
        officer,
        release(session, "PLC", "1.0").id,
        "CVE-2021-23337",
        DecisionInput("affected", action="Update to 2.0."),
        component=LODASH,
    )
    session.commit()
    everything = affected_releases(session, OPERATOR, "cve-2021-23337")
    assert everything.vulnerability.name == "CVE-2021-23337" and everything.exposed
    assert [(s.release.product.name, s.release.version) for s in everything.groups[Status.AFFECTED]] == [("PLC", "1.0")]
    assert [s.release.version for s in everything.groups[Status.UNDER_INVESTIGATION]] == ["3.0"]
    (plc_standing,) = everything.groups[Status.AFFECTED]
    assert plc_standing.confirmed and [d.component_purl for d in plc_standing.decisions] == [LODASH]
    # A member of PLC does not see Elsewhere's releases; an officer of Elsewhere does not see PLC's.
    assert [
        s.release.version
        for s in affected_releases(session, officer, "CVE-2021-23337").groups[Status.UNDER_INVESTIGATION]
    ] == []
    theirs = affected_releases(session, actor(session, STRANGER), "CVE-2021-23337")
    assert theirs.groups[Status.AFFECTED] == [] and [
        s.release.version for s in theirs.groups[Status.UNDER_INVESTIGATION]
    ] == ["3.0"]
    # By an alias: the GHSA id names the CVE's row; known exploited through KEV.
    by_alias = affected_releases(session, officer, "GHSA-jfh8-c2jp-5v3q")
    assert by_alias.vulnerability.name == "CVE-2021-44228" and by_alias.known_exploited
    assert by_alias.kev_date_added == date(2021, 12, 10)
    # Known, but no decision in the reader's releases: not exposed.
    quiet = affected_releases(session, officer, "CVE-2025-48384")
    assert not quiet.exposed and not any(quiet.groups.values())
    with pytest.raises(NotFound):
        affected_releases(session, officer, "CVE-1999-0001")
    with pytest.raises(Invalid):
        affected_releases(session, officer, "not a CVE")


def test_the_known_vulnerabilities_with_their_counts(app: Flask, session: Session, plc: Product) -> None:
    run(app, osv_list())
    run(app, feed("kev-trimmed.json"))
    officer = actor(session, OFFICER)
    listed, total = list_vulnerabilities(session, officer, VulnerabilityFilter(), page=1, per_page=50)
    assert total == 4 and listed[0].vulnerability.name == "CVE-2021-44228"  # known exploited first
    py = next(k for k in listed if k.vulnerability.name == "CVE-2022-42969")
    assert py.releases[Status.UNDER_INVESTIGATION] == 2  # PLC 1.0 and 2.0
    everything, total = list_vulnerabilities(session, officer, VulnerabilityFilter(everything=True), page=1, per_page=2)
    assert total == 7 and len(everything) == 2
    log4j = list_vulnerabilities(session, officer, VulnerabilityFilter("log4j", everything=True), page=1, per_page=9)
    assert [k.vulnerability.name for k in log4j[0]] == ["CVE-2021-44228", "CVE-2021-45046"]  # titles, OSV and KEV
    found = list_vulnerabilities(session, officer, VulnerabilityFilter("GHSA-35jh"), page=1, per_page=9)
    assert [k.vulnerability.name for k in found[0]] == ["CVE-2021-23337"]
    exploited = list_vulnerabilities(
        session, officer, VulnerabilityFilter(everything=True, exploited=True), page=1, per_page=9
    )
    assert exploited[1] == 3
    stranger = list_vulnerabilities(session, actor(session, STRANGER), VulnerabilityFilter(), page=1, per_page=9)
    assert [k.vulnerability.name for k in stranger[0]] == ["CVE-2021-23337"]


@pytest.mark.parametrize("fmt", ["cyclonedx", "csaf"])
def test_our_own_vex_imported_as_a_suppliers_gives_the_same_decisions(app: Flask, session: Session, fmt: str) -> None:
    product = make_product(session, "Gateway", vendor="Example Automation", cvd_policy_url="https://example.com/cvd")
    gateway = make_release(session, product, "1.0")
    document = json.loads(bom(f"{LODASH}@4.17.20", f"{TEXT}@v0.3.6", f"{LOG4J}@2.14.1", f"{JACKSON}@2.10.0"))
    document["metadata"]["component"] |= {"version": "1.0", "purl": "pkg:generic/example/gateway@1.0"}
    import_sbom(session, OPERATOR, gateway.id, Upload("sbom.json", "", io.BytesIO(json.dumps(document).encode())))
    made = {
        LODASH: DecisionInput(
            "not_affected", "vulnerable_code_cannot_be_controlled_by_adversary", "requires_configuration", "Debug only."
        ),
        TEXT: DecisionInput("not_affected", "component_not_present", impact="Not linked in."),
        LOG4J: DecisionInput("affected", action="Update to 2.17.1."),
        JACKSON: DecisionInput("fixed"),
        "": DecisionInput("under_investigation"),  # the product itself
    }
    for purl, data in made.items():
        record_decision(session, OPERATOR, gateway.id, "CVE-2024-3094", data, component=purl)
    session.commit()
    exported = release_vex(session, OPERATOR, gateway.id, format=fmt)
    ours = decisions(session, "Gateway", "1.0")

    def standing(d: VexDecision) -> tuple[object, ...]:
        # CycloneDX spells out the label's default CycloneDX justification: compared by the label there.
        return (d.status, d.justification, d.cdx_justification if fmt == "cyclonedx" else None, d.impact, d.action)

    for d in ours.values():  # a fresh installation: the same release and SBOM, no decisions
        delete_decision(session, OPERATOR, d.id)
    session.commit()
    result = run(app, exported.data, exported.filename)
    assert (result.format, result.unused, result.undecidable, result.decisions_proposed) == (fmt, 0, 0, 5)
    imported = decisions(session, "Gateway", "1.0")
    assert {k: standing(d) for k, d in imported.items()} == {k: standing(d) for k, d in ours.items()}
    assert all((d.origin, d.confirmed) == (DecisionOrigin.SUPPLIER, False) for d in imported.values())
