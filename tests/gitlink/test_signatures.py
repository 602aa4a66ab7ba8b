"""Signed commits: keys users register, verdicts the scan and the intake reach with the real gpg and ssh-keygen,
and review coverage that requires verified authors. Every signature here is made by `git commit -S`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import set_disabled
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.errors import Conflict, Forbidden, Invalid
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.gitlink.models import Commit, SigningKey
from sdl_tracker.gitlink.services import release_commits
from sdl_tracker.gitlink.signatures import SignatureStatus, Verdict, split_signed
from sdl_tracker.gitlink.signing import REVERIFY_KIND, keep_registered, register_key, remove_key
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.worker import run_one
from sdl_tracker.products.models import Product, Repository
from sdl_tracker.products.repositories import add_repository
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_intake import Hook
from tests.gitlink.test_scan import scan

pytestmark = pytest.mark.db

DEV = "Dana Developer <dev@example.com>"
BOB = "Bob Builder <bob@example.com>"


@dataclass(frozen=True)
class SshKey:
    """An SSH key pair made by ssh-keygen: the private key's file and the public line."""

    path: Path
    public: str

    def config(self) -> tuple[str, ...]:
        return ("-c", "gpg.format=ssh", "-c", f"user.signingkey={self.path}")


@dataclass(frozen=True)
class GpgKey:
    """An OpenPGP key in a GNUPGHOME of its own, and the `gpg.program` git signs with."""

    home: Path
    fingerprint: str
    public: str
    program: Path

    def config(self) -> tuple[str, ...]:
        return ("-c", f"gpg.program={self.program}", "-c", f"user.signingkey={self.fingerprint}")


def ssh_key(tmp_path: Path, name: str, *args: str) -> SshKey:
    path = tmp_path / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, *args, "-f", str(path)], check=True, timeout=30
    )
    return SshKey(path, (tmp_path / f"{name}.pub").read_text().strip())


@pytest.fixture
def gpg_keys() -> Iterator[Any]:
    """Makes OpenPGP keys (each in a short-named GNUPGHOME: the agent's socket path is bounded); stops the agents."""
    homes: list[Path] = []

    def make(uid: str, *, expire: str = "1y", at: str | None = None) -> GpgKey:
        home = Path(tempfile.mkdtemp(prefix="g", dir="/tmp"))
        homes.append(home)
        faked = [f"--faked-system-time={at}!"] if at else []
        env = {**os.environ, "GNUPGHOME": str(home)}
        base = ["gpg", "--batch", "--no-tty", *faked]
        subprocess.run(
            [*base, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", expire],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        listing = subprocess.run(
            [*base, "--with-colons", "--list-keys"], env=env, check=True, capture_output=True, timeout=30
        ).stdout.decode()
        fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
        public = subprocess.run(
            [*base, "--armor", "--export", fingerprint], env=env, check=True, capture_output=True, timeout=30
        ).stdout.decode()
        program = home / "gpg-for-git"
        # git runs this to sign: the key's own home, and the faked time the key was made at (if any).
        program.write_text(f'#!/bin/sh\nexec gpg --homedir "{home}" {" ".join(faked)} "$@"\n')
        program.chmod(0o755)
        return GpgKey(home, fingerprint, public, program)

    yield make
    for home in homes:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def signed_commit(repo: GitRepo, message: str, key: SshKey | GpgKey, author: str = DEV) -> str:
    """`git commit -S` with the key, as the author."""
    (repo.path / f"{abs(hash(message)) % 10**8}.txt").write_text(message)
    repo.git("add", "--all")
    repo.git(*key.config(), "commit", "--quiet", "-S", "-F", "-", author=author, input=message.encode())
    return repo.git("rev-parse", "HEAD")


@pytest.fixture
def plc(session: Session, tmp_path: Path) -> tuple[Product, GitRepo, Repository, dict[str, Principal]]:
    product = make_product(session, "PLC")
    repo = GitRepo(tmp_path / "plc")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    people = {
        "dev": member(session, product, "developer", email="dev@example.com"),
        "bob": member(session, product, "developer", email="bob@example.com"),
        "so": member(session, product, "security_officer", email="so@example.com"),
        "other": member(session, product, "security_officer", email="other@example.com"),
    }
    session.commit()
    return product, repo, repository, people


def commit_row(session: Session, sha: str) -> Commit:
    session.expire_all()
    return session.scalars(select(Commit).where(Commit.sha == sha)).one()


def run_reverify(app: Flask, session: Session) -> dict[str, Any]:
    """Run the queued re-verification job as a worker would."""
    session.commit()
    job_id = session.scalars(
        select(Job.id).where(Job.kind == REVERIFY_KIND, Job.state == JobState.QUEUED).order_by(Job.id.desc())
    ).first()
    assert job_id is not None
    assert run_one(app_db(app), "tests", job_id=job_id) is not None
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None and job.state is JobState.SUCCEEDED, job.error if job else None
    return dict(job.result or {})


def test_the_scan_verifies_a_commit_signed_with_the_authors_registered_ssh_key(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    product, repo, repository, people = plc
    key = ssh_key(tmp_path, "dev")
    registered = register_key(session, people["dev"], key.public + "\n", label="laptop")
    session.commit()
    plain = repo.commit("Unsigned change", author=DEV)
    signed = signed_commit(repo, "Signed change", key)
    summary = scan(app, session, repository.id)
    assert (summary.signatures_checked, summary.signatures_verified) == (2, 1)
    verified = commit_row(session, signed)
    assert verified.signature_status == "verified" and verified.signature_key_id == registered.id
    assert verified.signature_signer == registered.fingerprint and registered.fingerprint.startswith("SHA256:")
    assert "dev@example.com" in (verified.signature_reason or "")
    # The object is kept, so a key registered later verifies it without the repository.
    assert verified.raw_object == repo.cat_file(signed) and verified.signature == "gpgsig"
    unsigned = commit_row(session, plain)
    assert (unsigned.signature_status, unsigned.raw_object) == ("unsigned", None)
    # A second scan with nothing new checks nothing again.
    assert scan(app, session, repository.id).signatures_checked == 0
    make_release(session, product, "1.0", git_ref="main")
    result = release_commits(session, people["so"], product.id, "1.0")
    assert {c.subject: c.signature for c in result.unreviewed} == {
        "Unsigned change": "unsigned",
        "Signed change": "verified",
    }


def test_a_key_registered_to_another_user_does_not_verify_the_author(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    _product, repo, repository, people = plc
    dev_key, bob_key = ssh_key(tmp_path, "dev"), ssh_key(tmp_path, "bob")
    register_key(session, people["bob"], bob_key.public)
    session.commit()
    # Bob signs a commit that names Dana as its author: Dana has no key yet.
    forged = signed_commit(repo, "Looks like Dana's", bob_key, author=DEV)
    scan(app, session, repository.id)
    assert commit_row(session, forged).signature_reason == "the author has registered no signing key"
    # Once Dana has a key, Bob's signature is named as another user's; it is still not verified.
    register_key(session, people["dev"], dev_key.public)
    run_reverify(app, session)
    row = commit_row(session, forged)
    assert row.signature_status == "unverified"
    assert row.signature_reason == "signed with a key the author has not registered"
    # Registering Bob's public key on Dana's account (public keys are public) is allowed, and still verifies
    # nothing of Bob's commits as Dana's: a commit is verified only for the user whose e-mail is its author's.
    register_key(session, people["dev"], bob_key.public)
    run_reverify(app, session)
    assert commit_row(session, forged).signature_status == "verified"  # Dana vouched for that key herself
    bobs = signed_commit(repo, "Bob's own", bob_key, author=BOB)
    scan(app, session, repository.id)
    row = commit_row(session, bobs)
    assert row.signature_status == "verified" and "bob@example.com" in (row.signature_reason or "")


def test_a_key_registered_after_the_scan_verifies_old_commits_and_removing_it_withdraws_them(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    _product, repo, repository, people = plc
    key = ssh_key(tmp_path, "dev")
    shas = [signed_commit(repo, f"Change {n}", key) for n in range(3)]
    scan(app, session, repository.id)
    assert {commit_row(session, s).signature_status for s in shas} == {"unverified"}
    registered = register_key(session, people["dev"], key.public)
    assert run_reverify(app, session) == {"checked": 3, "verified": 3}
    assert {commit_row(session, s).signature_status for s in shas} == {"verified"}
    events = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert "gitlink:signing-key:add" in events and events[-1] == "gitlink:signatures:verify"
    assert remove_key(session, people["dev"], registered.id) == 3
    session.commit()
    rows = [commit_row(session, s) for s in shas]
    assert {(r.signature_status, r.signature_key_id) for r in rows} == {("unverified", None)}
    assert all("was removed" in (r.signature_reason or "") for r in rows)
    removal = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert removal is not None and removal.action == "gitlink:signing-key:remove"
    assert removal.details["commits_unverified"] == 3


def test_openpgp_signatures_delivered_by_a_hook_are_verified_against_the_registered_key(
    app: Flask, session: Session, api: ApiClient, plc: Any, gpg_keys: Any
) -> None:
    product, repo, _repository, _people = plc
    key = gpg_keys("Dana Developer <dev@example.com>")
    keys_token = api.as_user("dev@example.com", scopes=["signing-keys:manage"], product_ids=[product.id])
    added = api.call("POST", "/api/v1/account/signing-keys", keys_token, json={"public_key": key.public})
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["fingerprint"] == key.fingerprint and added.get_json()["kind"] == "openpgp"
    listed = api.call("GET", "/api/v1/account/signing-keys", keys_token).get_json()["items"]
    assert [k["fingerprint"] for k in listed] == [key.fingerprint]
    hook = Hook(api, product, "plc", api.as_user("dev@example.com", scopes=["commits:submit"]))
    sha = signed_commit(repo, "Signed with OpenPGP", key)
    answer = hook.send(repo, sha)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["signature"], body["signature_status"], body["signature_signer"]) == (
        "gpgsig",
        "verified",
        key.fingerprint,
    )
    # Another body under the same signature: its id changes, and the signature no longer matches it.
    raw = repo.cat_file(sha)
    tampered = raw.replace(b"Signed with OpenPGP", b"Signed with OpenPGQ")
    tampered_sha = hashlib.sha1(b"commit %d\0" % len(tampered) + tampered).hexdigest()  # noqa: S324 (git's id)
    answer = hook.post({"raw": base64.b64encode(tampered).decode(), "sha": tampered_sha})
    assert answer.status_code == 201
    assert answer.get_json()["signature_status"] == "unverified"
    assert "changed after it was signed" in answer.get_json()["signature_reason"]


def test_a_signature_by_an_expired_key_is_not_verified(
    session: Session, api: ApiClient, plc: Any, gpg_keys: Any
) -> None:
    product, repo, _repository, people = plc
    # Made and used in 2020, expired at its end: when it signed cannot be known, so it verifies nothing now.
    key = gpg_keys("Dana Developer <dev@example.com>", expire="1y", at="20200101T000000")
    registered = register_key(session, people["dev"], key.public)
    assert registered.expires_at is not None and registered.expires_at.isoformat()[:10] == "2020-12-31"
    session.commit()
    sha = signed_commit(repo, "Signed in 2020", key)
    hook = Hook(api, product, "plc", api.as_user("dev@example.com", scopes=["commits:submit"]))
    body = hook.send(repo, sha).get_json()
    assert body["signature_status"] == "unverified" and "expired" in body["signature_reason"]


def test_a_sha256_repositorys_signature_is_read_from_its_own_header(
    session: Session, api: ApiClient, plc: Any, tmp_path: Path
) -> None:
    product, _repo, _repository, people = plc
    repo = GitRepo(tmp_path / "sha256", object_format="sha256")
    add_repository(session, OPERATOR, product.id, name="next", location=str(repo.path))
    key = ssh_key(tmp_path, "dev")
    register_key(session, people["dev"], key.public)
    session.commit()
    sha = signed_commit(repo, "SHA-256 history", key)
    assert len(sha) == 64 and b"\ngpgsig-sha256 " in repo.cat_file(sha)
    hook = Hook(api, product, "next", api.as_user("dev@example.com", scopes=["commits:submit"]))
    body = hook.send(repo, sha).get_json()
    assert (body["signature"], body["signature_status"]) == ("gpgsig-sha256", "verified")


def test_without_gpg_on_the_server_no_verdict_is_given_and_the_next_scan_checks(
    app: Flask,
    session: Session,
    api: ApiClient,
    plc: Any,
    gpg_keys: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    product, repo, repository, people = plc
    key = gpg_keys("Dana Developer <dev@example.com>")
    register_key(session, people["dev"], key.public)
    session.commit()
    sha = signed_commit(repo, "Signed", key)
    raw = repo.cat_file(sha)
    hook = Hook(api, product, "plc", api.as_user("dev@example.com", scopes=["commits:submit"]))
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    body = hook.post({"raw": base64.b64encode(raw).decode(), "sha": sha}).get_json()
    assert body["signature_status"] is None
    assert body["signature_reason"] == "not checked: gpg is not installed on this server"
    monkeypatch.setenv("PATH", path)
    assert scan(app, session, repository.id).signatures_verified == 1
    assert commit_row(session, sha).signature_status == "verified"


def test_a_disabled_authors_signatures_are_not_verified(
    session: Session, api: ApiClient, plc: Any, tmp_path: Path
) -> None:
    product, repo, _repository, people = plc
    key = ssh_key(tmp_path, "dev")
    register_key(session, people["dev"], key.public)
    set_disabled(session, OPERATOR, "dev@example.com", disabled=True)
    session.commit()
    sha = signed_commit(repo, "After leaving", key)
    hook = Hook(api, product, "plc", api.as_user("bob@example.com", scopes=["commits:submit"]))
    body = hook.send(repo, sha).get_json()
    assert (body["signature_status"], body["signature_reason"]) == ("unverified", "the author's account is disabled")


def test_the_verified_authors_policy_counts_only_commits_whose_author_a_signature_verified(
    app: Flask, session: Session, api: ApiClient, plc: Any, tmp_path: Path
) -> None:
    product, repo, repository, people = plc
    key = ssh_key(tmp_path, "dev")
    register_key(session, people["dev"], key.public)
    session.commit()
    repo.commit("Init")
    repo.git("tag", "v1.0")
    signed = signed_commit(repo, "Signed fix\n\nSecurity-Review: so@example.com\n", key)
    unsigned = repo.commit("Unsigned fix\n\nSecurity-Review: so@example.com\n", author=DEV)
    repo.git("tag", "v1.1")
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref="v1.1")
    scan(app, session, repository.id)
    for review in session.scalars(select(Evidence)):
        review_evidence(session, people["other"], review.id, accept=True)
    session.commit()
    before = release_commits(session, people["so"], product.id, "1.1")
    assert {c.sha for c in before.reviewed} == {signed, unsigned}
    officer = api.as_user("so@example.com")
    changed = api.call("PATCH", f"/api/v1/products/{product.id}", officer, json={"require_verified_authors": True})
    assert changed.status_code == 200 and changed.get_json()["require_verified_authors"] is True
    session.expire_all()  # the API changed the product through a session of its own
    after = release_commits(session, people["so"], product.id, "1.1")
    assert [c.sha for c in after.reviewed] == [signed]
    [refused] = after.unreviewed
    assert (refused.sha, refused.reason) == (unsigned, "author-not-verified")
    assert "the commit carries no signature" in refused.explanation
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "products:product:update")).all()[-1]
    assert "require_verified_authors" in json.dumps(update.details)
    # A string is not a yes or a no.
    refused_patch = api.call(
        "PATCH", f"/api/v1/products/{product.id}", officer, json={"require_verified_authors": "no"}
    )
    assert refused_patch.status_code == 422


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "paste a public key"),
        ("hello", "not a public key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----", "private key"),
        ("ssh-ed25519 AAAA!!!notbase64", "not an OpenSSH public key line"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7NyjdRGVRsq07QENnAntEmkoH5", "does not read"),
        ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIE7NyjdRGVRsq07QENnAntEmkoH5l55mOSEuMoxC3CW1", "not a ssh-rsa key"),
        ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnonsense\n-----END PGP PUBLIC KEY BLOCK-----", "no public key"),
    ],
)
def test_what_is_not_one_public_key_is_refused_and_nothing_is_kept(
    session: Session, plc: Any, text: str, problem: str
) -> None:
    _product, _repo, _repository, people = plc
    with pytest.raises(Invalid) as refused:
        register_key(session, people["dev"], text)
    assert problem in refused.value.one_line()
    assert session.scalar(select(func.count()).select_from(SigningKey)) == 0


def test_keys_that_verify_nothing_or_give_away_a_secret_are_refused(
    session: Session, plc: Any, tmp_path: Path, gpg_keys: Any
) -> None:
    _product, _repo, _repository, people = plc
    key = gpg_keys("Dana Developer <dev@example.com>")
    export = ["--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", key.fingerprint]
    secret = subprocess.run(
        ["gpg", "--homedir", str(key.home), "--batch", *export],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout.decode()
    with pytest.raises(Invalid, match="private key"):
        register_key(session, people["dev"], secret.replace("PRIVATE KEY", "PUBLIC KEY"))
    second = gpg_keys("Dana Developer <dev@example.com>")
    with pytest.raises(Invalid, match="one key at a time"):
        register_key(session, people["dev"], key.public + second.public)
    weak = ssh_key(tmp_path, "weak", "-t", "rsa", "-b", "1024")
    with pytest.raises(Invalid, match="at least 2048 bits"):
        register_key(session, people["dev"], weak.public)
    register_key(session, people["dev"], key.public)
    with pytest.raises(Conflict, match="already"):
        register_key(session, people["dev"], key.public)
    with pytest.raises(Invalid, match="one line"):
        register_key(session, people["dev"], second.public, label="two\nlines")
    # The host operator has no account: a key is registered by the user who signs with it.
    with pytest.raises(Forbidden, match="--as"):
        register_key(session, OPERATOR, second.public)


def test_a_token_without_the_scope_changes_no_keys_and_others_keys_stay_hidden(
    session: Session, api: ApiClient, plc: Any, tmp_path: Path
) -> None:
    product, _repo, _repository, people = plc
    key = ssh_key(tmp_path, "dev")
    bobs = register_key(session, people["bob"], ssh_key(tmp_path, "bob").public)
    session.commit()
    reader = api.as_user("dev@example.com", scopes=["product:read"], product_ids=[product.id])
    refused = api.call("POST", "/api/v1/account/signing-keys", reader, json={"public_key": key.public})
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    manager = api.as_user("dev@example.com", scopes=["signing-keys:manage"], product_ids=[product.id])
    unknown = api.call("DELETE", f"/api/v1/account/signing-keys/{bobs.id}", manager)
    assert unknown.status_code == 404
    bad = api.call("POST", "/api/v1/account/signing-keys", manager, json={"public_key": "ssh-rsa nope"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert session.scalar(select(func.count()).select_from(SigningKey)) == 1


def test_the_account_page_adds_and_removes_keys(
    app: Flask, client: FlaskClient, session: Session, plc: Any, tmp_path: Path
) -> None:
    key = ssh_key(tmp_path, "dev")
    login(client, "dev@example.com")
    assert "Signing keys" in client.get("/account").get_data(as_text=True)
    token = csrf_token(client, "/account/signing-keys")
    refused = client.post(
        "/account/signing-keys", data={"csrf_token": token, "public_key": key.path.read_text(), "label": ""}
    )
    assert refused.status_code == 422 and "private key" in refused.get_data(as_text=True)
    added = client.post(
        "/account/signing-keys",
        data={"csrf_token": token, "public_key": key.public, "label": "laptop"},
        follow_redirects=True,
    )
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and "laptop" in page and "registered" in page
    stored = session.scalars(select(SigningKey)).one()
    no_csrf = client.post(f"/account/signing-keys/{stored.id}/remove")
    assert no_csrf.status_code in (400, 302)
    assert session.scalar(select(func.count()).select_from(SigningKey)) == 1
    removed = client.post(
        f"/account/signing-keys/{stored.id}/remove", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Key removed" in removed.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SigningKey)) == 0


def test_the_command_line_registers_lists_and_removes_keys(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    key = ssh_key(tmp_path, "dev")
    runner = app.test_cli_runner()
    without_user = runner.invoke(cli, ["user", "key-add", str(key.path.with_suffix(".pub"))])
    assert without_user.exit_code != 0 and len(without_user.output.strip().splitlines()) == 1
    assert "--as" in without_user.output
    added = runner.invoke(
        cli, ["user", "key-add", str(key.path.with_suffix(".pub")), "--as", "dev@example.com", "--json"]
    )
    assert added.exit_code == 0, added.output
    fingerprint = json.loads(added.output)["fingerprint"]
    listed = runner.invoke(cli, ["user", "key-list", "dev@example.com"])
    assert listed.exit_code == 0 and fingerprint in listed.output
    removed = runner.invoke(cli, ["user", "key-remove", "dev@example.com", fingerprint])
    assert removed.exit_code == 0 and "removed" in removed.output
    again = runner.invoke(cli, ["user", "key-remove", "dev@example.com", fingerprint])
    assert again.exit_code != 0 and "no signing key" in again.output


def test_the_signed_payload_is_the_object_without_its_signature_headers() -> None:
    raw = (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n"
        b"gpgsig -----BEGIN SSH SIGNATURE-----\n abc\n -----END SSH SIGNATURE-----\n"
        b"gpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n def\n -----END SSH SIGNATURE-----\n"
        b"mergetag object 1\n type commit\n\nmessage\n\n  with gpgsig in it\n"
    )
    signed = split_signed(raw)
    assert signed is not None and signed.format.value == "ssh"
    assert signed.signature == b"-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----\n"
    assert signed.payload == (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n"
        b"mergetag object 1\n type commit\n\nmessage\n\n  with gpgsig in it\n"
    )
    assert split_signed(raw.replace(b"gpgsig ", b"gpgsig-other ", 1).replace(b"gpgsig-sha256", b"x-sha256")) is None


def test_a_sha256_repository_is_scanned_and_its_signatures_verified(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    product, _repo, _repository, people = plc
    repo = GitRepo(tmp_path / "sha256", object_format="sha256")
    repository = add_repository(session, OPERATOR, product.id, name="next", location=str(repo.path))
    key = ssh_key(tmp_path, "dev")
    register_key(session, people["dev"], key.public)
    session.commit()
    first = repo.commit("Init")
    repo.git("tag", "v1.0")
    signed = signed_commit(repo, "Signed on SHA-256\n\nSecurity-Review: so@example.com\n", key)
    repo.git("tag", "v1.1")
    summary = scan(app, session, repository.id)
    assert (summary.new_commits, summary.signatures_checked, summary.signatures_verified) == (2, 2, 1)
    assert commit_row(session, signed).signature_status == "verified" and len(first) == 64
    make_release(session, product, "1.0", git_ref="v1.0")
    make_release(session, product, "1.1", git_ref=signed[:12])  # an abbreviated SHA-256 names it too
    result = release_commits(session, people["so"], product.id, "1.1")
    assert [c.sha for c in (*result.reviewed, *result.unreviewed)] == [signed]


def test_a_replace_ref_cannot_dress_a_commit_as_another_authors_signed_one(
    app: Flask, session: Session, plc: Any, tmp_path: Path
) -> None:
    _product, repo, repository, people = plc
    key = ssh_key(tmp_path, "dev")
    register_key(session, people["dev"], key.public)
    session.commit()
    repo.commit("Base", author=BOB)
    repo.git("checkout", "-q", "-b", "side")
    danas = signed_commit(repo, "Dana's genuine change", key)
    repo.git("checkout", "-q", "main")
    mallorys = repo.commit("Mallory's change", author=BOB)
    repo.git("branch", "-D", "side")
    repo.git("replace", mallorys, danas)  # git log and cat-file now show Dana's commit under Mallory's id
    scan(app, session, repository.id)
    row = commit_row(session, mallorys)
    assert (row.subject, row.author_email, row.signature_status) == ("Mallory's change", "bob@example.com", "unsigned")


def _forged_signature_commit(repo: GitRepo, armour_lines: list[str]) -> tuple[str, bytes]:
    """A commit object carrying `armour_lines` as its gpgsig header (what a hostile client can send)."""
    head = repo.cat_file(repo.commit("Base")).split(b"\n\n", 1)[0].decode()
    tree = head.splitlines()[0]
    who = "Dana Developer <dev@example.com> 1796400000 +0000"
    signature = "gpgsig " + "\n ".join(armour_lines)
    raw = f"{tree}\nauthor {who}\ncommitter {who}\n{signature}\n\nForged\n".encode()
    return repo.write_commit(raw), raw


def test_an_openpgp_block_that_is_no_detached_signature_never_reaches_gpg(
    session: Session, api: ApiClient, plc: Any, gpg_keys: Any, tmp_path: Path
) -> None:
    product, repo, _repository, people = plc
    key = gpg_keys("Dana Developer <dev@example.com>")
    register_key(session, people["dev"], key.public)
    session.commit()
    # A few kilobytes of compressed zeros: gpg would inflate them for seconds; here it is refused unread.
    (tmp_path / "zeros").write_bytes(bytes(4 * 1024 * 1024))
    stored = subprocess.run(
        ["gpg", "--homedir", str(key.home), "--batch", "--armor", "--compress-level", "9", "--store", "-o", "-"],
        input=(tmp_path / "zeros").read_bytes(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    lines = stored.strip().splitlines()
    lines[0], lines[-1] = "-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----"
    hook = Hook(api, product, "plc", api.as_user("dev@example.com", scopes=["commits:submit"]))
    sha, raw = _forged_signature_commit(repo, lines)
    body = hook.post({"raw": base64.b64encode(raw).decode(), "sha": sha}).get_json()
    assert (body["signature_status"], body["signature_reason"]) == (
        "unverified",
        "the signature is not verified: an OpenPGP block that is not a detached signature",
    )
    huge = ["-----BEGIN SSH SIGNATURE-----", *(["A" * 76] * 300), "-----END SSH SIGNATURE-----"]
    sha, raw = _forged_signature_commit(repo, huge)
    body = hook.post({"raw": base64.b64encode(raw).decode(), "sha": sha}).get_json()
    assert body["signature_reason"] == "the signature is not verified: a signature of more than 16 KiB"


def test_one_users_key_text_cannot_keep_another_authors_key_out_of_the_keyring(
    app: Flask, session: Session, plc: Any, gpg_keys: Any
) -> None:
    _product, repo, repository, people = plc
    dana, bob = gpg_keys("Dana Developer <dev@example.com>"), gpg_keys("Bob Builder <bob@example.com>")
    dangling = bob.public + "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    stored = register_key(session, people["bob"], dangling)
    assert stored.public_key.count("BEGIN PGP PUBLIC KEY BLOCK") == 1  # what gpg exported, not what was pasted
    register_key(session, people["dev"], dana.public)
    session.commit()
    shas = [signed_commit(repo, "Dana's", dana), signed_commit(repo, "Bob's", bob, author=BOB)]
    assert scan(app, session, repository.id).signatures_verified == 2
    assert {commit_row(session, sha).signature_status for sha in shas} == {"verified"}


def test_a_verdict_by_a_key_removed_meanwhile_is_not_written_as_verified(
    session: Session, plc: Any, tmp_path: Path
) -> None:
    _product, _repo, _repository, people = plc
    key = register_key(session, people["dev"], ssh_key(tmp_path, "dev").public)
    verified = Verdict(SignatureStatus.VERIFIED, "signed with dev@example.com's key", key_id=key.id, signer="x")
    assert keep_registered(session, {"a": verified}) == {"a": verified}
    remove_key(session, people["dev"], key.id)
    [after] = keep_registered(session, {"a": verified}).values()
    assert (after.status, after.reason) == (
        SignatureStatus.UNVERIFIED,
        "the key that verified it was removed meanwhile",
    )
