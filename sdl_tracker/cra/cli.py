"""`sdl-tracker cra` commands: show and check a release's CRA file, record Annex I points, move the mapping
version, record the risk assessment, support period, user information and declaration data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import AppGroup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..api.inputs import Input
from ..app_access import app_installation
from ..auth import Principal
from ..commands import emit, json_option, say, server_command
from ..errors import FieldError, Invalid
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from . import declarations
from .api import DeclarationIn, UserInformationIn
from .rules import ROUTE_LABELS
from .schemas import DeclarationOut, UserInformationOut

cra = AppGroup("cra", help="The CRA conformity file: Annex I applicability, risk assessment, support period, DoC data.")


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===

In = TypeVar("In", bound=Input)
file_option = click.option(
    "--file",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Record from this JSON file (the API's body); without it, show what is recorded.",
)


def _release(session: Session, actor: Principal, product_name: str, version: str) -> Release:
    product = get_product_by_name(session, actor, product_name)
    return get_release_by_version(session, actor, product.id, version)


def _read(model: type[In], source: Path) -> In:
    """A JSON file validated as the API validates its body; refusals name the field."""
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid.field("--file", f"{source} is not a readable JSON file ({exc})") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "file", e["msg"].removeprefix("Value error, "))
            for e in exc.errors(include_url=False)
        ]
        raise Invalid(f"{source} was refused", errors=errors) from None


def _item_line(item: dict[str, Any]) -> str:
    document = item["document"]
    parts = (["text"] if item["text"] else []) + ([f"document #{document['id']}"] if document else [])
    state = " + ".join(parts) or "missing"
    return f"{item['ref']:<7} {state:<24} {item['title']}" + (f" ({item['warning']})" if item["warning"] else "")


@cra.command("user-info")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@file_option
@json_option
@server_command()
def cra_user_info(
    session: Session, actor: Principal, product_name: str, version: str, source: Path | None, as_json: bool
) -> None:
    """Show VERSION's Annex II user information, or record items from a JSON file ({"items": {"AII.1": {"text":
    ..., "evidence_id": ...}}}; items not named are left as they are)."""
    release = _release(session, actor, product_name, version)
    if source is not None:
        body = _read(UserInformationIn, source)
        declarations.record_user_information(session, actor, release.id, body.items_input())
    out = UserInformationOut.of(release, declarations.user_information(session, actor, release.id))
    data = out.model_dump(mode="json")

    def text() -> None:
        for item in data["items"]:
            say(_item_line(item))

    emit(data, as_json, text)


DECLARATION_LINES = (
    ("manufacturer_name", "Manufacturer"),
    ("manufacturer_address", "Address"),
    ("representative", "Authorised representative"),
    ("product_identification", "Product"),
    ("object_description", "Object"),
    ("presumption_basis_reference", "Applied in full"),
    ("notified_body_name", "Notified body"),
    ("notified_body_number", "Notified body number"),
    ("certificate_reference", "Certificate"),
    ("declaration_url", "Published at"),
    ("place_of_issue", "Place of issue"),
    ("date_of_issue", "Date of issue"),
    ("signatory_name", "Signed by"),
    ("signatory_function", "Function"),
)


@cra.command("declaration")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@file_option
@json_option
@server_command()
def cra_declaration(
    session: Session, actor: Principal, product_name: str, version: str, source: Path | None, as_json: bool
) -> None:
    """Show VERSION's EU declaration of conformity data, or record all of it from a JSON file (the API's body: a
    field left out is recorded empty)."""
    release = _release(session, actor, product_name, version)
    if source is not None:
        body = _read(DeclarationIn, source)
        declarations.record_declaration(session, actor, release.id, body.declaration())
    today = app_installation().now().date()
    data = DeclarationOut.of(declarations.declaration_view(session, actor, release.id, today)).model_dump(mode="json")

    def text() -> None:
        if not data["recorded"]:
            say(f"{release.version}: no declaration data recorded")
        route = data["conformity_route"]
        say(f"Route: {ROUTE_LABELS[route] if route else 'not chosen yet'}")
        for name, label in DECLARATION_LINES:
            if data[name]:
                say(f"{label}: {' / '.join(str(data[name]).splitlines())}")
        say(f"Standards applied: {'; '.join(data['applied_standards'])}")
        say(data["standards_statement"])
        for warning in data["warnings"]:
            say(f"warning: {warning}")

    emit(data, as_json, text)


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
