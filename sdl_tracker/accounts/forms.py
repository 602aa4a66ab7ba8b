"""Sign-in, password, user and membership forms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth import Permission, Role
from ..labels import labels
from ..web.forms import TrackerForm
from ..zones import zone_names

ROLE_LABELS = labels(Role)


class LoginForm(TrackerForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordChangeForm(TrackerForm):
    """Change one's own password."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("new_password", message="the passwords differ")]
    )


class TimeZoneForm(TrackerForm):
    """The zone one's pages show times in; the first choice (no zone) is UTC."""

    time_zone = SelectField("Show times in", default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = list(time_zone_choices())

    def chosen(self) -> str | None:
        """The zone chosen, None for UTC by default."""
        return self.time_zone.data or None


@lru_cache(maxsize=1)
def time_zone_choices() -> tuple[SelectChoice, ...]:
    """UTC by default, then every IANA zone by name (built once: the zone data does not change while serving)."""
    return (SelectChoice("", "UTC (default)"), *(SelectChoice(name) for name in zone_names()))


class UserCreateForm(TrackerForm):
    """A new user (administrators)."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])
    is_admin = BooleanField("Administrator")


class MemberForm(TrackerForm):
    """Give a user a role in a product."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    role = SelectField("Role", choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()])


class MemberRemoveForm(TrackerForm):
    """Take a role away (the button of one member row)."""

    email = EmailField(validators=[DataRequired(), Length(max=320)])
    role = SelectField(choices=[SelectChoice(r.value) for r in Role])


class ActionForm(TrackerForm):
    """A button that changes something: carries only the CSRF token."""


class CheckboxesField(SelectMultipleField):
    """Several choices as labelled checkboxes (usable without Ctrl-click, and read aloud one by one)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(TrackerForm):
    """A new API token for oneself; product and scope choices are the user's own, set by the view."""

    name = StringField("What it is for", validators=[DataRequired(), Length(max=120)])
    products = CheckboxesField("Products", coerce=int, validators=[Optional()])
    scopes = CheckboxesField(
        "Permissions",
        default=["product:read"],
        validators=[DataRequired(message="choose at least one permission")],
    )
    expires_days = IntegerField("Expires after (days)", default=90, validators=[DataRequired(), NumberRange(1, 366)])


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
    Permission.SBOM_UPLOAD: ScopeLabel("Contribute", "Upload SBOMs", "Upload SBOMs (CycloneDX, SPDX) to releases."),
    Permission.ARTIFACT_RECORD: ScopeLabel(
        "Contribute", "Record build artifacts", "Record the name, size and SHA-256 of each file a release's build made."
    ),
    Permission.COMMITS_SUBMIT: ScopeLabel(
        "Contribute", "Deliver commits", "Send commits from git hooks and CI; their trailers become evidence."
    ),
    Permission.EVIDENCE_REVIEW: ScopeLabel("Decide", "Review evidence", "Accept or reject other people's evidence."),
    Permission.CLAIMS_MANAGE: ScopeLabel("Decide", "Manage claims", "Set and accept IEC 62443-4-2 capability claims."),
    Permission.GATE_SIGNOFF: ScopeLabel("Decide", "Sign off gates", "Sign off a release's gate."),
    Permission.VEX_DECIDE: ScopeLabel(
        "Decide", "Decide VEX statements", "Record and confirm whether releases are affected by vulnerabilities."
    ),
    Permission.CRA_MANAGE: ScopeLabel(
        "Decide",
        "Keep the CRA file",
        "Record Annex I applicability, the risk assessment, support period, user information and declaration data.",
    ),
    Permission.SIGNING_KEYS_MANAGE: ScopeLabel(
        "Manage",
        "Manage my signing keys",
        "Register and remove the OpenPGP and SSH keys your commits are verified with.",
    ),
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
