"""The SBOM diff through the API, the command line and its page: the same service over stored SBOMs."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Release
from sdl_tracker.sboms.services import diff_rows, import_sbom
from tests.factories import OPERATOR, ApiClient, login, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom, xml_bom

pytestmark = pytest.mark.db


def next_bom() -> dict[str, Any]:
    """1.1's SBOM: lib0 rebuilt (same version, other digest), lib1 upgraded, lib2 relicensed, lib9 new, and
    `legacy` (only in 1.0) gone; lib0's nested part unchanged."""
    bom = copy.deepcopy(json_bom(components=3))
    lib0, lib1, lib2 = bom["components"]
    lib0["hashes"] = [{"alg": "SHA-256", "content": "f" * 64}]
    lib1["version"], lib1["purl"] = "1.1.5", "pkg:generic/org.example/lib1@1.1.5?download_url=x"
    lib2["licenses"] = [{"license": {"id": "GPL-3.0-only"}}]
    bom["components"].append(
        {"type": "library", "bom-ref": "lib9", "name": "lib9", "version": "0.1", "purl": "pkg:npm/lib9@0.1"}
    )
    return bom


def first_bom() -> dict[str, Any]:
    bom = json_bom(components=3)
    bom["components"].append({"type": "library", "bom-ref": "legacy", "name": "legacy", "version": "2.0"})
    return bom


@dataclass
class Plc:
    product_id: int
    old_sbom: int
    new_sbom: int
    other_sbom: int  # a second, non-primary SBOM of 1.1
    foreign_sbom: int  # an SBOM of another product the same people see


@pytest.fixture
def plc(session: Session) -> Plc:
    product = make_product(session, "PLC")
    old, new = make_release(session, product, "1.0"), make_release(session, product, "1.1")
    make_release(session, product, "2.0")  # no SBOM
    member(session, product, "auditor", email="audit@example.com")
    member(session, product, "developer", email="dev@example.com")
    other = make_product(session, "Gateway")
    elsewhere = make_release(session, other, "1.0")
    add_member(session, OPERATOR, other.id, email="dev@example.com", role="developer")

    def upload(release_id: int, raw: bytes, name: str) -> int:
        return import_sbom(session, OPERATOR, release_id, Upload(name, "", io.BytesIO(raw))).sbom.id

    ids = Plc(
        product.id,
        upload(old.id, dumps(first_bom()), "fw-1.0.json"),
        upload(new.id, dumps(next_bom()), "fw-1.1.json"),
        upload(new.id, xml_bom(), "app-1.1.xml"),
        upload(elsewhere.id, xml_bom(), "gw.xml"),
    )
    session.commit()
    return ids


def summary(body: dict[str, Any]) -> dict[str, list[tuple[str, str | None, str | None]]]:
    headings = ("added", "removed", "upgraded", "downgraded", "license_changed", "supplier_changed", "hash_changed")
    return {
        heading: [
            (c["identity"], (c["before"] or {}).get("version"), (c["after"] or {}).get("version"))
            for c in body[heading]
        ]
        for heading in headings
        if body[heading]
    }


EXPECTED = {
    "added": [("pkg:npm/lib9", None, "0.1")],
    "removed": [("legacy", "2.0", None)],
    "upgraded": [("pkg:generic/org.example/lib1", "1.1.0", "1.1.5")],
    "license_changed": [("pkg:generic/org.example/lib2", "1.2.0", "1.2.0")],
    "hash_changed": [("pkg:generic/org.example/lib0", "1.0.0", "1.0.0")],
}


def test_the_api_diffs_two_releases_primary_sboms(api: ApiClient, plc: Plc) -> None:
    auditor = api.as_user("audit@example.com")
    url = f"/api/v1/products/{plc.product_id}/sboms/diff"
    response = api.call("GET", f"{url}?from=1.0&to=1.1", auditor)
    assert response.status_code == 200, response.json
    body = response.json
    assert summary(body) == EXPECTED
    assert (body["before"]["id"], body["after"]["id"], body["unchanged"]) == (plc.old_sbom, plc.new_sbom, 1)
    change = body["hash_changed"][0]
    assert change["before"]["hashes"] == [{"alg": "SHA-256", "content": f"{0:064x}"}]
    assert change["after"]["hashes"] == [{"alg": "SHA-256", "content": "f" * 64}]
    assert body["license_changed"][0]["after"]["licenses"] == [{"id": "GPL-3.0-only"}]
    backwards = summary(api.call("GET", f"{url}?from=1.1&to=1.0", auditor).json)
    assert "upgraded" not in backwards
    assert backwards["downgraded"] == [("pkg:generic/org.example/lib1", "1.1.5", "1.1.0")]
    assert backwards["added"] == [("legacy", None, "2.0")]


def test_chosen_sboms_and_the_nested_part_keep_their_place(api: ApiClient, plc: Plc, session: Session) -> None:
    dev = api.as_user("dev@example.com")
    url = f"/api/v1/products/{plc.product_id}/sboms/diff"
    body = api.call("GET", f"{url}?from=1.1&to_sbom={plc.other_sbom}", dev).json
    assert body["after"]["id"] == plc.other_sbom and body["after"]["primary"] is False
    removed = {c["identity"]: c["before"]["parents"] for c in body["removed"]}
    assert removed["lib0-part.bin"] == ["org.example/lib0@1.0.0"]  # nested in lib0, as the document has it
    same = api.call("GET", f"{url}?from_sbom={plc.new_sbom}&to=1.1", dev).json
    assert summary(same) == {} and same["unchanged"] == len(diff_rows(session, plc.new_sbom))


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ("from=1.0&to=2.0", 422, "PLC 2.0 has no SBOM"),
        ("from=1.0&to=9.9", 404, "PLC has no release '9.9'"),
        ("from=1.0", 422, "name a release version"),
        ("from=1.0&to_sbom=abc", 422, "to_sbom must be an id"),
        ("from=1.0&to_sbom=999999", 404, "SBOM not found"),
        ("from=1.0&to=1.0&to_sbom={new}", 422, "is one of release 1.1, not of 1.0"),
        ("from=1.0&to_sbom={foreign}", 422, "is not an SBOM of PLC"),
    ],
)
def test_api_refusals_are_problem_documents(api: ApiClient, plc: Plc, query: str, status: int, fragment: str) -> None:
    dev = api.as_user("dev@example.com")
    query = query.format(new=plc.new_sbom, foreign=plc.foreign_sbom)
    response = api.call("GET", f"/api/v1/products/{plc.product_id}/sboms/diff?{query}", dev)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert fragment in json.dumps(response.json)


def test_the_cli_prints_the_diff_and_json(app: Flask, plc: Plc) -> None:
    runner = app.test_cli_runner()
    text = runner.invoke(cli, ["sbom", "diff", "plc", "1.0", "1.1"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].startswith(
        f"1.0 (SBOM #{plc.old_sbom}) -> 1.1 (SBOM #{plc.new_sbom}): 1 added, 1 removed, 1 upgraded"
    )
    assert "  + pkg:npm/lib9 0.1" in lines
    assert "  ^ pkg:generic/org.example/lib1 1.1.0 -> 1.1.5" in lines
    assert "  ~ pkg:generic/org.example/lib2 Apache-2.0 OR MIT -> GPL-3.0-only" in lines
    as_json = runner.invoke(cli, ["sbom", "diff", "PLC", "1.0", "1.1", "--json"])
    assert summary(json.loads(as_json.output)) == EXPECTED
    chosen = runner.invoke(cli, ["sbom", "diff", "PLC", "1.1", "1.1", "--to-sbom", str(plc.other_sbom), "--json"])
    assert json.loads(chosen.output)["after"]["id"] == plc.other_sbom


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["PLC", "1.0", "2.0"], "error: to: PLC 2.0 has no SBOM"),
        (["PLC", "1.0", "9.9"], "error: PLC has no release '9.9'"),
        (["Nope", "1.0", "1.1"], "error: no product named 'Nope'"),
        (["Gateway", "1.0", "1.0", "--as", "audit@example.com"], "error: no product named 'Gateway'"),
    ],
)
def test_cli_refusals_are_one_line_and_exit_2(app: Flask, plc: Plc, args: list[str], fragment: str) -> None:
    result = app.test_cli_runner().invoke(cli, ["sbom", "diff", *args])
    assert result.exit_code == 2 and result.output.strip() == fragment, result.output


def test_the_page_compares_and_the_sboms_page_links_to_it(app: Flask, plc: Plc, session: Session) -> None:
    client = app.test_client()
    login(client, "audit@example.com")
    path = f"/products/{plc.product_id}/sboms/diff"
    blank = client.get(path).get_data(as_text=True)
    assert '<option value="1.0" selected>' in blank and '<option value="1.1" selected>' in blank
    assert '<option value="2.0"' not in blank  # no SBOM to compare
    page = client.get(f"{path}?from=1.0&to=1.1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Upgraded (1)" in html and "Added (1)" in html and "Same version, other hashes (1)" in html
    assert "<code>pkg:generic/org.example/lib1</code>" in html and "Licence changed (1)" in html
    refused = client.get(f"{path}?from=1.0&to=2.0")
    assert refused.status_code == 422 and "to: PLC 2.0 has no SBOM" in refused.get_data(as_text=True)
    compare = client.get(f"/products/{plc.product_id}/sboms").get_data(as_text=True)
    assert f'href="{path}"' in compare


def test_the_claims_comparison_links_to_the_sbom_diff(app: Flask, plc: Plc, session: Session) -> None:
    releases = {r.version: r.id for r in session.query(Release).filter_by(product_id=plc.product_id)}
    client = app.test_client()
    login(client, "audit@example.com")
    html = client.get(f"/releases/{releases['1.1']}/claims/compare?other={releases['1.0']}").get_data(as_text=True)
    assert f"/products/{plc.product_id}/sboms/diff?from=1.0&amp;to=1.1" in html
