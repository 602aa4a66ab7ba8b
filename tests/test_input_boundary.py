"""The input boundary: every door answers bad ids, dates, page numbers, text and JSON with a clear 4xx or
exit 2, on both databases, and keeps nothing of the refused request (issue 16)."""

from __future__ import annotations

import io
import json
import typing
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import ApiToken
from sdl_tracker.api.inputs import Input
from sdl_tracker.api.openapi import api_operations
from sdl_tracker.boundary import EARLIEST_DAY, LATEST_DAY
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.models import Artifact
from sdl_tracker.products.models import Product, Release
from tests.factories import ApiClient, csrf_token, login, make_product, make_release, make_user

pytestmark = pytest.mark.db

HUGE = "99999999999999999999"
LONG = "9" * 5000  # more digits than Python converts to an int (sys.get_int_max_str_digits)
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """An administrator and a product with one release."""
    make_user(session, "admin@example.com", admin=True)
    product = make_product(session, "PLC")
    release = make_release(session, product, "1.0")
    session.commit()
    return {"product": product.id, "release": release.id}


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an application/problem+json of `status`."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    return response.get_json()  # type: ignore[no-any-return]


# --- ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/evidence/{HUGE}",
        "/api/v1/evidence/2147483648",
        f"/api/v1/releases/{HUGE}/claims",
        f"/api/v1/sboms/{HUGE}",
        f"/api/v1/jobs/{HUGE}",
        f"/api/v1/catalog/editions/{HUGE}",
    ],
)
def test_api_ids_beyond_the_columns_are_404(api: ApiClient, world: dict[str, Any], path: str) -> None:
    problem(api.call("GET", path, api.as_user("admin@example.com")), 404)


@pytest.mark.parametrize("evidence", [[int(HUGE)], [2**31], [-(2**63) - 1]])
def test_api_ids_in_a_body_beyond_the_columns_are_422(
    api: ApiClient, world: dict[str, Any], evidence: list[int]
) -> None:
    body = {"status": "implemented", "evidence": evidence}
    response = api.call(
        "PUT", f"/api/v1/releases/{world['release']}/claims/CR 1.1", api.as_user("admin@example.com"), json=body
    )
    assert problem(response, 422)["errors"]


@pytest.mark.parametrize("args", [("evidence", "show", HUGE), ("sbom", "show", "2147483648"), ("job", "show", HUGE)])
def test_cli_ids_beyond_the_columns_exit_2(app: Flask, world: dict[str, Any], args: tuple[str, ...]) -> None:
    result = run(app, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "2147483647" in result.output


@pytest.mark.parametrize("other", [HUGE, LONG, "\u00b2", "2147483648", "-1", "x"])
def test_web_query_id_beyond_the_columns_is_422(client: FlaskClient, world: dict[str, Any], other: str) -> None:
    login(client, "admin@example.com")
    response = client.get(f"/releases/{world['release']}/claims/compare?other={other}")
    assert response.status_code == 422 and "other must be an id from 1 to 2147483647" in response.get_data(as_text=True)


# --- JSON bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/products"),
        ("PUT", "/api/v1/releases/{release}/claims/CR 1.1"),
        ("POST", "/api/v1/organisation/maturity"),
    ],
)
def test_deeply_nested_json_is_400(api: ApiClient, world: dict[str, Any], method: str, path: str) -> None:
    response = api.call(
        method,
        path.format(**world),
        api.as_user("admin@example.com"),
        data=NESTED,
        content_type="application/json",
    )
    assert "nested" in problem(response, 400)["detail"]


def test_deeply_nested_multipart_metadata_is_400(api: ApiClient, world: dict[str, Any]) -> None:
    response = api.call(
        "POST",
        f"/api/v1/products/{world['product']}/evidence",
        api.as_user("admin@example.com"),
        data={"metadata": NESTED},
        content_type="multipart/form-data",
    )
    assert "nested" in problem(response, 400)["detail"]


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/products"), ("PUT", "/api/v1/releases/{release}/claims/CR 1.1")]
)
def test_json_number_with_thousands_of_digits_is_not_json(
    api: ApiClient, world: dict[str, Any], method: str, path: str
) -> None:
    response = api.call(
        method,
        path.format(**world),
        api.as_user("admin@example.com"),
        data=f'{{"status": {LONG}}}',
        content_type="application/json",
    )
    assert "JSON" in problem(response, 422)["detail"]


@pytest.mark.parametrize(("levels", "status"), [(32, 422), (33, 400)])
def test_json_nested_to_the_limit_is_validated_beyond_it_refused(
    api: ApiClient, world: dict[str, Any], levels: int, status: int
) -> None:
    body = '{"name": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    response = api.call(
        "POST", "/api/v1/products", api.as_user("admin@example.com"), data=body, content_type="application/json"
    )
    found = problem(response, status)
    if status == 422:
        assert "name" in {error["field"] for error in found["errors"]}  # read, then refused for what it says
    else:
        assert found["detail"] == "the JSON is nested deeper than 32 levels"


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, "0", 1700000000, "1700000000", "2026-1-1", "10000-01-01", "0001-01-01"])
def test_api_dates_must_be_iso_days_in_range(
    api: ApiClient, session: Session, world: dict[str, Any], value: Any
) -> None:
    token = api.as_user("admin@example.com")
    response = api.call(
        "POST", f"/api/v1/products/{world['product']}/releases", token, json={"version": "2.0", "release_date": value}
    )
    assert problem(response, 422)["errors"][0]["field"] == "release_date"
    assert session.scalar(select(func.count()).select_from(Release)) == 1


@pytest.mark.parametrize("day", [EARLIEST_DAY, LATEST_DAY])
def test_api_dates_at_the_bounds_are_accepted(api: ApiClient, world: dict[str, Any], day: date) -> None:
    token = api.as_user("admin@example.com")
    body = {"version": "2.0", "release_date": day.isoformat()}
    response = api.call("POST", f"/api/v1/products/{world['product']}/releases", token, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["release_date"] == day.isoformat()


def test_audit_filter_takes_the_widest_dates(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "admin@example.com")
    query = f"since={EARLIEST_DAY}&until={LATEST_DAY}"
    page = client.get(f"/audit?{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert client.get(f"/audit.csv?{query}").status_code == 200


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31", "since=0001-01-01"])
def test_audit_filter_beyond_the_dates_is_refused(client: FlaskClient, world: dict[str, Any], query: str) -> None:
    login(client, "admin@example.com")
    page = client.get(f"/audit?{query}")
    assert page.status_code == 422 and "Must be a date from 1970-01-01 to 2999-12-31" in page.get_data(as_text=True)
    assert client.get(f"/audit.csv?{query}").status_code == 422


@pytest.mark.parametrize("expires", ["9999-12-31", "0", "99999d", "9999999999h"])
def test_token_expiry_out_of_range_exits_2(app: Flask, session: Session, world: dict[str, Any], expires: str) -> None:
    result = run(app, "token", "create", "--user", "admin@example.com", "--product", "PLC", "--expires", expires)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize(
    "args",
    [
        ("evidence", "review-interval", "PLC", "threat-model", "\u00b2"),
        ("evidence", "review-interval", "PLC", "threat-model", LONG),
        ("product", "create", "HMI", "--type", "EDR", "--target-sl", "1", "--interface", "eth0:network:Modbus:\u00b2"),
        ("product", "create", "HMI", "--type", "EDR", "--target-sl", "1", "--interface", f"eth0:network:Modbus:{LONG}"),
    ],
)
def test_cli_numbers_in_other_digits_or_too_long_exit_2(
    app: Flask, world: dict[str, Any], args: tuple[str, ...]
) -> None:
    result = run(app, *args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(result.output.splitlines()) == 1


@pytest.mark.parametrize("months", ["\u00b2", "\u0663"])
def test_web_review_interval_in_other_digits_is_a_form_error(
    client: FlaskClient, world: dict[str, Any], months: str
) -> None:
    login(client, "admin@example.com")
    path = f"/products/{world['product']}/review-intervals"
    form = {"kind": "threat-model", "months": months, "csrf_token": csrf_token(client, path)}
    response = client.post(path, data=form)
    assert response.status_code == 200 and "a number of months" in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0", "10000-01-01"])
def test_cli_dates_out_of_range_exit_2(app: Flask, world: dict[str, Any], day: str) -> None:
    result = run(app, "release", "create", "PLC", "2.0", "--date", day)
    assert result.exit_code == 2, result.output


# --- page numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [HUGE, LONG, "\u00b2", "2147483648", "1000001", "0", "-1", "x"])
def test_web_page_numbers_are_bounded(client: FlaskClient, world: dict[str, Any], page: str) -> None:
    login(client, "admin@example.com")
    response = client.get(f"/audit?page={page}")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "page must be a whole number from 1 to 1000000" in text
    assert client.get("/audit?page=1000000").status_code == 200  # beyond the last page: empty, not an error


@pytest.mark.parametrize(
    "query", [f"page={HUGE}", "page=1000000001", f"page={LONG}", f"per_page={LONG}", "per_page=\u00b2"]
)
def test_api_page_numbers_are_bounded(api: ApiClient, world: dict[str, Any], query: str) -> None:
    problem(api.call("GET", f"/api/v1/products?{query}", api.as_user("admin@example.com")), 422)


@pytest.mark.parametrize("level", [LONG, "\u00b2", "\u0663"])
def test_web_claims_level_filter_of_other_digits_is_no_filter(
    client: FlaskClient, world: dict[str, Any], level: str
) -> None:
    login(client, "admin@example.com")
    assert client.get(f"/releases/{world['release']}/claims?level={level}").status_code == 200


# --- text --------------------------------------------------------------------------------------------

HOSTILE = ["a\x00b", "a\x1b[2Jb", "a\rb", "a\nb", "a\x7fb", "a\x9bb", "invoice\u202efdp.exe"]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["vendor", "name", "security_contact"])
def test_api_single_line_fields_refuse_control_characters(
    api: ApiClient, session: Session, world: dict[str, Any], field: str, text: str
) -> None:
    body = {"name": "HMI", "component_type": "EDR", "target_sl": {f"FR{i}": 1 for i in range(1, 8)}, field: text}
    response = api.call("POST", "/api/v1/products", api.as_user("admin@example.com"), json=body)
    assert problem(response, 422)["errors"][0]["field"] == field
    assert session.scalar(select(func.count()).select_from(Product)) == 1


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x9bb", "a\u2066b"])
def test_api_multi_line_fields_refuse_nul_and_controls(api: ApiClient, world: dict[str, Any], text: str) -> None:
    body = {
        "name": "HMI",
        "component_type": "EDR",
        "target_sl": {f"FR{i}": 1 for i in range(1, 8)},
        "description": text,
    }
    response = api.call("POST", "/api/v1/products", api.as_user("admin@example.com"), json=body)
    assert problem(response, 422)["errors"][0]["field"] == "description"


def test_api_multi_line_fields_keep_newlines_and_tabs(api: ApiClient, world: dict[str, Any]) -> None:
    body = {"name": "HMI", "component_type": "EDR", "target_sl": {f"FR{i}": 1 for i in range(1, 8)}}
    body["description"] = "line one\r\nline two\twith a tab"
    response = api.call("POST", "/api/v1/products", api.as_user("admin@example.com"), json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["description"] == body["description"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/releases/{release}/claims/CR 1.1", {"status": "implemented", "notes": "a\x00b"}),
        (
            "POST",
            "/api/v1/organisation/maturity",
            {"practice": "SM", "level": 2, "rationale": "a\x00b", "assessed_on": "2026-01-01"},
        ),
        ("POST", "/api/v1/products/{product}/scoping", {"requirement": "SM-10\x00", "justification": "x"}),
        ("POST", "/api/v1/products/{product}/releases", {"version": "2.0", "git_ref": "v2\x00"}),
        ("POST", "/api/v1/products/{product}/repositories", {"name": "fw\x00", "location": "/tmp/x"}),
    ],
)
def test_api_bodies_refuse_nul(
    api: ApiClient, world: dict[str, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    response = api.call(method, path.format(**world), api.as_user("admin@example.com"), json=body)
    problem(response, 422)


@pytest.mark.parametrize("title", ["a\x00b", "a\x1bb"])
def test_api_evidence_title_and_sbom_title_refuse_controls(api: ApiClient, world: dict[str, Any], title: str) -> None:
    token = api.as_user("admin@example.com")
    body = {"kind": "threat-model", "title": title, "requirements": ["SR-2"]}
    response = api.call(
        "POST",
        f"/api/v1/products/{world['product']}/evidence",
        token,
        data={"metadata": json.dumps(body)},
        content_type="multipart/form-data",
    )
    assert problem(response, 422)["errors"][0]["field"] == "title"
    response = api.call(
        "POST",
        f"/api/v1/releases/{world['release']}/sboms",
        token,
        data={"metadata": json.dumps({"title": title}), "file": (io.BytesIO(b"{}"), "bom.json")},
        content_type="multipart/form-data",
    )
    assert problem(response, 422)["errors"][0]["field"] == "title"


def test_api_file_media_type_with_nul_is_not_stored(api: ApiClient, session: Session, world: dict[str, Any]) -> None:
    body = {"kind": "other", "title": "TM", "requirements": ["SR-2"]}
    response = api.call(
        "POST",
        f"/api/v1/products/{world['product']}/evidence",
        api.as_user("admin@example.com"),
        data={"metadata": json.dumps(body), "file": (io.BytesIO(b"x"), "tm.txt", "text/plain\x00")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    stored = session.scalars(select(Artifact.media_type)).all()
    assert all("\x00" not in media_type for media_type in stored)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/{product}/evidence?release=1.0%00",
        "/api/v1/products/{product}/sboms?release=%00",
        "/api/v1/products/{product}/coverage?release=%00",
        "/api/v1/catalog/export?standard=%00",
        "/api/v1/products/{product}/claims/vector?release=%00",
    ],
)
def test_api_query_parameters_refuse_nul(api: ApiClient, world: dict[str, Any], path: str) -> None:
    response = api.call("GET", path.format(**world), api.as_user("admin@example.com"))
    assert "control character U+0000" in problem(response, 422)["errors"][0]["message"]


def test_sign_in_with_nul_in_the_email_is_a_form_error(client: FlaskClient, world: dict[str, Any]) -> None:
    response = client.post(
        "/login", data={"email": "admin@example.com\x00", "password": "x", "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 200 and "control character U+0000" in response.get_data(as_text=True)
    assert "Signed in" not in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb"])
def test_web_form_text_refuses_controls(
    client: FlaskClient, session: Session, world: dict[str, Any], text: str
) -> None:
    login(client, "admin@example.com")
    response = client.post(
        "/products/new",
        data={
            "name": "HMI",
            "component_type": "EDR",
            "vendor": text,
            **{f"fr{i}": "1" for i in range(1, 8)},
            "csrf_token": csrf_token(client, "/products/new"),
        },
    )
    assert response.status_code == 200
    assert "control character" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Product)) == 1


@pytest.mark.parametrize(
    "path",
    ["/products/{product}/evidence?release=%00", "/catalog/?q=%00", "/audit?actor=%00", "/sboms/1?q=%00"],
)
def test_web_query_text_with_nul(client: FlaskClient, world: dict[str, Any], path: str) -> None:
    login(client, "admin@example.com")
    response = client.get(path.format(**world))
    assert response.status_code == 422 and "control character U+0000" in response.get_data(as_text=True)


# --- one mechanism, everywhere -----------------------------------------------------------------------


def _nested_models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        for arg in [field.annotation, *_type_args(field.annotation)]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from _nested_models(arg)


def _type_args(annotation: Any) -> Iterator[Any]:
    for arg in typing.get_args(annotation):
        yield arg
        yield from _type_args(arg)


def test_every_api_body_is_a_bounded_input(app: Flask) -> None:
    bodies = {model for _, spec in api_operations(app) for model in (spec.body, spec.multipart) if model is not None}
    assert len(bodies) >= 15
    models = {nested for model in bodies for nested in _nested_models(model)}
    assert {m.__name__ for m in models if not issubclass(m, Input)} == set()


@pytest.mark.parametrize("vendor", ["v\udcff", "v\ud800"])  # undecodable bytes in argv arrive as lone surrogates
def test_cli_text_with_a_lone_surrogate_exits_2(
    app: Flask, session: Session, world: dict[str, Any], vendor: str
) -> None:
    result = run(app, "product", "create", "HMI", "--type", "EDR", "--target-sl", "1", "--vendor", vendor)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output.startswith("error: --vendor: a single line of text: control character U+D")
    assert session.scalar(select(func.count()).select_from(Product)) == 1


def test_the_database_refuses_a_lone_surrogate_as_invalid(session: Session, world: dict[str, Any]) -> None:
    # The last line: a value no door checked (here a service called directly) fails alike on both engines.
    with pytest.raises(Invalid, match="surrogate"):
        make_product(session, "HMI", vendor="v\ud800")
        session.flush()


def test_cli_text_keeps_line_breaks_only_where_declared(app: Flask, session: Session, world: dict[str, Any]) -> None:
    refused = run(app, "product", "create", "HMI\x1b]0;owned\x07", "--type", "EDR", "--target-sl", "1")
    assert refused.exit_code == 2 and refused.output.startswith("error: NAME: a single line of text: control")
    assert len(refused.output.splitlines()) == 1
    made = run(app, "product", "create", "HMI", "--type", "EDR", "--target-sl", "1", "--description", "one\ntwo")
    assert made.exit_code == 0, made.output
    assert session.scalar(select(Product.description).where(Product.name == "HMI")) == "one\ntwo"
