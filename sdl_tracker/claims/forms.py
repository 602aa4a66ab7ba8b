"""The claim form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, Optional

from .rules import ClaimStatus, Verification

STATUS_LABELS = {
    ClaimStatus.IMPLEMENTED: "Implemented",
    ClaimStatus.PARTIALLY_IMPLEMENTED: "Partially implemented",
    ClaimStatus.NOT_IMPLEMENTED: "Not implemented",
    ClaimStatus.NOT_APPLICABLE: "Not applicable (justify)",
    ClaimStatus.COMPENSATED: "Met by a compensating countermeasure (describe)",
}


def _optional_id(value: object) -> int | None:
    # The empty choice is "no documentation"; anything else is an evidence id.
    return int(str(value)) if value not in (None, "", "None") else None


class ClaimForm(FlaskForm):
    """Set one claim."""

    status = SelectField("Status", choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()])
    verification = SelectField(
        "Verified by",
        choices=[SelectChoice("", "—"), *(SelectChoice(v.value, v.value.replace("_", " ")) for v in Verification)],
    )
    evidence = SelectMultipleField("Evidence", coerce=int, validators=[Optional()])
    justification = TextAreaField("Justification", validators=[Optional(), Length(max=10_000)])
    countermeasure = TextAreaField("Compensating countermeasure", validators=[Optional(), Length(max=10_000)])
    documentation = SelectField("User documentation (SG-1/SG-2)", coerce=_optional_id, validators=[Optional()])
    override_reason = TextAreaField(
        "Override: why this unconditional item does not apply", validators=[Optional(), Length(max=10_000)]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])
