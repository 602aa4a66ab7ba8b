"""The audit log filter (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from ..web.forms import BoundedForm


class EventFilterForm(BoundedForm):
    """Filter by actor, action, target and time."""

    actor = StringField("Actor", validators=[Optional(), Length(max=200)])
    action = StringField("Action", validators=[Optional(), Length(max=80)])
    target = StringField("Target", validators=[Optional(), Length(max=120)])
    since = DateField("From", validators=[Optional()])
    until = DateField("Until", validators=[Optional()])
