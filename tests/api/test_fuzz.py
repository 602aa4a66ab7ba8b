"""The whole /api/v1 fuzzed from its own OpenAPI document: no server error, every answer as documented.

Schemathesis reads the document the app serves and, for every operation, sends documented and
undocumented input (its examples, coverage and fuzzing phases) with a valid token of an
administrator, over a product with real rows: generated ids and names are now and then swapped for
real ones, so requests reach past the 404 into the services. Each answer must be below 500 and match
the document in status, media type, headers and body: schemathesis's conformance checks, and
tests/contract.py through the checked test client the requests go through.

In-process (WSGI) rather than a live server: the requests run one after another in the test's own
thread, so the app can share the test's rolled-back connection (a server thread could not), a server
error arrives with its traceback, and the run spends its time in the app rather than on sockets.
Repository locations are restricted to local paths (SDL_TRACKER_GIT_SCHEMES=file), and a scan is
only queued here, never run, so no generated URL is ever fetched.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.schemas import BaseSchema

from sdl_tracker.app_access import app_db, app_installation
from sdl_tracker.catalog.rules import COMPONENT_TYPES, FOUNDATIONAL_REQUIREMENTS, ItemKind
from sdl_tracker.gitlink.objects import object_id
from tests.factories import ApiClient, make_user
from tests.sboms.builders import dumps, json_bom

pytestmark = [pytest.mark.db, pytest.mark.slow]

# Fixed, so that a run is the same run on every machine and a failure can be replayed.
SEED = 16
# Generated cases per operation in the fuzzing phase (the examples and coverage phases add their own,
# a bounded set each): under a minute per database on two cores. SDL_TEST_FUZZ_EXAMPLES asks for
# a longer run (a local hunt, not CI).
EXAMPLES_PER_OPERATION = int(os.environ.get("SDL_TEST_FUZZ_EXAMPLES", "40"))
# A run far beyond that stops and fails rather than holding CI.
MAX_SECONDS = 600 * max(1, EXAMPLES_PER_OPERATION // 40)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SETTINGS = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",
        "no-shrink": True,  # the app's state moves on; a shrunk case would not fail the same way
    },
}
# Fields of request bodies that name evidence by id (a claim's evidence and documentation).
BODY_IDS = frozenset({"evidence", "documentation"})


@dataclass
class World:
    """What the fuzz may find: real values of path and query parameters by name, and of request parts."""

    token: str
    path: dict[str, list[Any]] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    sbom: bytes = b""
    vex: bytes = b""  # a supplier's VEX about a component of `sbom`

    def add(self, name: str, *values: Any, where: str = "path") -> None:
        """Record real values of a parameter."""
        getattr(self, where).setdefault(name, []).extend(values)


@pytest.fixture
def fuzz_app(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, backend: str) -> Flask:
    """The test app (on each backend) with repository locations restricted to local paths."""
    # Set before the app is made, so `app` is asked for here rather than named as an argument.
    monkeypatch.setenv("SDL_TRACKER_GIT_SCHEMES", "file")
    app: Flask = request.getfixturevalue("app")
    assert app_installation(app).git.schemes == frozenset()  # no remote scheme: nothing to fetch
    return app


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _supplier_vex() -> bytes:
    """A supplier's CycloneDX VEX (tests/vex/data/feeds) about a library of the world's SBOM, so an import proposes."""
    document = json.loads((Path(__file__).resolve().parents[1] / "vex/data/feeds/cyclonedx-vex.json").read_bytes())
    document["vulnerabilities"][0]["affects"] = [{"ref": json_bom()["components"][1]["purl"]}]
    return json.dumps(document).encode()


@pytest.fixture
def world(fuzz_app: Flask) -> World:
    """A product with two releases, evidence, a claim, a scoping-out, an SBOM, a repository and a scan job, and
    organisation-wide evidence that asks the fuzzing administrator for a review (a notification).

    Made through the API by a colleague (a second administrator), so the fuzzing token may review and
    accept what it finds: the four-eyes rule refuses one's own.
    """
    with app_db(fuzz_app).unit_of_work() as session:
        make_user(session, "fuzz@example.com", admin=True)
        make_user(session, "colleague@example.com", admin=True)
    api = ApiClient(fuzz_app.test_client(), fuzz_app)
    world = World(token=api.as_user("fuzz@example.com"), sbom=dumps(json_bom()), vex=_supplier_vex())
    colleague = api.as_user("colleague@example.com")

    def call(method: str, path: str, status: int = 201, **kwargs: Any) -> Any:
        return _ok(api.call(method, f"/api/v1{path}", colleague, **kwargs), status)

    product = call(
        "POST",
        "/products",
        json={
            "name": "PLC",
            "component_type": "EDR",
            "target_sl": {fr: 2 for fr in FOUNDATIONAL_REQUIREMENTS},
            "vendor": "Northwind",
            "interfaces": [{"name": "eth0", "kind": "network", "protocol": "Modbus TCP", "port": 502}],
        },
    )["id"]
    world.add("product_id", product)
    for version in ("1.0", "2.0"):
        release = call("POST", f"/products/{product}/releases", json={"version": version})["id"]
        world.add("release_id", release)
        world.add("other_id", release)
        world.add("release", version, where="query")
    release = world.path["release_id"][0]
    metadata = {"kind": "other", "title": "Design review", "requirements": ["SD-1"], "releases": ["1.0"]}
    evidence = call(
        "POST",
        f"/products/{product}/evidence",
        data={"metadata": json.dumps(metadata), "file": (io.BytesIO(b"minutes"), "minutes.txt")},
        content_type="multipart/form-data",
    )
    world.add("evidence_id", evidence["id"])
    world.add("artifact_id", evidence["current"]["artifacts"][0]["id"])
    # Organisation-wide evidence asks every administrator to review it: the fuzzing token has a notification.
    metadata = {"kind": "process-document", "title": "SDL handbook", "requirements": ["SM-1"]}
    handbook = call(
        "POST",
        "/organisation/evidence",
        data={"metadata": json.dumps(metadata), "file": (io.BytesIO(b"handbook"), "sdl.txt")},
        content_type="multipart/form-data",
    )
    world.add("evidence_id", handbook["id"])
    notifications = _ok(api.call("GET", "/api/v1/notifications", world.token), 200)["items"]
    world.add("notification_id", *(n["id"] for n in notifications))
    claim = call("PUT", f"/releases/{release}/claims/CR%201.1", 200, json={"status": "implemented"})
    world.add("ref", claim["requirement"])
    scoping_out = {"requirement": "SM-10", "justification": "No third-party suppliers"}
    scoping = call("POST", f"/products/{product}/scoping", json=scoping_out)
    world.add("scoping_id", scoping["id"])
    sbom = call("POST", f"/releases/{release}/sboms", data={"file": (io.BytesIO(world.sbom), "fw.json")})
    world.add("sbom_id", sbom["id"])
    world.add("search", "lib1", where="query")
    world.add("type", "library", where="query")
    repository = call("POST", f"/products/{product}/repositories", json={"name": "fw", "location": "/srv/git/fw.git"})
    world.add("repository_id", repository["id"])
    world.add("job_id", call("POST", f"/repositories/{repository['id']}/scan", 202)["id"])
    # A commit a hook delivered (the repository's location is never read: delivery runs no git).
    raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nInit\n"
    sha = object_id(raw, "sha1")
    call(
        "POST", f"/products/{product}/repositories/fw/commits", json={"raw": base64.b64encode(raw).decode(), "sha": sha}
    )
    world.add("name", "fw")
    world.add("sha", sha)
    world.add("kind", "design-review", "fuzz-run")
    # An actively exploited vulnerability, so submissions and intermediate requests reach the clocks.
    now = datetime.now(UTC)
    case = call(
        "POST",
        f"/products/{product}/psirt/cases",
        json={
            "kind": "vulnerability",
            "title": "Modbus frame overflow",
            "source": "researcher",
            "received_at": (now - timedelta(hours=2)).isoformat(),
            "aware_at": (now - timedelta(hours=1)).isoformat(),
            "affected": ["1.0"],
        },
    )
    world.add("case_id", case["id"])
    # A VEX decision on a component of the release's SBOM, and one on the case's vulnerability.
    decision = {"vulnerability": "CVE-2024-3094", "status": "affected", "action": "Update to 1.1."}
    component = "pkg:generic/org.example/lib1@1.1.0"
    world.add(
        "decision_id",
        call("POST", f"/releases/{release}/vex-decisions", json=decision | {"component": component})["id"],
    )
    world.add(
        "decision_id",
        call("POST", f"/releases/{release}/vex-decisions", json=decision | {"vulnerability": case["reference"]})["id"],
    )
    world.add("vulnerability", "CVE-2024-3094", case["reference"])
    world.add("component", component, where="query")
    world.add("vulnerability", "CVE-2024-3094", where="query")
    world.add("status", "affected", "not_affected", where="query")
    world.add("product", str(product), where="query")
    world.add("status", "received", "investigating", where="query")
    world.add("kind", "vulnerability", "incident", where="query")
    for edition in call("GET", "/catalog/editions", 200)["items"]:
        world.add("edition_id", edition["id"])
        world.add("edition", str(edition["id"]), where="query")
        world.add("standard", edition["standard"], where="query")
        items = call("GET", f"/catalog/editions/{edition['id']}/requirements?per_page=3", 200)["items"]
        world.add("ref", *(item["id"] for item in items))
    world.add("kind", *(kind.value for kind in ItemKind), where="query")
    world.add("fr", *FOUNDATIONAL_REQUIREMENTS, where="query")
    world.add("component_type", *COMPONENT_TYPES, where="query")
    world.add("level", "1", "4", where="query")
    world.add("q", "SR", where="query")
    world.add("page", "1", "2", where="query")
    world.add("per_page", "1", "200", where="query")
    return world


def _sometimes_real(real: dict[str, list[Any]]) -> Callable[[Any, dict[str, Any] | None], st.SearchStrategy[Any]]:
    """A hook that keeps each generated parameter or swaps in a real value of the same name."""

    def flatmap(_context: Any, generated: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if not generated:
            return st.just(generated)
        return st.fixed_dictionaries(
            {
                name: st.one_of(st.just(value), st.sampled_from(real[name])) if name in real else st.just(value)
                for name, value in generated.items()
            }
        )

    return flatmap


def _metadata_strategies(document: dict[str, Any], config: SchemathesisConfig) -> dict[str, st.SearchStrategy[str]]:
    """For each multipart operation, JSON `metadata` parts drawn from the schema the part declares.

    Schemathesis reads `contentMediaType: application/json` but not `contentSchema`, so its own parts
    are JSON of any shape that never gets past validation; these come from the declared model, by
    way of a document in which that model is a JSON body.
    """
    bodies: dict[str, Any] = {}
    for path, operations in document["paths"].items():
        for method, spec in operations.items():
            form = spec.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if form is not None:
                model = form["schema"]["properties"]["metadata"]["contentSchema"]
                bodies[f"{method.upper()} {path}"] = {
                    "post": {"requestBody": {"required": True, "content": {"application/json": {"schema": model}}}}
                }
    models = schemathesis.openapi.from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "metadata parts", "version": "1"},
            "paths": {f"/{i}": body for i, body in enumerate(bodies.values())},
            "components": document["components"],
        },
        config=config,
    )
    return {
        label: models[f"/{i}"]["POST"].as_strategy(GenerationMode.POSITIVE).map(lambda case: json.dumps(case.body))
        for i, label in enumerate(bodies)
    }


@pytest.fixture
def api_schema(fuzz_app: Flask, world: World) -> BaseSchema:
    """The served document, with the fuzz's settings, token and real values."""
    config = SchemathesisConfig.from_dict({**SETTINGS, "headers": {"Authorization": f"Bearer {world.token}"}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app, config=config)
    schema.hook("flatmap_path_parameters")(_sometimes_real(world.path))
    schema.hook("flatmap_query")(_sometimes_real(world.query))
    metadata = _metadata_strategies(schema.raw_schema, config)

    @schema.hook("flatmap_body")
    def real_parts(context: Any, body: Any) -> st.SearchStrategy[Any]:
        """Ids in bodies now and then real; uploads now and then with declared metadata and a real SBOM."""
        if not isinstance(body, dict):
            return st.just(body)
        evidence = st.sampled_from(world.path["evidence_id"])
        real: dict[str, st.SearchStrategy[Any]] = {
            name: st.lists(evidence, max_size=2) if isinstance(value, list) else evidence
            for name, value in body.items()
            if name in BODY_IDS
        }
        label = context.operation.label
        if label == "POST /api/v1/evidence/bulk-review":
            item = st.fixed_dictionaries({"evidence_id": evidence, "revision": st.sampled_from([1, 2])})
            real["items"] = st.lists(item, min_size=1, max_size=3)
        if label in metadata:
            real["metadata"] = metadata[label]
        if label == "POST /api/v1/releases/{release_id}/sboms":
            real["file"] = st.just([world.sbom])
        if label == "POST /api/v1/vulnerabilities/import":
            real["file"] = st.just([world.vex])
        # Each real part replaces the generated one, or not: none of them leaves the body as generated.
        return st.fixed_dictionaries({}, optional=real).map(lambda chosen: {**body, **chosen})

    return schema


def test_every_operation_answers_as_documented(
    api_schema: BaseSchema, fuzz_app: Flask, subtests: pytest.Subtests
) -> None:
    """Every operation, its examples, coverage cases and generated cases: below 500 and as documented."""
    client = fuzz_app.test_client()  # checks each answer against the document too (tests/contract.py)

    def call(case: Case) -> None:
        case.call_and_validate(session=client, checks=CHECKS)

    # The per-operation tests schemathesis's pytest integration would run, as subtests: its
    # `from_fixture` parametrization sets pytest's private Node._nodeid, which pytest 9.2 no longer has.
    deadline = time.monotonic() + MAX_SECONDS
    for result in get_all_tests(schema=api_schema, test_func=call, settings=None, given_kwargs=None):
        operation, test = result.ok()
        # A guard, not a benchmark: a run that went far past its usual minute stops here.
        assert time.monotonic() < deadline, f"the fuzz ran past {MAX_SECONDS} s before {operation.label}"
        with subtests.test(msg=operation.label):
            test()
