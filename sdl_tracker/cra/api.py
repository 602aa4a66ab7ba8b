"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import PAGE_QUERY, ItemList, Page, json_response, operation, paginated, parse_body
from ..app_access import app_installation
from ..errors import Invalid, NotFound
from ..products.services import get_release
from ..web.context import db_session
from . import declarations
from .applicability import TEXT_MAX, mapping_state, move_mapping, point_view, record_point, release_points
from .completeness import release_file
from .declarations import LINE_LIMITS, TEXT_LIMITS, DeclarationInput, UserInformationInput
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
from .rules import (
    OTHER_STANDARDS_MAX,
    PUBLISHED_URL_MAX,
    STANDARD_REFERENCE_MAX,
    USER_INFORMATION_TEXT_MAX,
    ConformityRoute,
    PresumptionBasis,
    parse_support_end,
)
from .schemas import (
    CraFileOut,
    DeclarationOut,
    MappingStateOut,
    PointOut,
    RiskAssessmentOut,
    SupportObligationsOut,
    UserInformationOut,
)

bp = Blueprint("cra_api", __name__)


# --- Annex I applicability and the mapping version ---


class PointIn(Input):
    """How one Annex I point applies to the release; the evidence listed replaces what was linked by hand."""

    applicable: bool = Field(strict=True, description="Part I (1) and Part II points cannot be false")
    justification: Text = Field(default="", max_length=TEXT_MAX, description="required when not applicable")
    measures: Text = Field(default="", max_length=TEXT_MAX, description="the measures that implement it")
    evidence_ids: list[int] = Field(
        default_factory=list,
        max_length=500,
        description="evidence items of the product or organisation-wide (release-scoped ones naming this release)",
    )


class MappingIn(Input):
    """The newer mapping version to assess the release with."""

    version: str = Field(min_length=1, max_length=40)


@bp.get("/releases/<int:release_id>/cra/points")
@operation("A release's Annex I points in Annex order", response=ItemList[PointOut], tag="cra")
def points_list(release_id: int) -> Response:
    """List the release's Annex I points."""
    points = release_points(db_session(), g.principal, release_id)
    return json_response(ItemList(items=[PointOut.of(p) for p in points]))


@bp.get("/releases/<int:release_id>/cra/points/<ref>")
@operation("One Annex I point of a release", response=PointOut, tag="cra")
def points_show(release_id: int, ref: str) -> Response:
    """Show one point."""
    return json_response(PointOut.of(point_view(db_session(), g.principal, release_id, ref)))


@bp.put("/releases/<int:release_id>/cra/points/<ref>")
@operation(
    "Record how an Annex I point applies to the release (security officers): not applicable needs a "
    "justification, and Part I (1) and Part II always apply",
    body=PointIn,
    response=PointOut,
    tag="cra",
)
def points_put(release_id: int, ref: str) -> Response:
    """Record a point."""
    body = parse_body(PointIn)
    session = db_session()
    record_point(
        session,
        g.principal,
        release_id,
        ref,
        applicable=body.applicable,
        justification=body.justification,
        measures=body.measures,
        evidence_ids=body.evidence_ids,
    )
    return json_response(PointOut.of(point_view(session, g.principal, release_id, ref)))


@bp.get("/releases/<int:release_id>/cra/mapping")
@operation("The IEC 62443 -> CRA mapping version a release is assessed with", response=MappingStateOut, tag="cra")
def mapping_show(release_id: int) -> Response:
    """Show the release's mapping version."""
    return json_response(MappingStateOut.of(mapping_state(db_session(), g.principal, release_id)))


@bp.post("/releases/<int:release_id>/cra/mapping")
@operation(
    "Move a release not yet shipped on to a newer mapping version (security officers)",
    body=MappingIn,
    response=MappingStateOut,
    tag="cra",
)
def mapping_move(release_id: int) -> Response:
    """Move the release's mapping version."""
    body = parse_body(MappingIn)
    session = db_session()
    move_mapping(session, g.principal, release_id, body.version)
    return json_response(MappingStateOut.of(mapping_state(session, g.principal, release_id)))


# --- risk assessment and support period ---


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


# --- Annex II user information and declaration of conformity ---


class UserInformationItemIn(Input):
    """One Annex II item: its text, a document (an evidence item), or both; neither removes it."""

    text: Text = Field(default="", max_length=USER_INFORMATION_TEXT_MAX)
    evidence_id: int | None = Field(default=None, description="an evidence item of the product or the organisation")

    def item(self) -> UserInformationInput:
        """The item as the service takes it."""
        return UserInformationInput(self.text, self.evidence_id)


class UserInformationIn(Input):
    """Annex II items by ref (AII.1..AII.7, AII.8a..AII.8f, AII.9); items not named are left as they are."""

    items: dict[str, UserInformationItemIn]

    def items_input(self) -> dict[str, UserInformationInput]:
        """The items as the service takes them."""
        return {ref: item.item() for ref, item in self.items.items()}


class DeclarationIn(Input):
    """The whole of a release's declaration data: a field left out is recorded empty."""

    manufacturer_name: str = Field(default="", max_length=LINE_LIMITS["manufacturer_name"])
    manufacturer_address: Text = Field(default="", max_length=TEXT_LIMITS["manufacturer_address"])
    representative: Text = Field(default="", max_length=TEXT_LIMITS["representative"])
    product_identification: Text = Field(default="", max_length=TEXT_LIMITS["product_identification"])
    object_description: Text = Field(default="", max_length=TEXT_LIMITS["object_description"])
    conformity_route: ConformityRoute | None = Field(default=None, description="one the product's category allows")
    presumption_basis: PresumptionBasis | None = Field(
        default=None, description="only with module A of an important product of class I: what is applied in full"
    )
    presumption_basis_reference: str = Field(default="", max_length=LINE_LIMITS["presumption_basis_reference"])
    notified_body_name: str = Field(default="", max_length=LINE_LIMITS["notified_body_name"])
    notified_body_number: str = Field(default="", max_length=20, description="four digits")
    certificate_reference: str = Field(default="", max_length=LINE_LIMITS["certificate_reference"])
    other_standards: list[str] = Field(
        default_factory=list,
        max_length=5 * OTHER_STANDARDS_MAX,
        description=f"at most {OTHER_STANDARDS_MAX} besides IEC 62443-4-1 and 4-2 (which are always recorded), each "
        f"at most {STANDARD_REFERENCE_MAX} characters",
    )
    declaration_url: str = Field(default="", max_length=LINE_LIMITS["declaration_url"])
    place_of_issue: str = Field(default="", max_length=LINE_LIMITS["place_of_issue"])
    date_of_issue: date | None = None
    signatory_name: str = Field(default="", max_length=LINE_LIMITS["signatory_name"])
    signatory_function: str = Field(default="", max_length=LINE_LIMITS["signatory_function"])

    def declaration(self) -> DeclarationInput:
        """The declaration as the service takes it."""
        values = self.model_dump()
        values["conformity_route"] = self.conformity_route.value if self.conformity_route else ""
        values["presumption_basis"] = self.presumption_basis.value if self.presumption_basis else ""
        return DeclarationInput(**values)


def _user_information(release_id: int) -> Response:
    session = db_session()
    items = declarations.user_information(session, g.principal, release_id)
    release = get_release(session, g.principal, release_id)
    return json_response(UserInformationOut.of(release, items))


@bp.get("/releases/<int:release_id>/cra/user-information")
@operation(
    "A release's Annex II user information: every item, recorded or not, with the tracker's suggestion and the "
    "requirements the release's mapping version maps to it",
    response=UserInformationOut,
    tag="cra",
)
def user_information_show(release_id: int) -> Response:
    """Show a release's user information."""
    return _user_information(release_id)


@bp.put("/releases/<int:release_id>/cra/user-information")
@operation(
    "Record Annex II items of a release (security officers): items not named are left as they are, an item with "
    "neither text nor document is removed; nothing is written when any item is refused",
    body=UserInformationIn,
    response=UserInformationOut,
    tag="cra",
)
def user_information_update(release_id: int) -> Response:
    """Record a release's user information."""
    body = parse_body(UserInformationIn)
    declarations.record_user_information(db_session(), g.principal, release_id, body.items_input())
    return _user_information(release_id)


def _declaration(release_id: int) -> Response:
    today = app_installation().now().date()
    return json_response(DeclarationOut.of(declarations.declaration_view(db_session(), g.principal, release_id, today)))


@bp.get("/releases/<int:release_id>/cra/declaration")
@operation(
    "A release's EU declaration of conformity data, the routes its product's category allows, the standards applied "
    "and what the file says of them (the empty declaration, recorded false, until one is recorded)",
    response=DeclarationOut,
    tag="cra",
)
def declaration_show(release_id: int) -> Response:
    """Show a release's declaration data."""
    return _declaration(release_id)


@bp.put("/releases/<int:release_id>/cra/declaration")
@operation(
    "Record the whole of a release's declaration data (security officers), with a conformity route the product's "
    "category allows (Art. 32)",
    body=DeclarationIn,
    response=DeclarationOut,
    tag="cra",
)
def declaration_update(release_id: int) -> Response:
    """Record a release's declaration data."""
    body = parse_body(DeclarationIn)
    declarations.record_declaration(db_session(), g.principal, release_id, body.declaration())
    return _declaration(release_id)


# --- the file as a whole and its completeness ---


@bp.get("/releases/<int:release_id>/cra")
@operation(
    "A release's CRA conformity file in summary, with everything it still lacks before it can be exported",
    response=CraFileOut,
    tag="cra",
)
def release_file_show(release_id: int) -> Response:
    """Show a release's CRA file and its completeness."""
    return json_response(CraFileOut.of(release_file(db_session(), g.principal, release_id)))
