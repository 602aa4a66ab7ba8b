"""The VEX decision store: recording, changing, confirming and deleting decisions, the vulnerabilities they name,
carrying them forward, who may do what, and bad input refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.products.models import Product, Release
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case, update_case
from sdl_tracker.sboms.diff import purl_identity
from sdl_tracker.vex.models import DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
from sdl_tracker.vex.rules import STATEMENT_MAX
from sdl_tracker.vex.services import (
    DecisionFilter,
    DecisionInput,
    case_decisions,
    case_vulnerability,
    component_decisions,
    component_purl,
    confirm_decision,
    delete_decision,
    find_decision,
    get_decision,
    get_vulnerability,
    list_decisions,
    record_decision,
    vulnerability_decisions,
    vulnerability_for_case,
    vulnerability_name,
)
from tests.factories import OPERATOR, make_product, make_release, member

pytestmark = pytest.mark.db

CVE = "CVE-2024-3094"
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
NOT_AFFECTED = DecisionInput(
    "not_affected", "vulnerable_code_not_in_execute_path", impact="The parser is never called on network input."
)
AFFECTED = DecisionInput("affected", action="Update to 1.1.")
LIBXZ = "pkg:generic/xz-utils@5.6.0"


@pytest.fixture
def plc(session: Session) -> Product:
    """PLC 1.0 and an officer, a developer and an auditor; Elsewhere 3.0 with an officer of its own."""
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    make_release(session, make_product(session, "Elsewhere"), "3.0")
    return product


@pytest.fixture
def actors(session: Session, plc: Product) -> dict[str, Principal]:
    elsewhere = session.scalars(select(Product).where(Product.name == "Elsewhere")).one()
    return {
        "officer": member(session, plc, "security_officer"),
        "developer": member(session, plc, "developer"),
        "auditor": member(session, plc, "auditor"),
        "stranger": member(session, elsewhere, "security_officer"),
    }


def release_of(session: Session, product: str, version: str) -> Release:
    return session.scalars(
        select(Release).join(Product).where(Product.name == product, Release.version == version)
    ).one()


def written(session: Session) -> tuple[int, int, int]:
    """How many decisions, vulnerabilities and audit events there are."""
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (VexDecision, Vulnerability, AuditEvent)
    )


def events(session: Session, prefix: str = "vex:") -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.seq))
    )


def case_of(session: Session, product: Product, **facts: Any) -> PsirtCase:
    received = datetime.now(UTC) - timedelta(hours=5)
    return create_case(
        session,
        OPERATOR,
        product.id,
        kind="vulnerability",
        title="Modbus frame overflow",
        source="researcher",
        received_at=received,
        facts=facts,
    )


# --- recording ------------------------------------------------------------------------------------------------


def test_an_officer_records_a_decision_and_every_change_is_audited(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    officer = actors["officer"]
    decision = record_decision(session, officer, release.id, "cve-2024-3094", NOT_AFFECTED, component=LIBXZ)
    assert decision.vulnerability.name == CVE and decision.vulnerability.source is VulnerabilitySource.OFFICER
    assert decision.component_purl == "pkg:generic/xz-utils"
    assert decision.confirmed and decision.origin is DecisionOrigin.OFFICER and decision.decided_by == officer.label
    assert [e.action for e in events(session)] == ["vex:vulnerability:create", "vex:decision:create"]
    created = events(session)[-1]
    assert created.product_id == plc.id and created.details["old"] is None
    assert created.details["new"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert created.details["component"] == "pkg:generic/xz-utils"

    changed = record_decision(session, officer, release.id, CVE, AFFECTED, component="pkg:generic/xz-utils@5.6.1")
    assert changed.id == decision.id and changed.status.value == "affected" and changed.justification is None
    update = events(session)[-1]
    assert update.action == "vex:decision:update"
    assert update.details["old"]["status"] == "not_affected" and update.details["new"]["action"] == "Update to 1.1."
    before = written(session)
    record_decision(session, officer, release.id, CVE, AFFECTED, component=LIBXZ)  # the same: nothing to record
    assert written(session) == before


def test_the_product_itself_and_each_component_have_a_decision_of_their_own(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    record_decision(session, actors["officer"], release.id, CVE, AFFECTED)
    record_decision(session, actors["officer"], release.id, CVE, NOT_AFFECTED, component=LIBXZ)
    record_decision(session, actors["officer"], release.id, "GHSA-JFH8-C2JP-5V3Q", AFFECTED, component=LIBXZ)
    found = list_decisions(session, actors["auditor"], release.id)
    assert [(d.vulnerability.name, d.component_purl) for d in found] == [
        (CVE, ""),
        (CVE, "pkg:generic/xz-utils"),
        ("GHSA-jfh8-c2jp-5v3q", "pkg:generic/xz-utils"),
    ]
    assert [
        d.status.value for d in list_decisions(session, actors["developer"], release.id, DecisionFilter("affected"))
    ] == [
        "affected",
        "affected",
    ]
    by_vulnerability = list_decisions(
        session, actors["developer"], release.id, DecisionFilter(vulnerability="ghsa-jfh8-c2jp-5v3q")
    )
    assert [d.vulnerability.name for d in by_vulnerability] == ["GHSA-jfh8-c2jp-5v3q"]
    product_only = list_decisions(session, actors["developer"], release.id, DecisionFilter(component=""))
    assert [d.component_purl for d in product_only] == [""]
    assert find_decision(session, actors["developer"], release.id, CVE, "pkg:generic/xz-utils@9") is found[1]
    assert find_decision(session, actors["developer"], release.id, "CVE-2020-0001") is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("pkg:PyPI/Django_Rest@1.0?x=1#sub", "pkg:pypi/django-rest"),
        ("pkg:npm/%40angular/core@17.0.0", "pkg:npm/%40angular/core"),
        ("pkg:npm/@angular/core@17.0.0", "pkg:npm/%40angular/core"),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core"),
        ("pkg:golang/github.com/Foo/bar@v1.2.3", "pkg:golang/github.com/Foo/bar"),
        (" ", ""),
    ],
)
def test_components_are_their_purls_identity_as_sbom_components_are_matched(given: str, stored: str) -> None:
    assert component_purl(given) == stored
    if stored:  # read back, the stored purl is the same component
        assert purl_identity(stored) == purl_identity(given)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("cve-2021-44228", "CVE-2021-44228"),
        ("GHSA-JFH8-C2JP-5V3Q", "GHSA-jfh8-c2jp-5v3q"),
        ("PYSEC-2021-19", "PYSEC-2021-19"),
        ("RUSTSEC-2021-0001", "RUSTSEC-2021-0001"),
        ("psirt-2026-7", "PSIRT-2026-0007"),
    ],
)
def test_vulnerability_ids_are_stored_in_one_spelling(given: str, stored: str) -> None:
    assert vulnerability_name(given) == stored


@pytest.mark.parametrize(
    "given", ["", "CVE-24-1", "CVE-1990-1234", "log4shell", "GHSA-zzzz-zzzz-zzzz", "PSIRT-26", "A-" + "x" * 99]
)
def test_what_is_no_vulnerability_id_is_refused_on_its_field(given: str) -> None:
    with pytest.raises(Invalid) as refused:
        vulnerability_name(given)
    assert [e.field for e in refused.value.errors] == ["vulnerability"]


# --- bad input: refused, nothing written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (DecisionInput("not_affected", impact="Never called"), "needs a justification"),
        (DecisionInput("affected", action="  "), "needs an action statement"),
        (DecisionInput("fixed", "component_not_present"), "only a not-affected decision takes a justification"),
        (DecisionInput("under_investigation", cdx_justification="code_not_present"), "only a not-affected"),
        (
            DecisionInput("not_affected", "component_not_present", "protected_at_runtime"),
            "falls under inline_mitigations_already_exist",
        ),
        (DecisionInput("not_affected", "component_not_present", impact="x" * (STATEMENT_MAX + 1)), "longer than 4000"),
        (DecisionInput("affected", action="y" * (STATEMENT_MAX + 1)), "longer than 4000"),
        (DecisionInput("maybe"), "unknown status 'maybe'"),
        (DecisionInput(""), "a status is required"),
        (DecisionInput("not_affected", "not_my_problem"), "unknown justification"),
        (DecisionInput("not_affected", "component_not_present", "because"), "unknown cdx justification"),
        (DecisionInput("affected", action="Update\x1b[2J now"), "control character U+001B"),
    ],
)
def test_decisions_the_vex_formats_cannot_carry_are_refused_and_nothing_is_written(
    session: Session, plc: Product, actors: dict[str, Principal], data: DecisionInput, message: str
) -> None:
    release = release_of(session, "PLC", "1.0")
    before = written(session)
    with pytest.raises(Invalid) as refused, session.begin_nested():
        record_decision(session, actors["officer"], release.id, CVE, data)
    assert message in refused.value.one_line()
    assert written(session) == before


@pytest.mark.parametrize(
    ("vulnerability", "component", "field"),
    [
        ("log4shell", "", "vulnerability"),
        ("PSIRT-2026-0099", "", "vulnerability"),  # no such case of this product
        (CVE, "xz-utils 5.6.0", "component"),
        (CVE, "pkg:generic/" + "x" * 600, "component"),
    ],
)
def test_unknown_vulnerabilities_and_bad_components_are_refused_and_nothing_is_written(
    session: Session, plc: Product, actors: dict[str, Principal], vulnerability: str, component: str, field: str
) -> None:
    release = release_of(session, "PLC", "1.0")
    before = written(session)
    with pytest.raises(Invalid) as refused, session.begin_nested():
        record_decision(session, actors["officer"], release.id, vulnerability, AFFECTED, component=component)
    assert [e.field for e in refused.value.errors] == [field]
    assert written(session) == before


def test_an_unknown_release_is_not_found(session: Session, plc: Product, actors: dict[str, Principal]) -> None:
    with pytest.raises(NotFound):
        record_decision(session, actors["officer"], 2_000_000_000, CVE, AFFECTED)


def test_another_products_case_reads_as_no_case(session: Session, plc: Product, actors: dict[str, Principal]) -> None:
    elsewhere = session.scalars(select(Product).where(Product.name == "Elsewhere")).one()
    case = case_of(session, elsewhere)
    release = release_of(session, "PLC", "1.0")
    with pytest.raises(Invalid, match=f"PLC has no case {case.reference}"), session.begin_nested():
        record_decision(session, OPERATOR, release.id, case.reference, AFFECTED)


# --- who may do what ------------------------------------------------------------------------------------------


def test_developers_and_auditors_read_but_do_not_decide_and_other_products_are_not_found(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    decision = record_decision(session, actors["officer"], release.id, CVE, AFFECTED)
    before = written(session)
    for name in ("developer", "auditor"):
        with pytest.raises(Forbidden), session.begin_nested():
            record_decision(session, actors[name], release.id, CVE, NOT_AFFECTED)
        with pytest.raises(Forbidden), session.begin_nested():
            delete_decision(session, actors[name], decision.id)
        assert get_decision(session, actors[name], decision.id) is decision
        assert list_decisions(session, actors[name], release.id) == [decision]
    stranger = actors["stranger"]
    for attempt in (
        lambda: record_decision(session, stranger, release.id, CVE, NOT_AFFECTED),
        lambda: get_decision(session, stranger, decision.id),
        lambda: confirm_decision(session, stranger, decision.id),
        lambda: delete_decision(session, stranger, decision.id),
        lambda: list_decisions(session, stranger, release.id),
    ):
        with pytest.raises(NotFound), session.begin_nested():
            attempt()
    assert vulnerability_decisions(session, stranger, CVE) == []
    assert written(session) == before


# --- confirming, deleting, carrying forward -------------------------------------------------------------------


def test_a_new_release_carries_the_decisions_forward_unconfirmed_with_one_audit_event(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    first = release_of(session, "PLC", "1.0")
    officer = actors["officer"]
    record_decision(session, officer, first.id, CVE, NOT_AFFECTED, component=LIBXZ)
    record_decision(session, officer, first.id, "CVE-2021-44228", AFFECTED)
    second = make_release(session, plc, "1.1")
    carried = list_decisions(session, officer, second.id)
    assert [(d.vulnerability.name, d.status.value, d.confirmed, d.origin) for d in carried] == [
        ("CVE-2021-44228", "affected", False, DecisionOrigin.CARRIED),
        (CVE, "not_affected", False, DecisionOrigin.CARRIED),
    ]
    assert carried[1].impact == NOT_AFFECTED.impact and carried[1].decided_by == officer.label
    copy = events(session, "vex:decision:copy")
    assert len(copy) == 1 and copy[0].details == {"from": "1.0", "decisions": 2}
    assert all(d.confirmed for d in list_decisions(session, officer, first.id))  # the first release's stay as they were

    confirmed = confirm_decision(session, officer, carried[0].id)
    assert confirmed.confirmed and confirmed.origin is DecisionOrigin.CARRIED and confirmed.decided_by == officer.label
    assert events(session)[-1].action == "vex:decision:confirm"
    with pytest.raises(Invalid, match="already confirmed"), session.begin_nested():
        confirm_decision(session, officer, carried[0].id)
    # Recording the same decision again is the officer's own: confirmed, no longer carried.
    again = record_decision(session, officer, second.id, CVE, NOT_AFFECTED, component=LIBXZ)
    assert again.id == carried[1].id and again.confirmed and again.origin is DecisionOrigin.OFFICER
    assert events(session)[-1].details["old"]["origin"] == "carried"


def test_confirming_takes_a_named_officer(session: Session, plc: Product, actors: dict[str, Principal]) -> None:
    record_decision(session, actors["officer"], release_of(session, "PLC", "1.0").id, CVE, AFFECTED)
    carried = list_decisions(session, OPERATOR, make_release(session, plc, "1.1").id)[0]
    for actor in (OPERATOR, actors["developer"], actors["auditor"]):
        with pytest.raises(Forbidden), session.begin_nested():
            confirm_decision(session, actor, carried.id)
    assert not get_decision(session, OPERATOR, carried.id).confirmed


def test_a_proposal_never_replaces_a_confirmed_decision(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    kept = record_decision(session, actors["officer"], release.id, CVE, NOT_AFFECTED)
    before = written(session)
    matched = DecisionInput("under_investigation")
    same = record_decision(session, OPERATOR, release.id, CVE, matched, origin=DecisionOrigin.MATCH)
    assert same.id == kept.id and same.status.value == "not_affected" and written(session) == before
    proposal = record_decision(
        session, OPERATOR, release.id, CVE, matched, component=LIBXZ, origin=DecisionOrigin.MATCH
    )
    assert not proposal.confirmed and proposal.origin is DecisionOrigin.MATCH


def test_a_deleted_decision_is_kept_in_its_audit_event(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    decision = record_decision(session, actors["officer"], release.id, CVE, AFFECTED, component=LIBXZ)
    delete_decision(session, actors["officer"], decision.id)
    assert list_decisions(session, actors["officer"], release.id) == []
    deleted = events(session)[-1]
    assert deleted.action == "vex:decision:delete" and deleted.details["old"]["action"] == "Update to 1.1."
    assert deleted.details["vulnerability"] == CVE and deleted.details["component"] == "pkg:generic/xz-utils"


# --- cases, components, vulnerabilities -----------------------------------------------------------------------


def test_a_cases_vulnerability_goes_by_its_reference_until_a_cve_is_assigned(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    officer = actors["officer"]
    case = case_of(session, plc, cwe_ids=["CWE-787"], cvss_v31=V31)
    assert case_vulnerability(session, officer, case.id) is None and case_decisions(session, officer, case.id) == []
    release = release_of(session, "PLC", "1.0")
    decision = record_decision(session, officer, release.id, case.reference.lower(), AFFECTED)
    vulnerability = decision.vulnerability
    assert vulnerability.name == case.reference and vulnerability.case_id == case.id
    assert vulnerability.source is VulnerabilitySource.CASE
    assert vulnerability.cwe_ids == [787] and vulnerability.cvss_v31 == V31 and not vulnerability.known_exploited
    assert case_decisions(session, actors["auditor"], case.id) == [decision]

    update_case(
        session, OPERATOR, case.id, {"cve_ids": ["CVE-2026-1234", "CVE-2026-1235"], "aware_at": datetime.now(UTC)}
    )
    renamed = vulnerability_for_case(session, officer, case.id)
    assert renamed.id == vulnerability.id and renamed.name == "CVE-2026-1234"
    assert renamed.aliases == ["CVE-2026-1235"] and renamed.known_exploited
    update = events(session)[-1]
    assert update.action == "vex:vulnerability:update" and update.details["old"]["name"] == case.reference
    assert case_decisions(session, officer, case.id) == [decision]  # the decisions stayed with it
    # The case's reference still names its vulnerability, for those who see the case.
    assert get_vulnerability(session, actors["auditor"], case.reference) is renamed
    assert list_decisions(session, actors["auditor"], release.id, DecisionFilter(vulnerability=case.reference)) == [
        decision
    ]
    assert find_decision(session, officer, release.id, case.reference) is decision
    with pytest.raises(NotFound):
        get_vulnerability(session, actors["stranger"], case.reference)
    before = written(session)
    vulnerability_for_case(session, officer, case.id)  # up to date: nothing to record
    assert written(session) == before
    with pytest.raises(Forbidden):
        vulnerability_for_case(session, actors["developer"], case.id)


def test_a_cve_known_before_its_case_is_linked_and_one_another_case_holds_is_not_taken(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    release = release_of(session, "PLC", "1.0")
    record_decision(session, actors["officer"], release.id, CVE, AFFECTED)
    case = case_of(session, plc, cve_ids=[CVE])
    linked = vulnerability_for_case(session, OPERATOR, case.id)
    assert linked.name == CVE and linked.case_id == case.id and linked.source is VulnerabilitySource.OFFICER
    elsewhere = session.scalars(select(Product).where(Product.name == "Elsewhere")).one()
    other = case_of(session, elsewhere, cve_ids=[CVE])
    own = vulnerability_for_case(session, OPERATOR, other.id)
    assert own.name == other.reference and own.aliases == [CVE] and own.case_id == other.id


def test_a_cases_reference_is_seen_only_by_those_who_see_its_product(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    case = case_of(session, plc)
    vulnerability = vulnerability_for_case(session, actors["officer"], case.id)
    assert get_vulnerability(session, actors["developer"], case.reference) is vulnerability
    with pytest.raises(NotFound):
        get_vulnerability(session, actors["stranger"], case.reference)
    with pytest.raises(NotFound):
        case_decisions(session, actors["stranger"], case.id)


def test_decisions_on_a_component_or_a_vulnerability_across_the_releases_one_sees(
    session: Session, plc: Product, actors: dict[str, Principal]
) -> None:
    first = release_of(session, "PLC", "1.0")
    elsewhere = release_of(session, "Elsewhere", "3.0")
    record_decision(session, actors["officer"], first.id, CVE, AFFECTED, component=LIBXZ)
    record_decision(session, actors["stranger"], elsewhere.id, CVE, NOT_AFFECTED, component="pkg:generic/xz-utils@5.4")
    second = make_release(session, plc, "1.1")
    mine = component_decisions(session, actors["developer"], "pkg:generic/xz-utils@5.6.1")
    assert [(d.release.version, d.confirmed) for d in mine] == [("1.0", True), ("1.1", False)]
    assert [d.release.version for d in component_decisions(session, OPERATOR, LIBXZ)] == ["1.0", "1.1", "3.0"]
    assert [d.release_id for d in vulnerability_decisions(session, actors["stranger"], CVE.lower())] == [elsewhere.id]
    assert {d.release_id for d in vulnerability_decisions(session, actors["auditor"], CVE)} == {first.id, second.id}
    with pytest.raises(NotFound):
        vulnerability_decisions(session, actors["auditor"], "CVE-2020-0001")
