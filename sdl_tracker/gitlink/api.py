"""Review coverage of a release over /api/v1; a scan is queued here (202) and runs in a worker; commits that git
hooks and CI deliver come in here, one at a time or in batches."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, g, request
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import ItemList, json_response, operation, parse_body
from ..app_access import app_db
from ..errors import Invalid
from ..jobs.api import accepted
from ..jobs.schemas import JobOut
from ..web.context import db_session, rollback
from .intake import MAX_BATCH, Delivery, Result, check_delivered, deliver_commits, get_commit
from .objects import MAX_OBJECT_BYTES
from .schemas import CommitOut, DeliveryOut, ReleaseCommitsOut, SigningKeyOut, SigningKeyRemovedOut
from .services import queue_scan, release_commits_by_id
from .signatures import Verdict
from .signing import get_key, list_keys, register_key, remove_key
from .verifier import MAX_KEY_BYTES

bp = Blueprint("gitlink_api", __name__)
# A request body's bound: one commit object of at most MAX_OBJECT_BYTES in base64, or a batch of them.
COMMIT_BODY_BYTES = 2 * 1024 * 1024
BATCH_BODY_BYTES = 4 * 1024 * 1024
OBJECT_ID_PATTERN = r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$"


class CommitIn(Input):
    """One commit as its raw object."""

    raw: str = Field(
        min_length=1,
        max_length=4 * -(-MAX_OBJECT_BYTES // 3),
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="base64 of the object exactly as `git cat-file commit SHA` prints it",
    )
    sha: str = Field(pattern=OBJECT_ID_PATTERN, description="the commit's id: 40 hex digits (SHA-1) or 64 (SHA-256)")


class CommitBatchIn(Input):
    """Several commits at once (a client's spool), stored in order."""

    commits: list[CommitIn] = Field(min_length=1, max_length=MAX_BATCH)


def _deliveries(items: list[CommitIn]) -> list[Delivery]:
    """The raw objects the body carries (base64 that does not decode is refused)."""
    found = []
    for index, item in enumerate(items):
        try:
            found.append(Delivery(base64.b64decode(item.raw, validate=True), item.sha))
        except ValueError:  # binascii.Error is one
            raise Invalid.field(f"commits.{index}.raw" if len(items) > 1 else "raw", "not base64") from None
    return found


def _verdicts(product_id: int, repository: str, deliveries: list[Delivery]) -> dict[str, Verdict]:
    """The signatures' verdicts, reached before the delivery's write transaction begins (gpg and ssh-keygen take
    milliseconds a commit: never while SQLite's write lock is held)."""
    rollback()
    return check_delivered(app_db(), g.principal, product_id, repository, deliveries)


@bp.get("/releases/<int:release_id>/commits")
@operation(
    "A release's commits since the previous release and which were reviewed", response=ReleaseCommitsOut, tag="git"
)
def release_commits_show(release_id: int) -> Response:
    """Review coverage of a release."""
    return json_response(ReleaseCommitsOut.of(release_commits_by_id(db_session(), g.principal, release_id)))


@bp.post("/repositories/<int:repository_id>/scan")
@operation(
    "Queue a scan of the repository (202 with the job's location; a scan already queued is returned)",
    response=JobOut,
    status=202,
    problems=[409],
    tag="git",
)
def repository_scan(repository_id: int) -> Response:
    """Queue a repository scan."""
    return accepted(queue_scan(db_session(), g.principal, repository_id))


@bp.post("/products/<int:product_id>/repositories/<path:name>/commits")
@operation(
    "Deliver one commit as its raw object (git hooks, CI): 201 stored, 200 already known; the id is computed "
    "from the bytes and its trailers become evidence submitted by the token's owner",
    body=CommitIn,
    responses={201: CommitOut, 200: CommitOut},
    problems=[409],
    tag="git",
)
def commit_deliver(product_id: int, name: str) -> Response:
    """Deliver one commit."""
    request.max_content_length = COMMIT_BODY_BYTES
    data = parse_body(CommitIn)
    deliveries = _deliveries([data])
    [outcome] = deliver_commits(
        db_session(), g.principal, product_id, name, deliveries, _verdicts(product_id, name, deliveries)
    )
    if outcome.result is Result.REFUSED or outcome.view is None:
        raise Invalid.field("raw", outcome.problem or "the commit was not stored")
    return json_response(CommitOut.of(outcome.view), 201 if outcome.result is Result.STORED else 200)


@bp.post("/products/<int:product_id>/repositories/<path:name>/commits/batch")
@operation(
    "Deliver up to 100 commits in order (a hook's spool): each is stored, known, refused or deferred (send "
    "it again), so one bad object does not hold back the others",
    body=CommitBatchIn,
    response=ItemList[DeliveryOut],
    problems=[409],
    tag="git",
)
def commit_deliver_batch(product_id: int, name: str) -> Response:
    """Deliver several commits."""
    request.max_content_length = BATCH_BODY_BYTES
    data = parse_body(CommitBatchIn)
    deliveries = _deliveries(data.commits)
    outcomes = deliver_commits(
        db_session(), g.principal, product_id, name, deliveries, _verdicts(product_id, name, deliveries)
    )
    return json_response(ItemList[DeliveryOut](items=[DeliveryOut.of(o) for o in outcomes]))


@bp.get("/products/<int:product_id>/repositories/<path:name>/commits/<sha>")
@operation("A stored commit: its state (delivered, reachable), trailers and evidence", response=CommitOut, tag="git")
def commit_show(product_id: int, name: str, sha: str) -> Response:
    """Show one commit."""
    return json_response(CommitOut.of(get_commit(db_session(), g.principal, product_id, name, sha)))


class SigningKeyIn(Input):
    """A public key to register for the token's owner."""

    public_key: Text = Field(
        min_length=1,
        max_length=MAX_KEY_BYTES,
        description="an armoured OpenPGP public key, or one OpenSSH public key line",
    )
    label: str = Field(default="", max_length=200)


@bp.get("/account/signing-keys")
@operation("The token owner's signing keys", response=ItemList[SigningKeyOut], tag="signing keys")
def signing_keys_list() -> Response:
    """List one's signing keys."""
    keys = list_keys(db_session(), g.principal)
    return json_response(ItemList[SigningKeyOut](items=[SigningKeyOut.of(k) for k in keys]))


@bp.post("/account/signing-keys")
@operation(
    "Register a public key for the token's owner (a token needs signing-keys:manage); the owner's signed commits "
    "are checked again with it, in a job",
    body=SigningKeyIn,
    response=SigningKeyOut,
    status=201,
    problems=[409],
    tag="signing keys",
)
def signing_keys_add() -> Response:
    """Register a signing key."""
    data = parse_body(SigningKeyIn)
    key = register_key(db_session(), g.principal, data.public_key, label=data.label)
    return json_response(SigningKeyOut.of(key), 201)


@bp.delete("/account/signing-keys/<int:key_id>")
@operation(
    "Remove one of the token owner's signing keys: every commit it verified becomes unverified",
    response=SigningKeyRemovedOut,
    tag="signing keys",
)
def signing_keys_remove(key_id: int) -> Response:
    """Remove a signing key."""
    session = db_session()
    fingerprint = get_key(session, g.principal, key_id).fingerprint
    withdrawn = remove_key(session, g.principal, key_id)
    return json_response(SigningKeyRemovedOut(id=key_id, fingerprint=fingerprint, commits_unverified=withdrawn))
