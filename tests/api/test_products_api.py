"""/api/v1 products, releases and repositories: bearer auth, validation, problem+json, isolation."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member
from sdl_tracker.api.openapi import build_openapi
from sdl_tracker.products.models import Product, Release
from tests.factories import OPERATOR, ApiClient, make_product, make_release, make_user, member

LEVELS = {f"FR{i}": 2 for i in range(1, 8)}
NEW_PRODUCT = {
    "name": "NW-Gateway",
    "component_type": "NDR",
    "target_sl": LEVELS,
    "vendor": "Northwind",
    "cra_category": "important_class_ii",
    "support_period_end": "2032-06-30",
    "interfaces": [{"name": "wan", "kind": "network", "protocol": "IPsec", "port": 500}],
}


@pytest.fixture
def admin_token(api: ApiClient, session: Session) -> str:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    return api.as_user("admin@example.com")


def _problem(response: object) -> dict:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)  # type: ignore[attr-defined]
    return response.get_json()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer unknown-token"])
def test_missing_or_bad_credentials_get_401_problem(api: ApiClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = api.client.get("/api/v1/products", headers=headers)
    assert response.status_code == 401
    assert _problem(response)["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_cookies_do_not_authenticate_the_api(api: ApiClient, session: Session) -> None:
    from tests.factories import login

    make_user(session, "admin@example.com", admin=True)
    session.commit()
    login(api.client, "admin@example.com")
    assert api.client.get("/api/v1/products").status_code == 401


def test_create_show_list_and_patch_a_product(api: ApiClient, admin_token: str, session: Session) -> None:
    created = api.call("POST", "/api/v1/products", admin_token, json=NEW_PRODUCT)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["target_sl"] == LEVELS and body["interfaces"][0]["port"] == 500
    assert api.call("GET", f"/api/v1/products/{body['id']}", admin_token).get_json()["name"] == "NW-Gateway"
    listing = api.call("GET", "/api/v1/products?per_page=1", admin_token).get_json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["per_page"] == 1
    patched = api.call("PATCH", f"/api/v1/products/{body['id']}", admin_token, json={"vendor": "Contoso"})
    assert patched.status_code == 200 and patched.get_json()["vendor"] == "Contoso"
    assert patched.get_json()["cra_category"] == "important_class_ii"  # untouched fields stay


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_PRODUCT, "target_sl": {**LEVELS, "FR4": 5}}, "target_sl.FR4"),
        ({**NEW_PRODUCT, "target_sl": {"FR1": 2}}, "target_sl.FR2"),
        ({**NEW_PRODUCT, "component_type": "PLC"}, "component_type"),
        ({**NEW_PRODUCT, "is_admin": True}, "is_admin"),
        ({**NEW_PRODUCT, "name": ""}, "name"),
        ({**NEW_PRODUCT, "interfaces": [{"name": "x", "kind": "network", "port": 0}]}, "interfaces.0.port"),
        ({**NEW_PRODUCT, "support_period_end": "someday"}, "support_period_end"),
        ({**NEW_PRODUCT, "security_contact": "nobody"}, "security_contact"),
    ],
)
def test_invalid_bodies_get_422_naming_the_field(
    api: ApiClient, admin_token: str, session: Session, body: dict, field: str
) -> None:
    response = api.call("POST", "/api/v1/products", admin_token, json=body)
    assert response.status_code == 422
    problem = _problem(response)
    assert field in {e["field"] for e in problem["errors"]}
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_not_json_is_a_clear_error(api: ApiClient, admin_token: str) -> None:
    response = api.call(
        "POST", "/api/v1/products", admin_token, data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert "JSON" in _problem(response)["detail"]
    broken = api.call("POST", "/api/v1/products", admin_token, data="{not json", content_type="application/json")
    assert broken.status_code == 422


def test_duplicate_is_409(api: ApiClient, admin_token: str, session: Session) -> None:
    make_product(session, "nw-gateway")
    session.commit()
    response = api.call("POST", "/api/v1/products", admin_token, json=NEW_PRODUCT)
    assert response.status_code == 409 and _problem(response)["title"] == "Conflict"


def test_releases_through_the_api(api: ApiClient, admin_token: str, session: Session) -> None:
    product = make_product(session)
    session.commit()
    path = f"/api/v1/products/{product.id}/releases"
    for version in ("1.10", "1.9"):
        assert (
            api.call("POST", path, admin_token, json={"version": version, "git_ref": f"v{version}"}).status_code == 201
        )
    assert [r["version"] for r in api.call("GET", path, admin_token).get_json()["items"]] == ["1.9", "1.10"]
    bad = api.call("POST", path, admin_token, json={"version": "1 9"})
    assert bad.status_code == 422 and _problem(bad)["errors"][0]["field"] == "version"
    dup = api.call("POST", path, admin_token, json={"version": "1.9"})
    assert dup.status_code == 409
    release_id = session.scalar(select(Release.id).where(Release.version == "1.9"))
    patched = api.call("PATCH", f"/api/v1/releases/{release_id}", admin_token, json={"status": "candidate"})
    assert patched.get_json()["status"] == "candidate"
    # Released only through a signed-off gate (tests/gates): refused as invalid input, the field named.
    refused = api.call("PATCH", f"/api/v1/releases/{release_id}", admin_token, json={"status": "released"})
    assert refused.status_code == 422 and _problem(refused)["errors"][0]["field"] == "status"
    assert "without a signed-off release gate" in _problem(refused)["detail"]
    assert api.call("PATCH", f"/api/v1/releases/{release_id}", admin_token, json={"version": "2"}).status_code == 422


def test_repositories_through_the_api(api: ApiClient, admin_token: str, session: Session) -> None:
    product = make_product(session)
    session.commit()
    path = f"/api/v1/products/{product.id}/repositories"
    body = {"name": "fw", "location": "https://git.example.com/fw.git", "ref_patterns": ["refs/heads/main"]}
    created = api.call("POST", path, admin_token, json=body)
    assert created.status_code == 201 and created.get_json()["ref_patterns"] == ["refs/heads/main"]
    default = api.call("POST", path, admin_token, json={"name": "hmi", "location": "git@example.com:o/hmi.git"})
    assert default.get_json()["ref_patterns"] == ["refs/heads", "refs/tags"]
    listed = api.call("GET", path, admin_token).get_json()["items"]
    assert [r["name"] for r in listed] == ["fw", "hmi"]
    hosting = api.call("POST", path, admin_token, json={**body, "name": "pr", "ref_patterns": ["refs/pull/*"]})
    assert hosting.status_code == 422 and _problem(hosting)["errors"][0]["field"] == "refs"
    assert len(api.call("GET", path, admin_token).get_json()["items"]) == 2  # nothing half-registered


def test_other_products_are_404_for_members(api: ApiClient, session: Session) -> None:
    mine, theirs = make_product(session, "Mine"), make_product(session, "Theirs")
    release = make_release(session, theirs, "1.0")
    member(session, mine, "security_officer", email="so@example.com")
    session.commit()
    token = api.as_user("so@example.com")
    assert [p["name"] for p in api.call("GET", "/api/v1/products", token).get_json()["items"]] == ["Mine"]
    for method, path in (
        ("GET", f"/api/v1/products/{theirs.id}"),
        ("PATCH", f"/api/v1/products/{theirs.id}"),
        ("GET", f"/api/v1/products/{theirs.id}/releases"),
        ("POST", f"/api/v1/products/{theirs.id}/releases"),
        ("GET", f"/api/v1/releases/{release.id}"),
        ("PATCH", f"/api/v1/releases/{release.id}"),
        ("GET", f"/api/v1/products/{theirs.id}/repositories"),
    ):
        response = api.call(method, path, token, json={"version": "9"} if method == "POST" else {})
        assert response.status_code == 404, (method, path)
        assert "Theirs" not in response.get_data(as_text=True)
    forbidden = api.call("POST", "/api/v1/products", token, json=NEW_PRODUCT)
    assert forbidden.status_code == 403 and _problem(forbidden)["status"] == 403


@pytest.mark.parametrize("query", ["page=0", "per_page=500", "page=x", "per_page=-1"])
def test_bad_pagination(api: ApiClient, admin_token: str, query: str) -> None:
    assert api.call("GET", f"/api/v1/products?{query}", admin_token).status_code == 422


def test_unknown_api_paths_and_methods_are_problems(api: ApiClient, admin_token: str) -> None:
    assert _problem(api.call("GET", "/api/v1/nothing-here", admin_token))["status"] == 404
    response = api.call("DELETE", "/api/v1/products", admin_token)
    assert response.status_code == 405 and _problem(response)["status"] == 405


def test_openapi_lists_every_api_route(app: Flask, api: ApiClient) -> None:
    document = api.client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, m) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert routed and documented == routed
    assert document["components"]["schemas"]["ProductIn"]["additionalProperties"] is False
    assert build_openapi(app) == document


def test_openapi_schemas_are_the_validating_schemas(api: ApiClient) -> None:
    """The document's limits are the limits the API enforces (one source)."""
    document = api.client.get("/api/v1/openapi.json").get_json()
    target = document["components"]["schemas"]["TargetSl"]["properties"]["FR1"]
    assert (target["minimum"], target["maximum"]) == (1, 4)
    assert set(document["components"]["schemas"]["TargetSl"]["required"]) == {f"FR{i}" for i in range(1, 8)}


def test_patch_with_null_is_422(api: ApiClient, admin_token: str, session: Session) -> None:
    product = make_product(session)
    session.commit()
    for field in ("name", "vendor", "component_type"):
        response = api.call("PATCH", f"/api/v1/products/{product.id}", admin_token, json={field: None})
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == field
    cleared = api.call("PATCH", f"/api/v1/products/{product.id}", admin_token, json={"support_period_end": None})
    assert cleared.status_code == 200 and cleared.get_json()["support_period_end"] is None


def test_the_product_list_is_paged_by_name_and_counts_only_what_the_reader_sees(
    api: ApiClient, session: Session
) -> None:
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    products = {name: make_product(session, name) for name in names}
    member(session, products["Alpha"], "auditor", email="auditor@example.com")
    for name in ("charlie", "echo"):
        add_member(session, OPERATOR, products[name].id, email="auditor@example.com", role="auditor")
    session.commit()
    token = api.as_user("auditor@example.com")

    def listed(page: int, per_page: int) -> tuple[list[str], int]:
        body = api.call("GET", f"/api/v1/products?page={page}&per_page={per_page}", token).get_json()
        return [p["name"] for p in body["items"]], body["total"]

    assert listed(1, 2) == (["Alpha", "charlie"], 3)  # by name, case-insensitively
    assert listed(2, 2) == (["echo"], 3)
    assert listed(3, 2) == ([], 3)
    assert listed(1, 50) == (["Alpha", "charlie", "echo"], 3)
