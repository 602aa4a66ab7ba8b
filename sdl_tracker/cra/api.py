"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import PAGE_QUERY, Page, json_response, operation, paginated, parse_body
from ..errors import Invalid, NotFound
from ..web.context import db_session
from .completeness import release_file
from .records import (
    RISK_TEXT_MAX,
    SUPPORT_TEXT_MAX,
    RiskAssessmentInput,
    SupportObligations,
    SupportPeriodInput,
    current_risk_assessment,
    record_risk_assessment,
    record_support_period,
    risk_assessment_revision,
    risk_assessments,
    support_obligations,
)
from .rules import PUBLISHED_URL_MAX, parse_support_end
from .schemas import CraFileOut, RiskAssessmentOut, SupportObligationsOut

bp = Blueprint("cra_api", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


class RiskAssessmentIn(Input):
    """A revision of the product's risk assessment: what it states (the intended purpose at least)."""

    intended_purpose: Text = Field(default="", max_length=RISK_TEXT_MAX, description="required")
    foreseeable_use: Text = Field(default="", max_length=RISK_TEXT_MAX, description="reasonably foreseeable use")
    foreseeable_misuse: Text = Field(default="", max_length=RISK_TEXT_MAX, description="reasonably foreseeable misuse")
    operational_environment: Text = Field(default="", max_length=RISK_TEXT_MAX)
    assets: Text = Field(default="", max_length=RISK_TEXT_MAX, description="the assets to protect")
    expected_use_months: int | None = Field(default=None, description="how long the product is expected to be used")
    threat_model_evidence_id: int | None = Field(
        default=None, description="an evidence item of the product of the kind threat-model"
    )

    def assessment(self) -> RiskAssessmentInput:
        """The revision as the service takes it."""
        return RiskAssessmentInput(**self.model_dump())


class SupportPeriodIn(Input):
    """How the product's support period was set; its end becomes the product's support period end."""

    starts_on: date = Field(description="placed on the market: support starts")
    ends_on: str = Field(
        max_length=10, description="YYYY-MM (the period ends with that month's last day) or YYYY-MM-DD"
    )
    expected_use_months: int | None = Field(
        default=None, description="under 60 months allows a period under 5 years, with the reason"
    )
    method: Text = Field(default="", max_length=SUPPORT_TEXT_MAX, description="how the period was set")
    shorter_reason: Text = Field(default="", max_length=SUPPORT_TEXT_MAX, description="required under 5 years")
    published_where: str = Field(
        default="", max_length=PUBLISHED_URL_MAX, description="where the end date is published: a URL or a description"
    )

    def period(self) -> SupportPeriodInput:
        """The period as the service takes it, else Invalid naming `ends_on`."""
        parsed = parse_support_end(self.ends_on)
        if parsed is None:
            raise Invalid.field("ends_on", f"{self.ends_on!r} is neither YYYY-MM nor YYYY-MM-DD")
        return SupportPeriodInput(
            self.starts_on, *parsed, self.expected_use_months, self.method, self.shorter_reason, self.published_where
        )


@bp.get("/products/<int:product_id>/cra/risk-assessments")
@operation(
    "The revisions of a product's cybersecurity risk assessment, newest (current) first",
    response=Page[RiskAssessmentOut],
    tag="cra",
    query=PAGE_QUERY,
)
def risk_assessments_list(product_id: int) -> Response:
    """List the risk assessment's revisions."""
    return json_response(paginated(risk_assessments(db_session(), g.principal, product_id), RiskAssessmentOut.of))


@bp.post("/products/<int:product_id>/cra/risk-assessments")
@operation(
    "Record the next revision of the product's risk assessment (its security officers): 201 with the new revision, "
    "200 with the current one when the body states what it states (nothing is recorded then)",
    body=RiskAssessmentIn,
    responses={201: RiskAssessmentOut, 200: RiskAssessmentOut},
    tag="cra",
)
def risk_assessments_record(product_id: int) -> Response:
    """Record a risk assessment revision."""
    body = parse_body(RiskAssessmentIn)
    session = db_session()
    before = current_risk_assessment(session, g.principal, product_id)
    revision = record_risk_assessment(session, g.principal, product_id, body.assessment())
    unchanged = before is not None and revision.id == before.id
    return json_response(RiskAssessmentOut.of(revision), 200 if unchanged else 201)


@bp.get("/products/<int:product_id>/cra/risk-assessments/<int:number>")
@operation("One revision of a product's risk assessment", response=RiskAssessmentOut, tag="cra")
def risk_assessments_show(product_id: int, number: int) -> Response:
    """Show a risk assessment revision."""
    revision = risk_assessment_revision(db_session(), g.principal, product_id, number)
    return json_response(RiskAssessmentOut.of(revision))


def _obligations(product_id: int) -> SupportObligations:
    obligations = support_obligations(db_session(), g.principal, product_id)
    if obligations is None:
        raise NotFound("no support period is recorded for this product")
    return obligations


@bp.get("/products/<int:product_id>/cra/support-period")
@operation(
    "How a product's support period was set and what it obliges: until when the documentation and each shipped "
    "release stay available, and warnings an assessor would ask about (404 until it is recorded)",
    response=SupportObligationsOut,
    tag="cra",
)
def support_period_show(product_id: int) -> Response:
    """Show the support period."""
    return json_response(SupportObligationsOut.of(_obligations(product_id)))


@bp.put("/products/<int:product_id>/cra/support-period")
@operation(
    "Record how the product's support period was set (its security officers); its end becomes the product's "
    "support period end. Under 5 years needs a shorter expected use time and the reason",
    body=SupportPeriodIn,
    response=SupportObligationsOut,
    tag="cra",
)
def support_period_update(product_id: int) -> Response:
    """Record the support period."""
    body = parse_body(SupportPeriodIn)
    record_support_period(db_session(), g.principal, product_id, body.period())
    return json_response(SupportObligationsOut.of(_obligations(product_id)))


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


@bp.get("/releases/<int:release_id>/cra")
@operation(
    "A release's CRA conformity file in summary, with everything it still lacks before it can be exported",
    response=CraFileOut,
    tag="cra",
)
def release_file_show(release_id: int) -> Response:
    """Show a release's CRA file and its completeness."""
    return json_response(CraFileOut.of(release_file(db_session(), g.principal, release_id)))


# === end ===
