"""The installation: the resources beyond the database that services need, in one object.

One `Installation` is built per app (and so per CLI command, which runs in an app) by
`sdl_tracker.app.create_app`, and every session the app makes carries it under one key, so services
reach the data directory, blob store, keys, git policy and clock through `installation(session)`
and never through the app's config or another feature's internals (the SMTP relay and the webhook
policy too). Side effects that must wait for
the commit go through the session's after-commit outbox (`db.after_commit`).

Flask imports nothing here: the app's extension keys and the doors' accessors (`app_db`,
`app_installation`, `app_settings`) live in `sdl_tracker.app_access`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .blobs import BlobStore
    from .keys import Keyring

SESSION_KEY = "sdl_tracker.installation"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GitPolicy:
    """Which remote locations repositories may be mirrored from."""

    schemes: frozenset[str]


@dataclass(frozen=True)
class SmtpRelay:
    """The relay e-mail notifications go through: where, how the connection is protected, who signs in, the sender."""

    host: str
    port: int
    security: str  # starttls, tls or none
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class WebhookPolicy:
    """Where webhook endpoints may point: https anywhere, plain http to this host's loopback only when allowed."""

    http_loopback: bool = False


@dataclass(frozen=True)
class CsafProviderSetup:
    """How published CSAF documents are signed (a GnuPG home and key; None: unsigned) and the public base URL."""

    gnupg_home: Path | None = None
    key_fingerprint: str = ""
    base_url: str = ""


@dataclass(frozen=True)
class CraLegalFacts:
    """The CRA facts that change by publication in the Official Journal, kept in settings."""

    harmonised_standards: tuple[str, ...] = ()
    critical_scheme_required: bool = False


@dataclass(frozen=True)
class Installation:
    """Data directory, blob store, keys, git policy, audit witness, outgoing notifications and clock of one
    installation."""

    data_dir: Path
    blobs: BlobStore
    keys: Keyring
    git: GitPolicy
    clock: Callable[[], datetime] = field(default=_utcnow)
    # A second file the audit chain's sealed head is kept in, outside the data directory (None: none).
    audit_witness: Path | None = None
    # None: e-mail is not configured, and no e-mail is queued.
    smtp: SmtpRelay | None = None
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)
    csaf: CsafProviderSetup = field(default_factory=CsafProviderSetup)
    cra: CraLegalFacts = field(default_factory=CraLegalFacts)

    def now(self) -> datetime:
        """The installation's current time, aware, in UTC (tests may give a fixed clock)."""
        return self.clock()

    @property
    def mirrors_dir(self) -> Path:
        """Where remote repositories are mirrored."""
        return self.data_dir / "mirrors"


def installation(session: Session) -> Installation:
    """The installation the session belongs to."""
    found = session.info.get(SESSION_KEY)
    if found is None:
        raise RuntimeError("this session carries no installation; make it through Database(..., installation=...)")
    return cast(Installation, found)
