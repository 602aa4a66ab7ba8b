"""Signed commits: the public keys users register, and the verdict on each commit's signature.

A commit is `verified` when its signature is valid and was made by a key registered to the user whose
account e-mail is the commit's author e-mail (an enabled account; the key neither expired nor revoked
when it was checked). Verdicts are reached when a scan or a delivery stores a commit, again for a user's
signed commits when that user registers a key (a job), and withdrawn at once when the key that verified
them is removed (docs/assurance.md, "Signed commits").
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..accounts.services import get_user_by_email, normalise_email
from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..db import lock_row, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..jobs.models import Job, JobState
from ..jobs.registry import JobContext, Phases, register
from ..jobs.services import active_job, enqueue
from ..products.models import Repository
from .models import Commit, SigningKey
from .signatures import (
    UNSIGNED,
    SignatureFormat,
    SignatureStatus,
    SignedPayload,
    Verdict,
    header_for,
    not_checked,
    split_signed,
    unverified,
)
from .verifier import Check, KeyProblem, Outcome, RegisteredKey, Verifier, read_public_key

REVERIFY_KIND = "gitlink.verify-signatures"
REVERIFY_BATCH = 200  # commits read, checked (outside any transaction) and written per round
MAX_KEYS_PER_USER = 20

_OUTCOME_REASONS = {
    Outcome.BAD: "the signature does not match the commit: it was changed after it was signed",
    Outcome.UNKNOWN_KEY: "signed with a key the author has not registered",
    Outcome.EXPIRED_KEY: "signed with an expired key: when it signed cannot be known",
    Outcome.REVOKED_KEY: "signed with a revoked key",
    Outcome.EXPIRED_SIGNATURE: "the signature has expired",
}


@dataclass(frozen=True)
class AuthorKeys:
    """An author e-mail's account and its registered keys, as a verification needs them."""

    user_id: int
    email: str
    disabled: bool
    keys: tuple[RegisteredKey, ...]


# --- Keys -----------------------------------------------------------------------------------------------


def _authorize_own_keys(actor: Principal) -> int:
    """The actor's user id, if it may manage its own signing keys (a token needs signing-keys:manage)."""
    authorize(actor, Permission.SIGNING_KEYS_MANAGE)
    if actor.user_id is None:
        raise Forbidden("a signing key is registered by the user who signs with it: act as that user (--as)")
    return actor.user_id


def register_key(session: Session, actor: Principal, text: str, *, label: str = "") -> SigningKey:
    """Register a public key (OpenPGP or SSH) for the acting user, audited, and queue the re-verification of
    that user's signed commits."""
    user_id = _authorize_own_keys(actor)
    label = label.strip()
    if len(label) > 200 or any(ord(c) < 32 for c in label):
        raise Invalid.field("label", "at most 200 characters on one line")
    try:
        facts = read_public_key(text)
    except KeyProblem as problem:
        raise Invalid.field("public_key", str(problem)) from None
    if facts.revoked:
        raise Invalid.field("public_key", "this key is revoked: it can verify nothing")
    owner = session.get(User, user_id)
    if owner is None or owner.disabled:
        raise Forbidden("a disabled account registers no keys")
    existing = session.scalars(select(SigningKey).where(SigningKey.user_id == user_id).with_for_update()).all()
    if any(k.fingerprint == facts.fingerprint for k in existing):
        raise Conflict(f"you have registered the key {facts.fingerprint} already")
    if len(existing) >= MAX_KEYS_PER_USER:
        raise Conflict(f"at most {MAX_KEYS_PER_USER} signing keys per user: remove one first")
    key = SigningKey(
        user_id=user_id,
        kind=facts.kind,
        fingerprint=facts.fingerprint,
        public_key=facts.material,
        label=label or (facts.identities[0][:200] if facts.identities else ""),
        identities=[i[:300] for i in facts.identities[:20]],
        expires_at=facts.expires_at,
    )
    session.add(key)
    session.flush()
    job = _queue_reverify(session, actor, user_id)
    record(
        session,
        actor,
        "gitlink:signing-key:add",
        target_type="signing_key",
        target_id=key.id,
        details={
            "user": owner.email,
            "kind": key.kind.value,
            "fingerprint": key.fingerprint,
            "label": key.label,
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
            "job": job.id,
        },
    )
    return key


def list_keys(session: Session, actor: Principal, email: str | None = None) -> list[SigningKey]:
    """The signing keys of the acting user, or (administrators) of the user with `email`."""
    if email is None:
        if actor.user_id is None:
            raise Invalid.field("email", "name the user whose keys to list")
        user_id = actor.user_id
    else:
        owner = get_user_by_email(session, email)
        if owner.id != actor.user_id:
            authorize(actor, Permission.USERS_MANAGE)
        user_id = owner.id
    return list(session.scalars(select(SigningKey).where(SigningKey.user_id == user_id).order_by(SigningKey.id)))


def get_key(session: Session, actor: Principal, key_id: int) -> SigningKey:
    """One signing key: its owner's, or any for an administrator; else NotFound."""
    key = session.get(SigningKey, key_id)
    if key is None or (key.user_id != actor.user_id and not actor.has(Permission.USERS_MANAGE)):
        raise NotFound("signing key not found")
    return key


def remove_key(session: Session, actor: Principal, key_id: int) -> int:
    """Remove a signing key (its owner, or an administrator), audited; every commit it verified becomes
    unverified in the same transaction. Returns how many did."""
    key = get_key(session, actor, key_id)
    if key.user_id == actor.user_id:
        authorize(actor, Permission.SIGNING_KEYS_MANAGE)
    else:
        authorize(actor, Permission.USERS_MANAGE)
    # Locked first: a check that is writing a verdict by this key either finishes before (and is withdrawn
    # below) or waits and then finds the key gone (keep_registered).
    lock_row(session, SigningKey.id, key.id)
    owner = session.get(User, key.user_id)
    result = session.execute(
        update(Commit)
        .where(Commit.signature_key_id == key.id)
        .values(
            signature_status=SignatureStatus.UNVERIFIED.value,
            signature_reason=f"the key that verified it ({key.fingerprint[:60]}) was removed on {utcnow().date()}",
            signature_key_id=None,
            signature_checked_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    withdrawn = int(result.rowcount or 0)
    record(
        session,
        actor,
        "gitlink:signing-key:remove",
        target_type="signing_key",
        target_id=key.id,
        details={
            "user": owner.email if owner else None,
            "kind": key.kind.value,
            "fingerprint": key.fingerprint,
            "commits_unverified": withdrawn,
        },
    )
    session.delete(key)
    session.flush()
    return withdrawn


# --- Verdicts -------------------------------------------------------------------------------------------


def author_keys(session: Session, emails: Iterable[str]) -> dict[str, AuthorKeys]:
    """The accounts (and their keys) of these author e-mails, by lower-cased e-mail."""
    wanted = sorted({normalise_email(e) for e in emails if e.strip()})
    found: dict[str, AuthorKeys] = {}
    for start in range(0, len(wanted), 500):
        users = session.execute(
            select(User.id, User.email, User.disabled).where(User.email.in_(wanted[start : start + 500]))
        ).all()
        keys: dict[int, list[RegisteredKey]] = {}
        rows = session.execute(
            select(SigningKey.user_id, SigningKey.id, SigningKey.kind, SigningKey.public_key, SigningKey.fingerprint)
            .where(SigningKey.user_id.in_([u.id for u in users]))
            .order_by(SigningKey.id)
        )
        for user_id, key_id, kind, material, fingerprint in rows:
            keys.setdefault(user_id, []).append(RegisteredKey(key_id, kind, material, fingerprint))
        for user_id, email, disabled in users:
            found[email.strip().lower()] = AuthorKeys(user_id, email, disabled, tuple(keys.get(user_id, ())))
    return found


@dataclass(frozen=True)
class Signed:
    """A commit to judge: its id, raw object and author e-mail."""

    sha: str
    raw: bytes
    author_email: str


def signing_accounts(session: Session, commits: Sequence[Signed]) -> dict[str, AuthorKeys]:
    """The accounts (and keys) of the authors of those commits that carry a signature; none read when none does."""
    emails = [c.author_email for c in commits if split_signed(c.raw, header_for(c.sha)) is not None]
    return author_keys(session, emails) if emails else {}


def judge_signatures(
    commits: Sequence[Signed], accounts: Mapping[str, AuthorKeys], *, seconds: float | None = None
) -> dict[str, Verdict]:
    """The verdict on each commit's signature, by SHA. Runs gpg or ssh-keygen for the signed commits whose
    authors have keys (no transaction may be open: each check takes milliseconds, at most verifier.TOOL_SECONDS).
    Past `seconds`, the remaining commits are not checked (the next scan checks them)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    verdicts: dict[str, Verdict] = {}
    pending: list[tuple[Signed, SignedPayload, AuthorKeys]] = []
    for commit in commits:
        signed = split_signed(commit.raw, header_for(commit.sha))
        if signed is None:
            verdicts[commit.sha] = UNSIGNED
            continue
        author = commit.author_email.strip().lower()
        account = accounts.get(author)
        if signed.format not in (SignatureFormat.OPENPGP, SignatureFormat.SSH):
            verdicts[commit.sha] = unverified(f"a {signed.format.value} signature: only OpenPGP and SSH are verified")
        elif account is None:
            verdicts[commit.sha] = unverified(f"the author {author!r} is no user of the tracker")
        elif account.disabled:
            verdicts[commit.sha] = unverified("the author's account is disabled")
        elif not account.keys:
            verdicts[commit.sha] = unverified("the author has registered no signing key")
        else:
            pending.append((commit, signed, account))
    if pending:
        # Every key of these authors in one keyring: a signature by another author's key is then named as such.
        keys = {k.key_id: k for _c, _s, account in pending for k in account.keys}
        with Verifier(list(keys.values())) as verifier:
            for commit, signed, account in pending:
                if deadline is not None and time.monotonic() > deadline:
                    verdicts[commit.sha] = not_checked("the delivery's time for checking signatures ran out")
                    continue
                verdicts[commit.sha] = _verdict(verifier.check(signed), account, verifier.unusable)
    return verdicts


def _verdict(check: Check, account: AuthorKeys, unusable: set[str]) -> Verdict:
    """What a tool's outcome means for the author `account`; a tool that failed gives no verdict yet."""
    mine = next((k for k in account.keys if k.fingerprint == check.fingerprint), None)
    if check.outcome in (Outcome.TOOL_MISSING, Outcome.FAILED):
        return not_checked(check.detail)
    if check.outcome is Outcome.UNKNOWN_KEY and any(k.fingerprint in unusable for k in account.keys):
        return not_checked("a key the author registered could not be imported")
    if check.outcome is Outcome.GOOD:
        if mine is None:
            return unverified("signed with a key registered to another user, not to the author", check.fingerprint)
        return Verdict(
            SignatureStatus.VERIFIED,
            f"signed with {account.email}'s {mine.kind.value} key {mine.fingerprint}",
            key_id=mine.key_id,
            signer=mine.fingerprint,
        )
    if check.outcome in _OUTCOME_REASONS:
        return unverified(_OUTCOME_REASONS[check.outcome], check.fingerprint)
    return unverified(f"the signature is not verified: {check.detail}", check.fingerprint)


def keep_registered(session: Session, verdicts: dict[str, Verdict]) -> dict[str, Verdict]:
    """The verdicts with every "verified" whose key was removed while it was being checked made unverified; in
    the transaction that writes them."""
    ids = {v.key_id for v in verdicts.values() if v.status is SignatureStatus.VERIFIED and v.key_id is not None}
    if not ids:
        return verdicts
    present = set(session.scalars(select(SigningKey.id).where(SigningKey.id.in_(ids))))
    return {
        sha: unverified("the key that verified it was removed meanwhile", v.signer)
        if v.status is SignatureStatus.VERIFIED and v.key_id not in present
        else v
        for sha, v in verdicts.items()
    }


def verdict_values(verdict: Verdict) -> dict[str, Any]:
    """The commit columns a verdict sets, with the time it was reached."""
    return {**verdict.row(), "signature_checked_at": utcnow()}


# --- Re-verification when a user registers a key --------------------------------------------------------


def _queue_reverify(session: Session, actor: Principal, user_id: int) -> Job:
    running = active_job(session, REVERIFY_KIND, None, user_id=user_id)
    if running is not None and running.state is JobState.QUEUED:
        return running  # it reads the keys when it runs, this one included
    job, _ = enqueue(session, actor, kind=REVERIFY_KIND, arguments={"user_id": user_id}, product_id=None)
    return job


def reverify_user(phases: Phases, user_id: int) -> dict[str, Any]:
    """Check again every signed commit whose author is this user and that is not verified, round by round
    (read, check outside any transaction, write); one audit event per product whose commits changed."""
    with phases.read() as session:
        owner = session.get(User, user_id)
        if owner is None:
            return {"checked": 0, "verified": 0}
        email = owner.email.strip().lower()
    checked = verified = 0
    after = 0
    changed: dict[int, int] = {}
    while True:
        with phases.read() as session:
            rows = session.execute(
                select(Commit.id, Commit.sha, Commit.raw_object, Commit.author_email, Commit.repository_id)
                .where(
                    Commit.id > after,
                    Commit.raw_object.is_not(None),
                    Commit.signature.is_not(None),
                    func.lower(Commit.author_email) == email,
                    or_(Commit.signature_status.is_(None), Commit.signature_status != SignatureStatus.VERIFIED.value),
                )
                .order_by(Commit.id)
                .limit(REVERIFY_BATCH)
            ).all()
            accounts = author_keys(session, [email]) if rows else {}
        if not rows:
            break
        after = rows[-1].id
        verdicts = judge_signatures([Signed(r.sha, r.raw_object, r.author_email) for r in rows], accounts)
        with phases.write() as session:
            verdicts = keep_registered(session, verdicts)
            for row in rows:
                verdict = verdicts[row.sha]
                session.execute(update(Commit).where(Commit.id == row.id).values(**verdict_values(verdict)))
                if verdict.status is SignatureStatus.VERIFIED:
                    verified += 1
                    changed[row.repository_id] = changed.get(row.repository_id, 0) + 1
            checked += len(rows)
            phases.progress(session, checked, None, "signatures checked")
    with phases.write() as session:
        _audit_reverified(session, phases.actor(session), email, changed)
        result = {"checked": checked, "verified": verified}
        phases.finish(session, result)
    return result


def _audit_reverified(session: Session, actor: Principal, email: str, by_repository: dict[int, int]) -> None:
    """One event per product whose commits became verified: kept review coverage moves with the chain."""
    per_product: dict[int, int] = {}
    for repository_id, count in by_repository.items():
        product_id = session.scalar(select(Repository.product_id).where(Repository.id == repository_id))
        if product_id is not None:
            per_product[product_id] = per_product.get(product_id, 0) + count
    for product_id, count in sorted(per_product.items()):
        record(
            session,
            actor,
            "gitlink:signatures:verify",
            target_type="product",
            target_id=product_id,
            product_id=product_id,
            details={"author": email, "commits_verified": count},
        )


def _reverify_job(context: JobContext) -> dict[str, Any]:
    return reverify_user(context, int(context.arguments["user_id"]))


def register_jobs() -> None:
    """Let workers re-verify a user's commits after a key is registered."""
    register(REVERIFY_KIND, _reverify_job)
