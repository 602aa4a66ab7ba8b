"""The commits page: every commit of a release, the reviewed ones with their review, the rest with why
their review does not count, a page at a time, in a number of statements that does not grow with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.audit import services as audit_services
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.gitlink import views
from sdl_tracker.gitlink.rules import NotReviewed
from sdl_tracker.labels import WORDS, label
from sdl_tracker.products.models import Release
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.products.services import update_release
from tests.factories import OPERATOR, login, make_product, make_release, member, statements
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_scan import scan

DEV = "Dana Developer <dev@example.com>"


@pytest.fixture
def release(app: Flask, session: Session, tmp_path: Path) -> Release:
    """PLC 1.1: one commit reviewed, one reviewed by its own author, one with no review."""
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    member(session, product, "security_officer", email="so@example.com")
    other = member(session, product, "security_officer", email="other@example.com")
    member(session, product, "developer", email="dev@example.com")
    repo.commit("Init")
    repo.git("tag", "v1.0")
    repo.commit("Feature A\n\nSecurity-Review: so@example.com\n", author=DEV)
    repo.commit("Feature B\n\nSecurity-Review: dev@example.com\n", author=DEV)
    repo.commit("Feature C", author=DEV)
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    shipped = make_release(session, product, "1.1", git_ref="v1.1")
    scan(app, session, repository.id)
    for review in session.scalars(select(Evidence)):
        review_evidence(session, other, review.id, accept=True)
    session.commit()
    shipped.repo = repo  # type: ignore[attr-defined]
    shipped.repository_id = repository.id  # type: ignore[attr-defined]
    return shipped


def test_every_reason_a_review_does_not_count_reads_as_people_write_it() -> None:
    assert all(reason.value in WORDS for reason in NotReviewed)
    assert label(NotReviewed.REVIEWER_IS_AUTHOR) == "Reviewer is the author"


@pytest.mark.db
def test_the_page_lists_every_commit_and_why_the_rest_do_not_count(client: FlaskClient, release: Release) -> None:
    login(client, "so@example.com")
    page = client.get(f"/releases/{release.id}/commits").get_data(as_text=True)
    assert "2 not reviewed, 1 reviewed" in page
    assert page.index("Feature B") < page.index("Feature A")  # what needs doing first
    assert "Reviewer is the author" in page and "No review names it" in page
    assert "reviewer-is-author" not in page and "no-review" not in page  # the codes stay in the API
    assert "by so@example.com, accepted by other@example.com" in page
    unreviewed = client.get(f"/releases/{release.id}/commits?show=unreviewed").get_data(as_text=True)
    assert "Feature B" in unreviewed and "Feature C" in unreviewed and "Feature A" not in unreviewed
    reviewed = client.get(f"/releases/{release.id}/commits?show=reviewed").get_data(as_text=True)
    assert "Feature A" in reviewed and "Feature B" not in reviewed
    assert client.get(f"/releases/{release.id}/commits?show=everything").status_code == 422
    assert client.get(f"/releases/{release.id}/commits?page=x").status_code in (400, 422)


@pytest.mark.db
def test_the_page_is_paged_and_its_statements_do_not_grow_with_the_commits(
    app: Flask, session: Session, client: FlaskClient, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    login(client, "so@example.com")
    first = client.get(f"/releases/{release.id}/commits").get_data(as_text=True)
    assert "page 1 of 2" in first and "Next" in first and "Feature A" not in first
    second = client.get(f"/releases/{release.id}/commits?page=2").get_data(as_text=True)
    assert "Feature A" in second and "Previous" in second and "Feature B" not in second
    url = f"/releases/{release.id}/commits"
    audit_services._KEPT.clear()  # judged afresh (the judged commits are kept until an audited change)
    with statements(app) as few:
        client.get(url)
    with statements(app) as few_kept:
        client.get(url)
    repo = release.repo  # type: ignore[attr-defined]
    for n in range(30):
        repo.commit(f"More {n}\n\nSecurity-Review: so@example.com\n" if n % 2 else f"More {n}", author=DEV)
    repo.git("tag", "v1.2")
    update_release(session, OPERATOR, release.id, git_ref="v1.2")
    session.commit()
    scan(app, session, release.repository_id)  # type: ignore[attr-defined]
    session.commit()
    with statements(app) as many:  # the scan was audited: judged afresh
        page = client.get(url).get_data(as_text=True)
    assert "page 1 of 17" in page
    assert "… and 15 more (<code>sdl-tracker release commits" in page  # 17 linked to evidence, 2 shown
    assert len(many) == len(few), "\n".join(s.split("\n")[0][:100] for s in many)
    with statements(app) as many_kept:
        client.get(url)
    assert len(many_kept) == len(few_kept) < len(few)
