"""The application module: builds the app and is the one registry of every feature.

Each feature's HTML blueprint, API blueprint, server commands and signal connections are named here
and nowhere else; `web/` and `api/` are libraries the doors use and import no feature, and the
package root imports none of this until `create_app` is called (`import sdl_tracker` stays light).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .accounts import views as accounts_views
from .accounts.api import bp as accounts_api
from .accounts.bearer import authenticate_api_token
from .accounts.cli import member, token, user
from .accounts.services import principal_for_email
from .accounts.signals import notified
from .api import init_api, set_token_authenticator
from .app_access import DB_EXTENSION, INSTALLATION_EXTENSION, SETTINGS_EXTENSION
from .audit.cli import audit
from .audit.views import bp as audit_bp
from .blob_cli import blobs
from .blobs import BlobStore
from .builds import cli as builds_cli
from .builds.api import bp as builds_api
from .builds.views import bp as builds_bp
from .catalog.api import bp as catalog_api
from .catalog.cli import catalog
from .catalog.views import bp as catalog_bp
from .claims.api import bp as claims_api
from .claims.cli import claims
from .claims.services import copy_claims_forward
from .claims.views import bp as claims_bp
from .commands import set_principal_resolver
from .config import DEFAULT_GIT_SCHEMES, Settings, load_settings
from .cra import views as cra_views
from .cra.api import bp as cra_api
from .cra.applicability import copy_points_forward
from .cra.cli import cra
from .cra.declarations import copy_forward as copy_declarations_forward
from .dashboard.views import bp as dashboard_bp
from .dashboard.views import release_summaries
from .db import Database
from .demo import demo
from .evidence.api import bp as evidence_api
from .evidence.cli import evidence
from .evidence.views import bp as evidence_bp
from .evidence.views import set_evidence_panels
from .gates.api import bp as gates_api
from .gates.cli import gate
from .gates.evaluations import register_jobs as register_gate_jobs
from .gates.signoff import check_shipping
from .gates.views import bp as gates_bp
from .gitlink import cli as gitlink_cli
from .gitlink.api import bp as gitlink_api
from .gitlink.scan import register_jobs as register_scan_jobs
from .gitlink.signals import psirt_case_named
from .gitlink.signing import register_jobs as register_signature_jobs
from .gitlink.views import bp as gitlink_bp
from .installation import CraLegalFacts, CsafProviderSetup, GitPolicy, Installation, SmtpRelay, WebhookPolicy
from .jobs.api import bp as jobs_api
from .jobs.cli import job, worker
from .jobs.views import bp as jobs_bp
from .keys import Keyring
from .modifications import cli as modifications_cli
from .modifications.api import bp as modifications_api
from .modifications.views import bp as modifications_bp
from .outbox import cli as outbox_cli
from .outbox.api import bp as outbox_api
from .outbox.services import email_notifications
from .outbox.views import bp as outbox_bp
from .outbox.worker import register_jobs as register_outbox_jobs
from .products.api import bp as products_api
from .products.cli import product, release, repo
from .products.signals import release_created, release_shipping
from .products.views import bp as products_bp
from .products.views import set_release_summaries
from .psirt.api import bp as psirt_api
from .psirt.cli import psirt
from .psirt.services import fixed_case_reference
from .psirt.sweep import register_jobs as register_psirt_jobs
from .psirt.views import bp as psirt_bp
from .psirt.views import set_case_decisions
from .resources import resource_dir
from .sboms.api import bp as sboms_api
from .sboms.cli import sbom
from .sboms.importer import register_jobs as register_sbom_jobs
from .sboms.views import bp as sboms_bp
from .sboms.views import set_component_decisions
from .signing.cli import keys
from .signing.views import bp as keys_bp
from .vex import views as vex_views
from .vex.api import bp as vex_api
from .vex.cli import vex, vuln
from .vex.importer import register_jobs as register_vex_jobs
from .vex.services import copy_decisions_forward
from .web import init_web

# The HTML blueprints, in the order their routes are matched.
PAGES: tuple[Blueprint, ...] = (
    dashboard_bp,
    accounts_views.bp,
    products_bp,
    catalog_bp,
    audit_bp,
    evidence_bp,
    claims_bp,
    sboms_bp,
    modifications_bp,
    psirt_bp,
    vex_views.bp,
    cra_views.bp,
    gates_bp,
    builds_bp,
    gitlink_bp,
    jobs_bp,
    keys_bp,
    outbox_bp,
)

# The /api/v1 blueprints.
API: tuple[Blueprint, ...] = (
    accounts_api,
    products_api,
    catalog_api,
    evidence_api,
    claims_api,
    gitlink_api,
    sboms_api,
    modifications_api,
    psirt_api,
    vex_api,
    cra_api,
    gates_api,
    builds_api,
    jobs_api,
    outbox_api,
)

# The server commands (the `sdl-tracker` group adds `info`, `db`, `run`, `routes` and `shell`).
# gitlink adds `repo scan` and `release commits` to the products' groups; builds adds `release artifacts`
# and `release artifact-add`; modifications adds `release modifications` and `release modification-decide`.
COMMANDS: tuple[click.Command, ...] = (
    user,
    member,
    token,
    audit,
    keys,
    product,
    release,
    repo,
    catalog,
    evidence,
    claims,
    sbom,
    psirt,
    vex,
    vuln,
    cra,
    gate,
    blobs,
    demo,
    job,
    worker,
    outbox_cli.webhook,
    outbox_cli.notifications,
)
_ = gitlink_cli, builds_cli, modifications_cli


def connect_signals() -> None:
    """Let higher features react to lower ones' events (DESIGN.md); connecting twice is harmless."""
    release_created.connect(copy_claims_forward, weak=False)
    release_created.connect(copy_decisions_forward, weak=False)
    release_created.connect(copy_points_forward, weak=False)
    release_created.connect(copy_declarations_forward, weak=False)
    notified.connect(email_notifications, weak=False)
    psirt_case_named.connect(fixed_case_reference, weak=False)
    release_shipping.connect(check_shipping, weak=False)


def register_job_kinds() -> None:
    """Each feature registers the job kinds it owns (jobs/ imports no feature); registering twice is harmless."""
    register_scan_jobs()
    register_signature_jobs()
    register_sbom_jobs()
    register_outbox_jobs()
    register_psirt_jobs()
    register_vex_jobs()
    register_gate_jobs()


def open_installation(
    data_dir: Path,
    *,
    max_upload_bytes: int = Settings.MAX_UPLOAD_BYTES,
    git_schemes: frozenset[str] = DEFAULT_GIT_SCHEMES,
    audit_witness: Path | None = None,
    smtp: SmtpRelay | None = None,
    webhooks: WebhookPolicy | None = None,
    csaf: CsafProviderSetup | None = None,
    cra: CraLegalFacts | None = None,
) -> Installation:
    """The installation whose data directory is `data_dir` (keys are created on first start)."""
    return Installation(
        data_dir=data_dir,
        blobs=BlobStore(data_dir / "blobs", max_upload_bytes),
        keys=Keyring(data_dir),
        git=GitPolicy(git_schemes),
        audit_witness=audit_witness,
        smtp=smtp,
        webhooks=webhooks or WebhookPolicy(),
        csaf=csaf or CsafProviderSetup(),
        cra=cra or CraLegalFacts(),
    )


def smtp_relay(settings: Settings) -> SmtpRelay | None:
    """The SMTP relay the settings name (None: e-mail is not configured)."""
    if not settings.SMTP_HOST.strip():
        return None
    return SmtpRelay(
        host=settings.SMTP_HOST.strip(),
        port=settings.smtp_port,
        security=settings.SMTP_SECURITY,
        sender=settings.SMTP_FROM,
        user=settings.SMTP_USER,
        password=settings.SMTP_PASSWORD,
    )


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then SDL_TRACKER_* environment, then `config`; fail fast on bad settings."""
    app = Flask(
        "sdl_tracker",
        template_folder=str(resource_dir("templates")),
        static_folder="web/static",
        instance_relative_config=False,
    )
    settings = load_settings(app.instance_path, config)
    app.config.update(settings.flask_config())
    # Flask reads FLASK_DEBUG from the environment when the app is made: a stray variable on a server
    # would show tracebacks and reload templates. Debugging is `sdl-tracker run --debug`, which sets it.
    app.debug = False
    installation = open_installation(
        Path(settings.DATA_DIR),
        max_upload_bytes=settings.MAX_UPLOAD_BYTES,
        git_schemes=settings.git_schemes,
        audit_witness=Path(settings.AUDIT_WITNESS) if settings.AUDIT_WITNESS else None,
        smtp=smtp_relay(settings),
        webhooks=WebhookPolicy(http_loopback=settings.WEBHOOK_HTTP_LOOPBACK),
        csaf=CsafProviderSetup(
            gnupg_home=Path(settings.CSAF_GNUPGHOME) if settings.CSAF_GNUPGHOME.strip() else None,
            key_fingerprint=settings.CSAF_KEY_FINGERPRINT.strip(),
            base_url=settings.CSAF_BASE_URL.strip().rstrip("/"),
        ),
        cra=CraLegalFacts(settings.cra_harmonised_standards, settings.CRA_CRITICAL_SCHEME_REQUIRED),
    )
    app.extensions[SETTINGS_EXTENSION] = settings
    app.extensions[INSTALLATION_EXTENSION] = installation
    app.extensions[DB_EXTENSION] = Database(
        settings.DATABASE_URL,
        installation=installation,
        busy_timeout_ms=settings.SQLITE_BUSY_TIMEOUT_MS,
        lock_timeout_ms=settings.LOCK_TIMEOUT_MS,
        slow_write_ms=settings.SLOW_WRITE_MS,
    )
    logging.getLogger("sdl_tracker").setLevel(settings.LOG_LEVEL)
    if settings.TRUSTED_PROXIES:
        # Client addresses (throttling, audit origins) come from the proxies' headers, and only
        # from as many hops as are trusted.
        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    init_web(app, PAGES)
    init_api(app, API)
    set_token_authenticator(app, authenticate_api_token)
    set_principal_resolver(app, principal_for_email)
    set_release_summaries(app, release_summaries)
    set_case_decisions(app, vex_views.case_panel)
    set_component_decisions(app, vex_views.component_panel)
    set_evidence_panels(app, cra_views.threat_model_panel)
    connect_signals()
    register_job_kinds()
    return app
