"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import json_response, operation, parse_body
from ..app_access import app_installation
from ..products.services import get_release
from ..web.context import db_session
from . import declarations
from .declarations import LINE_LIMITS, TEXT_LIMITS, DeclarationInput, UserInformationInput
from .rules import (
    OTHER_STANDARDS_MAX,
    STANDARD_REFERENCE_MAX,
    USER_INFORMATION_TEXT_MAX,
    ConformityRoute,
    PresumptionBasis,
)
from .schemas import DeclarationOut, UserInformationOut

bp = Blueprint("cra_api", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


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


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
