"""Evidence forms: attach, edit (a new revision), review."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import EvidenceKind

KIND_LABELS = {kind: kind.value.replace("-", " ").capitalize() for kind in EvidenceKind}


def split_refs(text: str) -> list[str]:
    """`SR-2, SM-9` or one per line into ids."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


class EvidenceForm(FlaskForm):
    """Attach evidence, or edit it (which makes a new revision)."""

    kind = SelectField("Kind", choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    requirements = StringField("Requirements it shows", validators=[DataRequired(), Length(max=2000)])
    releases = SelectMultipleField("Releases", validators=[Optional()])
    effective_date = DateField("Effective date", validators=[Optional()])
    author = StringField("Author", validators=[Optional(), Length(max=200)])
    review_due = DateField("Review due", validators=[Optional()])
    description = TextAreaField("Description (Markdown)", validators=[Optional(), Length(max=50_000)])
    files = MultipleFileField("Files")


class ReviewForm(FlaskForm):
    """Accept or reject."""

    decision = SelectField("Decision", choices=[SelectChoice("accept", "Accept"), SelectChoice("reject", "Reject")])
    reason = TextAreaField("Reason (required to reject)", validators=[Optional(), Length(max=5000)])
