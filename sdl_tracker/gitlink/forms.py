"""The commits page's filter (a GET form: it changes nothing, so it carries no CSRF token), and the form that
registers a signing key."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import BoundedForm, TrackerForm
from .verifier import MAX_KEY_BYTES

SHOW_CHOICES = [
    SelectChoice("", "Every commit"),
    SelectChoice("unreviewed", "Not reviewed"),
    SelectChoice("reviewed", "Reviewed"),
]


class CommitFilterForm(BoundedForm):
    """Which of a release's commits to list."""

    show = SelectField("Show", choices=SHOW_CHOICES, default="")


class SigningKeyForm(TrackerForm):
    """Register a public key one signs commits with."""

    public_key = TextAreaField(
        "Public key", validators=[DataRequired(message="paste a public key"), Length(max=MAX_KEY_BYTES)]
    )
    label = StringField("Label", validators=[Optional(), Length(max=200)])
