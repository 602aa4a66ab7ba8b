"""Attaching the same files twice: each door answers with the first item, and a new release set is refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member
from sdl_tracker.cli import cli
from sdl_tracker.evidence.models import Evidence
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member

META = {"kind": "other", "title": "Unit test report", "requirements": ["SVV-1"], "effective_date": "2026-10-01"}


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Evidence)) or 0


def _post(api: ApiClient, token: str, path: str, meta: dict[str, object], files: list[tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    parts = [(io.BytesIO(data), name) for data, name in files]
    return api.call(
        "POST", path, token, data={"metadata": json.dumps(meta), "file": parts}, content_type="multipart/form-data"
    )


def test_the_api_answers_a_second_upload_with_the_first_item(api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    other = make_product(session, "Q")
    for release in ("1.0", "1.1"):
        make_release(session, product, release)
    member(session, product, "developer", email="dev@example.com")
    add_member(session, OPERATOR, other.id, email="dev@example.com", role="developer")
    session.commit()
    dev = api.as_user("dev@example.com")
    path = f"/api/v1/products/{product.id}/evidence"
    files = [(b"<testsuite tests='3'/>", "junit.xml"), (b"coverage 91%", "coverage.txt")]
    first = _post(api, dev, path, {**META, "releases": ["1.0"]}, files)
    assert first.status_code == 201 and first.get_json()["created"] is True
    evidence_id = first.get_json()["id"]
    # The same bytes under other names, in another order, with another title: the same evidence.
    again = _post(
        api, dev, path, {**META, "title": "again", "releases": ["1.0"]}, [(files[1][0], "c"), (files[0][0], "j")]
    )
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == evidence_id and again.get_json()["created"] is False
    assert again.get_json()["current"]["title"] == "Unit test report"  # nothing of the second request is kept
    refused = _post(api, dev, path, {**META, "releases": ["1.0", "1.1"]}, files)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert (
        refused.get_json()["detail"]
        == f"these files are already evidence #{evidence_id}; edit that item to add releases"
    )
    whole_product = _post(api, dev, path, META, files[:1] + files[1:])
    assert whole_product.status_code == 409
    # Not the same set of files, another kind, or another product: new evidence.
    assert _post(api, dev, path, {**META, "releases": ["1.0"]}, files[:1]).status_code == 201
    tool = {"kind": "static-analysis", "releases": ["1.0"]}
    other_kind = _post(api, dev, path, {**META, **tool}, files)
    assert other_kind.status_code == 201, other_kind.get_json()
    assert _post(api, dev, f"/api/v1/products/{other.id}/evidence", META, files).status_code == 201
    assert _count(session) == 4


def test_the_pages_redirect_to_the_item_the_files_already_are(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    make_release(session, product, "2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    dev = app.test_client()
    login(dev, "dev@example.com")
    path = f"/products/{product.id}/evidence/new"

    def attach(releases: list[str]):  # type: ignore[no-untyped-def]
        data = {
            "kind": "other",
            "title": "Scan log",
            "requirements": "SVV-1",
            "releases": releases,
            "effective_date": "2026-10-01",
            "files": [(io.BytesIO(b"scan: clean"), "scan.log")],
            "csrf_token": csrf_token(dev, path),
        }
        return dev.post(path, data=data, content_type="multipart/form-data")

    first = attach(["1.0"])
    assert first.status_code == 302
    evidence_id = _only_id(session)
    second = attach(["1.0"])
    assert second.status_code == 302 and second.headers["Location"].endswith(f"/evidence/{evidence_id}")
    page = dev.get(second.headers["Location"]).get_data(as_text=True)
    assert f"These files are already attached as #{evidence_id}" in page
    refused = attach(["1.0", "2.0"])
    assert refused.status_code == 200  # the form again, with the reason
    assert f"this file is already evidence #{evidence_id}; edit that item to add releases" in refused.get_data(
        as_text=True
    )
    assert _count(session) == 1


def _only_id(session: Session) -> int:
    session.expire_all()
    return session.scalars(select(Evidence.id)).one()


def test_the_command_line_says_already_attached(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    session.commit()
    report = tmp_path / "report.txt"
    report.write_bytes(b"all green")
    args = ["evidence", "add", "P", "--kind", "other", "--title", "T", "--requirement", "SVV-1", "--file", str(report)]
    first = app.test_cli_runner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    evidence_id = int(first.output)
    second = app.test_cli_runner().invoke(cli, [*args, "--json"])
    assert second.exit_code == 0 and json.loads(second.output)["created"] is False
    assert app.test_cli_runner().invoke(cli, args).output.strip() == f"already attached as #{evidence_id}"
    refused = app.test_cli_runner().invoke(cli, [*args, "--release", "1.0"])
    assert refused.exit_code == 2
    assert f"this file is already evidence #{evidence_id}; edit that item to add releases" in refused.output
    assert _count(session) == 1
