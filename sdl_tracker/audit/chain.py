"""The audit chain as pure functions: canonical content, keyed hashes, signed checkpoints, the sealed
head, verification."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64  # the previous hash of the first event


@dataclass(frozen=True)
class ChainedEvent:
    """What the chain covers of one stored event, plus its links."""

    id: int
    seq: int
    at: datetime
    actor: str
    origin: str
    action: str
    target_type: str
    target_id: str
    product_id: int | None
    details: dict[str, Any]
    digest: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain had `head_hash` at `seq`."""

    seq: int
    head_hash: str
    created_at: str  # ISO 8601, as signed
    signature: str  # hex
    key_id: str = ""  # which of the installation's signing keys made it (keys.key_id)


# The public key a checkpoint names by its key id, or None when the installation never had it.
KeyLookup = Callable[[str], Ed25519PublicKey | None]


@dataclass(frozen=True)
class Problem:
    """The first thing verification found wrong."""

    # modified, inserted, deleted, reordered, rekeyed, truncated, checkpoint; and for a sealed head
    # (SEAL_KINDS): tail-deleted, rolled-back, seal-forged, unsealed, and seal-behind (only a warning)
    kind: str
    seq: int | None
    message: str


def canonical(data: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_content(event: ChainedEvent) -> bytes:
    """The bytes the keyed hash covers (everything but the links)."""
    return canonical(
        {
            "seq": event.seq,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "origin": event.origin,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "product_id": event.product_id,
            "details": event.details,
            "digest": event.digest,
        }
    )


def chain_hash(key: bytes, content: bytes, prev_hash: str) -> str:
    """HMAC-SHA256 over the previous hash and the content: forging it needs the installation's key."""
    return hmac.new(key, prev_hash.encode() + b"\n" + content, hashlib.sha256).hexdigest()


def _verifies(key: bytes, event: ChainedEvent) -> bool:
    return _same_digest(chain_hash(key, event_content(event), event.prev_hash), event.hash)


def checkpoint_payload(seq: int, head_hash: str, created_at: str) -> bytes:
    """What a checkpoint signature covers."""
    return canonical(
        {"kind": "sdl-tracker audit checkpoint", "seq": seq, "head_hash": head_hash, "created_at": created_at}
    )


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, head_hash: str, created_at: str, key_id: str = "") -> Checkpoint:
    """Sign the chain head."""
    signature = key.sign(checkpoint_payload(seq, head_hash, created_at)).hex()
    return Checkpoint(seq, head_hash, created_at, signature, key_id)


def _lookup(keys: Ed25519PublicKey | KeyLookup) -> KeyLookup:
    if isinstance(keys, Ed25519PublicKey):
        return lambda _key_id: keys
    return keys


def checkpoint_signature_valid(keys: Ed25519PublicKey | KeyLookup, checkpoint: Checkpoint) -> bool:
    """Whether the key the checkpoint names (one of the installation's) signed it."""
    public_key = _lookup(keys)(checkpoint.key_id)
    if public_key is None:
        return False
    try:
        public_key.verify(
            bytes.fromhex(checkpoint.signature),
            checkpoint_payload(checkpoint.seq, checkpoint.head_hash, checkpoint.created_at),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_chain(
    events: Sequence[ChainedEvent],
    key: bytes,
    public_keys: Ed25519PublicKey | KeyLookup,
    checkpoints: Sequence[Checkpoint] = (),
    every: int | None = None,
) -> Problem | None:
    """The first problem in the chain, or None when it is intact; with `every`, a checkpoint must
    exist at each multiple of it (they are signed automatically, so a missing one was deleted).

    Walks in seq order; storage order (id) must agree with it, so whole rows moved around show too.
    """
    events = sorted(events, key=lambda e: e.seq)
    if events and not any(_verifies(key, e) for e in events):
        return Problem(
            "rekeyed",
            events[0].seq,
            "no event verifies with this installation's key: "
            "the chain was recomputed without the key, or the key was replaced",
        )
    previous: ChainedEvent | None = None
    for index, event in enumerate(events):
        expected_seq = previous.seq + 1 if previous else 1
        expected_prev = previous.hash if previous else GENESIS
        if not _verifies(key, event):
            following = events[index + 1] if index + 1 < len(events) else None
            if following is not None and following.prev_hash == expected_prev:
                return Problem(
                    "inserted", event.seq, f"event id {event.id} (seq {event.seq}) was inserted into the chain"
                )
            return Problem("modified", event.seq, f"event seq {event.seq} (id {event.id}) was modified")
        if previous is not None and event.id < previous.id:
            return Problem(
                "reordered", event.seq, f"event seq {event.seq} is stored before seq {previous.seq}: rows were moved"
            )
        if event.seq > expected_seq:
            missing = f"{expected_seq}" if event.seq == expected_seq + 1 else f"{expected_seq} to {event.seq - 1}"
            return Problem("deleted", expected_seq, f"event seq {missing} deleted (before seq {event.seq})")
        if event.prev_hash != expected_prev:
            return Problem("deleted", event.seq, f"event seq {event.seq} does not follow seq {expected_seq - 1}")
        previous = event

    by_seq = {e.seq: e for e in events}
    last_seq = previous.seq if previous else 0
    if every:
        signed = {c.seq for c in checkpoints}
        for due in range(every, last_seq + 1, every):
            if due not in signed:
                return Problem("checkpoint", due, f"the automatic checkpoint at seq {due} is missing: it was deleted")
    for checkpoint in sorted(checkpoints, key=lambda c: c.seq):
        if _lookup(public_keys)(checkpoint.key_id) is None:
            return Problem(
                "checkpoint",
                checkpoint.seq,
                f"the checkpoint at seq {checkpoint.seq} names signing key {checkpoint.key_id or '(none)'}, "
                "which is not in this installation's keyring",
            )
        if not checkpoint_signature_valid(public_keys, checkpoint):
            return Problem(
                "checkpoint", checkpoint.seq, f"the checkpoint at seq {checkpoint.seq} has an invalid signature"
            )
        if checkpoint.seq > last_seq:
            return Problem(
                "truncated",
                last_seq + 1,
                f"events after seq {last_seq} are missing: a checkpoint covers up to seq {checkpoint.seq}",
            )
        at_checkpoint = by_seq.get(checkpoint.seq)
        if at_checkpoint is None or at_checkpoint.hash != checkpoint.head_hash:
            return Problem(
                "checkpoint", checkpoint.seq, f"the chain at seq {checkpoint.seq} differs from its checkpoint"
            )
    return None


SEAL_KIND = "sdl-tracker audit seal"
SEAL_BEHIND = "seal-behind"  # a crash between commit and seal: a warning, not tampering


@dataclass(frozen=True)
class Seal:
    """The chain head (`seq`, `head_hash`) as sealed outside the database, with an HMAC over it."""

    seq: int
    head_hash: str
    sealed_at: str  # ISO 8601, as covered by the mac
    mac: str  # hex


def _same_digest(expected: str, found: str) -> bool:
    """Whether two hex digests are equal, in constant time. Compared as bytes: hmac.compare_digest raises
    on str holding non-ASCII text, which a tampered row or seal file may hold and verify must name."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), found.encode("utf-8", "surrogatepass"))


def _seal_mac(key: bytes, seq: int, head_hash: str, sealed_at: str) -> str:
    # The kind keeps a seal's MAC from ever equalling a chain hash made with the same key.
    payload = canonical({"kind": SEAL_KIND, "seq": seq, "head_hash": head_hash, "sealed_at": sealed_at})
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def make_seal(key: bytes, seq: int, head_hash: str, sealed_at: str) -> Seal:
    """Seal the head with the installation's audit key."""
    return Seal(seq, head_hash, sealed_at, _seal_mac(key, seq, head_hash, sealed_at))


def seal_valid(key: bytes, seal: Seal) -> bool:
    """Whether the seal was made with this key and not changed since."""
    return _same_digest(_seal_mac(key, seal.seq, seal.head_hash, seal.sealed_at), seal.mac)


def seal_document(seal: Seal) -> dict[str, Any]:
    """A seal as the file keeps it."""
    return {"kind": SEAL_KIND, **asdict(seal)}


def parse_seal(document: Any) -> Seal:
    """A seal from its file's JSON, or ValueError naming what is wrong (the MAC is not checked here)."""
    if not isinstance(document, dict) or document.get("kind") != SEAL_KIND:
        raise ValueError(f"not a {SEAL_KIND} file")
    seq = document.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError("its seq is not a whole number")
    head_hash, sealed_at, mac = (document.get(name) for name in ("head_hash", "sealed_at", "mac"))
    if not (isinstance(head_hash, str) and isinstance(sealed_at, str) and isinstance(mac, str)):
        raise ValueError("it lacks head_hash, sealed_at or mac")
    return Seal(seq, head_hash, sealed_at, mac)


def check_seal(
    key: bytes, seal: Seal | None, last_seq: int, hash_at: Callable[[int], str | None], where: str
) -> Problem | None:
    """What the seal kept at `where` says about the chain, whose newest event is `last_seq`; None when they agree.

    `hash_at(seq)` is the stored hash of the event at seq (None: no such event). Kind SEAL_BEHIND is a
    warning: events were committed after the seal was last written.
    """
    if seal is None:
        if last_seq == 0:
            return None
        return Problem(
            "unsealed",
            None,
            f"{where} is missing although the log holds events up to seq {last_seq}: it was removed, "
            "or never written since the upgrade that introduced it (`sdl-tracker db upgrade` writes it)",
        )
    if not seal_valid(key, seal):
        return Problem(
            "seal-forged",
            seal.seq,
            f"{where} does not verify with this installation's key: it was forged or edited",
        )
    if seal.seq > last_seq:
        if last_seq == 0:
            return Problem(
                "truncated",
                1,
                f"the audit log is empty, but {where} sealed it up to seq {seal.seq}: the table was truncated",
            )
        return Problem(
            "tail-deleted",
            last_seq + 1,
            f"events after seq {last_seq} are missing: {where} sealed the log up to seq {seal.seq}; "
            "the newest events were deleted, or the table was rolled back to an earlier state",
        )
    stored = hash_at(seal.seq)
    if stored is None or not _same_digest(stored, seal.head_hash):
        return Problem(
            "rolled-back",
            seal.seq,
            f"the event at seq {seal.seq} is not the one {where} sealed: "
            "the table was rolled back to an earlier state and written on since",
        )
    if seal.seq < last_seq:
        return Problem(
            SEAL_BEHIND,
            seal.seq + 1,
            f"{where} is behind the log (sealed at seq {seal.seq}, events up to seq {last_seq}): "
            "those events were committed but their seal was not written (a crash or a failed write just "
            "after the commit, or a commit finishing now); the next write seals them",
        )
    return None


def seal_contradicts(problem: Problem | None) -> bool:
    """Whether a seal's verdict is evidence (events lost, or the seal false), which no later seal may bury;
    a seal that agrees, lags behind or is missing may be moved on to the head."""
    return problem is not None and problem.kind not in (SEAL_BEHIND, "unsealed")
