"""The decision form of a substantial-modification signal."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import TrackerForm
from .services import MAX_REASON

VERDICTS = [
    SelectChoice("confirmed", "Confirm: a substantial modification"),
    SelectChoice("dismissed", "Dismiss: not one"),
]


class DecisionForm(TrackerForm):
    """Confirm or dismiss one signal (its key in a hidden field); dismissing needs a reason."""

    key = HiddenField(validators=[DataRequired(), Length(max=5000)])
    verdict = RadioField(
        "Decision",
        choices=VERDICTS,
        validators=[DataRequired(message="Choose a decision.")],
        invalid_choice_message="Choose confirm or dismiss.",
    )
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=MAX_REASON)])
