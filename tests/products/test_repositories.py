"""Managing a product's repositories: renaming them, choosing the refs that are history, removing them
(their commits stay as history), through the services, the API, the command line and the pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.errors import Conflict, Forbidden, Invalid, NotFound
from sdl_tracker.gitlink.intake import Delivery, deliver_commits
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.gitlink.services import queue_scan
from sdl_tracker.products.models import Product, Repository
from sdl_tracker.products.repositories import (
    add_repository,
    list_repositories,
    remove_repository,
    update_repository,
)
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, member
from tests.gitlink.repo import GitRepo

pytestmark = pytest.mark.db


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.fixture
def product(session: Session) -> Product:
    return make_product(session, "PLC")


@pytest.fixture
def repository(session: Session, product: Product) -> Repository:
    return add_repository(session, OPERATOR, product.id, name="fw", location="https://git.example.com/fw.git")


def test_rename_and_choose_the_refs_that_are_history(
    session: Session, product: Product, repository: Repository
) -> None:
    changed = update_repository(session, OPERATOR, repository.id, name="firmware", ref_patterns=["refs/heads/main"])
    assert (changed.name, changed.ref_patterns, changed.location) == (
        "firmware",
        ["refs/heads/main"],
        "https://git.example.com/fw.git",
    )
    [event] = events(session, "products:repository:update")
    assert event.details == {
        "name": {"old": "fw", "new": "firmware"},
        "refs": {"old": ["refs/heads", "refs/tags"], "new": ["refs/heads/main"]},
    }
    update_repository(session, OPERATOR, repository.id, name="firmware")  # nothing changes: nothing recorded
    assert len(events(session, "products:repository:update")) == 1


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"name": ""}, Invalid),
        ({"name": " padded "}, Invalid),
        ({"name": "x" * 121}, Invalid),
        ({"ref_patterns": []}, Invalid),
        ({"ref_patterns": ["refs/pull/*"]}, Invalid),  # hosting refs are never history
        ({"ref_patterns": ["--upload-pack=x"]}, Invalid),
        ({"ref_patterns": ["refs/heads/../tags"]}, Invalid),
        ({"name": "app"}, Conflict),
    ],
)
def test_bad_changes_are_refused_and_nothing_is_written(
    session: Session, product: Product, repository: Repository, changes: dict[str, object], refusal: type
) -> None:
    add_repository(session, OPERATOR, product.id, name="app", location="https://git.example.com/app.git")
    with pytest.raises(refusal):
        update_repository(session, OPERATOR, repository.id, **changes)  # type: ignore[arg-type]
    session.refresh(repository)
    assert repository.name == "fw" and events(session, "products:repository:update") == []


def test_who_may_change_repositories(session: Session, product: Product, repository: Repository) -> None:
    developer = member(session, product, "developer")
    outsider = member(session, make_product(session), "security_officer")
    with pytest.raises(Forbidden):
        update_repository(session, developer, repository.id, name="mine")
    with pytest.raises(Forbidden):
        remove_repository(session, developer, repository.id)
    with pytest.raises(NotFound):
        remove_repository(session, outsider, repository.id)
    officer = member(session, product, "security_officer")
    assert update_repository(session, officer, repository.id, name="mine").name == "mine"


def test_a_removed_repository_stays_as_history(session: Session, product: Product, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "fw")
    sha = repo.commit("Fuzz\n\nFuzzed-by: nightly\n")
    repository = add_repository(session, OPERATOR, product.id, name="fw", location=str(repo.path))
    developer = member(session, product, "developer")
    deliver_commits(session, developer, product.id, "fw", [Delivery(repo.cat_file(sha), sha)], {})
    removed = remove_repository(session, OPERATOR, repository.id)
    assert removed.removed_at is not None
    assert remove_repository(session, OPERATOR, repository.id).removed_at == removed.removed_at  # once
    assert len(events(session, "products:repository:remove")) == 1
    assert session.scalar(select(func.count()).select_from(Commit)) == 1  # its commits stay
    assert list_repositories(session, OPERATOR, product.id) == []
    assert list_repositories(session, OPERATOR, product.id, removed=True) == [removed]
    with pytest.raises(Conflict, match="removed"):
        update_repository(session, OPERATOR, repository.id, name="again")
    with pytest.raises(Conflict, match="no longer scanned"):
        queue_scan(session, OPERATOR, repository.id)
    with pytest.raises(Conflict, match="takes no more commits"):
        deliver_commits(session, developer, product.id, "fw", [Delivery(repo.cat_file(sha), sha)], {})
    with pytest.raises(Conflict, match="keeps its name"):
        add_repository(session, OPERATOR, product.id, name="fw", location="https://git.example.com/new.git")


def test_repositories_over_the_api(session: Session, api: ApiClient, product: Product, repository: Repository) -> None:
    member(session, product, "security_officer", email="so@example.com")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    officer, developer = api.as_user("so@example.com"), api.as_user("dev@example.com")
    path = f"/api/v1/repositories/{repository.id}"
    assert api.call("PATCH", path, developer, json={"name": "x"}).status_code == 403
    changed = api.call("PATCH", path, officer, json={"name": "firmware", "ref_patterns": ["refs/tags/v*"]})
    assert changed.status_code == 200 and changed.get_json()["name"] == "firmware"
    assert changed.get_json()["ref_patterns"] == ["refs/tags/v*"] and changed.get_json()["removed_at"] is None
    assert api.call("PATCH", path, officer, json={"ref_patterns": []}).status_code == 422
    assert api.call("PATCH", path, officer, json={"location": "/etc"}).status_code == 422  # not a changeable field
    removed = api.call("DELETE", path, officer)
    assert removed.status_code == 200 and removed.get_json()["removed_at"] is not None
    assert api.call("DELETE", path, officer).status_code == 200
    assert api.call("PATCH", path, officer, json={"name": "again"}).status_code == 409
    assert api.call("POST", f"{path}/scan", officer).status_code == 409
    listed = api.call("GET", f"/api/v1/products/{product.id}/repositories", officer).get_json()
    assert listed["items"] == []


def test_repositories_from_the_command_line(
    app: Flask, session: Session, product: Product, repository: Repository
) -> None:
    session.commit()
    runner = app.test_cli_runner()
    edited = runner.invoke(cli, ["repo", "edit", "PLC", "fw", "--name", "firmware", "--ref", "refs/heads/main"])
    assert edited.exit_code == 0 and edited.output == "repository firmware: refs refs/heads/main\n"
    shown = runner.invoke(cli, ["repo", "edit", "PLC", "firmware", "--json"])  # no change asked: shown as it is
    assert json.loads(shown.output)["ref_patterns"] == ["refs/heads/main"]
    bad = runner.invoke(cli, ["repo", "edit", "PLC", "firmware", "--ref", "refs/pull/*"])
    assert bad.exit_code == 2 and bad.output.startswith("error: ") and len(bad.output.splitlines()) == 1
    missing = runner.invoke(cli, ["repo", "remove", "PLC", "nope"])
    assert missing.exit_code == 2 and "no repository 'nope'" in missing.output
    removed = runner.invoke(cli, ["repo", "remove", "PLC", "firmware"])
    assert removed.exit_code == 0 and removed.output == "removed repository firmware; its commits stay as history\n"
    assert runner.invoke(cli, ["repo", "list", "PLC"]).output == "no repositories\n"
    again = runner.invoke(cli, ["repo", "edit", "PLC", "firmware", "--name", "x"])
    assert again.exit_code == 2 and "removed" in again.output


def test_repositories_on_the_pages(
    session: Session, client: FlaskClient, product: Product, repository: Repository
) -> None:
    member(session, product, "security_officer", email="so@example.com")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    login(client, "dev@example.com")
    assert "/edit" not in client.get(f"/products/{product.id}").get_data(as_text=True).split("Repositories")[-1]
    assert client.get(f"/products/repositories/{repository.id}/edit").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert f"/products/repositories/{repository.id}/edit" in page
    edit = f"/products/repositories/{repository.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="fw"' in form and 'value="refs/heads refs/tags"' in form
    token = csrf_token(client, edit)
    refused = client.post(edit, data={"csrf_token": token, "name": "fw", "refs": "refs/pull/*"})
    assert refused.status_code == 200 and "hosting refs excluded" in refused.get_data(as_text=True)
    saved = client.post(edit, data={"csrf_token": token, "name": "firmware", "refs": ""})  # empty: all refs
    assert saved.status_code == 302
    session.refresh(repository)
    assert (repository.name, repository.ref_patterns) == ("firmware", ["refs/heads", "refs/tags"])
    removed = client.post(f"/products/repositories/{repository.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert re.search(r"Removed, kept as history: <b>firmware</b>", page) and "No repositories registered" in page
    assert client.get(edit).status_code == 409
