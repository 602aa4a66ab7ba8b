"""Coverage and maturity through the database and every door."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, Invalid
from sdl_tracker.evidence.assessment import coverage, current_maturity, record_maturity
from sdl_tracker.evidence.coverage import CoverageState
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member


def _file() -> Upload:
    import io

    return Upload("x.txt", "text/plain", io.BytesIO(b"record"))


def test_release_coverage_counts_release_product_and_inherited_evidence(session: Session) -> None:
    product = make_product(session)
    old, new = make_release(session, product, "1.0"), make_release(session, product, "2.0")
    officer = member(session, product, "security_officer")
    dev = member(session, product, "developer")
    for refs, releases, kind in ((["SI-1"], ["1.0"], "other"), (["SD-1"], [], "other")):
        evidence = create_evidence(
            session,
            dev,
            product_id=product.id,
            kind=kind,
            data=EvidenceInput(title="x", requirements=refs, release_versions=releases, files=[_file()]),
        )
        review_evidence(session, officer, evidence.id, accept=True)
    create_evidence(
        session,
        OPERATOR,
        product_id=None,
        kind="process-document",
        data=EvidenceInput(title="SDL", requirements=["SM-1"], files=[_file()]),
    )
    states = {c.ref: c for c in coverage(session, officer, product.id, new).cells}
    assert states["SI-1"].state is CoverageState.NONE  # the 1.0 review does not cover 2.0
    assert states["SD-1"].state is CoverageState.ACCEPTED  # product-wide evidence covers every release
    assert states["SM-1"].state is CoverageState.SUBMITTED and states["SM-1"].inherited
    assert {c.ref: c for c in coverage(session, officer, product.id, old).cells}["SI-1"].state is CoverageState.ACCEPTED
    assert len(states) == 47


def test_maturity_is_recorded_by_security_officers_with_history(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    dev = member(session, product, "developer")
    record_maturity(
        session, officer, product.id, practice="SM", level=2, rationale="first", assessed_on=date(2026, 1, 1)
    )
    record_maturity(
        session, officer, product.id, practice="SM", level=3, rationale="better", assessed_on=date(2026, 6, 1)
    )
    assert current_maturity(session, product.id)["SM"].level == 3
    with pytest.raises(Forbidden):
        record_maturity(session, dev, product.id, practice="SM", level=4, rationale="x", assessed_on=date(2026, 6, 1))
    with pytest.raises(Invalid) as caught:
        record_maturity(
            session, officer, product.id, practice="XX", level=7, rationale=" ", assessed_on=date(2099, 1, 1)
        )
    assert {e.field for e in caught.value.errors} == {"practice", "level", "rationale", "assessed_on"}


def test_coverage_and_maturity_doors(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    token = api.as_user("so@example.com")
    recorded = api.call(
        "POST",
        f"/api/v1/products/{product.id}/maturity",
        token,
        json={"practice": "SR", "level": 2, "rationale": "Models per release", "assessed_on": "2026-11-01"},
    )
    assert recorded.status_code == 201
    body = api.call("GET", f"/api/v1/products/{product.id}/coverage?release=1.0", token).get_json()
    assert body["release"] == "1.0" and len(body["requirements"]) == 47
    assert next(p for p in body["practices"] if p["practice"] == "SR")["maturity"]["level"] == 2
    assert body["requirements"][0]["next_step"].startswith("Attach")
    bad = api.call(
        "POST",
        f"/api/v1/products/{product.id}/maturity",
        token,
        json={"practice": "SR", "level": 5, "rationale": "x", "assessed_on": "2026-11-01"},
    )
    assert bad.status_code == 422
    runner = app.test_cli_runner()
    printed = json.loads(runner.invoke(cli, ["evidence", "coverage", "P", "--release", "1.0", "--json"]).output)
    assert printed == body
    text = runner.invoke(cli, ["evidence", "coverage", "P"]).output
    assert "SR   Specification of security requirements: 0/5 accepted" in text
    assert (
        runner.invoke(
            cli, ["evidence", "maturity", "P", "sg", "1", "--rationale", "starting", "--as", "so@example.com"]
        ).exit_code
        == 0
    )
    assert runner.invoke(cli, ["evidence", "coverage", "P", "--release", "9.9"]).exit_code == 2
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}/coverage?release=1.0").get_data(as_text=True)
    assert "0 of 47 requirements have accepted evidence for this release" in page and "ML2" in page
    path = f"/products/{product.id}/coverage"
    posted = client.post(
        path,
        data={
            "practice": "SI",
            "level": "2",
            "rationale": "Reviews on",
            "assessed_on": "2026-11-02",
            "csrf_token": csrf_token(client, path),
        },
        follow_redirects=True,
    )
    assert "SI assessed at ML2." in posted.get_data(as_text=True)
    refused = client.post(
        path,
        data={
            "practice": "SI",
            "level": "2",
            "rationale": "",
            "assessed_on": "2026-11-02",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert "This field is required." in refused.get_data(as_text=True)


def test_the_demo_shows_complete_practices_gaps_and_an_expired_model(app: Flask, session: Session) -> None:
    assert app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    result = app.test_cli_runner().invoke(
        cli, ["evidence", "coverage", "NW-PLC 5000 firmware", "--release", "4.1.0", "--json"]
    )
    old = {r["id"]: r["state"] for r in json.loads(result.output)["requirements"]}
    assert old["SR-2"] == "expired"
    current = json.loads(
        app.test_cli_runner()
        .invoke(cli, ["evidence", "coverage", "NW-PLC 5000 firmware", "--release", "4.2.0", "--json"])
        .output
    )
    states = {r["id"]: r["state"] for r in current["requirements"]}
    assert states["SR-2"] == "accepted" and states["SVV-3"] == "accepted" and states["SVV-1"] == "draft"
    assert states["SM-5"] == "none" and states["SM-1"] == "accepted"
    si = next(p for p in current["practices"] if p["practice"] == "SI")
    assert si["maturity"]["level"] == 2
