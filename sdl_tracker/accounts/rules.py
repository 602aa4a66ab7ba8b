"""Pure rules of accounts: sign-in throttling (how many failures, in what window, lock for how long), who
manages which memberships, and how token permissions are named for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..auth import Permission, Role


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failures allowed within `window` before the key is locked for `lockout`."""

    max_failures: int
    window: timedelta
    lockout: timedelta


# Per account: few tries, so guessing one password is slow. Per address: more, since an office
# behind one NAT address shares the budget; it stops one client from spraying many accounts.
ACCOUNT_POLICY = ThrottlePolicy(max_failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
ADDRESS_POLICY = ThrottlePolicy(max_failures=30, window=timedelta(minutes=15), lockout=timedelta(minutes=15))


@dataclass(frozen=True)
class ThrottleState:
    """What is remembered for one key (an account or a client address)."""

    failures: int
    window_start: datetime
    locked_until: datetime | None


def locked_for(state: ThrottleState | None, now: datetime) -> timedelta | None:
    """How much longer the key is locked, or None when it may try."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until - now


def after_failure(state: ThrottleState | None, now: datetime, policy: ThrottlePolicy) -> ThrottleState:
    """The state after one more failure: a new window when the old one ended, a lock at the limit."""
    if state is None or now - state.window_start >= policy.window:
        state = ThrottleState(failures=0, window_start=now, locked_until=None)
    failures = state.failures + 1
    locked_until = now + policy.lockout if failures >= policy.max_failures else state.locked_until
    return ThrottleState(failures=failures, window_start=state.window_start, locked_until=locked_until)


def wait_message(remaining: timedelta) -> str:
    """`try again in 7 minutes`, rounded up so the person never comes back too early."""
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return f"try again in {minutes} minute{'s' if minutes != 1 else ''}"


# A product's security officers manage its developers and auditors; its officers are an administrator's.
OFFICER_MANAGED_ROLES = (Role.DEVELOPER, Role.AUDITOR)
NOT_AN_OFFICER = "only the product's security officers and administrators manage its members"
OFFICERS_ARE_ADMINS = "only an administrator grants, changes or takes away a security officer's role"


def membership_change_refusal(
    *, is_admin: bool, actor_role: Role | None, old: Role | None, new: Role | None
) -> str | None:
    """Why the actor may not move a membership from `old` to `new` (None: no membership), or None when they may.

    An officer's own membership is a security officer's, so no officer changes (or escalates) their own."""
    if is_admin:
        return None
    if actor_role is not Role.SECURITY_OFFICER:
        return NOT_AN_OFFICER
    if any(role is not None and role not in OFFICER_MANAGED_ROLES for role in (old, new)):
        return OFFICERS_ARE_ADMINS
    return None


def manageable_roles(*, is_admin: bool, actor_role: Role | None) -> list[Role]:
    """The roles the actor may give or take away in a product (the choices a members form offers)."""
    if is_admin:
        return list(Role)
    return list(OFFICER_MANAGED_ROLES) if actor_role is Role.SECURITY_OFFICER else []


@dataclass(frozen=True)
class ScopeLabel:
    """How a token permission is shown to people: its group, a label and what it allows."""

    group: str
    label: str
    allows: str


SCOPE_LABELS: dict[Permission, ScopeLabel] = {
    Permission.PRODUCT_READ: ScopeLabel("Read", "Read products", "See the named products and everything in them."),
    Permission.AUDIT_READ: ScopeLabel("Read", "Read the audit log", "Read the audit events of the named products."),
    Permission.DOSSIER_EXPORT: ScopeLabel(
        "Read", "Export dossiers", "Build and download signed certification dossiers."
    ),
    Permission.EVIDENCE_ATTACH: ScopeLabel(
        "Contribute", "Attach evidence", "Add and revise evidence items (CI jobs, git hooks)."
    ),
    Permission.SBOM_UPLOAD: ScopeLabel("Contribute", "Upload SBOMs", "Upload CycloneDX SBOMs to releases."),
    Permission.EVIDENCE_REVIEW: ScopeLabel("Decide", "Review evidence", "Accept or reject other people's evidence."),
    Permission.CLAIMS_MANAGE: ScopeLabel("Decide", "Manage claims", "Set and accept IEC 62443-4-2 capability claims."),
    Permission.GATE_SIGNOFF: ScopeLabel("Decide", "Sign off gates", "Sign off a release's gate."),
    Permission.PRODUCT_MANAGE: ScopeLabel(
        "Manage", "Manage products", "Edit the named products' details and their members."
    ),
    Permission.RELEASE_MANAGE: ScopeLabel("Manage", "Manage releases", "Create releases and change their state."),
    Permission.REPOSITORY_MANAGE: ScopeLabel(
        "Manage", "Manage repositories", "Register repositories and start commit scans."
    ),
    Permission.PSIRT_MANAGE: ScopeLabel("Manage", "Handle vulnerabilities", "Open and update PSIRT cases."),
    Permission.PRODUCT_CREATE: ScopeLabel("Administer", "Create products", "Create new products (administrators)."),
    Permission.USERS_MANAGE: ScopeLabel(
        "Administer", "Manage users", "Create, disable and promote users; all memberships (administrators)."
    ),
    Permission.ORGANISATION_MANAGE: ScopeLabel(
        "Administer", "Manage organisation evidence", "Organisation-wide process documents (administrators)."
    ),
    Permission.CATALOG_MANAGE: ScopeLabel(
        "Administer", "Manage catalogs", "Load standards' catalog editions (administrators)."
    ),
}


def scope_groups(scopes: list[Permission]) -> list[tuple[str, list[Permission]]]:
    """The scopes by group, groups in the order they first appear in SCOPE_LABELS (read before write)."""
    order = list(dict.fromkeys(label.group for label in SCOPE_LABELS.values()))
    by_group: dict[str, list[Permission]] = {}
    for scope in sorted(scopes, key=list(SCOPE_LABELS).index):
        by_group.setdefault(SCOPE_LABELS[scope].group, []).append(scope)
    return [(group, by_group[group]) for group in order if group in by_group]
