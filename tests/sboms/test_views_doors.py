"""Where a component is, a release's licences, dependency paths and SBOM history, through the API, the command
line and the pages, on stored SBOMs."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.sboms.services import import_sbom, set_primary
from tests.factories import OPERATOR, ApiClient, login, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom, xml_bom

pytestmark = pytest.mark.db

# Names in several scripts, written in capitals, and strings that mean something to LIKE.
NAMED = ["ÉVALUATION", "ΟΔΟΣ", "İSTANBUL", "STRASSE", "Straße", "100%_done", "back\\slash"]


def _bom(extra: int = 0) -> dict[str, Any]:
    bom = json_bom(components=3)
    bom["components"] += [
        {"type": "library", "bom-ref": f"n{i}", "name": name, "version": "1.0"} for i, name in enumerate(NAMED)
    ]
    bom["components"] += [
        {
            "type": "library",
            "bom-ref": "log4j",
            "group": "org.apache.logging.log4j",
            "name": "log4j-core",
            "version": "2.17.0",
            "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.0",
        },
        {"type": "library", "bom-ref": "lodash", "name": "lodash", "version": "1.5.0", "purl": "pkg:npm/lodash@1.5.0"},
    ]
    bom["components"] += [{"type": "library", "name": f"filler{i}", "version": "1"} for i in range(extra)]
    bom["dependencies"].append({"ref": "lib2", "dependsOn": ["log4j"]})
    return bom


@dataclass
class World:
    product_id: int
    releases: dict[str, int]
    sboms: dict[str, int]


@pytest.fixture
def world(session: Session) -> World:
    plc = make_product(session, "PLC")
    r10, r11, r20 = (make_release(session, plc, v) for v in ("1.0", "1.1", "2.0"))
    member(session, plc, "auditor", email="audit@example.com")
    member(session, plc, "developer", email="dev@example.com")
    gateway = make_product(session, "Gateway")
    elsewhere = make_release(session, gateway, "5.0")
    member(session, gateway, "developer", email="gw@example.com")

    def upload(release_id: int, raw: bytes, name: str) -> int:
        return import_sbom(session, OPERATOR, release_id, Upload(name, "", io.BytesIO(raw))).sbom.id

    sboms = {
        "1.0": upload(r10.id, xml_bom(), "fw-1.0.xml"),  # openssl 3.0.13
        "1.1": upload(r11.id, dumps(_bom()), "fw-1.1.json"),
        "1.1 second": upload(r11.id, xml_bom(extra_component=_openssl("3.1.4")), "fw-1.1-b.xml"),
        "gateway": upload(elsewhere.id, xml_bom(), "gw.xml"),
    }
    session.commit()
    return World(plc.id, {"1.0": r10.id, "1.1": r11.id, "2.0": r20.id}, sboms)


def _openssl(version: str) -> str:
    return (
        f'<component type="library" bom-ref="openssl-{version}"><name>OpenSSL</name><version>{version}</version>'
        f"<purl>pkg:generic/openssl@{version}</purl></component>"
    )


def where(api: ApiClient, token: str, query: str, **params: Any) -> Any:
    return api.call("GET", "/api/v1/components", token, query_string={"q": query, **params})


def found(body: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(h["product"], h["release"], h["name"], h["version"]) for h in body["items"]]


def test_where_is_openssl_across_products_the_reader_sees(api: ApiClient, world: World) -> None:
    dev = api.as_user("dev@example.com")
    response = where(api, dev, "openssl 3.0.x")
    assert response.status_code == 200, response.json
    assert found(response.json) == [("PLC", "1.0", "openssl", "3.0.13")]  # only primary SBOMs; not Gateway's
    assert response.json["understood"] == "name containing “openssl”, versions 3.0.x"
    gw = api.as_user("gw@example.com")
    assert found(where(api, gw, "OPENSSL").json) == [("Gateway", "5.0", "openssl", "3.0.13")]
    by_purl = where(api, dev, "pkg:generic/openssl").json
    assert found(by_purl) == [("PLC", "1.0", "openssl", "3.0.13")]
    assert found(where(api, dev, "pkg:generic/openssl@3.0.14").json) == []
    log4j = where(api, dev, "log4j-core <2.17.1").json
    assert found(log4j) == [("PLC", "1.1", "log4j-core", "2.17.0")]
    assert (log4j["releases"], log4j["products"], log4j["total"]) == (1, 1, 1)
    assert found(where(api, dev, "pkg:maven/org.apache.logging.log4j/log4j-core >=2.17.1").json) == []
    assert found(where(api, dev, "lodash vers:npm/>=1.2.0|<2.0.0").json) == [("PLC", "1.1", "lodash", "1.5.0")]
    assert found(where(api, dev, "org.apache/log4j").json) == [("PLC", "1.1", "log4j-core", "2.17.0")]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("évaluation", ["ÉVALUATION"]),
        ("ÉVALUATION", ["ÉVALUATION"]),
        ("οδος", ["ΟΔΟΣ"]),  # a final sigma typed in lower case
        ("Οδοσ", ["ΟΔΟΣ"]),
        ("istanbul", ["İSTANBUL"]),
        ("İstanbul", ["İSTANBUL"]),
        ("\u0131stanbul", []),  # the dotless i is its own letter
        ("straße", ["STRASSE", "Straße"]),
        ("STRASSE", ["STRASSE", "Straße"]),
        ("%", ["100%_done"]),  # LIKE's wildcards match themselves
        ("0%_d", ["100%_done"]),
        ("_", ["100%_done"]),
        ("\\", ["back\\slash"]),
        ("' OR 1=1 --", []),
    ],
)
def test_name_search_folds_case_in_any_script_on_both_engines(
    api: ApiClient, world: World, query: str, names: list[str]
) -> None:
    body = where(api, api.as_user("audit@example.com"), query).json
    assert sorted(h["name"] for h in body["items"]) == names


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("", "name a component"),
        ("openssl >=3.0.x", "a wildcard goes without a comparison"),
        ("openssl 3.0 |", "alternatives are separated by ||"),
        ("lodash vers:npm/>=abc", "not a vers range"),
        ("pkg:", "is not a package URL"),
    ],
)
def test_malformed_searches_are_422(api: ApiClient, world: World, query: str, fragment: str) -> None:
    response = where(api, api.as_user("dev@example.com"), query)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert fragment in json.dumps(response.json, ensure_ascii=False)


def _statements(app: Flask, run: Any) -> int:
    engine = app_db(app).engine
    seen: list[str] = []

    def count(*_: Any) -> None:
        seen.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_search_page_costs_the_same_statements_however_many_rows(
    app: Flask, api: ApiClient, world: World, session: Session
) -> None:
    dev = api.as_user("dev@example.com")
    few = _statements(app, lambda: where(api, dev, "lodash"))
    many = _statements(app, lambda: where(api, dev, "lib"))
    paged = where(api, dev, "lib", per_page=2, page=2).json
    assert few == many
    assert paged["total"] > 2 and len(paged["items"]) == 2 and paged["page"] == 2


def test_licences_of_a_release(api: ApiClient, world: World, app: Flask) -> None:
    dev = api.as_user("dev@example.com")
    body = api.call("GET", f"/api/v1/releases/{world.releases['1.1']}/sboms/licences", dev).json
    assert body["sbom_id"] == world.sboms["1.1"] and body["components"] == 3 + 1 + len(NAMED) + 2
    assert [(c["kind"], c["value"], c["components"]) for c in body["licences"]] == [
        ("expression", "Apache-2.0 OR MIT", 2),
        ("id", "MIT", 1),
    ]
    assert body["without_licence"] == 1 + len(NAMED) + 2
    none = api.call("GET", f"/api/v1/releases/{world.releases['2.0']}/sboms/licences", dev)
    assert none.status_code == 422 and "PLC 2.0 has no SBOM" in json.dumps(none.json)
    runner = app.test_cli_runner()
    text = runner.invoke(cli, ["sbom", "licences", "PLC", "1.1"])
    assert text.exit_code == 0, text.output
    assert "        2  Apache-2.0 OR MIT  (expression)" in text.output
    as_json = json.loads(runner.invoke(cli, ["sbom", "licences", "plc", "1.1", "--json"]).output)
    assert as_json == body
    refused = runner.invoke(cli, ["sbom", "licences", "PLC", "2.0"])
    assert refused.exit_code == 2 and refused.output.strip() == "error: release: PLC 2.0 has no SBOM"


def test_dependency_paths_of_a_component(api: ApiClient, world: World, app: Flask) -> None:
    dev = api.as_user("dev@example.com")
    sbom = world.sboms["1.1"]
    components = api.call("GET", f"/api/v1/sboms/{sbom}/components?search=log4j", dev).json["items"]
    position = components[0]["position"]
    body = api.call("GET", f"/api/v1/sboms/{sbom}/components/{position}/paths", dev).json
    assert [[n["label"] for n in p["nodes"]] for p in body["dependents"]] == [
        ["org.apache.logging.log4j/log4j-core@2.17.0", "org.example/lib2@1.2.0", "plc-firmware@4.2.0"],
        [
            "org.apache.logging.log4j/log4j-core@2.17.0",
            "org.example/lib2@1.2.0",
            "org.example/lib1@1.1.0",
            "plc-firmware@4.2.0",
        ],
        [
            "org.apache.logging.log4j/log4j-core@2.17.0",
            "org.example/lib2@1.2.0",
            "org.example/lib1@1.1.0",
            "org.example/lib0@1.0.0",
            "plc-firmware@4.2.0",
        ],
    ]
    assert body["dependents"][0]["nodes"][-1]["position"] is None  # the SBOM's subject
    assert not body["dependents_cut"]
    url = f"/api/v1/sboms/{sbom}/components/{position}/paths"
    cut = api.call("GET", f"{url}?max_paths=1", dev).json
    assert len(cut["dependents"]) == 1 and cut["dependents_cut"] and cut["dependents"][0]["end"] == "root"
    shallow = api.call("GET", f"{url}?max_depth=1", dev).json
    assert [(len(p["nodes"]), p["end"]) for p in shallow["dependents"]] == [(2, "depth")]
    top = api.call("GET", f"/api/v1/sboms/{sbom}/components/0/paths", dev).json  # lib0
    assert [(p["label"], p["depth"]) for p in top["pulls_in"]] == [
        ("org.example/lib1@1.1.0", 1),
        ("org.example/lib2@1.2.0", 2),
        ("org.apache.logging.log4j/log4j-core@2.17.0", 3),
    ]
    for query, status in (("max_paths=0", 422), ("max_depth=abc", 422), ("max_paths=1001", 422)):
        assert api.call("GET", f"/api/v1/sboms/{sbom}/components/0/paths?{query}", dev).status_code == status
    assert api.call("GET", f"/api/v1/sboms/{sbom}/components/9999/paths", dev).status_code == 404
    gw = api.as_user("gw@example.com")
    assert api.call("GET", f"/api/v1/sboms/{sbom}/components/0/paths", gw).status_code == 404
    runner = app.test_cli_runner()
    text = runner.invoke(cli, ["sbom", "paths", str(sbom), str(position)])
    assert text.exit_code == 0, text.output
    assert "org.apache.logging.log4j/log4j-core@2.17.0 <- org.example/lib2@1.2.0 <- plc-firmware@4.2.0" in text.output
    refused = runner.invoke(cli, ["sbom", "paths", str(sbom), "0", "--max-depth", "0"])
    assert refused.exit_code == 2 and "max_depth is from 1 to 100" in refused.output


def test_sbom_history_tells_which_was_primary_when(api: ApiClient, world: World, session: Session) -> None:
    first, second = world.sboms["1.1"], world.sboms["1.1 second"]
    set_primary(session, OPERATOR, second)
    set_primary(session, OPERATOR, first)
    session.commit()
    dev = api.as_user("dev@example.com")
    body = api.call("GET", f"/api/v1/releases/{world.releases['1.1']}/sboms/history", dev).json
    entries = body["items"]
    assert [e["sbom"]["id"] for e in entries] == [first, second]
    assert [e["previous_sbom_id"] for e in entries] == [None, first]
    assert len(entries[0]["primary_periods"]) == 2 and entries[0]["primary_periods"][1]["end"] is None
    assert len(entries[1]["primary_periods"]) == 1 and entries[1]["primary_periods"][0]["end"] is not None
    assert entries[0]["primary_periods"][0]["end"] == entries[1]["primary_periods"][0]["start"]
    assert entries[1]["sbom"]["components"] == 4


def test_cli_where(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    text = runner.invoke(cli, ["sbom", "where", "openssl 3.0.x"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "name containing “openssl”, versions 3.0.x: 2 components in 2 releases of 2 products"
    assert lines[1].startswith("  Gateway 5.0: openssl 3.0.13  pkg:generic/openssl@3.0.13")
    mine = json.loads(runner.invoke(cli, ["sbom", "where", "openssl", "--json", "--as", "dev@example.com"]).output)
    assert [(h["product"], h["release"]) for h in mine["items"]] == [("PLC", "1.0")]
    refused = runner.invoke(cli, ["sbom", "where", "openssl >=3.0.x"])
    assert refused.exit_code == 2
    assert refused.output.strip() == "error: q: >=3.0.x: a wildcard goes without a comparison (3.0.x, not >=3.0.x)"


def test_the_pages(app: Flask, world: World) -> None:
    client = app.test_client()
    login(client, "audit@example.com")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/components"' in home
    page = client.get("/components?q=log4j-core+<2.17.1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "log4j-core" in html
    assert "<strong>1</strong> component in 1 release of 1 product" in html
    assert f'href="/sboms/{world.sboms["1.1"]}/components/' in html
    refused = client.get("/components?q=openssl+>=3.0.x")
    assert refused.status_code == 422 and "a wildcard goes without a comparison" in refused.get_data(as_text=True)
    hostile = client.get("/components?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in hostile
    release = client.get(f"/releases/{world.releases['1.1']}/sboms").get_data(as_text=True)
    assert 'id="licences"' in release and "Apache-2.0 OR MIT" in release and 'id="history"' in release
    assert f"from_sbom={world.sboms['1.1']}&amp;to_sbom={world.sboms['1.1 second']}" in release
    assert 'id="licences"' not in client.get(f"/releases/{world.releases['2.0']}/sboms").get_data(as_text=True)
    detail = client.get(f"/sboms/{world.sboms['1.1']}").get_data(as_text=True)
    assert f'href="/sboms/{world.sboms["1.1"]}/components/0"' in detail
    component = client.get(f"/sboms/{world.sboms['1.1']}/components/0")
    assert component.status_code == 200 and "What it pulls in (3)" in component.get_data(as_text=True)
    bad = client.get(f"/sboms/{world.sboms['1.1']}/components/0?max_paths=0")
    assert bad.status_code == 422 and "max_paths is from 1 to 1000" in bad.get_data(as_text=True)
