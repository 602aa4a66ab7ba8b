"""Build artifacts: CI records what a release's build produced; the same file again records nothing, the same
name with other bytes is refused whole; every door shows the same rows, and bad input loses nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.builds.models import BuildArtifact
from sdl_tracker.cli import cli
from tests.factories import ApiClient, login, make_product, make_release, member

pytestmark = pytest.mark.db

FIRMWARE = {"name": "dist/plc-fw-4.2.0.bin", "size": 1_048_576, "sha256": "ab" * 32}
MANUAL = {"name": "plc-manual.pdf", "size": 2048, "sha256": "CD" * 32}


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(BuildArtifact)) or 0


def _events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "builds:artifact:record")))


def _release(session: Session) -> tuple[int, int]:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", "dev@example.com")
    member(session, product, "auditor", "auditor@example.com")
    session.commit()
    return product.id, release.id


def test_ci_records_artifacts_once_and_the_api_lists_them(api: ApiClient, session: Session) -> None:
    _product, release = _release(session)
    ci = api.as_user("dev@example.com", scopes=["product:read", "artifact:record"])
    url = f"/api/v1/releases/{release}/artifacts"
    run = "https://ci.example.com/plc/pipelines/812"
    first = api.call("POST", url, ci, json={"artifacts": [FIRMWARE, MANUAL], "ci_run_url": run})
    assert first.status_code == 201, first.json
    assert [(i["name"], i["sha256"], i["created"]) for i in first.json["items"]] == [
        (FIRMWARE["name"], FIRMWARE["sha256"], True),
        (MANUAL["name"], "cd" * 32, True),  # digests are kept in lower case
    ]
    assert first.json["items"][0]["recorded_by"].endswith(":dev@example.com")  # the token and its owner
    (event,) = _events(session)
    assert event.details["ci_run_url"] == run and len(event.details["artifacts"]) == 2
    # A re-run of the CI job sends the same files: nothing new, no second audit event, 200.
    again = api.call("POST", url, ci, json={"artifacts": [MANUAL | {"sha256": "cd" * 32}], "ci_run_url": run})
    assert again.status_code == 200 and again.json["items"][0]["created"] is False
    assert _count(session) == 2 and len(_events(session)) == 1
    listed = api.call("GET", url, api.as_user("auditor@example.com")).json
    assert [i["name"] for i in listed["items"]] == [FIRMWARE["name"], MANUAL["name"]] and listed["total"] == 2


def test_the_same_name_with_other_bytes_is_refused_and_nothing_of_the_request_is_kept(
    api: ApiClient, session: Session
) -> None:
    _product, release = _release(session)
    ci = api.as_user("dev@example.com")
    url = f"/api/v1/releases/{release}/artifacts"
    assert api.call("POST", url, ci, json={"artifacts": [FIRMWARE]}).status_code == 201
    rebuilt = FIRMWARE | {"sha256": "ef" * 32}
    refused = api.call("POST", url, ci, json={"artifacts": [MANUAL, rebuilt]})
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert FIRMWARE["name"] in refused.json["detail"] and "ab" * 32 in refused.json["detail"]
    assert _count(session) == 1  # the manual, new in the refused request, was not kept either
    other_size = api.call("POST", url, ci, json={"artifacts": [FIRMWARE | {"size": 1}]})
    assert other_size.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"artifacts": []}, "artifacts"),
        ({"artifacts": [FIRMWARE | {"sha256": "ab" * 31 + "zz"}]}, "artifacts[0].sha256"),
        ({"artifacts": [FIRMWARE | {"sha256": "ab" * 31}]}, "artifacts.0.sha256"),
        ({"artifacts": [FIRMWARE | {"size": -1}]}, "artifacts.0.size"),
        ({"artifacts": [FIRMWARE | {"name": "../../etc/passwd"}]}, "artifacts[0].name"),
        ({"artifacts": [FIRMWARE | {"name": "/abs/fw.bin"}]}, "artifacts[0].name"),
        ({"artifacts": [FIRMWARE | {"name": "fw\u0007.bin"}]}, "artifacts.0.name"),
        ({"artifacts": [FIRMWARE | {"name": "dir\\fw.bin"}]}, "artifacts[0].name"),
        ({"artifacts": [FIRMWARE], "ci_run_url": "javascript:alert(1)"}, "ci_run_url"),
        ({"artifacts": [FIRMWARE], "ci_run_url": "https://ci.example.com/a b"}, "ci_run_url"),
        ({"artifacts": [FIRMWARE, FIRMWARE | {"sha256": "ef" * 32}]}, "artifacts[1].name"),
        ({"artifacts": [FIRMWARE] * 201}, "artifacts"),
        ({"artifacts": [FIRMWARE], "extra": 1}, "extra"),
    ],
)
def test_bad_artifacts_are_refused_by_field_and_nothing_is_kept(
    api: ApiClient, session: Session, body: dict[str, Any], field: str
) -> None:
    _product, release = _release(session)
    response = api.call("POST", f"/api/v1/releases/{release}/artifacts", api.as_user("dev@example.com"), json=body)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json["errors"]}, response.json
    assert _count(session) == 0 and _events(session) == []


def test_only_those_who_may_record_do_and_other_products_stay_unseen(api: ApiClient, session: Session) -> None:
    _product, release = _release(session)
    other = make_product(session, "Other")
    hidden = make_release(session, other, "1.0")
    session.commit()
    url = f"/api/v1/releases/{release}/artifacts"
    auditor = api.call("POST", url, api.as_user("auditor@example.com"), json={"artifacts": [FIRMWARE]})
    assert auditor.status_code == 403
    narrow = api.as_user("dev@example.com", scopes=["product:read", "sbom:upload"])
    assert api.call("POST", url, narrow, json={"artifacts": [FIRMWARE]}).status_code == 403
    unseen = api.call(
        "POST",
        f"/api/v1/releases/{hidden.id}/artifacts",
        api.as_user("dev@example.com"),
        json={"artifacts": [FIRMWARE]},
    )
    assert unseen.status_code == 404
    assert _count(session) == 0


def test_the_release_page_links_the_artifacts_page_which_lists_them(
    api: ApiClient, client: FlaskClient, session: Session
) -> None:
    _product, release = _release(session)
    run = "https://ci.example.com/plc/pipelines/812?a=1&b=<2>"
    assert (
        api.call(
            "POST",
            f"/api/v1/releases/{release}/artifacts",
            api.as_user("dev@example.com"),
            json={"artifacts": [FIRMWARE], "ci_run_url": run},
        ).status_code
        == 201
    )
    login(client, "auditor@example.com")
    assert f"/releases/{release}/artifacts" in client.get(f"/products/releases/{release}").get_data(as_text=True)
    page = client.get(f"/releases/{release}/artifacts").get_data(as_text=True)
    assert FIRMWARE["name"] in page and "ab" * 32 in page and "1,048,576" in page
    assert (
        'href="https://ci.example.com/plc/pipelines/812?a=1&amp;b=&lt;2&gt;" rel="noopener noreferrer nofollow"' in page
    )
    assert client.get("/releases/999999/artifacts").status_code == 404


def test_the_command_line_digests_files_before_recording_and_lists_them(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    _release(session)
    firmware = tmp_path / "plc-fw.bin"
    firmware.write_bytes(b"\x7fELF" + bytes(range(256)) * 5000)
    runner = app.test_cli_runner()
    added = runner.invoke(
        cli,
        ["release", "artifact-add", "PLC", "4.2.0", str(firmware), "--ci-run", "https://ci.example.com/1", "--json"],
    )
    assert added.exit_code == 0, added.output
    (item,) = json.loads(added.output)
    assert item["sha256"] == hashlib.sha256(firmware.read_bytes()).hexdigest()
    assert (item["name"], item["size"], item["created"]) == ("plc-fw.bin", firmware.stat().st_size, True)
    again = runner.invoke(cli, ["release", "artifact-add", "PLC", "4.2.0", str(firmware)])
    assert again.exit_code == 0 and again.output.startswith("already recorded: plc-fw.bin")
    firmware.write_bytes(b"rebuilt")
    clash = runner.invoke(cli, ["release", "artifact-add", "PLC", "4.2.0", str(firmware)])
    assert clash.exit_code != 0 and len(clash.output.strip().splitlines()) == 1 and "do not change" in clash.output
    missing = runner.invoke(cli, ["release", "artifact-add", "PLC", "4.2.0", str(tmp_path / "nope.bin")])
    assert missing.exit_code == 2
    listed = runner.invoke(cli, ["release", "artifacts", "PLC", "4.2.0"])
    assert listed.exit_code == 0 and item["sha256"] in listed.output and "https://ci.example.com/1" in listed.output
    assert runner.invoke(cli, ["release", "artifacts", "PLC", "9.9"]).exit_code != 0
