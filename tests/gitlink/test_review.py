"""Commit review (IEC 62443-4-1 SI-1) through the doors: what counts as reviewed, and why not."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user
from sdl_tracker.cli import cli
from sdl_tracker.db import utcnow
from sdl_tracker.errors import Forbidden
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gitlink.services import release_commits
from sdl_tracker.products.repositories import add_repository
from tests.factories import OPERATOR, ApiClient, login, make_product, make_release, member
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_scan import scan

DEV = "Dana Developer <dev@example.com>"
SO = "Sofia Officer <so@example.com>"


@pytest.fixture
def plc(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    officer = member(session, product, "security_officer", email="so@example.com")
    other = member(session, product, "security_officer", email="other@example.com")
    member(session, product, "developer", email="dev@example.com")
    return product, repo, repository, officer, other


def reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.subject: c.reason for c in [*result.reviewed, *result.unreviewed]}


def test_a_linked_review_of_another_change_does_not_count(app: Flask, session: Session, plc) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository, officer, other = plc
    repo.commit("Init")
    repo.git("tag", "v1.0")
    repo.commit("Feature A\n\nSecurity-Review: so@example.com\n", author=DEV)
    scan(app, session, repository.id)
    review_a = session.scalars(select(Evidence)).one()
    review_evidence(session, other, review_a.id, accept=True)
    repo.commit(f"Feature B\n\nSecurity-Review: #{review_a.id}\n", author=DEV)  # names an accepted, unrelated review
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    assert scan(app, session, repository.id).evidence_linked == 1
    result = release_commits(session, officer, product.id, "1.1")
    assert reasons(result) == {"Feature A": "", "Feature B": "review-names-another-change"}
    [b] = result.unreviewed
    assert b.review == review_a.id and "names" in b.explanation


def test_a_scan_run_as_the_reviewer_counts_only_once_another_officer_accepts(app: Flask, session: Session, plc) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository, _officer, _other = plc
    repo.commit("Init")
    repo.git("tag", "v1.0")
    repo.commit("Harden login\n\nSecurity-Review: so@example.com\n", author=DEV)
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    session.commit()
    runner = app.test_cli_runner()
    scanned = runner.invoke(cli, ["repo", "scan", str(repository.id), "--wait", "--json", "--as", "so@example.com"])
    assert scanned.exit_code == 0, scanned.output
    review = session.scalars(select(Evidence)).one()
    reviewer = find_user(session, "so@example.com")
    assert reviewer is not None
    # The submitter is who delivered it (the scan's user); the git author is kept, unverified.
    assert review.current.submitted_by_user_id == reviewer.id and review.current.submitted_by == "user:so@example.com"
    assert review.current.author == DEV and "not authenticated" in review.current.description

    def commits() -> dict:  # type: ignore[type-arg]
        answer = runner.invoke(cli, ["release", "commits", "PLC", "1.1", "--json"])
        assert answer.exit_code == 0, answer.output
        return json.loads(answer.output)

    before = commits()
    assert (before["reviewed"], before["unreviewed"][0]["reason"]) == (0, "review-not-accepted")
    refused = runner.invoke(cli, ["evidence", "review", str(review.id), "accept", "--as", "so@example.com"])
    assert refused.exit_code == 2 and "nobody reviews their own submission" in refused.output
    assert commits()["reviewed"] == 0  # the refused self-acceptance changed nothing
    accepted = runner.invoke(cli, ["evidence", "review", str(review.id), "accept", "--as", "other@example.com"])
    assert accepted.exit_code == 0, accepted.output
    after = commits()
    assert after["summary"] == "1 of 1 commits reviewed"
    [done] = after["reviewed_commits"]
    assert (done["reviewer"], done["accepted_by"], done["unverified_author"]) == (
        "so@example.com",
        "other@example.com",
        DEV,
    )
    text = runner.invoke(cli, ["release", "commits", "PLC", "1.1"]).output
    assert "reviewed: " in text and "accepted by other@example.com" in text


def test_hand_attached_reviews_name_commits_and_ranges(app: Flask, session: Session, plc) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository, officer, _other = plc
    base = repo.commit("Init")
    repo.git("tag", "v1.0")
    first = repo.commit("One", author=DEV)
    repo.commit("Two", author=DEV)
    third = repo.commit("Three", author=DEV)
    repo.commit("Four", author=DEV)
    fifth = repo.commit("Five", author=DEV)
    own = repo.commit("Officer's own change", author=SO)
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    scan(app, session, repository.id)

    def attach(change: str, reviewer: str) -> Evidence:
        return create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="code-review",
            data=EvidenceInput(
                title=f"Review of {change}",
                requirements=["SI-1"],
                details={"change": change, "reviewer": reviewer},
                files=[Upload("review.txt", "text/plain", io.BytesIO(b"reviewed"))],
            ),
        )

    ranged = attach(f"{base[:8]}..{third[:12]}", "Other Officer <other@example.com>")  # One, Two, Three
    short = attach(f"{fifth[:9]}, CR-77", "other@example.com")
    by_author = attach(own, "other@example.com")  # accepted by the commit's own author below
    review_evidence(session, officer, ranged.id, accept=True)
    review_evidence(session, officer, short.id, accept=True)
    review_evidence(session, officer, by_author.id, accept=True)
    result = release_commits(session, officer, product.id, "1.1")
    assert reasons(result) == {
        "One": "",
        "Two": "",
        "Three": "",
        "Four": "no-review",
        "Five": "",
        "Officer's own change": "acceptor-is-author",
    }
    assert {c.sha: c.review for c in result.reviewed}[first] == ranged.id
    # A review of another product never counts, whatever it names.
    elsewhere = make_product(session, "Other")
    create_evidence(
        session,
        OPERATOR,
        product_id=elsewhere.id,
        kind="code-review",
        data=EvidenceInput(
            title="Elsewhere",
            requirements=["SI-1"],
            details={"change": own, "reviewer": "so@example.com"},
            files=[Upload("r.txt", "text/plain", io.BytesIO(b"r"))],
        ),
    )
    assert reasons(release_commits(session, officer, product.id, "1.1"))["Four"] == "no-review"


def test_only_accepted_reviews_count_and_nobody_accepts_their_own(app: Flask, session: Session, plc) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository, officer, _other = plc
    repo.commit("Init")
    repo.git("tag", "v1.0")
    repo.commit("Change\n\nSecurity-Review: other@example.com\n", author=DEV)
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    scan(app, session, repository.id)
    review = session.scalars(select(Evidence)).one()
    developer = member(session, product, "developer")
    with pytest.raises(Forbidden):
        review_evidence(session, developer, review.id, accept=True)  # developers accept nothing
    assert release_commits(session, officer, product.id, "1.1").unreviewed[0].reason == "review-not-accepted"
    review_evidence(session, officer, review.id, accept=False, reason="not a security review")
    assert release_commits(session, officer, product.id, "1.1").unreviewed[0].reason == "review-not-accepted"


def test_a_released_release_is_judged_as_of_its_release_date(
    app: Flask, session: Session, client: FlaskClient, api: ApiClient, plc
) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository, officer, other = plc
    repo.commit("Init", when="2026-01-01T10:00:00Z")
    repo.git("tag", "v1.0")
    repo.commit("Harden login\n\nSecurity-Review: so@example.com\n", author=DEV, when="2026-01-02T10:00:00Z")
    repo.git("tag", "v1.1")
    yesterday = utcnow().date() - timedelta(days=1)
    make_release(session, product, "1.0", git_ref="v1.0", status="released", release_date=yesterday - timedelta(30))
    shipped = make_release(session, product, "1.1", git_ref="v1.1", status="released", release_date=yesterday)
    scan(app, session, repository.id)
    review = session.scalars(select(Evidence)).one()
    review_evidence(session, other, review.id, accept=True)  # today: after the release date
    result = release_commits(session, officer, product.id, "1.1")
    assert (result.judged_on, len(result.reviewed), result.reviewed_today) == (yesterday, 0, 1)
    [late] = result.unreviewed
    assert late.reason == "accepted-later" and late.reviewed_today and "after" in late.explanation
    session.commit()
    token = api.as_user("so@example.com")
    answer = api.call("GET", f"/api/v1/releases/{shipped.id}/commits", token)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["summary"] == f"0 of 1 commits reviewed as of the release date {yesterday.isoformat()} (1 today)"
    assert body["unreviewed"][0]["unverified_author"] == DEV
    login(client, "so@example.com")
    page = client.get(f"/releases/{shipped.id}/commits").get_data(as_text=True)
    assert "as of the release date" in page and "accepted-later" not in page and "after" in page
    assert "not authenticated" in page and "reviewed today" in page
    # The commit keeps git's author date (the review evidence is dated by it).
    assert review.current.effective_date.isoformat() == "2026-01-02"
