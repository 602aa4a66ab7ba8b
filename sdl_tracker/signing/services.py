"""Listing and rotating the installation's signing keys."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit.services import record, serialise_appends
from ..auth import Permission, Principal, authorize
from ..db import after_commit
from ..errors import NotFound
from ..installation import installation
from ..keys import PublicKeyInfo


def list_keys(session: Session, actor: Principal) -> list[PublicKeyInfo]:
    """Every signing key of the installation, the active one first (any signed-in actor: they are public)."""
    del actor  # public keys are public: whoever may sign in may compare fingerprints
    return installation(session).keys.public_keys()


def public_key(session: Session, actor: Principal, key_id: str | None = None) -> PublicKeyInfo:
    """One key of the ring (the active one when no id is given), else NotFound."""
    for info in list_keys(session, actor):
        if (key_id is None and info.active) or info.key_id == key_id:
            return info
    raise NotFound(f"no signing key {key_id}")


def rotate_signing_key(session: Session, actor: Principal) -> PublicKeyInfo:
    """Make a new signing key the active one (administrators); the old public key stays in the ring.

    The new key's public half is in the ring before the event is written; it signs only once the
    transaction that audits the rotation has committed, so a refused rotation changes nothing.
    """
    authorize(actor, Permission.ORGANISATION_MANAGE)
    keys = installation(session).keys
    # Concurrent rotations queue here (the audit log's lock), so each names the key it really retires.
    serialise_appends(session)
    previous = keys.active()
    new = keys.prepare_rotation()
    record(
        session,
        actor,
        "signing:key:rotate",
        target_type="signing_key",
        target_id=new.key_id,
        details={"previous_key_id": previous.key_id, "key_id": new.key_id},
    )
    after_commit(session, lambda: keys.activate(new))
    return next(info for info in keys.public_keys() if info.key_id == new.key_id)
