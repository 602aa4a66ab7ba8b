"""Catalog pages, API and CLI."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.catalog.models import CatalogEdition
from sdl_tracker.catalog.services import find_edition
from sdl_tracker.cli import cli
from tests.catalog.test_services import amendment
from tests.factories import ApiClient, login, make_product, make_user, member


def _edition_id(session: Session, standard: str, edition: str) -> int:
    found = find_edition(session, standard, edition)
    assert found is not None
    return found.id


@pytest.fixture
def auditor_client(client: FlaskClient, session: Session) -> FlaskClient:
    member(session, make_product(session), "auditor", email="auditor@example.com")
    session.commit()
    login(client, "auditor@example.com")
    return client


def test_catalog_pages_need_a_login(client: FlaskClient) -> None:
    assert client.get("/catalog/").status_code == 302


def test_browse_and_filter_4_2(auditor_client: FlaskClient, session: Session) -> None:
    edition_id = _edition_id(session, "IEC 62443-4-2", "2019")
    index = auditor_client.get("/catalog/").get_data(as_text=True)
    assert "IEC 62443-4-2" in index and "iec62443-to-cra-annex-i" in index
    page = auditor_client.get(f"/catalog/{edition_id}/?fr=FR4&level=1&kind=component_requirement").get_data(
        as_text=True
    )
    assert "CR 4.1" in page and "Information confidentiality" in page and "CR 1.1" not in page
    edr = auditor_client.get(f"/catalog/{edition_id}/?component_type=EDR&q=mobile").get_data(as_text=True)
    assert "EDR 2.4" in edr and "SAR 2.4" not in edr


def test_bad_filter_is_a_form_error(auditor_client: FlaskClient, session: Session) -> None:
    edition_id = _edition_id(session, "IEC 62443-4-2", "2019")
    response = auditor_client.get(f"/catalog/{edition_id}/?level=9&fr=FR99")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


def test_requirement_page_shows_levels_enhancements_and_cra_points(
    auditor_client: FlaskClient, session: Session
) -> None:
    edition_id = _edition_id(session, "IEC 62443-4-2", "2019")
    page = auditor_client.get(f"/catalog/{edition_id}/{quote('CR 1.1')}").get_data(as_text=True)
    assert "CR 1.1 RE(2)" in page and "Multifactor authentication" in page
    assert "Annex I Part I (2d)" in page and "Required at SL-C" in page
    specific = auditor_client.get(f"/catalog/{edition_id}/{quote('CR 2.4')}").get_data(as_text=True)
    assert "only per component type" in specific and "EDR 2.4" in specific
    enhancement = auditor_client.get(f"/catalog/{edition_id}/{quote('CR 1.1 RE(1)')}")
    assert enhancement.status_code == 200 and "Part of" in enhancement.get_data(as_text=True)


def test_requirement_page_shows_the_annotation(auditor_client: FlaskClient, session: Session) -> None:
    component = _edition_id(session, "IEC 62443-4-2", "2019")
    page = auditor_client.get(f"/catalog/{component}/{quote('CR 1.7 RE(1)')}").get_data(as_text=True)
    assert "Applies only when" in page and "password-based authentication" in page
    unconditional = auditor_client.get(f"/catalog/{component}/{quote('CR 1.1')}").get_data(as_text=True)
    assert "Applies only when" not in unconditional
    process = _edition_id(session, "IEC 62443-4-1", "2018")
    svv4 = auditor_client.get(f"/catalog/{process}/SVV-4").get_data(as_text=True)
    assert "9.5" in svv4 and "at least independent department" in svv4 and "penetration-test" in svv4
    dm1 = auditor_client.get(f"/catalog/{process}/DM-1").get_data(as_text=True)
    assert "only when an issue was reported" in dm1


def test_cra_point_lists_what_supports_it(auditor_client: FlaskClient, session: Session) -> None:
    cra_id = _edition_id(session, "CRA", "2024/2847")
    page = auditor_client.get(f"/catalog/{cra_id}/II.1").get_data(as_text=True)
    assert "SM-9" in page and "SM-10" in page
    unmapped = auditor_client.get(f"/catalog/{cra_id}/AII.1").get_data(as_text=True)
    assert "No IEC 62443 requirement maps to this point" in unmapped


def test_unknown_editions_and_requirements_are_404(auditor_client: FlaskClient, session: Session) -> None:
    edition_id = _edition_id(session, "IEC 62443-4-2", "2019")
    assert auditor_client.get("/catalog/999999/").status_code == 404
    assert auditor_client.get(f"/catalog/{edition_id}/CR%209.9").status_code == 404


def test_catalog_api(api: ApiClient, session: Session) -> None:
    member(session, make_product(session, "P"), "auditor", email="reader@example.com")
    session.commit()
    token = api.as_user("reader@example.com")
    editions = api.call("GET", "/api/v1/catalog/editions", token).get_json()["items"]
    by_standard = {e["standard"]: e for e in editions}
    assert by_standard["IEC 62443-4-1"]["items"] == 59
    edition_id = by_standard["IEC 62443-4-2"]["id"]
    listing = api.call(
        "GET",
        f"/api/v1/catalog/editions/{edition_id}/requirements?component_type=NDR&level=4&kind=type_requirement",
        token,
    )
    body = listing.get_json()
    assert body["total"] == 12 and {r["component_type"] for r in body["items"]} == {"NDR"}
    detail = api.call("GET", f"/api/v1/catalog/editions/{edition_id}/requirements/{quote('CR 3.4')}", token).get_json()
    assert detail["requirement"]["title"] and "I.2f" in {p["id"] for p in detail["supports"]}
    assert detail["annotation"] is None  # CR 3.4 is unconditional and has no 4-1 facts
    wireless = api.call("GET", f"/api/v1/catalog/editions/{edition_id}/requirements/{quote('CR 2.2')}", token)
    assert wireless.get_json()["annotation"]["conditional"] is True
    process_id = by_standard["IEC 62443-4-1"]["id"]
    sr2 = api.call("GET", f"/api/v1/catalog/editions/{process_id}/requirements/SR-2", token).get_json()["annotation"]
    assert sr2["clause"] == "6.3" and sr2["record_scope"] == "release" and "threat-model" in sr2["record_kinds"]
    assert (
        api.call("GET", f"/api/v1/catalog/editions/{edition_id}/requirements/{quote('CR 9.9')}", token).status_code
        == 404
    )
    bad = api.call("GET", f"/api/v1/catalog/editions/{edition_id}/requirements?level=5&kind=nope", token)
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"level", "kind"}
    export = api.call("GET", "/api/v1/catalog/export?standard=IEC%2062443-4-1&per_page=200", token).get_json()
    assert export["total"] == 59 and export["items"][0]["standard"] == "IEC 62443-4-1"


def run(app: Flask, *args: str) -> object:
    return app.test_cli_runner().invoke(cli, list(args))


def test_catalog_export_json_has_every_field(app: Flask) -> None:
    result = run(app, "catalog", "export", "--json")
    rows = json.loads(result.output)  # type: ignore[attr-defined]
    assert len(rows) == 59 + 148 + 39
    cr11 = next(r for r in rows if r["id"] == "CR 1.1")
    assert cr11 == {
        "standard": "IEC 62443-4-2",
        "edition": "2019",
        "id": "CR 1.1",
        "title": "Human user identification and authentication",
        "parent": "FR1",
        "kind": "component_requirement",
        "cr_scope": "general",
        "component_type": None,
        "practice": None,
        "fr": "FR1",
        "sl_c": [1, 2, 3, 4],
        "applies_via": [],
    }
    only_41 = json.loads(run(app, "catalog", "export", "--json", "--standard", "IEC 62443-4-1").output)  # type: ignore[attr-defined]
    assert len(only_41) == 59


def test_catalog_load_a_new_edition_from_a_file(app: Flask, session: Session, tmp_path: Path) -> None:
    path = tmp_path / "amd1.json"
    path.write_text(json.dumps(amendment()))
    result = run(app, "catalog", "load", str(path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "loaded IEC 62443-4-2 2019+AMD1 (149 items)" in result.output  # type: ignore[attr-defined]
    assert "unchanged IEC 62443-4-2 2019" in result.output  # type: ignore[attr-defined]
    again = run(app, "catalog", "load", str(path))
    assert "unchanged IEC 62443-4-2 2019+AMD1" in again.output  # type: ignore[attr-defined]
    listed = json.loads(run(app, "catalog", "list", "--json").output)  # type: ignore[attr-defined]
    assert [e["edition"] for e in listed["editions"] if e["standard"] == "IEC 62443-4-2"] == ["2019+AMD1", "2019"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not JSON"), ('{"catalog": "iec62443-9-9"}', "unknown catalog"), ("[1, 2]", "JSON object")],
)
def test_catalog_load_bad_files(app: Flask, session: Session, tmp_path: Path, content: str, fragment: str) -> None:
    before = session.scalar(select(func.count()).select_from(CatalogEdition))
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run(app, "catalog", "load", str(path))
    lines = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert result.exit_code == 2 and len(lines) == 1 and fragment in lines[0]  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(CatalogEdition)) == before


def test_catalog_load_refuses_a_changed_title(app: Flask, tmp_path: Path) -> None:
    doc = amendment()
    doc["edition_id"] = "2019"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc))
    result = run(app, "catalog", "load", str(path))
    assert result.exit_code == 2 and "CR 1.1: title changed" in result.output  # type: ignore[attr-defined]


def test_product_api_reports_and_changes_editions(api: ApiClient, session: Session) -> None:
    from sdl_tracker.auth import Principal
    from sdl_tracker.catalog.services import load_catalog

    load_catalog(session, Principal.operator("tests"), amendment())
    product = make_product(session)
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    token = api.as_user("admin@example.com")
    shown = api.call("GET", f"/api/v1/products/{product.id}", token).get_json()
    assert shown["editions"]["IEC 62443-4-2"] == "2019+AMD1"
    patched = api.call("PATCH", f"/api/v1/products/{product.id}", token, json={"editions": {"IEC 62443-4-2": "2019"}})
    assert patched.get_json()["editions"]["IEC 62443-4-2"] == "2019"
    bad = api.call("PATCH", f"/api/v1/products/{product.id}", token, json={"editions": {"IEC 62443-4-2": "1999"}})
    assert bad.status_code == 422
