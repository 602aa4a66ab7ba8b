"""Scanning real repositories: incremental, trailers to evidence, rewritten history, review coverage."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.models import Evidence, EvidenceKind
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.gitlink import git
from sdl_tracker.gitlink.models import Commit, CommitEvidence
from sdl_tracker.gitlink.schemas import ScanSummaryOut
from sdl_tracker.gitlink.services import ScanSummary, queue_scan, release_commits
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.worker import run_one, run_worker
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.psirt.models import CaseStatus, PsirtCase
from tests.factories import OPERATOR, ApiClient, login, make_product, make_release, make_user, member
from tests.gitlink.repo import GitRepo
from tests.psirt.test_cases import vulnerability

DEV = "Dana Developer <dev@example.com>"


def test_the_scan_job_result_is_the_published_summary() -> None:
    # The scan (a service) stores `asdict(summary)` as its job's result; it is what `ScanSummaryOut` publishes.
    summary = ScanSummary("app", new_commits=3, trailers=2, evidence_created=1, unreachable=1, seconds=0.25)
    summary.problems.append("a problem")
    assert asdict(summary) == ScanSummaryOut.of(summary).model_dump(mode="json")


def scan(app: Flask, session: Session, repository_id: int) -> SimpleNamespace:
    """Queue a scan and run its job as a worker would; its summary, or the job's error as Invalid."""
    database = app_db(app)
    with database.unit_of_work() as own:
        job_id = queue_scan(own, OPERATOR, repository_id).id
    assert run_one(database, "tests", job_id=job_id) is not None
    session.expire_all()  # the job wrote through other sessions
    job = session.get(Job, job_id)
    assert job is not None
    if job.state is not JobState.SUCCEEDED:
        raise Invalid(job.error)
    return SimpleNamespace(**(job.result or {}))


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def setup(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    return product, repo, repository


def test_scan_is_incremental_and_never_duplicates(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository = setup
    repo.commit("Init")
    repo.commit("Harden login\n\nSecurity-Review: so@example.com\nSecurity-Requirement: CR 1.11\n", author=DEV)
    first = scan(app, session, repository.id)
    assert (first.new_commits, first.trailers, first.evidence_created) == (2, 2, 1)
    evidence = session.scalars(select(Evidence)).one()
    assert evidence.kind is EvidenceKind.CODE_REVIEW and evidence.current.details["reviewer"] == "so@example.com"
    assert evidence.current.details["change"] == session.scalar(
        select(Commit.sha).where(Commit.subject == "Harden login")
    )
    assert [r.ref for r in evidence.current.requirements] == ["SI-1"]
    again = scan(app, session, repository.id)
    assert (again.new_commits, again.evidence_created) == (0, 0)
    case = vulnerability(session, product)
    session.commit()
    repo.commit(f"Fuzz Modbus\n\nFuzzed-by: nightly-modbus\nFixes-PSIRT: {case.reference}\n")
    third = scan(app, session, repository.id)
    assert (third.new_commits, third.evidence_created) == (1, 2)
    assert count(session, Commit) == 3 and count(session, CommitEvidence) == 3  # the case keeps its own records
    kinds = {e.kind for e in session.scalars(select(Evidence).join(CommitEvidence))}
    assert kinds == {EvidenceKind.CODE_REVIEW, EvidenceKind.FUZZ_RUN, EvidenceKind.PSIRT_FIX}  # never "other"


def test_trailers_can_name_existing_evidence(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit("Model\n\nSecurity-Review: so@example.com\n")
    scan(app, session, repository.id)
    existing = session.scalars(select(Evidence)).one()
    repo.commit(f"Update model\n\nThreat-Model: #{existing.id}\nThreat-Model: #999999\n")
    summary = scan(app, session, repository.id)
    assert summary.evidence_linked == 1 and summary.evidence_created == 0
    assert summary.problems == [summary.problems[0]] and "unknown evidence #999999" in summary.problems[0]
    assert count(session, CommitEvidence) == 2


def test_rewritten_history_is_flagged(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit("Base")
    dropped = repo.commit("Reviewed change\n\nSecurity-Review: so@example.com\n")
    scan(app, session, repository.id)
    repo.git("reset", "--hard", "--quiet", "HEAD~1")  # a rebase or force-push drops the commit
    repo.commit("Replacement")
    summary = scan(app, session, repository.id)
    assert summary.new_commits == 1 and summary.unreachable == 1
    assert session.scalar(select(Commit.reachable).where(Commit.sha == dropped)) is False


def test_a_scan_that_stops_after_storing_is_audited_so_kept_reviews_move(
    app: Flask, session: Session, setup, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository = setup
    officer = member(session, product, "security_officer")
    repo.commit("Init")
    repo.git("tag", "v1.0")
    make_release(session, product, "1.0", git_ref="v1.0")
    scan(app, session, repository.id)
    feature = repo.commit("Feature")
    make_release(session, product, "1.1", git_ref=feature)  # a bare SHA: found once its commit is stored
    assert release_commits(session, officer, product.id, "1.1").problems  # kept: nothing scanned holds it

    def git_died(path: Path, tips: list[str]) -> set[str]:
        raise OSError("git died")

    monkeypatch.setattr(git, "reachable", git_died)  # after the commits are stored, before the publish
    with pytest.raises(Invalid, match="OSError"):
        scan(app, session, repository.id)
    stopped = session.scalars(select(AuditEvent).where(AuditEvent.action == "gitlink:repository:scan-stopped")).one()
    assert (stopped.details["new_commits"], stopped.details["error"]) == (1, "OSError")
    assert repository.refs["refs/heads/main"] != feature  # not published
    after = release_commits(session, officer, product.id, "1.1")
    assert (after.total, after.problems) == (1, ())  # the stop moved the audit head: judged afresh


def test_hostile_refs_and_locations(app: Flask, session: Session, setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository = setup
    head = repo.commit("Init")
    repo.git("update-ref", "refs/heads/-x", head)  # a branch that looks like an option
    repo.git("update-ref", "refs/pull/1/head", repo.commit("A pull request"))
    repo.git("reset", "--hard", "--quiet", head)
    summary = scan(app, session, repository.id)
    assert summary.new_commits == 1  # hosting refs (refs/pull/*) are not history
    officer = member(session, product, "security_officer")
    for location in ("ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/pwned", str(tmp_path)):
        with pytest.raises(Invalid):
            add_repository(session, officer, product.id, name="evil", location=location)


def test_ref_patterns_choose_what_is_history(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "RTU")
    repo = GitRepo(tmp_path / "rtu")
    repo.commit("Init")
    repo.git("checkout", "--quiet", "-b", "experiment")
    repo.commit("Spike nobody ships")
    repo.git("checkout", "--quiet", "-")
    repo.commit("Shipped")
    only_main = add_repository(
        session, OPERATOR, product.id, name="rtu", location=str(repo.path), ref_patterns=["refs/heads/main"]
    )
    assert scan(app, session, only_main.id).new_commits == 2
    assert not session.scalar(select(Commit.id).where(Commit.subject == "Spike nobody ships"))


def test_a_remote_is_mirrored_into_the_data_directory(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    product, repo, _local = setup
    repo.commit("Init")
    remote = add_repository(session, OPERATOR, product.id, name="mirror", location=f"file://{repo.path}")
    assert scan(app, session, remote.id).new_commits == 1
    repo.commit("Later")
    assert scan(app, session, remote.id).new_commits == 1  # fetched, then incremental


def test_review_coverage_of_a_release(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    product, repo, repository = setup
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "developer", email="dev@example.com")
    other_officer = member(session, product, "security_officer")
    repo.commit("Init")
    repo.git("tag", "v1.0")
    repo.commit("Reviewed by a known officer\n\nSecurity-Review: so@example.com\n", author=DEV)
    repo.commit("Self review does not count\n\nSecurity-Review: dev@example.com\n", author=DEV)
    repo.commit("Unknown reviewer\n\nSecurity-Review: ghost@example.com\n", author=DEV)
    repo.commit("No review at all", author=DEV)
    repo.git("tag", "-a", "v1.1", "-m", "release 1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    scan(app, session, repository.id)
    before = release_commits(session, officer, product.id, "1.1")
    assert (before.total, len(before.reviewed)) == (4, 0)  # submitted by the scanner, not yet accepted
    assert {c.subject: c.reason for c in before.unreviewed} == {
        "Reviewed by a known officer": "review-not-accepted",
        "Self review does not count": "reviewer-is-author",
        "Unknown reviewer": "reviewer-unknown",
        "No review at all": "no-review",
    }
    known = next(e for e in session.scalars(select(Evidence)) if e.current.details["reviewer"] == "so@example.com")
    review_evidence(session, other_officer, known.id, accept=True)
    after = release_commits(session, officer, product.id, "1.1")
    assert (after.total, len(after.reviewed), after.previous) == (4, 1, "1.0")
    [reviewed] = after.reviewed
    assert (reviewed.subject, reviewed.review, reviewed.reviewer) == (
        "Reviewed by a known officer",
        known.id,
        "so@example.com",
    )
    assert reviewed.unverified_author == DEV
    assert {c.subject for c in after.unreviewed} == {
        "Self review does not count",
        "Unknown reviewer",
        "No review at all",
    }
    assert len(after.evidence_linked) == 3


def test_scan_and_commits_through_the_cli(app: Flask, session: Session, tmp_path: Path) -> None:
    make_user(session, "admin@example.com", admin=True)
    product = make_product(session, "HMI")
    repo = GitRepo(tmp_path / "hmi")
    repo.commit("Init")
    repo.git("tag", "v2.0")
    repo.commit("Feature\n\nSecurity-Review: admin@example.com\n")
    repo.git("tag", "v2.1")
    make_release(session, product, "2.0", git_ref="v2.0")
    make_release(session, product, "2.1", git_ref="v2.1")
    runner = app.test_cli_runner()
    added = json.loads(runner.invoke(cli, ["repo", "add", "HMI", str(repo.path), "--json"]).output)
    scanned = runner.invoke(cli, ["repo", "scan", str(added["id"]), "--wait", "--json"])
    assert scanned.exit_code == 0, scanned.output
    assert json.loads(scanned.output)["result"]["new_commits"] == 2
    commits = json.loads(runner.invoke(cli, ["release", "commits", "HMI", "2.1", "--json"]).output)
    assert commits["summary"] == "0 of 1 commits reviewed" and commits["previous"] == "2.0"
    assert runner.invoke(cli, ["repo", "scan", "999999"]).exit_code == 2
    developer = member(session, product, "developer", email="dev@example.com")
    _ = developer
    session.commit()
    refused = runner.invoke(cli, ["repo", "scan", str(added["id"]), "--as", "dev@example.com"])
    assert refused.exit_code == 2 and "developer may not" in refused.output


def test_the_demo_has_a_scanned_history_with_review_coverage(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    commits = json.loads(runner.invoke(cli, ["release", "commits", "NW-PLC 5000 firmware", "4.2.0", "--json"]).output)
    # 4.2.0 shipped on 2026-06-02; the demo accepts its reviews when it loads, after that date: they count today,
    # not as of the release date.
    assert (commits["released"], commits["judged_on"], commits["previous"]) == (True, "2026-06-02", "4.1.0")
    assert (commits["commits"], commits["reviewed"], commits["reviewed_today"]) == (5, 0, 2)
    assert len(commits["evidence_linked"]) == 4  # two reviews, a fuzz run with a PSIRT fix, a threat-model change
    [fix] = session.scalars(select(Evidence).where(Evidence.kind == EvidenceKind.PSIRT_FIX)).all()
    closed = session.scalars(select(PsirtCase).where(PsirtCase.status == CaseStatus.CLOSED)).one()
    assert fix.current.details["case"] == closed.reference  # the demo's fix commit names its closed case
    candidate = json.loads(
        runner.invoke(cli, ["release", "commits", "NW-PLC 5000 firmware", "4.3.0-rc1", "--json"]).output
    )
    assert (candidate["commits"], candidate["reviewed"]) == (3, 1)
    reasons = sorted(c["reason"] for c in candidate["unreviewed"])
    assert reasons == ["no-review", "reviewer-is-author"]


def test_scans_are_queued_by_the_api_and_the_page(
    app: Flask,
    client: FlaskClient,
    api: ApiClient,
    session: Session,
    setup,  # type: ignore[no-untyped-def]
) -> None:
    product, repo, repository = setup
    repo.commit("Init")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    token = api.as_user("so@example.com")
    queued = api.call("POST", f"/api/v1/repositories/{repository.id}/scan", token)
    assert queued.status_code == 202
    job = queued.get_json()
    assert queued.headers["Location"] == job["location"] == f"/api/v1/jobs/{job['id']}" and job["state"] == "queued"
    again = api.call("POST", f"/api/v1/repositories/{repository.id}/scan", token).get_json()
    assert again["id"] == job["id"]  # a queued scan is joined, not doubled
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "Scan now" in page
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token_field
    answer = client.post(f"/repositories/{repository.id}/scan", data={"csrf_token": token_field.group(1)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/jobs/{job['id']}")
    assert run_worker(app_db(app), once=True) == 1
    done = api.call("GET", job["location"], token).get_json()
    assert done["state"] == "succeeded" and done["result"]["new_commits"] == 1
    assert count(session, Commit) == 1


def test_repo_scan_without_wait_only_queues(app: Flask, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    _product, repo, repository = setup
    repo.commit("Init")
    session.commit()
    result = app.test_cli_runner().invoke(cli, ["repo", "scan", str(repository.id)])
    assert result.exit_code == 0 and re.fullmatch(r"queued job \d+\n", result.output)
    assert count(session, Commit) == 0
    assert run_worker(app_db(app), once=True) == 1 and count(session, Commit) == 1
