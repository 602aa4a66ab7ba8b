"""The CRA file's web forms."""

from __future__ import annotations

from wtforms import RadioField, SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..web.forms import TrackerForm
from .applicability import TEXT_MAX

# === Annex I applicability and the mapping version (applicability) ===

APPLICABLE, NOT_APPLICABLE = "yes", "no"


class PointForm(TrackerForm):
    """How one Annex I point applies to a release, its measures and the evidence linked to it by hand."""

    applicable = RadioField(
        "Does it apply to this release?",
        choices=[SelectChoice(APPLICABLE, "Applicable"), SelectChoice(NOT_APPLICABLE, "Not applicable (justify)")],
        validators=[InputRequired(message="Say whether the point applies.")],
    )
    justification = TextAreaField("Justification", validators=[Optional(), Length(max=TEXT_MAX)])
    measures = TextAreaField("Measures that implement it", validators=[Optional(), Length(max=TEXT_MAX)])
    evidence_ids = SelectMultipleField("Other evidence", coerce=int, validators=[Optional()])


class MappingForm(TrackerForm):
    """Move a release on to a newer version of the IEC 62443 -> CRA mapping (choices: the newer versions)."""

    version = SelectField(
        "Newer mapping version",
        validators=[DataRequired(message="Choose a newer mapping version.")],
        validate_choice=False,  # the service names a version that is not newer
    )


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
