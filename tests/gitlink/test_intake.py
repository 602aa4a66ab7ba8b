"""Commits that git hooks and CI deliver over the API: stored once per repository and SHA, by the scanner's
own ingest, evidence submitted by the token's owner, the git author kept unverified."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.evidence.models import Evidence, EvidenceRevision
from sdl_tracker.gitlink.ingest import EVIDENCE_BATCH
from sdl_tracker.gitlink.models import Commit, CommitEvidence
from sdl_tracker.gitlink.services import release_commits_by_id
from sdl_tracker.products.models import Product, Repository
from sdl_tracker.products.repositories import add_repository, remove_repository
from tests.factories import OPERATOR, ApiClient, make_product, make_release, member
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_scan import scan

pytestmark = pytest.mark.db

DEV = "Dana Developer <dev@example.com>"


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def body(raw: bytes, sha: str) -> dict[str, str]:
    return {"raw": base64.b64encode(raw).decode(), "sha": sha}


class Hook:
    """What a git hook does: read the commit's object and post it with its token."""

    def __init__(self, api: ApiClient, product: Product, repository: str, token: str) -> None:
        self.api, self.token = api, token
        self.path = f"/api/v1/products/{product.id}/repositories/{quote(repository, safe='')}/commits"

    def send(self, repo: GitRepo, sha: str) -> Any:
        return self.post(body(repo.cat_file(sha), sha))

    def post(self, payload: Any, **kwargs: Any) -> Any:
        return self.api.call("POST", self.path, self.token, json=payload, **kwargs)

    def batch(self, items: list[dict[str, str]]) -> Any:
        return self.api.call("POST", f"{self.path}/batch", self.token, json={"commits": items})

    def show(self, sha: str) -> Any:
        return self.api.call("GET", f"{self.path}/{sha}", self.token)


@pytest.fixture
def world(session: Session, api: ApiClient, tmp_path: Path) -> tuple[Product, GitRepo, Repository, Hook]:
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    # The token a developer gives a hook: nothing but the delivery of commits.
    token = api.as_user("dev@example.com", scopes=["commits:submit"])
    return product, repo, repository, Hook(api, product, "plc", token)


def test_a_hook_delivers_a_commit_whose_trailers_become_evidence_of_the_tokens_owner(
    session: Session, world: tuple[Product, GitRepo, Repository, Hook]
) -> None:
    _product, repo, repository, hook = world
    sha = repo.commit(
        "Harden login\n\nSecurity-Review: so@example.com\nSecurity-Requirement: CR 1.11\n",
        author="Mallory Forger <so@example.com>",  # anyone can write any name into git
    )
    first = hook.send(repo, sha)
    assert first.status_code == 201, first.get_json()
    view = first.get_json()
    assert (view["sha"], view["state"], view["repository"]) == (sha, "delivered", "plc")
    assert view["trailers"] == [
        {"key": "Security-Review", "value": "so@example.com"},
        {"key": "Security-Requirement", "value": "CR 1.11"},
    ]
    assert view["unverified_author"] == "Mallory Forger <so@example.com>" and view["problems"] == []
    assert view["delivered_by"].startswith("token:sdlt_") and view["delivered_by"].endswith(":dev@example.com")
    [link] = view["evidence"]
    evidence = session.get(Evidence, link["evidence"])
    assert evidence is not None and link["trailer"] == "Security-Review"
    revision = evidence.current
    assert revision.submitted_by.endswith(":dev@example.com")  # the token's owner, not the git author
    assert revision.author == "Mallory Forger <so@example.com>" and revision.details["change"] == sha
    commit = session.scalars(select(Commit).where(Commit.sha == sha)).one()
    assert commit.raw_object is not None and commit.seen_by_scan is False and commit.signature is None
    assert commit.raw_object == repo.cat_file(sha)  # the object exactly as sent
    delivered = session.scalars(select(AuditEvent).where(AuditEvent.action == "gitlink:commit:deliver")).one()
    assert delivered.details["sha"] == sha and delivered.details["evidence_created"] == 1

    again = hook.send(repo, sha)  # a hook that sends twice (a retry, a second clone)
    assert again.status_code == 200 and again.get_json() == {**view, "problems": []}
    assert count(session, Commit) == 1 and count(session, Evidence) == 1
    assert count(session, AuditEvent, AuditEvent.action == "gitlink:commit:deliver") == 1
    assert repository.id == commit.repository_id


def test_a_scan_that_finds_a_delivered_commit_stores_it_once_and_makes_it_reachable(
    app: Flask, session: Session, world: tuple[Product, GitRepo, Repository, Hook]
) -> None:
    _product, repo, repository, hook = world
    base = repo.commit("Init")
    pushed = repo.commit("Fuzz Modbus\n\nFuzzed-by: nightly-modbus\n")
    unpushed = repo.commit_tree(b"Local only\n\nFuzzed-by: local\n", parents=(pushed,))  # on no branch
    for sha in (pushed, unpushed):
        assert hook.send(repo, sha).status_code == 201
    summary = scan(app, session, repository.id)
    assert summary.new_commits == 1 and summary.evidence_created == 0  # only `base` was new to the tracker
    assert count(session, Commit) == 3 and count(session, Evidence) == 2
    assert count(session, CommitEvidence) == 2
    states = {sha: hook.show(sha).get_json()["state"] for sha in (base, pushed, unpushed)}
    assert states == {base: "reachable", pushed: "reachable", unpushed: "delivered"}
    # Its object named a tree only: the scan filled in the paths it changed, as for a commit it found first.
    changed = session.scalar(select(Commit.paths).where(Commit.sha == pushed))
    assert changed and all(path.startswith("file-") for path in changed)
    assert summary.unreachable == 0  # a commit only delivered is not history a scan lost
    # A release that names the delivered commit lists it as delivered in its review coverage, until a scan finds it.
    release = make_release(session, _product, "2.0", git_ref=unpushed[:12])
    session.commit()
    listed = {c.sha: c.state for c in release_commits_by_id(session, OPERATOR, release.id).unreviewed}
    assert listed == {unpushed: "delivered", pushed: "reachable", base: "reachable"}

    # Pushed later, with no other change of refs, it is found by the next scan all the same.
    repo.git("update-ref", "refs/heads/feature", unpushed)
    assert scan(app, session, repository.id).new_commits == 0
    assert hook.show(unpushed).get_json()["state"] == "reachable"


def test_a_commit_a_scan_found_first_is_known(
    app: Flask, session: Session, world: tuple[Product, GitRepo, Repository, Hook]
) -> None:
    _product, repo, repository, hook = world
    sha = repo.commit("Reviewed\n\nSecurity-Review: so@example.com\n")
    scan(app, session, repository.id)
    answer = hook.send(repo, sha)
    assert answer.status_code == 200
    view = answer.get_json()
    assert view["state"] == "reachable" and view["delivered_by"] is None and len(view["evidence"]) == 1
    assert count(session, Evidence) == 1 and count(session, Commit) == 1


def test_unusual_commits_are_stored_as_git_reads_them(
    session: Session, world: tuple[Product, GitRepo, Repository, Hook], tmp_path: Path
) -> None:
    _product, repo, _repository, hook = world
    latin = repo.commit_tree(
        "Réparé\n\nThreat-Model: modèle révisé\n".encode("latin-1"), config=("i18n.commitEncoding=ISO-8859-1",)
    )
    hostile = repo.commit_tree(
        "\x1b]0;owned\x07Subject \u202eevil\n\n"
        "Fuzzed-by: \x1b[2J\u202e cleared\n"
        f"Fixes-PSIRT: {'P' * 200}\n"  # longer than a case id may be: reported, nothing made of it
        "Security-Requirement: CR 3.4\n".encode()
    )
    for sha in (latin, hostile):
        assert hook.send(repo, sha).status_code == 201
    assert hook.show(latin).get_json()["subject"] == "Réparé"
    assert hook.show(latin).get_json()["trailers"] == [{"key": "Threat-Model", "value": "modèle révisé"}]
    view = hook.show(hostile).get_json()
    assert view["subject"] == "\x1b]0;owned\x07Subject \u202eevil"  # stored as it is, escaped where shown
    assert [t["value"] for t in view["trailers"]][:1] == ["\x1b[2J\u202e cleared"]
    stored = session.scalars(select(Commit).where(Commit.sha == hostile)).one()
    problems = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "gitlink:commit:deliver", AuditEvent.target_id == str(stored.id))
    ).one()
    assert [p.split(": ")[1] for p in problems.details["problems"]] == ["Fixes-PSIRT"]
    fuzzing = session.scalars(select(Evidence).where(Evidence.kind == "fuzz-run")).one().current
    assert fuzzing.title == f"{hostile[:10]} fuzzed by  [2J  cleared"  # a title holds no control characters
    assert fuzzing.details["fuzzer"] == "\x1b[2J\u202e cleared"  # the value itself is kept as git has it
    assert count(session, Evidence) == 2


def test_a_signed_commit_keeps_its_signature(
    session: Session, world: tuple[Product, GitRepo, Repository, Hook], tmp_path: Path
) -> None:
    _product, repo, _repository, hook = world
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    repo.git(
        "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}.pub", "commit", "-q", "--allow-empty", "-S", "-m", "x"
    )
    sha = repo.git("rev-parse", "HEAD")
    answer = hook.send(repo, sha)
    assert answer.status_code == 201 and answer.get_json()["signature"] == "gpgsig"
    commit = session.scalars(select(Commit).where(Commit.sha == sha)).one()
    assert commit.raw_object == repo.cat_file(sha) and b"\ngpgsig -----BEGIN SSH SIGNATURE" in commit.raw_object


def test_hostile_deliveries_are_refused_as_problems(
    session: Session, world: tuple[Product, GitRepo, Repository, Hook]
) -> None:
    product, repo, repository, hook = world
    sha = repo.commit("Harmless\n\nSecurity-Review: so@example.com\n")
    raw = repo.cat_file(sha)
    forged = hook.post(body(raw.replace(b"Harmless", b"Backdoor"), sha))
    assert forged.status_code == 422 and forged.content_type == "application/problem+json"
    assert "not " + sha in forged.get_json()["errors"][0]["message"]
    assert hook.post({"raw": "not base64!", "sha": sha}).status_code == 422
    assert hook.post(body(raw, sha.upper())).status_code == 422
    assert hook.post(body(raw, sha[:39])).status_code == 422
    assert hook.post({**body(raw, sha), "ref": "--upload-pack=touch /tmp/x"}).status_code == 422  # no such field
    assert hook.post(body(raw + b"\0", hashlib.sha1(b"x", usedforsecurity=False).hexdigest())).status_code == 422
    oversize = hook.post(body(b"x" * (3 * 1024 * 1024), sha))
    assert oversize.status_code == 413 and oversize.content_type == "application/problem+json"
    not_json = hook.post(None, data="raw=x", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 422
    unknown = hook.api.call(
        "POST", f"/api/v1/products/{product.id}/repositories/nope/commits", hook.token, json=body(raw, sha)
    )
    assert unknown.status_code == 404
    assert count(session, Commit) == 0 and count(session, Evidence) == 0
    remove_repository(session, OPERATOR, repository.id)
    session.commit()
    removed = hook.send(repo, sha)
    assert removed.status_code == 409 and "removed" in removed.get_json()["detail"]


def test_who_may_deliver(session: Session, api: ApiClient, world: tuple[Product, GitRepo, Repository, Hook]) -> None:
    product, repo, _repository, _hook = world
    sha = repo.commit("Init")
    member(session, product, "auditor", email="auditor@example.com")
    elsewhere = make_product(session, "Elsewhere")
    member(session, elsewhere, "developer", email="other@example.com")
    session.commit()

    def status(token: str) -> int:
        return Hook(api, product, "plc", token).send(repo, sha).status_code

    assert status(api.as_user("dev@example.com", scopes=["evidence:attach"])) == 403  # no commits:submit
    assert status(api.as_user("auditor@example.com")) == 403  # an auditor holds no commits:submit
    assert status(api.as_user("other@example.com")) == 404  # another product's developer
    assert status(api.as_user("so@example.com", scopes=["commits:submit"])) == 201
    assert count(session, Commit) == 1


def test_a_batch_stores_what_it_can_and_says_what_became_of_each(
    session: Session, world: tuple[Product, GitRepo, Repository, Hook]
) -> None:
    _product, repo, _repository, hook = world
    known = repo.commit("Known")
    hook.send(repo, known)
    new = repo.commit("New\n\nFuzzed-by: afl\n")
    heavy = [repo.commit("Heavy\n\n" + "".join(f"Fuzzed-by: f{n}-{i}\n" for i in range(15))) for n in range(2)]
    after = repo.commit("After")
    items = [
        body(repo.cat_file(known), known),
        body(repo.cat_file(new), new),
        body(b"not a commit", new.replace(new[0], "0" if new[0] != "0" else "1", 1)),
        *[body(repo.cat_file(sha), sha) for sha in (*heavy, after)],
    ]
    answer = hook.batch(items)
    assert answer.status_code == 200, answer.get_json()
    results = [(item["sha"], item["result"]) for item in answer.get_json()["items"]]
    # 1 + 15 evidence items fit the bound of 20; the second heavy commit would pass it, so it and every later
    # commit wait for the next batch.
    assert EVIDENCE_BATCH == 20
    assert [r for _sha, r in results] == ["known", "stored", "refused", "stored", "deferred", "deferred"]
    assert answer.get_json()["items"][2]["commit"] is None and answer.get_json()["items"][2]["problem"]
    assert count(session, Commit) == 3 and count(session, Evidence) == 16
    again = hook.batch([body(repo.cat_file(sha), sha) for sha in (heavy[1], after)])
    assert [i["result"] for i in again.get_json()["items"]] == ["stored", "stored"]
    twice = repo.commit_tree(b"Twice\n\nFixes-PSIRT: " + b"P" * 200 + b"\n")
    doubled = hook.batch([body(repo.cat_file(twice), twice)] * 2).get_json()["items"]
    assert [(i["result"], len(i["commit"]["problems"])) for i in doubled] == [("stored", 1), ("known", 0)]
    assert hook.batch([]).status_code == 422
    assert hook.batch([body(repo.cat_file(after), after)] * 101).status_code == 422


def test_reading_a_commit(session: Session, world: tuple[Product, GitRepo, Repository, Hook]) -> None:
    _product, repo, _repository, hook = world
    sha = repo.commit("Init")
    assert hook.show(sha).status_code == 404
    hook.send(repo, sha)
    assert hook.show(sha).get_json()["sha"] == sha
    assert hook.show("not-a-sha").status_code == 404
    assert json.loads(hook.show(sha).get_data())["parents"] == []


def test_the_revision_submitter_is_a_user(session: Session, world: tuple[Product, GitRepo, Repository, Hook]) -> None:
    _product, repo, _repository, hook = world
    sha = repo.commit("Fuzz\n\nFuzzed-by: nightly\n")
    hook.send(repo, sha)
    revision = session.scalars(select(EvidenceRevision)).one()
    assert revision.submitted_by_user_id is not None  # the developer: an officer other than them may accept it
