"""Sign-in, password, user and membership forms."""

from __future__ import annotations

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

from ..auth import Role
from ..labels import labels
from ..web.forms import TrackerForm

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


class TokenForm(TrackerForm):
    """A new API token for oneself; product and scope choices are the user's own, set by the view."""

    name = StringField("What it is for", validators=[DataRequired(), Length(max=120)])
    products = SelectMultipleField("Products", coerce=int, validators=[Optional()])
    scopes = SelectMultipleField("Permissions", validators=[DataRequired(message="choose at least one permission")])
    expires_days = IntegerField("Expires after (days)", default=90, validators=[DataRequired(), NumberRange(1, 366)])
