"""Settings: defaults, then SDL_TRACKER_* environment, then the override mapping; validated."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .keys import read_or_create

ENV_PREFIX = "SDL_TRACKER_"

# Variables read by the client commands (hooks, CI), not by the server: allowed in the environment.
CLIENT_ENV = frozenset({"SDL_TRACKER_SERVER", "SDL_TRACKER_TOKEN"})

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it on one line."""


def _parse_bool(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _parse_int(name: str, raw: object) -> int:
    if isinstance(raw, bool):
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None


def _parse_str(name: str, raw: object) -> str:
    return str(raw)


# Remote schemes allowed when GIT_SCHEMES is not set.
DEFAULT_GIT_SCHEMES = frozenset({"https", "ssh"})
REMOTE_GIT_SCHEMES = frozenset({"https", "ssh", "http", "git"})
# Local paths (file:// and /path) are always open to administrators and never to anyone else, so
# `file` in GIT_SCHEMES adds nothing but lets `file` alone say "no remote location at all".
LOCAL_GIT_SCHEME = "file"


def _scheme_names(raw: str) -> frozenset[str]:
    return frozenset(s.strip() for s in raw.split(",") if s.strip())


MIN_FORM_FIELD_BYTES = 256 * 1024

# How the connection to the SMTP relay is protected, and the port each way uses when none is set.
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class Settings:
    """The validated settings of one app; each field is also SDL_TRACKER_<FIELD> in the environment."""

    DATA_DIR: str = ""
    DATABASE_URL: str = ""
    SECRET_KEY: str = ""
    MAX_UPLOAD_BYTES: int = 100 * 1024 * 1024
    # Werkzeug applies this to its multipart read buffer too (64 KiB chunks plus the part it keeps to
    # find a boundary), so anything near 64 KiB refuses every file upload larger than that.
    MAX_FORM_FIELD_BYTES: int = 1024 * 1024
    SECURE_COOKIES: bool = False
    SQLITE_BUSY_TIMEOUT_MS: int = 15_000
    # PostgreSQL: how long a write waits for a lock before giving up (the request answers 503).
    LOCK_TIMEOUT_MS: int = 15_000
    # Write transactions held longer than this are logged (WARNING), since they block other writers.
    SLOW_WRITE_MS: int = 1000
    LOG_LEVEL: str = "INFO"
    TESTING: bool = False
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none; trust no header).
    TRUSTED_PROXIES: int = 0
    # Remote schemes a repository may be mirrored from (file:// and local paths: administrators only);
    # `file` alone: local paths only, so nothing is ever fetched from the network.
    GIT_SCHEMES: str = ",".join(sorted(DEFAULT_GIT_SCHEMES))
    # A worker's hold on a job; its heartbeat renews it every third. A killed worker's job is taken
    # over once this runs out.
    JOB_LEASE_SECONDS: int = 60
    # SBOM uploads larger than this are imported by a job (202 Accepted); smaller ones at once.
    SBOM_INLINE_MAX_BYTES: int = 5 * 1024 * 1024
    # Vulnerability files (OSV, KEV, suppliers' VEX) uploaded larger than this are imported by a job; smaller ones
    # at once. KEV's catalog (about 1.5 MiB) and single advisories stay below it.
    VULN_INLINE_MAX_BYTES: int = 4 * 1024 * 1024
    # A directory of vulnerability files that `sdl-tracker vuln import` (without an argument) imports; empty: none.
    VULN_DIR: str = ""
    # A second file the audit chain's sealed head is written to after every commit, outside the data
    # directory (a mount a database administrator cannot reach); empty: none.
    AUDIT_WITNESS: str = ""
    # E-mail notifications go through this SMTP relay; empty: no e-mail is queued at all (webhooks still are).
    SMTP_HOST: str = ""
    # 0: the usual port of SMTP_SECURITY (587 starttls, 465 tls, 25 none).
    SMTP_PORT: int = 0
    # starttls (upgrade after connecting), tls (TLS from the start) or none (a relay on this host or network).
    SMTP_SECURITY: str = "starttls"
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = field(default="", repr=False)
    # The From address of every e-mail the tracker sends (required with SMTP_HOST).
    SMTP_FROM: str = ""
    # Webhooks go to https URLs only; true also allows plain http to this host's loopback (tests, development).
    WEBHOOK_HTTP_LOOPBACK: bool = False
    # Published CSAF documents are signed with this OpenPGP key of this GnuPG home (the key may stay in gpg-agent
    # or on a smartcard; the tracker never holds it). Both empty: documents are published unsigned.
    CSAF_GNUPGHOME: str = ""
    CSAF_KEY_FINGERPRINT: str = ""
    # The tracker's public https URL, for the CSAF provider's metadata and documents' links to themselves
    # (empty: the URL a request came in on, and no self link in documents published from the command line).
    CSAF_BASE_URL: str = ""
    # Harmonised standards under the CRA cited in the Official Journal, separated by semicolons (empty: none is
    # cited yet). Module A for an important class I product needs one of them applied in full; the CRA file says
    # of every other standard applied (IEC 62443-4-1 and 4-2 among them) that it gives no presumption of conformity.
    CRA_HARMONISED_STANDARDS: str = ""
    # True once a delegated act requires a European cybersecurity certification scheme for critical products.
    CRA_CRITICAL_SCHEME_REQUIRED: bool = False

    @property
    def cra_harmonised_standards(self) -> tuple[str, ...]:
        """CRA_HARMONISED_STANDARDS as a list of references."""
        return tuple(" ".join(s.split()) for s in self.CRA_HARMONISED_STANDARDS.split(";") if s.strip())

    @property
    def smtp_port(self) -> int:
        """SMTP_PORT, or the usual port of SMTP_SECURITY."""
        return self.SMTP_PORT or SMTP_PORTS.get(self.SMTP_SECURITY, 0)

    @property
    def git_schemes(self) -> frozenset[str]:
        """The remote schemes GIT_SCHEMES allows (empty for `file` alone: local paths only)."""
        return _scheme_names(self.GIT_SCHEMES) - {LOCAL_GIT_SCHEME}

    def flask_config(self) -> dict[str, Any]:
        """The Flask config keys these settings imply."""
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "MAX_CONTENT_LENGTH": self.MAX_UPLOAD_BYTES,
            "MAX_FORM_MEMORY_SIZE": self.MAX_FORM_FIELD_BYTES,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.SECURE_COOKIES,
            "SESSION_COOKIE_NAME": "sdl_tracker_session",
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
            "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which has its own lifetime
            "TESTING": self.TESTING,
        }


_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "DATA_DIR": _parse_str,
    "DATABASE_URL": _parse_str,
    "SECRET_KEY": _parse_str,
    "MAX_UPLOAD_BYTES": _parse_int,
    "MAX_FORM_FIELD_BYTES": _parse_int,
    "SECURE_COOKIES": _parse_bool,
    "SQLITE_BUSY_TIMEOUT_MS": _parse_int,
    "SLOW_WRITE_MS": _parse_int,
    "LOCK_TIMEOUT_MS": _parse_int,
    "LOG_LEVEL": _parse_str,
    "TESTING": _parse_bool,
    "TRUSTED_PROXIES": _parse_int,
    "GIT_SCHEMES": _parse_str,
    "JOB_LEASE_SECONDS": _parse_int,
    "SBOM_INLINE_MAX_BYTES": _parse_int,
    "VULN_INLINE_MAX_BYTES": _parse_int,
    "VULN_DIR": _parse_str,
    "AUDIT_WITNESS": _parse_str,
    "SMTP_HOST": _parse_str,
    "SMTP_PORT": _parse_int,
    "SMTP_SECURITY": _parse_str,
    "SMTP_USER": _parse_str,
    "SMTP_PASSWORD": _parse_str,
    "SMTP_FROM": _parse_str,
    "WEBHOOK_HTTP_LOOPBACK": _parse_bool,
    "CSAF_GNUPGHOME": _parse_str,
    "CSAF_KEY_FINGERPRINT": _parse_str,
    "CSAF_BASE_URL": _parse_str,
    "CRA_HARMONISED_STANDARDS": _parse_str,
    "CRA_CRITICAL_SCHEME_REQUIRED": _parse_bool,
}
SETTING_NAMES = frozenset(f.name for f in fields(Settings))
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def load_settings(
    instance_path: str,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, environment and overrides, then validate; raise ConfigError naming the setting."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in CLIENT_ENV:
            continue
        name = key[len(ENV_PREFIX) :]
        if name not in SETTING_NAMES:
            raise ConfigError(f"{key}: unknown setting (known: {', '.join(sorted(SETTING_NAMES))})")
        raw[name] = value
    for override, setting in (overrides or {}).items():
        if override not in SETTING_NAMES:
            raise ConfigError(f"{override}: unknown setting (known: {', '.join(sorted(SETTING_NAMES))})")
        raw[override] = setting

    values = {name: _PARSERS[name](name, value) for name, value in raw.items()}
    settings = Settings(**values)
    return _complete(settings, instance_path)


def _complete(settings: Settings, instance_path: str) -> Settings:
    """Fill derived defaults (data dir, database URL, secret key) and check every value."""
    data_dir = Path(settings.DATA_DIR or instance_path).expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DATA_DIR: cannot create {data_dir}: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise ConfigError(f"DATA_DIR: {data_dir} is not writable")

    database_url = settings.DATABASE_URL or f"sqlite:///{data_dir / 'sdl-tracker.db'}"
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL: not a database URL (sqlite:///path or postgresql+psycopg://...)") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(f"DATABASE_URL: unsupported database {url.get_backend_name()!r} (sqlite or postgresql)")

    if settings.MAX_UPLOAD_BYTES < 1024:
        raise ConfigError("MAX_UPLOAD_BYTES: must be at least 1024")
    if settings.MAX_FORM_FIELD_BYTES < MIN_FORM_FIELD_BYTES:
        raise ConfigError(
            f"MAX_FORM_FIELD_BYTES: must be at least {MIN_FORM_FIELD_BYTES} (uploads are read in 64 KiB chunks)"
        )
    named = _scheme_names(settings.GIT_SCHEMES)
    if not named or not named <= REMOTE_GIT_SCHEMES | {LOCAL_GIT_SCHEME}:
        raise ConfigError(
            "GIT_SCHEMES: a comma-separated subset of https, ssh, http, git and file (file alone: local paths only)"
        )
    if not 0 <= settings.TRUSTED_PROXIES <= 5:
        raise ConfigError("TRUSTED_PROXIES: must be 0-5")
    if settings.SQLITE_BUSY_TIMEOUT_MS < 0:
        raise ConfigError("SQLITE_BUSY_TIMEOUT_MS: must not be negative")
    if settings.LOCK_TIMEOUT_MS < 1:
        raise ConfigError("LOCK_TIMEOUT_MS: must be at least 1")
    if settings.SLOW_WRITE_MS < 0:
        raise ConfigError("SLOW_WRITE_MS: must not be negative")
    if not 3 <= settings.JOB_LEASE_SECONDS <= 3600:
        raise ConfigError("JOB_LEASE_SECONDS: must be 3-3600")
    if settings.SBOM_INLINE_MAX_BYTES < 0:
        raise ConfigError("SBOM_INLINE_MAX_BYTES: must not be negative")
    if settings.VULN_INLINE_MAX_BYTES < 0:
        raise ConfigError("VULN_INLINE_MAX_BYTES: must not be negative")
    vuln_dir = _vuln_dir(settings.VULN_DIR)
    audit_witness = _audit_witness(settings.AUDIT_WITNESS, data_dir)
    _check_smtp(settings)
    _check_csaf(settings)
    log_level = settings.LOG_LEVEL.upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}")

    secret_key = settings.SECRET_KEY or load_or_create_secret_key(data_dir)
    if len(secret_key) < 32:
        raise ConfigError("SECRET_KEY: must be at least 32 characters")

    return Settings(
        **{
            **{f.name: getattr(settings, f.name) for f in fields(Settings)},
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "LOG_LEVEL": log_level,
            "AUDIT_WITNESS": audit_witness,
            "VULN_DIR": vuln_dir,
        }
    )


def _audit_witness(raw: str, data_dir: Path) -> str:
    """The witness file as an absolute path ("" for none): in a directory that exists, outside the data directory."""
    if not raw.strip():
        return ""
    path = Path(raw.strip()).expanduser().resolve()
    if path.is_relative_to(data_dir):
        raise ConfigError(
            f"AUDIT_WITNESS: {path} is inside DATA_DIR; a witness must be where the data directory is not"
        )
    if not path.parent.is_dir():
        raise ConfigError(f"AUDIT_WITNESS: the directory {path.parent} does not exist")
    if path.is_dir():
        raise ConfigError(f"AUDIT_WITNESS: {path} is a directory; name the file to write")
    return str(path)


def _vuln_dir(raw: str) -> str:
    """The vulnerability directory as an absolute path ("" for none): a directory that exists and can be read."""
    if not raw.strip():
        return ""
    path = Path(raw.strip()).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"VULN_DIR: {path} is not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(f"VULN_DIR: {path} cannot be read")
    return str(path)


def _check_smtp(settings: Settings) -> None:
    """The SMTP settings are all absent, or name a relay, a way to protect the connection and a sender."""
    given = [name for name in ("SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM") if getattr(settings, name)]
    if not settings.SMTP_HOST.strip():
        if given:
            raise ConfigError(f"SMTP_HOST: needed when {', '.join(given)} is set (or leave every SMTP setting empty)")
        return
    if settings.SMTP_SECURITY not in SMTP_PORTS:
        raise ConfigError(f"SMTP_SECURITY: one of {', '.join(SMTP_PORTS)}")
    if not 0 <= settings.SMTP_PORT <= 65535:
        raise ConfigError("SMTP_PORT: must be 1-65535 (0: the usual port of SMTP_SECURITY)")
    if bool(settings.SMTP_USER) != bool(settings.SMTP_PASSWORD):
        raise ConfigError("SMTP_USER: give SMTP_USER and SMTP_PASSWORD together, or neither")
    if settings.SMTP_USER and settings.SMTP_SECURITY == "none":
        raise ConfigError("SMTP_SECURITY: none would send SMTP_PASSWORD in clear; use starttls or tls")
    sender = settings.SMTP_FROM
    local, _, domain = sender.rpartition("@")
    if not local or "." not in domain or any(c.isspace() or ord(c) < 32 or c in "<>," for c in sender):
        raise ConfigError(f"SMTP_FROM: expected one e-mail address such as tracker@example.com, got {sender!r}")


def _check_csaf(settings: Settings) -> None:
    """The CSAF signing key is named with its GnuPG home or not at all; the base URL is an absolute http(s) URL."""
    if bool(settings.CSAF_GNUPGHOME.strip()) != bool(settings.CSAF_KEY_FINGERPRINT.strip()):
        raise ConfigError("CSAF_KEY_FINGERPRINT: give CSAF_GNUPGHOME and CSAF_KEY_FINGERPRINT together, or neither")
    base = settings.CSAF_BASE_URL.strip()
    if base and (not base.startswith(("https://", "http://")) or any(c.isspace() for c in base) or "?" in base):
        raise ConfigError(f"CSAF_BASE_URL: expected an absolute URL such as https://tracker.example.com, got {base!r}")


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read the installation's secret key, creating it once; concurrent workers agree on one key."""
    key = read_or_create(data_dir / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48).encode()).decode().strip()
    if not key:
        raise ConfigError(f"SECRET_KEY: {data_dir / SECRET_KEY_FILE} is empty; remove it to generate a new key")
    return key
