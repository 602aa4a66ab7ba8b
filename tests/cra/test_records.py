"""The risk assessment and the support period of a product's CRA file: revisions numbered and kept, unchanged input
recording nothing, the threat model checked and linked back from its evidence page, the support period's rules and
what it obliges, through the services, the API, the pages and the command line."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.cra.models import RiskAssessment, SupportPeriod
from sdl_tracker.cra.records import (
    RiskAssessmentInput,
    SupportPeriodInput,
    current_risk_assessment,
    record_risk_assessment,
    record_support_period,
    risk_assessments,
    support_obligations,
    support_period,
    support_period_facts,
    support_period_input,
)
from sdl_tracker.db import Database
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.evidence.views import EVIDENCE_PANELS_EXTENSION
from sdl_tracker.products.models import Product
from sdl_tracker.products.services import update_product
from tests.concurrency import at_once
from tests.factories import OPERATOR, ApiClient, attach, csrf_token, login, make_product, make_release, member

pytestmark = pytest.mark.db

OFFICER, DEVELOPER, AUDITOR, STRANGER = "so@example.com", "dev@example.com", "auditor@example.com", "other@example.com"
PROBLEM = "application/problem+json"
PURPOSE = "Controls a filling line in a food plant."


@dataclass(frozen=True)
class Plc:
    """The product, its threat model and another item of it, and a threat model of another product."""

    product: Product
    model: Evidence
    other_kind: Evidence
    foreign_model: Evidence


def _threat_model(session: Session, product: Product, title: str) -> Evidence:
    upload = Upload("model.json", "application/json", io.BytesIO(b'{"threats": []}'))
    due = (date.today() + timedelta(days=180)).isoformat()
    data = EvidenceInput(
        title=title, requirements=["SR-2"], files=[upload], details={"threats_total": 2, "next_review_due": due}
    )
    return create_evidence(session, OPERATOR, product_id=product.id, kind="threat-model", data=data)


@pytest.fixture
def plc(session: Session) -> Plc:
    """PLC with two shipped releases and a planned one, its officer, developer and auditor; Elsewhere with an
    officer and a threat model of its own."""
    product = make_product(session, "PLC")
    make_release(session, product, "1.0", status="released", release_date=date(2026, 3, 2))
    make_release(session, product, "1.1", status="released", release_date=date(2027, 6, 15))
    make_release(session, product, "2.0")
    member(session, product, "security_officer", OFFICER)
    member(session, product, "developer", DEVELOPER)
    member(session, product, "auditor", AUDITOR)
    model = _threat_model(session, product, "PLC threat model")
    other_kind = attach(session, OPERATOR, product, "Design review")
    elsewhere = make_product(session, "Elsewhere")
    member(session, elsewhere, "security_officer", STRANGER)
    foreign = _threat_model(session, elsewhere, "Elsewhere threat model")
    session.commit()
    return Plc(product, model, other_kind, foreign)


def officer(session: Session, email: str = OFFICER) -> Principal:
    """A member's principal, by e-mail."""
    user = find_user(session, email)
    assert user is not None
    return principal_for(session, user)


def written(session: Session) -> tuple[int, int, int, date | None]:
    """Risk revisions, support periods, CRA audit events, and PLC's support period end."""
    session.expire_all()
    revisions = session.scalar(select(func.count()).select_from(RiskAssessment)) or 0
    periods = session.scalar(select(func.count()).select_from(SupportPeriod)) or 0
    audited = session.scalar(select(func.count()).where(AuditEvent.action.startswith("cra:"))) or 0
    end = session.scalar(select(Product.support_period_end).where(Product.name == "PLC"))
    return revisions, periods, audited, end


def assessment(model: Evidence | None = None, **changes: object) -> RiskAssessmentInput:
    values: dict[str, object] = {
        "intended_purpose": PURPOSE,
        "foreseeable_use": "Operated by trained staff on the plant network.",
        "foreseeable_misuse": "Connected to the office network.",
        "operational_environment": "Zone 2 of the plant, behind the cell firewall.",
        "assets": "Recipes, set points, the firmware.",
        "expected_use_months": 120,
        "threat_model_evidence_id": model.id if model else None,
    }
    values.update(changes)
    return RiskAssessmentInput(**values)  # type: ignore[arg-type]


def period(**changes: object) -> SupportPeriodInput:
    values: dict[str, object] = {
        "starts_on": date(2026, 3, 2),
        "ends_on": date(2031, 3, 1),
        "ends_precision": "month",
        "expected_use_months": 120,
        "method": "The expected use time of the risk assessment, capped by the controller's component life.",
        "shorter_reason": "",
        "published_where": "https://example.com/plc/support",
    }
    values.update(changes)
    return SupportPeriodInput(**values)  # type: ignore[arg-type]


SHORT = {"ends_on": date(2030, 12, 1), "expected_use_months": None}  # March 2026 to December 2030: 4 years 9 months


# --- the risk assessment ---------------------------------------------------------------------------------------


def test_revisions_are_numbered_kept_and_unchanged_input_records_nothing(session: Session, plc: Plc) -> None:
    actor = officer(session)
    first = record_risk_assessment(session, actor, plc.product.id, assessment(plc.model))
    again = record_risk_assessment(
        session, actor, plc.product.id, assessment(plc.model, intended_purpose=f"  {PURPOSE}\r\n")
    )
    assert again.id == first.id and first.number == 1  # the same words, as a browser sends them
    assert written(session)[::2] == (1, 1)
    second = record_risk_assessment(session, actor, plc.product.id, assessment(plc.model, expected_use_months=96))
    third = record_risk_assessment(session, actor, plc.product.id, assessment(None, assets="The firmware."))
    assert [r.number for r in risk_assessments(session, actor, plc.product.id)] == [3, 2, 1]
    assert current_risk_assessment(session, actor, plc.product.id) == third
    assert first.expected_use_months == 120 and second.expected_use_months == 96  # earlier revisions stand
    events = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "cra:risk:record").order_by(AuditEvent.seq))
    )
    details = [e.details for e in events]
    assert [d["number"] for d in details] == [1, 2, 3]
    assert details[1]["changed"] == ["expected_use_months"]
    assert details[2]["changed"] == ["assets", "expected_use_months", "threat_model_evidence_id"]
    assert details[2]["threat_model_evidence_id"] is None
    assert {e.actor for e in events} == {f"user:{OFFICER}"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"intended_purpose": "  "}, "intended_purpose", "state the product's intended purpose"),
        ({"expected_use_months": 0}, "expected_use_months", "must be positive"),
        ({"expected_use_months": -12}, "expected_use_months", "must be positive"),
        ({"expected_use_months": 1201}, "expected_use_months", "at most 1200 months"),
        ({"assets": "x" * 20_001}, "assets", "at most 20000 characters"),
        ({"threat_model_evidence_id": 2_000_000_000}, "threat_model_evidence_id", "there is no evidence item"),
    ],
)
def test_a_bad_risk_assessment_is_refused_naming_the_field_and_nothing_is_written(
    session: Session, plc: Plc, changes: dict[str, object], field: str, message: str
) -> None:
    before = written(session)
    with session.begin_nested(), pytest.raises(Invalid) as refused:
        record_risk_assessment(session, officer(session), plc.product.id, assessment(plc.model, **changes))
    assert [e.field for e in refused.value.errors] == [field]
    assert message in refused.value.errors[0].message
    assert written(session) == before


def test_the_threat_model_must_be_a_threat_model_of_this_product(session: Session, plc: Plc) -> None:
    before = written(session)
    cases = [
        (
            officer(session),
            plc.other_kind,
            f"evidence item {plc.other_kind.id} is not a threat model (its kind is other)",
        ),
        # The officer does not see the other product: its item reads as one that does not exist.
        (officer(session), plc.foreign_model, f"there is no evidence item {plc.foreign_model.id}"),
        (OPERATOR, plc.foreign_model, "is not this product's"),
    ]
    for actor, item, message in cases:
        with session.begin_nested(), pytest.raises(Invalid) as refused:
            record_risk_assessment(session, actor, plc.product.id, assessment(item))
        assert refused.value.errors[0].field == "threat_model_evidence_id"
        assert message in refused.value.errors[0].message
    assert written(session) == before


def test_only_the_products_officers_and_administrators_record_a_risk_assessment(session: Session, plc: Plc) -> None:
    for email in (DEVELOPER, AUDITOR):
        with pytest.raises(Forbidden):
            record_risk_assessment(session, officer(session, email), plc.product.id, assessment())
        with pytest.raises(Forbidden):
            record_support_period(session, officer(session, email), plc.product.id, period())
    with pytest.raises(NotFound):
        record_risk_assessment(session, officer(session, STRANGER), plc.product.id, assessment())
    with pytest.raises(NotFound):
        risk_assessments(session, officer(session, STRANGER), plc.product.id)
    assert written(session)[:3] == (0, 0, 0)
    assert record_risk_assessment(session, OPERATOR, plc.product.id, assessment()).number == 1


def _record(database: Database, actor: Principal, product_id: int, text: str) -> int:
    with database.unit_of_work() as session:
        return record_risk_assessment(session, actor, product_id, assessment(intended_purpose=text)).number


def test_two_officers_recording_at_once_take_different_numbers(shared_app: Flask) -> None:
    # On PostgreSQL the transactions overlap and the product's row lock orders them; on SQLite they take turns.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        officers = [member(session, product, "security_officer") for _ in range(2)]
        product_id = product.id
    for n in range(3):
        calls = [partial(_record, database, actor, product_id, f"Purpose {n}-{i}") for i, actor in enumerate(officers)]
        answers = at_once(calls)
        assert sorted(answers) == [2 * n + 1, 2 * n + 2], answers  # type: ignore[type-var]
    with database.unit_of_work(read_only=True) as session:
        numbers = session.scalars(select(RiskAssessment.number).where(RiskAssessment.product_id == product_id))
        assert sorted(numbers) == list(range(1, 7))


# --- the support period ---------------------------------------------------------------------------------------


def test_the_support_period_sets_the_products_end_and_records_old_and_new(session: Session, plc: Plc) -> None:
    actor = officer(session)
    recorded = record_support_period(session, actor, plc.product.id, period())
    assert recorded.ends_on == date(2031, 3, 31) and recorded.ends_precision == "month"  # March 2031, its last day
    assert written(session) == (0, 1, 1, date(2031, 3, 31))
    assert record_support_period(session, actor, plc.product.id, period(ends_on=date(2031, 3, 17))) == recorded
    assert written(session)[2] == 1  # the same month: nothing changed, nothing recorded
    changed = record_support_period(
        session, actor, plc.product.id, period(ends_on=date(2033, 6, 30), ends_precision="day")
    )
    assert changed.ends_on == date(2033, 6, 30) and changed.ends_precision == "day"
    assert written(session) == (0, 1, 2, date(2033, 6, 30))
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "cra:support:record")))
    assert events[0].details["old"] is None and events[0].details["new"]["ends_on"] == "2031-03-31"
    assert events[1].details["old"]["ends_on"] == "2031-03-31" and events[1].details["new"]["ends_on"] == "2033-06-30"
    assert events[1].details["new"]["product_support_period_end"] == "2033-06-30"
    assert support_period(session, officer(session, AUDITOR), plc.product.id) == changed


def test_exactly_five_years_and_a_justified_shorter_period_are_recorded(session: Session, plc: Plc) -> None:
    actor = officer(session)
    five = period(starts_on=date(2026, 1, 1), ends_on=date(2030, 12, 1), expected_use_months=None)
    assert record_support_period(session, actor, plc.product.id, five).ends_on == date(2030, 12, 31)
    short = period(**SHORT, shorter_reason="A seasonal product, replaced after four years.")
    with pytest.raises(Invalid):
        record_support_period(session, actor, plc.product.id, short)  # no shorter expected use time
    reasoned = period(**{**SHORT, "expected_use_months": 48}, shorter_reason="Replaced after four years.")
    justified = record_support_period(session, actor, plc.product.id, reasoned)
    assert justified.ends_on == date(2030, 12, 31) and justified.expected_use_months == 48


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (SHORT, ["shorter_reason", "expected_use_months"]),  # the bad input: under 5 years without a reason
        ({"ends_on": date(2026, 2, 1)}, ["ends_on"]),  # February 2026 ends before 2 March 2026
        ({"ends_on": date(2026, 3, 2), "ends_precision": "day"}, ["ends_on"]),
        ({"ends_on": None}, ["ends_on"]),
        ({"starts_on": None}, ["starts_on"]),
        ({"expected_use_months": 0}, ["expected_use_months"]),
        ({"expected_use_months": -1}, ["expected_use_months"]),
        ({"ends_precision": "week"}, ["ends_precision"]),
        ({"published_where": "ftp://example.com/support"}, ["published_where"]),
        ({"published_where": "javascript://alert(1)"}, ["published_where"]),
        ({"published_where": "in the manual " * 30}, ["published_where"]),
        ({"method": "x" * 4001}, ["method"]),
        ({"starts_on": date(1800, 1, 1)}, ["starts_on"]),
    ],
)
def test_a_bad_support_period_is_refused_naming_the_fields_and_nothing_is_written(
    session: Session, plc: Plc, changes: dict[str, object], fields: list[str]
) -> None:
    before = written(session)
    with session.begin_nested(), pytest.raises(Invalid) as refused:
        record_support_period(session, officer(session), plc.product.id, period(**changes))
    assert [e.field for e in refused.value.errors] == fields, refused.value.errors
    assert written(session) == before


def test_a_short_period_says_how_short_and_what_is_missing(session: Session, plc: Plc) -> None:
    with pytest.raises(Invalid) as refused:
        record_support_period(session, officer(session), plc.product.id, period(**SHORT))
    assert "4 years 9 months is under 5 years" in refused.value.one_line()


def test_obligations_for_shipped_releases_documentation_and_warnings(session: Session, plc: Plc) -> None:
    actor = officer(session)
    assert support_obligations(session, actor, plc.product.id) is None
    record_risk_assessment(session, actor, plc.product.id, assessment(plc.model, expected_use_months=84))
    record_support_period(session, actor, plc.product.id, period(expected_use_months=84))
    found = support_obligations(session, officer(session, DEVELOPER), plc.product.id)
    assert found is not None
    assert found.ends_on == date(2031, 3, 31) and found.months == 60
    assert found.documentation_retained_until == date(2036, 3, 2)  # ten years after placing on the market
    assert [(u.version, u.released_on, u.available_until) for u in found.updates] == [
        ("1.0", date(2026, 3, 2), date(2036, 3, 2)),
        ("1.1", date(2027, 6, 15), date(2037, 6, 15)),
    ]  # 2.0 is planned: nothing to keep available yet
    assert found.warnings == (
        "the support period (5 years) is shorter than the expected use time in risk assessment revision 1 (7 years)",
    )
    record_risk_assessment(session, actor, plc.product.id, assessment(plc.model, expected_use_months=48))
    again = support_obligations(session, actor, plc.product.id)
    assert again is not None and again.warnings == (
        "the support period was set from an expected use time of 7 years; risk assessment revision 2 states 4 years",
    )


def test_an_end_changed_on_the_product_form_is_in_force_and_asks_for_the_record_again(
    session: Session, plc: Plc
) -> None:
    actor = officer(session)
    record_support_period(session, actor, plc.product.id, period(expected_use_months=None))
    update_product(session, actor, plc.product.id, changes={"support_period_end": date(2045, 12, 31)})
    found = support_obligations(session, actor, plc.product.id)
    assert found is not None and found.ends_on == date(2045, 12, 31)
    assert found.documentation_retained_until == date(2045, 12, 31)
    assert [u.available_until for u in found.updates] == [date(2045, 12, 31)] * 2
    assert "was changed on the product form after this record set 2031-03" in found.warnings[0]
    assert "the product's date is the end in force" in found.warnings[0]
    facts = support_period_facts(session, actor, plc.product.id)
    assert facts is not None and facts.ends_on == date(2045, 12, 31)
    confirming = support_period_input(session, actor, plc.product.id)
    assert confirming is not None and (confirming.ends_on, confirming.ends_precision) == (date(2045, 12, 31), "day")
    record_support_period(session, actor, plc.product.id, confirming)
    confirmed = support_obligations(session, actor, plc.product.id)
    assert confirmed is not None and confirmed.warnings == () and confirmed.period.ends_on == date(2045, 12, 31)
    # Shortened under 5 years on the product form: the rule is told again, against the date in force.
    update_product(session, actor, plc.product.id, changes={"support_period_end": date(2028, 1, 31)})
    shortened = support_obligations(session, actor, plc.product.id)
    assert shortened is not None and any("with the end in force, a support period of" in w for w in shortened.warnings)
    update_product(session, actor, plc.product.id, changes={"support_period_end": None})
    cleared = support_obligations(session, actor, plc.product.id)
    assert cleared is not None and cleared.ends_on is None and "was cleared on the product form" in cleared.warnings[0]


def test_releases_without_a_date_or_before_the_start_are_warned_about(session: Session, plc: Plc) -> None:
    make_release(session, plc.product, "0.9", status="released", release_date=date(2025, 11, 3))
    make_release(session, plc.product, "1.2", status="released")
    record_support_period(session, officer(session), plc.product.id, period(expected_use_months=None))
    found = support_obligations(session, officer(session), plc.product.id)
    assert found is not None
    assert [u.version for u in found.updates] == ["0.9", "1.0", "1.1"]
    assert found.warnings == (
        "0.9 was released on 2025-11-03, before the support period starts (2026-03-02): was the product placed on "
        "the market earlier?",
        "1.2 is released without a release date: how long its updates stay available cannot be worked out",
    )


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_risk_assessment_through_the_api(api: ApiClient, session: Session, plc: Plc) -> None:
    token = api.as_user(OFFICER)
    path = f"/api/v1/products/{plc.product.id}/cra/risk-assessments"
    body = {"intended_purpose": PURPOSE, "expected_use_months": 96, "threat_model_evidence_id": plc.model.id}
    created = api.call("POST", path, token, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["number"] == 1 and created.get_json()["created_by"].endswith(OFFICER)
    same = api.call("POST", path, token, json=body)
    assert same.status_code == 200 and same.get_json()["number"] == 1
    assert api.call("POST", path, token, json={**body, "assets": "Recipes."}).status_code == 201
    reader = api.as_user(AUDITOR)
    listed = api.call("GET", path, reader).get_json()
    assert [i["number"] for i in listed["items"]] == [2, 1] and listed["total"] == 2
    assert listed["items"][0]["assets"] == "Recipes." and listed["items"][1]["assets"] == ""
    shown = api.call("GET", f"{path}/1", reader).get_json()
    assert shown["threat_model_evidence_id"] == plc.model.id and shown["expected_use_months"] == 96
    missing = api.call("GET", f"{path}/3", reader)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert api.call("POST", path, api.as_user(DEVELOPER), json=body).status_code == 403
    assert api.call("GET", path, api.as_user(STRANGER)).status_code == 404
    assert written(session)[0] == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"expected_use_months": 0}, "the expected use time must be positive"),
        ({"expected_use_months": -5}, "the expected use time must be positive"),
        ({"intended_purpose": ""}, "state the product's intended purpose"),
        ({"threat_model_evidence_id": "other"}, "is not a threat model (its kind is other)"),
        ({"threat_model_evidence_id": "foreign"}, "there is no evidence item"),
        ({"rating": 3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_risk_assessments_are_problems_naming_the_field_and_nothing_is_written(
    api: ApiClient, session: Session, plc: Plc, body: dict[str, object], message: str
) -> None:
    items = {"other": plc.other_kind.id, "foreign": plc.foreign_model.id}
    if body.get("threat_model_evidence_id") in items:
        body = {"threat_model_evidence_id": items[str(body["threat_model_evidence_id"])]}
    before = written(session)
    response = api.call(
        "POST",
        f"/api/v1/products/{plc.product.id}/cra/risk-assessments",
        api.as_user(OFFICER),
        json={"intended_purpose": PURPOSE, **body},
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert message in json.dumps(response.get_json()), response.get_json()
    assert written(session) == before


def test_the_support_period_through_the_api(api: ApiClient, session: Session, plc: Plc) -> None:
    path = f"/api/v1/products/{plc.product.id}/cra/support-period"
    reader = api.as_user(DEVELOPER)
    none = api.call("GET", path, reader)
    assert none.status_code == 404 and none.mimetype == PROBLEM and "no support period" in none.get_json()["detail"]
    token = api.as_user(OFFICER)
    body = {"starts_on": "2026-03-02", "ends_on": "2031-03", "published_where": "On the type plate and in the manual"}
    put = api.call("PUT", path, token, json=body)
    assert put.status_code == 200, put.get_data(as_text=True)
    out = put.get_json()
    assert out["period"]["ends_on"] == "2031-03-31" and out["period"]["ends"] == "2031-03"
    assert out["support_period_end"] == "2031-03-31" and out["months"] == 60
    assert out["documentation_retained_until"] == "2036-03-02"
    available = [(u["version"], u["available_until"]) for u in out["updates"]]
    assert available == [("1.0", "2036-03-02"), ("1.1", "2037-06-15")]
    assert api.call("GET", path, reader).get_json() == out
    product = api.call("GET", f"/api/v1/products/{plc.product.id}", reader).get_json()
    assert product["support_period_end"] == "2031-03-31"
    assert api.call("PUT", path, api.as_user(DEVELOPER), json=body).status_code == 403
    assert api.call("GET", path, api.as_user(STRANGER)).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ends_on": "2030-12"}, "is under 5 years: say why"),
        ({"ends_on": "2025-12"}, "the support period must end after it starts"),
        ({"ends_on": "2031-13"}, "is neither YYYY-MM nor YYYY-MM-DD"),
        ({"ends_on": "2031-03", "expected_use_months": 0}, "the expected use time must be positive"),
        ({"starts_on": "20260302", "ends_on": "2031-03"}, "YYYY-MM-DD"),
    ],
)
def test_bad_support_periods_are_problems_and_nothing_is_written(
    api: ApiClient, session: Session, plc: Plc, body: dict[str, object], message: str
) -> None:
    before = written(session)
    response = api.call(
        "PUT",
        f"/api/v1/products/{plc.product.id}/cra/support-period",
        api.as_user(OFFICER),
        json={"starts_on": "2026-03-02", **body},
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert message in json.dumps(response.get_json()), response.get_json()
    assert written(session) == before


# --- the pages -----------------------------------------------------------------------------------------------------


RISK_FORM = {
    "intended_purpose": PURPOSE,
    "foreseeable_use": "",
    "foreseeable_misuse": "",
    "operational_environment": "",
    "assets": "",
    "expected_use_months": "96",
}


def test_an_officer_records_revisions_on_the_page_and_the_threat_model_links_back(
    client: FlaskClient, session: Session, plc: Plc
) -> None:
    login(client, OFFICER)
    path = f"/products/{plc.product.id}/cra/risk-assessment"
    page = client.get(path).get_data(as_text=True)
    assert "No risk assessment is recorded yet." in page and f"#{plc.model.id} PLC threat model" in page
    assert f"#{plc.other_kind.id} " not in page  # only threat models are offered
    form = {**RISK_FORM, "threat_model_evidence_id": str(plc.model.id)}
    response = client.post(path, data={**form, "csrf_token": csrf_token(client, path)}, follow_redirects=True)
    assert "Revision 1 of the risk assessment recorded." in response.get_data(as_text=True)
    unchanged = client.post(path, data={**form, "csrf_token": csrf_token(client, path)}, follow_redirects=True)
    assert "Nothing changed: revision 1 stands." in unchanged.get_data(as_text=True)
    shown = client.get(path).get_data(as_text=True)
    assert PURPOSE in shown and "Record revision 2" in shown and "8 years" in shown
    assert f'<option selected value="{plc.model.id}">' in shown  # the form starts from the current revision
    revision = client.get(f"{path}/1")
    assert revision.status_code == 200 and PURPOSE in revision.get_data(as_text=True)
    assert client.get(f"{path}/2").status_code == 404
    evidence_page = client.get(f"/evidence/{plc.model.id}").get_data(as_text=True)
    panel = evidence_page[evidence_page.index('id="risk-assessments"') :]
    assert f'href="/products/{plc.product.id}/cra/risk-assessment/1"' in panel and "current" in panel
    other_page = client.get(f"/evidence/{plc.other_kind.id}").get_data(as_text=True)
    assert 'id="risk-assessments"' not in other_page


def test_the_evidence_page_is_unchanged_without_a_provider(app: Flask, client: FlaskClient, plc: Plc) -> None:
    login(client, OFFICER)
    with_panel = client.get(f"/evidence/{plc.model.id}").get_data(as_text=True)
    assert "No revision of the product's" in with_panel
    app.extensions.pop(EVIDENCE_PANELS_EXTENSION)
    without = client.get(f"/evidence/{plc.model.id}").get_data(as_text=True)
    assert 'id="risk-assessments"' not in without and "PLC threat model" in without


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"expected_use_months": "0"}, "the expected use time must be positive"),
        ({"expected_use_months": "-3"}, "the expected use time must be positive"),
        ({"expected_use_months": "many"}, "Not a valid integer value."),
        ({"intended_purpose": ""}, "state the product&#39;s intended purpose"),
        ({"threat_model_evidence_id": "other"}, "is not a threat model"),
        ({"threat_model_evidence_id": "foreign"}, "there is no evidence item"),
        ({"threat_model_evidence_id": "x"}, "could not coerce"),
    ],
)
def test_a_refused_risk_form_shows_why_and_writes_nothing(
    client: FlaskClient, session: Session, plc: Plc, changes: dict[str, str], shown: str
) -> None:
    items = {"other": str(plc.other_kind.id), "foreign": str(plc.foreign_model.id)}
    changes = {k: items.get(v, v) for k, v in changes.items()}
    login(client, OFFICER)
    path = f"/products/{plc.product.id}/cra/risk-assessment"
    before = written(session)
    response = client.post(path, data={**RISK_FORM, **changes, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 422 and shown in response.get_data(as_text=True)
    assert written(session) == before


def test_readers_see_no_forms_and_may_not_post_them(client: FlaskClient, session: Session, plc: Plc) -> None:
    record_support_period(session, OPERATOR, plc.product.id, period())
    session.commit()
    before = written(session)
    for email in (DEVELOPER, AUDITOR):
        reader = client.application.test_client()
        login(reader, email)
        for path in (
            f"/products/{plc.product.id}/cra/risk-assessment",
            f"/products/{plc.product.id}/cra/support-period",
        ):
            page = reader.get(path)
            assert page.status_code == 200 and 'id="record"' not in page.get_data(as_text=True)
            token = csrf_token(reader, path)
            assert reader.post(path, data={**RISK_FORM, "csrf_token": token}).status_code == 403
    login(client, OFFICER)
    no_token = client.post(f"/products/{plc.product.id}/cra/risk-assessment", data=RISK_FORM)
    assert no_token.status_code == 400
    assert written(session) == before


SUPPORT_FORM = {
    "starts_on": "2026-03-02",
    "ends_on": "2031-03",
    "expected_use_months": "",
    "method": "Five years, the minimum; the controller is expected to be used for ten.",
    "shorter_reason": "",
    "published_where": "https://example.com/plc/support",
}


def test_an_officer_records_the_support_period_on_its_page(client: FlaskClient, session: Session, plc: Plc) -> None:
    record_risk_assessment(session, OPERATOR, plc.product.id, assessment(plc.model))
    session.commit()
    login(client, OFFICER)
    path = f"/products/{plc.product.id}/cra/support-period"
    first = client.get(path).get_data(as_text=True)
    assert "is not recorded yet" in first and 'value="120"' in first  # the risk assessment's expected use time
    response = client.post(path, data={**SUPPORT_FORM, "csrf_token": csrf_token(client, path)}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Support period recorded" in page
    assert "2031-03-31" in page and "(stated as 2031-03)" in page and "5 years" in page
    assert "kept until <strong>2036-03-02</strong>" in page and "2037-06-15" in page
    assert "is shorter than the expected use time in risk assessment revision 1 (10 years)" in page
    assert 'value="2031-03"' in page and '<a href="https://example.com/plc/support"' in page
    assert written(session)[1:] == (1, 2, date(2031, 3, 31))


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"ends_on": "2030-12"}, "4 years 9 months is under 5 years: say why"),
        ({"ends_on": "2031-02-30"}, "Give the end as YYYY-MM"),
        ({"ends_on": ""}, "the end of the support period (at least month and year) is required"),
        ({"expected_use_months": "0"}, "the expected use time must be positive"),
        ({"published_where": "ftp://example.com"}, "a web address is an http:// or https:// URL"),
    ],
)
def test_a_refused_support_form_shows_why_and_writes_nothing(
    client: FlaskClient, session: Session, plc: Plc, changes: dict[str, str], shown: str
) -> None:
    login(client, OFFICER)
    path = f"/products/{plc.product.id}/cra/support-period"
    before = written(session)
    response = client.post(path, data={**SUPPORT_FORM, **changes, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 422 and shown in response.get_data(as_text=True)
    assert written(session) == before


# --- the command line ------------------------------------------------------------------------------------------


def test_the_command_line_records_shows_and_lists_the_risk_assessment(
    app: Flask, session: Session, plc: Plc, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    shown = runner.invoke(cli, ["cra", "risk", "PLC"])
    assert shown.exit_code == 0 and shown.output.strip() == "PLC: no risk assessment recorded"
    source = tmp_path / "risk.json"
    source.write_text(json.dumps({"intended_purpose": PURPOSE, "threat_model_evidence_id": plc.model.id}))
    recorded = runner.invoke(cli, ["cra", "risk", "PLC", "--file", str(source), "--as", OFFICER])
    assert recorded.exit_code == 0 and recorded.output.strip() == "PLC: revision 1 of the risk assessment recorded"
    again = runner.invoke(cli, ["cra", "risk", "PLC", "--file", str(source), "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["number"] == 1
    source.write_text(json.dumps({"intended_purpose": PURPOSE, "expected_use_months": 60}))
    runner.invoke(cli, ["cra", "risk", "PLC", "--file", str(source)])
    current = runner.invoke(cli, ["cra", "risk", "PLC"])
    assert "revision 2, recorded by cli:" in current.output and "5 years" in current.output
    history = runner.invoke(cli, ["cra", "risk-history", "PLC", "--json"])
    assert [r["number"] for r in json.loads(history.output)] == [2, 1]
    assert written(session)[0] == 2


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ({"intended_purpose": PURPOSE, "expected_use_months": 0}, [], "expected_use_months: the expected use time"),
        ({"intended_purpose": PURPOSE, "threat_model_evidence_id": "foreign"}, [], "is not this product's"),
        ({"intended_purpose": PURPOSE, "threat_model_evidence_id": "other"}, [], "is not a threat model"),
        ({"intended_purpose": PURPOSE, "colour": "red"}, [], "colour: Extra inputs are not permitted"),
        ([PURPOSE], [], "--file: the file must hold a JSON object"),
        ({"intended_purpose": PURPOSE}, ["--as", DEVELOPER], "error: a developer may not do this"),
    ],
)
def test_command_line_risk_refusals_are_one_line_exit_2_and_write_nothing(
    app: Flask, session: Session, plc: Plc, tmp_path: Path, content: object, arguments: list[str], message: str
) -> None:
    items = {"other": plc.other_kind.id, "foreign": plc.foreign_model.id}
    if isinstance(content, dict) and content.get("threat_model_evidence_id") in items:
        content = {**content, "threat_model_evidence_id": items[content["threat_model_evidence_id"]]}
    source = tmp_path / "risk.json"
    source.write_text(json.dumps(content))
    before = written(session)
    result = app.test_cli_runner().invoke(cli, ["cra", "risk", "PLC", "--file", str(source), *arguments])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert message in result.output
    assert written(session) == before


def test_the_command_line_records_and_shows_the_support_period(app: Flask, session: Session, plc: Plc) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["cra", "support", "PLC"]).output.strip() == "PLC: no support period recorded"
    recorded = runner.invoke(
        cli,
        [
            *("cra", "support", "PLC", "--starts", "2026-03-02", "--ends", "2031-03", "--method", "The minimum."),
            *("--published", "https://example.com/plc/support", "--json"),
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    out = json.loads(recorded.output)
    assert out["support_period_end"] == "2031-03-31" and [u["version"] for u in out["updates"]] == ["1.0", "1.1"]
    # Options not given keep what is recorded.
    moved = runner.invoke(cli, ["cra", "support", "PLC", "--ends", "2032-06-15"])
    assert moved.exit_code == 0, moved.output
    assert "ends:             2032-06-15 (recorded as 2032-06-15)" in moved.output
    assert "how it was set:   The minimum." in moved.output and "1.1: released 2027-06-15" in moved.output
    assert written(session)[1:] == (1, 2, date(2032, 6, 15))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ends", "2030-12"], "shorter_reason: a support period of 4 years 9 months is under 5 years"),
        (["--ends", "2031-13"], "error: --ends: '2031-13' is neither YYYY-MM nor YYYY-MM-DD"),
        (["--ends", "2025-12"], "ends_on: the support period must end after it starts"),
        (["--ends", "2031-03", "--expected-use-months", "0"], "the expected use time must be positive"),
        (["--ends", "2031-03", "--as", AUDITOR], "may not do this (cra:manage)"),
    ],
)
def test_command_line_support_refusals_are_one_line_exit_2_and_write_nothing(
    app: Flask, session: Session, plc: Plc, arguments: list[str], message: str
) -> None:
    before = written(session)
    result = app.test_cli_runner().invoke(cli, ["cra", "support", "PLC", "--starts", "2026-03-02", *arguments])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert message in result.output
    assert written(session) == before
