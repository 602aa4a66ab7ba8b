"""Appending to the audit chain (every service that mutates calls record()), checkpoints, verification."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..auth import Permission, Principal, authorize
from ..db import after_commit, before_commit, utcnow
from ..errors import Invalid
from ..installation import Installation, installation
from ..keys import Keyring, key_id, load_public_pem
from .chain import (
    GENESIS,
    SEAL_BEHIND,
    ChainedEvent,
    Checkpoint,
    Problem,
    Seal,
    chain_hash,
    check_seal,
    checkpoint_signature_valid,
    event_content,
    make_seal,
    seal_contradicts,
    sign_checkpoint,
    verify_chain,
)
from .models import AuditCheckpoint, AuditEvent
from .seal import SEAL_FILE, SealUnreadable, advance_seal, read_seal

log = logging.getLogger(__name__)

# Any constant works; it names the one advisory lock that serialises appends on PostgreSQL.
AUDIT_LOCK_KEY = 0x5D17_A0D1
# A checkpoint is signed automatically every this many events (and on demand).
CHECKPOINT_EVERY = 1000
CHECKPOINT_FILE_KIND = "sdl-tracker audit checkpoint"
CHECKPOINT_KEEP_FILE = "audit-checkpoint.json"
# The name under which a transaction that appended events seals the head it leaves (db.before_commit).
SEAL_ON_COMMIT = "sdl_tracker.audit.seal_head"


def session_keys(session: Session) -> Keyring:
    """The installation's keyring."""
    return installation(session).keys


def change_digest(details: dict[str, Any]) -> str:
    """SHA-256 of the change in canonical JSON, so an exported event can be checked later."""
    canonical = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def serialise_appends(session: Session) -> None:
    """Hold the audit log's append lock to the end of the transaction (SQLite's write lock already does)."""
    # SQLite write transactions already hold the database lock (BEGIN IMMEDIATE); PostgreSQL
    # needs an explicit lock, held to the end of the transaction, or two writers could both
    # chain onto the same head and fork the log.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


# The head as this session's transaction last read it (in session.info): a page asks for several kept
# figures and each would read the head again. Appending an event forgets it, and so does an event another
# session of this process appends (a session that outlives another's commit, as a command's or a test's can,
# would otherwise keep a figure under a head that has moved on).
_HEAD_READ = "sdl_tracker_chain_head"
_APPENDED_HERE = [0]  # events this process appended; any change makes remembered heads stale


def chain_head(session: Session) -> tuple[int, str]:
    """The newest event's number and hash: every audited change moves it, so a figure computed from the
    whole installation can be kept until it moves. Read once per transaction (a figure computed later in
    it from newer rows is then kept under an older head, which only makes the next reader compute afresh)."""
    remembered = session.info.get(_HEAD_READ)
    if (
        remembered is not None
        and remembered[0] is _innermost_transaction(session)
        and remembered[1] == _APPENDED_HERE[0]
    ):
        return cast(tuple[int, str], remembered[2])
    head = _head(session)
    session.info[_HEAD_READ] = (_innermost_transaction(session), _APPENDED_HERE[0], head)
    return head


def _innermost_transaction(session: Session) -> object:
    # A savepoint rolled back may take events with it: a head read inside one is forgotten when it ends.
    return session.get_nested_transaction() or session.get_transaction()


T = TypeVar("T")
# Figures judged from many rows (coverage, the SL-C vector, the catalog as the rules read it), kept in the
# process per database, question and audit chain head: every change that can move such a figure is audited,
# so it moves the head and the next reading computes afresh. Values are plain data, never ORM rows (a row
# belongs to one session). Each process keeps its own, at most _KEPT_MAX, the oldest dropped first.
_KEPT: dict[tuple[Any, ...], Any] = {}
_KEPT_MAX = 256
_KEPT_LOCK = threading.Lock()


def kept(session: Session, question: tuple[Hashable, ...], compute: Callable[[], T], *, version: Hashable = None) -> T:
    """`compute()`'s value for `question`, kept until the audit chain moves on (or, given `version`, until
    that changes: a figure of immutable rows, such as a loaded catalog, is keyed by their identity)."""
    url = session.get_bind().engine.url.render_as_string()
    key = (url, *question, *(chain_head(session) if version is None else (version,)))
    with _KEPT_LOCK:
        if key in _KEPT:
            return cast(T, _KEPT[key])
    value = compute()
    with _KEPT_LOCK:
        while len(_KEPT) >= _KEPT_MAX:
            del _KEPT[next(iter(_KEPT))]
        _KEPT[key] = value
    return value


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    target_type: str,
    target_id: object,
    product_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (`feature:subject:verb`) to the chain, in the caller's transaction; never pass secrets."""
    if action.count(":") != 2:
        raise ValueError(f"audit action {action!r} is not feature:subject:verb")
    keys = session_keys(session)
    session.info.pop(_HEAD_READ, None)
    _APPENDED_HERE[0] += 1
    plain_details = json.loads(json.dumps(details or {}, default=str))
    serialise_appends(session)
    seq, prev_hash = _head(session)
    event = AuditEvent(
        seq=seq + 1,
        at=installation(session).now(),
        actor=actor.label[:400],
        origin=actor.origin[:120],
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:400],
        product_id=product_id,
        details=plain_details,
        digest=change_digest(plain_details),
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = chain_hash(keys.audit_hmac_key, event_content(_as_chained(event)), prev_hash)
    session.add(event)
    session.flush()
    seal_head_on_commit(session)
    if event.seq % CHECKPOINT_EVERY == 0:
        _sign_head(session, keys, event.seq, event.hash, created_by="automatic")
    return event


def seal_unchained(session: Session) -> int:
    """Chain the events written before the chain existed (their hash is empty); returns how many.

    Only ever once: when any event is already chained, or a checkpoint was ever kept in the data
    directory, an empty hash is tampering (someone hoping to have edited rows re-sealed), and the
    rows are left for `audit verify` to report.
    """
    keys = session_keys(session)
    if checkpoint_path(keys).exists() or session.scalar(select(AuditEvent.id).where(AuditEvent.hash != "").limit(1)):
        return 0
    unsealed = list(session.scalars(select(AuditEvent).where(AuditEvent.hash == "").order_by(AuditEvent.seq)))
    if not unsealed:
        return 0
    serialise_appends(session)
    for event in unsealed:
        before = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == event.seq - 1))
        event.prev_hash = before or GENESIS
        event.hash = chain_hash(keys.audit_hmac_key, event_content(_as_chained(event)), event.prev_hash)
        session.flush()
    seal_head_on_commit(session)
    return len(unsealed)


def _as_chained(event: AuditEvent) -> ChainedEvent:
    return ChainedEvent(
        id=event.id or 0,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        origin=event.origin,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        product_id=event.product_id,
        details=event.details,
        digest=event.digest,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def _sign_head(session: Session, keys: Keyring, seq: int, head_hash: str, *, created_by: str) -> AuditCheckpoint:
    signer = keys.active()
    signed = sign_checkpoint(signer.private, seq, head_hash, utcnow().isoformat(), signer.key_id)
    checkpoint = AuditCheckpoint(
        seq=signed.seq,
        head_hash=signed.head_hash,
        created_at=signed.created_at,
        signature=signed.signature,
        public_key=signer.public_pem(),
        key_id=signer.key_id,
        created_by=created_by,
    )
    session.add(checkpoint)
    session.flush()
    document = checkpoint_document(checkpoint)
    after_commit(session, lambda: _keep_in_data_dir(keys, document))
    return checkpoint


def checkpoint_path(keys: Keyring) -> Path:
    """The newest checkpoint, kept beside the keys: deleting rows and checkpoints in the database
    cannot hide events from it."""
    return keys.data_dir / CHECKPOINT_KEEP_FILE


def _keep_in_data_dir(keys: Keyring, document: dict[str, Any]) -> None:
    path = checkpoint_path(keys)
    if path.exists():
        try:
            if json.loads(path.read_text())["seq"] >= document["seq"]:
                return  # a concurrent writer kept a newer one
        except (ValueError, KeyError, TypeError):
            pass  # unreadable: replace it
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class SealPlace:
    """A file the chain head is sealed in, and how messages name it."""

    path: Path
    label: str


def seal_places(found: Installation) -> list[SealPlace]:
    """Where the installation seals the chain head: the data directory, and the witness if one is set."""
    path = found.data_dir / SEAL_FILE
    places = [SealPlace(path, f"the data directory's seal ({path})")]
    if found.audit_witness is not None:
        places.append(witness_place(found.audit_witness))
    return places


def witness_place(path: Path) -> SealPlace:
    """A witness file, named as such."""
    return SealPlace(path, f"the witness ({path})")


def seal_head_on_commit(session: Session) -> None:
    """Seal the head this transaction leaves once it commits (every commit that appends events does)."""
    before_commit(session, SEAL_ON_COMMIT, lambda: _prepare_seal(session))


def _hash_at(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def _read_place(place: SealPlace) -> Seal | Problem | None:
    """The seal kept at `place` (None: no file), or the problem that its file holds no seal."""
    try:
        return read_seal(place.path)
    except SealUnreadable as exc:
        return Problem("seal-forged", None, f"{place.label} holds no seal: {exc}")


def _judge(
    found: Seal | Problem | None, key: bytes, place: SealPlace, last_seq: int, hash_at: Callable[[int], str | None]
) -> Problem | None:
    """What the seal read from `place` says of a chain whose newest event is `last_seq`."""
    if isinstance(found, Problem):
        return found
    return check_seal(key, found, last_seq, hash_at, place.label)


def _judge_in_session(session: Session, key: bytes, place: SealPlace, last_seq: int) -> Problem | None:
    """What the seal at `place` says of the chain as this session sees it."""
    return _judge(_read_place(place), key, place, last_seq, lambda seq: _hash_at(session, seq))


def _prepare_seal(session: Session, *, replace: bool = False) -> None:
    """Inside the committing transaction: the head to seal, and the places whose seal this chain extends."""
    found = installation(session)
    key = found.keys.audit_hmac_key
    # No autoflush: events are flushed as they are recorded, and the commit's own flush must be the one
    # that raises whatever the caller's pending rows break (a door tells a duplicate from a failure).
    with session.no_autoflush:
        seq, head_hash = _head(session)
        if seq == 0:
            return
        places = []
        for place in seal_places(found):
            problem = _judge_in_session(session, key, place, seq)
            if replace or (problem is not None and not seal_contradicts(problem)):
                places.append(place)
            elif problem is not None:
                # Moving this seal on would bury the evidence: it stays until an administrator
                # accepts a deliberate restore (`audit reseal`).
                log.error("audit log tampering: %s; that seal is kept and not moved", problem.message)
    if places:
        seal = make_seal(key, seq, head_hash, found.now().isoformat())
        # Written once committed, never inside the write transaction; a failed write is logged there.
        after_commit(session, lambda: _write_seals(key, places, seal, replace=replace))


def _write_seals(key: bytes, places: list[SealPlace], seal: Seal, *, replace: bool) -> None:
    for place in places:
        try:
            advance_seal(place.path, key, seal, replace=replace)
        except OSError as exc:
            log.error(
                "the audit chain's head (seq %d) could not be sealed in %s: %s; until a later commit seals it, "
                "`sdl-tracker audit verify` reports that seal behind and deleting those events would go unnoticed",
                seal.seq,
                place.label,
                exc,
            )


def accept_restore(session: Session, actor: Principal) -> AuditEvent:
    """After restoring the database on purpose: record the restore and seal its head over the newer seals
    (administrators); refused when every seal agrees with the database."""
    authorize(actor, Permission.USERS_MANAGE)
    found = installation(session)
    serialise_appends(session)
    seq, _hash = _head(session)
    contradicted = []
    for place in seal_places(found):
        problem = _judge_in_session(session, found.keys.audit_hmac_key, place, seq)
        if problem is not None and seal_contradicts(problem):
            contradicted.append({"place": str(place.path), "kind": problem.kind, "message": problem.message})
    if not contradicted:
        raise Invalid("nothing to accept: no seal contradicts the database")
    # Asked for first, so the seal of this event's commit replaces the contradicted seals.
    before_commit(session, SEAL_ON_COMMIT, lambda: _prepare_seal(session, replace=True))
    return record(
        session,
        actor,
        "audit:seal:reset",
        target_type="audit",
        target_id="head",
        details={"restored_head_seq": seq, "contradicted": contradicted},
    )


def create_checkpoint(session: Session, actor: Principal) -> AuditCheckpoint:
    """Sign the current chain head now (administrators); the checkpoint is itself audited."""
    authorize(actor, Permission.USERS_MANAGE)
    event = record(session, actor, "audit:checkpoint:create", target_type="audit", target_id="head")
    return _sign_head(session, session_keys(session), event.seq, event.hash, created_by=actor.label)


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A checkpoint as an exportable file: enough to prove later that nothing before it changed."""
    return {
        "kind": CHECKPOINT_FILE_KIND,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "created_at": checkpoint.created_at,
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
        "public_key": checkpoint.public_key,
    }


def parse_checkpoint_document(document: Any, keys: Keyring) -> Checkpoint:
    """A checkpoint file, refused unless one of this installation's keys (active or retired) signed it."""
    if not isinstance(document, dict) or document.get("kind") != CHECKPOINT_FILE_KIND:
        raise Invalid.field("checkpoint", f"not a {CHECKPOINT_FILE_KIND} file")
    seq = document.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise Invalid.field("checkpoint", "the file's seq is not a positive whole number")
    try:
        # Files written before keys had ids name their key by its PEM only.
        named = str(document.get("key_id") or key_id(load_public_pem(str(document["public_key"]))))
        checkpoint = Checkpoint(
            seq,
            str(document["head_hash"]),
            str(document["created_at"]),
            str(document["signature"]),
            named,
        )
    except (KeyError, TypeError, ValueError):
        raise Invalid.field("checkpoint", "the file lacks seq, head_hash, created_at, signature or its key") from None
    if keys.public_key(checkpoint.key_id) is None:
        raise Invalid.field("checkpoint", "the file was signed by another installation's key")
    if not checkpoint_signature_valid(keys.public_key, checkpoint):
        raise Invalid.field("checkpoint", "the file's signature does not verify")
    return checkpoint


@dataclass(frozen=True)
class SealState:
    """One place's sealed head as verification found it."""

    place: str  # the file
    seq: int | None  # None: no readable seal
    state: str  # "agrees", or the kind of problem (SEAL_BEHIND is only a warning)


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain and comparing its head with the seals."""

    events: int
    checkpoints: int
    problem: Problem | None
    seals: tuple[SealState, ...] = ()
    warnings: tuple[str, ...] = ()


def verify(
    session: Session,
    actor: Principal,
    extra_checkpoints: tuple[Checkpoint, ...] = (),
    witnesses: tuple[Path, ...] = (),
) -> Verification:
    """Walk the whole chain with the installation's key, check every checkpoint against it, and its head
    against the sealed heads (the data directory's, the configured witness and `witnesses`)."""
    authorize(actor, Permission.USERS_MANAGE)
    keys = session_keys(session)
    places = seal_places(installation(session))
    places += [witness_place(path) for path in witnesses if path not in {place.path for place in places}]
    # Seals first: a commit sealed while the events are read is then among the events read.
    sealed = {place.path: _read_place(place) for place in places}
    events = [e.chained() for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    stored = [
        Checkpoint(c.seq, c.head_hash, c.created_at, c.signature, c.key_id)
        for c in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    ]
    kept = checkpoint_path(keys)
    if kept.exists():
        try:
            extra_checkpoints = (*extra_checkpoints, parse_checkpoint_document(json.loads(kept.read_text()), keys))
        except (ValueError, Invalid) as exc:
            unreadable = Problem("checkpoint", None, f"the checkpoint kept in the data directory is unreadable: {exc}")
            return Verification(events=len(events), checkpoints=len(stored), problem=unreadable)
    checkpoints = (*stored, *extra_checkpoints)
    problem = verify_chain(events, keys.audit_hmac_key, keys.public_key, checkpoints, every=CHECKPOINT_EVERY)
    by_seq = {e.seq: e.hash for e in events}
    last_seq = max(by_seq, default=0)
    states, warnings = [], []
    for place in places:
        found = sealed[place.path]
        verdict = _judge(found, keys.audit_hmac_key, place, last_seq, by_seq.get)
        seq = found.seq if isinstance(found, Seal) else None
        states.append(SealState(str(place.path), seq, "agrees" if verdict is None else verdict.kind))
        if verdict is not None and verdict.kind == SEAL_BEHIND:
            warnings.append(verdict.message)
        elif problem is None:
            problem = verdict
    return Verification(len(events), len(checkpoints), problem, tuple(states), tuple(warnings))
