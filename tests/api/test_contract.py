"""The OpenAPI document is valid, declares what every route may answer, and the response checker bites."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, Response
from openapi_spec_validator import validate

from sdl_tracker.api.openapi import build_openapi, operation
from sdl_tracker.products.api import ProductOut
from tests.contract import Answer, Contract, ContractError, contract_for

PROBLEM = "application/problem+json"
EVERY_ROUTE = {"401", "403", "404", "422", "503"}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    return build_openapi(app)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # the specification's own schema, with the 2020-12 dialect for the models


def test_every_route_declares_its_problems(document: dict[str, Any]) -> None:
    for path, method, op in _operations(document):
        problems = {status for status, response in op["responses"].items() if PROBLEM in response.get("content", {})}
        assert problems >= EVERY_ROUTE, (method, path)
        assert "Retry-After" in op["responses"]["503"]["headers"], (method, path)
        if "requestBody" in op:
            assert {"400", "413"} <= problems, (method, path)
        successes = [status for status in op["responses"] if status.startswith("2")]
        assert successes and not set(successes) & problems, (method, path)
    schema = document["components"]["schemas"]["Problem"]
    assert set(schema["required"]) == {"title", "status", "detail"}


def test_conflicts_and_uploads_are_declared_where_they_happen(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "409" in paths["/api/v1/products"]["post"]["responses"]
    assert "409" in paths["/api/v1/releases/{release_id}/sboms"]["post"]["responses"]
    assert "413" in paths["/api/v1/products/{product_id}/evidence"]["post"]["responses"]
    assert {"200", "201"} <= paths["/api/v1/releases/{release_id}/sboms"]["post"]["responses"].keys()


def test_downloads_declare_their_media_types_not_json(document: dict[str, Any]) -> None:
    for path in ("/api/v1/artifacts/{artifact_id}", "/api/v1/sboms/{sbom_id}/original"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert "application/octet-stream" in content and "application/xml" in content, path
        assert all("schema" not in media for media in content.values()), path


def test_lists_share_one_page_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("ProductPage", "ReleasePage", "EvidencePage", "SbomPage", "ComponentPage", "RequirementPage"):
        assert set(schemas[name]["required"]) == {"items", "total", "page", "per_page"}, name
    listed = document["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]
    shown = document["paths"]["/api/v1/products/{product_id}"]["get"]["responses"]["200"]["content"]
    assert listed["schema"]["$ref"].endswith("/ProductPage")
    assert schemas["ProductPage"]["properties"]["items"]["items"] == shown["application/json"]["schema"]


# The checker itself, fed crafted answers: it must refuse what the document does not say.
PRODUCT = {
    "id": 1,
    "name": "PLC",
    "vendor": "",
    "description": "",
    "component_type": "EDR",
    "target_sl": {"FR1": 2},
    "cra_category": "default",
    "support_period_end": None,
    "security_contact": "",
    "cvd_policy_url": "",
    "require_verified_authors": False,
    "interfaces": [],
    "editions": {},
    "created_at": "2026-01-02T03:04:05Z",
}


def _answer(
    status: int, body: Any, media: str = "application/json", path: str = "/api/v1/products/{product_id}"
) -> Answer:
    return Answer("GET", path, status, media, json.dumps(body).encode())


@pytest.fixture
def contract(app: Flask) -> Contract:
    return contract_for(app)


def test_the_checker_accepts_what_the_document_says(contract: Contract) -> None:
    contract.check(_answer(200, PRODUCT))
    contract.check(_answer(404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": "no"}, PROBLEM))
    contract.check(Answer("GET", "/api/v1/artifacts/{artifact_id}", 200, "application/pdf", b"%PDF-"))
    busy = {"title": "Service Unavailable", "status": 503, "detail": "busy"}
    contract.check(
        Answer("GET", "/api/v1/products", 503, PROBLEM, json.dumps(busy).encode(), frozenset({"retry-after"}))
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_answer(200, {**PRODUCT, "id": "one"}), "does not match"),
        (_answer(200, {k: v for k, v in PRODUCT.items() if k != "name"}), "does not match"),
        (_answer(200, {**PRODUCT, "created_at": "yesterday"}), "does not match"),
        (_answer(200, {**PRODUCT, "component_type": "PLC"}), "does not match"),
        (_answer(404, {"title": "Not found"}, PROBLEM), "does not match"),
        (_answer(500, {"title": "oops", "status": 500, "detail": "x"}, PROBLEM), "not declared"),
        (_answer(201, PRODUCT), "not declared"),
        (_answer(200, PRODUCT, "text/html"), "media type not declared"),
        (_answer(404, {"title": "Not found", "status": 404, "detail": "no"}), "media type not declared"),
        (Answer("GET", "/api/v1/artifacts/{artifact_id}", 200, "text/html", b"<script>"), "media type not declared"),
        (Answer("GET", "/api/v1/products/{product_id}", 200, "application/json", b"{not json"), "not JSON"),
        (Answer("DELETE", "/api/v1/products/{product_id}", 204, "", b""), "no such operation"),
        (_answer(503, {"title": "Busy", "status": 503, "detail": "x"}, PROBLEM), "header Retry-After is missing"),
    ],
)
def test_the_checker_refuses_what_the_document_does_not_say(contract: Contract, answer: Answer, reason: str) -> None:
    with pytest.raises(ContractError, match=reason):
        contract.check(answer)


def test_a_wrong_response_fails_the_test_that_made_it(app: Flask) -> None:
    """The test client checks as it goes: a route answering outside the document fails its caller."""

    @app.get("/api/v1/crafted/<int:status>")
    @operation("A route that answers what it is told", response=ProductOut)
    def crafted(status: int) -> Response:
        return Response(json.dumps({"id": 1}), status=status, mimetype="application/json")

    client = app.test_client()
    with pytest.raises(ContractError, match="does not match"):
        client.get("/api/v1/crafted/200")
    with pytest.raises(ContractError, match="status 418 is not declared"):
        client.get("/api/v1/crafted/418")
