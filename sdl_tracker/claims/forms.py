"""The claim form, and how claims read on pages."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..labels import labels
from ..web.forms import TrackerForm
from .rules import ClaimStatus, Verification

# The form's choices: each says what it asks for.
STATUS_LABELS = {
    ClaimStatus.IMPLEMENTED: "Implemented",
    ClaimStatus.PARTIALLY_IMPLEMENTED: "Partially implemented",
    ClaimStatus.NOT_IMPLEMENTED: "Not implemented",
    ClaimStatus.NOT_APPLICABLE: "Not applicable (justify)",
    ClaimStatus.COMPENSATED: "Met by a compensating countermeasure (describe)",
}
# How a stored claim reads for people (the API and `--json` keep the enum values).
STATUS_NAMES = labels(ClaimStatus)
VERIFICATION_LABELS = labels(Verification)


def _optional_id(value: object) -> int | None:
    # The empty choice is "no documentation"; anything else is an evidence id.
    return int(str(value)) if value not in (None, "", "None") else None


class ClaimForm(TrackerForm):
    """Set one claim."""

    # No status is preselected: a claim someone did not choose must not read as "implemented".
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "— choose —"), *(SelectChoice(s.value, label) for s, label in STATUS_LABELS.items())],
        default="",
        validators=[DataRequired(message="Choose a status.")],
    )
    verification = SelectField(
        "Verified by",
        choices=[SelectChoice("", "—"), *(SelectChoice(v.value, label) for v, label in VERIFICATION_LABELS.items())],
    )
    evidence = SelectMultipleField("Evidence", coerce=int, validators=[Optional()])
    justification = TextAreaField("Justification", validators=[Optional(), Length(max=10_000)])
    countermeasure = TextAreaField("Compensating countermeasure", validators=[Optional(), Length(max=10_000)])
    documentation = SelectField("User documentation (SG-1/SG-2)", coerce=_optional_id, validators=[Optional()])
    override_reason = TextAreaField(
        "Override: why this unconditional item does not apply", validators=[Optional(), Length(max=10_000)]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])
