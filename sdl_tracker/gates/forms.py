"""The gate page's forms (a waiver, a sign-off, revoking and evaluating) and the policy page's YAML form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import TrackerForm
from .policy import MAX_YAML_BYTES

JUSTIFICATION_MAX = 10_000
NOTE_MAX = 10_000


def expiry_instant(day: date) -> datetime:
    """A waiver that expires "on" a day holds through it: it ends at the next midnight UTC (docs/gates.md)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


class WaiverForm(TrackerForm):
    """Waive one failing, waivable rule with a justification until a day."""

    rule = HiddenField("Rule", validators=[DataRequired(), Length(max=40)])
    justification = TextAreaField("Justification", validators=[DataRequired(), Length(max=JUSTIFICATION_MAX)])
    expires_on = DateField("Expires on", validators=[DataRequired()], description="the waiver holds through this day")

    def rule_id(self) -> str:
        """The rule named, as the service takes it (it refuses an unknown one)."""
        return (self.rule.data or "").strip()

    # The service names the expiry `expires_at`: its refusal lands on this field.
    error_aliases = {"expires_at": "expires_on"}  # noqa: RUF012 - read only


class SignoffForm(TrackerForm):
    """Sign off the release's current, passing gate."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)])


class ActionForm(TrackerForm):
    """A button (evaluate now, revoke a waiver, reset the policy): its CSRF token only."""


class PolicyForm(TrackerForm):
    """The product's gate policy as YAML."""

    document = TextAreaField("Policy (YAML)", validators=[DataRequired(), Length(max=MAX_YAML_BYTES)])
