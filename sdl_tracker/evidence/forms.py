"""Evidence forms: attach, edit (a new revision), review."""

from __future__ import annotations

import enum
import re
from datetime import date
from types import UnionType
from typing import Any, Union, get_args, get_origin

from flask_wtf.file import FileField, MultipleFileField
from pydantic import BaseModel
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..labels import labels
from ..web.forms import BoundedForm, TrackerForm
from .details import schema_for
from .models import EvidenceKind
from .vocabulary import TEST_KINDS, TesterIndependence

KIND_LABELS = labels(EvidenceKind)
INDEPENDENCE_LABELS = {
    TesterIndependence.NONE: "None (the developers themselves)",
    TesterIndependence.PERSON: "Independent person",
    TesterIndependence.DEPARTMENT: "Independent department",
    TesterIndependence.ORGANISATION: "Independent organisation",
}


def split_refs(text: str) -> list[str]:
    """`SR-2, SM-9` or one per line into ids."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


class EvidenceForm(TrackerForm):
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


class ReviewForm(TrackerForm):
    """Accept or reject."""

    # Nothing is preselected: a review is a choice the reviewer makes, never a default they overlooked.
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("accept", "Accept"), SelectChoice("reject", "Reject")],
        invalid_choice_message="Choose accept or reject.",
    )
    reason = TextAreaField("Reason (required to reject)", validators=[Optional(), Length(max=5000)])


def _field_for(name: str, info: Any, label: str) -> Any:
    """A WTForms field for one pydantic field (lists, such as imported threats, are not typed in).

    Every field is optional on the form: the schema decides, in the service, after a Threat Dragon
    import has filled what it can; its errors come back onto these fields.
    """
    annotation = info.annotation
    validators = [Optional()]
    hint = info.description or ""
    base = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    kind = args[0] if base in (Union, UnionType) and len(args) == 1 else annotation
    if kind is bool:
        return BooleanField(label, description=hint)
    if kind is int:
        return IntegerField(label, validators=[Optional()], description=hint)
    if kind is float:
        return FloatField(label, validators=[Optional()], description=hint)
    if kind is date:
        return DateField(label, validators=validators, description=hint)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        default = info.default.value if isinstance(info.default, enum.Enum) else None
        return SelectField(
            label,
            choices=[SelectChoice(m.value, text) for m, text in labels(kind).items()],
            default=default,
            description=hint,
        )
    if kind is str:
        return StringField(label, validators=[*validators, Length(max=1000)], description=hint)
    return None


def details_form_class(kind: EvidenceKind) -> type[Form] | None:
    """A form for the kind's details, generated from its schema (nested counts are flattened: findings__high)."""
    schema = schema_for(kind)
    if schema is None:
        return None
    attributes: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        label = name.replace("_", " ").capitalize()
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, sub_info in annotation.model_fields.items():
                field = _field_for(sub, sub_info, f"{label}: {sub}")
                if field is not None:
                    attributes[f"{name}__{sub}"] = field
            continue
        field = _field_for(name, info, label)
        if field is not None:
            attributes[name] = field
    return type(f"{schema.__name__}Form", (BoundedForm,), attributes)


def details_from(form: Form) -> dict[str, Any]:
    """The details a generated form carries, nested again, without fields left empty."""
    details: dict[str, Any] = {}
    for name, field in form._fields.items():
        value = field.data
        if value is None or value == "":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        parent, _, child = name.partition("__")
        if child:
            details.setdefault(parent, {})[child] = value
        else:
            details[parent] = value
    return details


def evidence_form_for(kind: EvidenceKind) -> type[EvidenceForm]:
    """The evidence form with the kind's details (as `details`) and, for threat models, a Threat Dragon upload."""
    attributes: dict[str, Any] = {}
    details_class = details_form_class(kind)
    if details_class is not None:
        attributes["details"] = FormField(details_class, separator="-")
        attributes["error_aliases"] = {
            f"details.{name.replace('__', '.')}": f"details.{name}" for name in details_class()._fields if "__" in name
        }
    if kind is EvidenceKind.THREAT_MODEL:
        attributes["threat_dragon"] = FileField("OWASP Threat Dragon model (JSON)")
    if kind in TEST_KINDS:
        attributes["tester_independence"] = SelectField(
            "Tester independence",
            choices=[
                SelectChoice("", "Not stated"),
                *(SelectChoice(t.value, INDEPENDENCE_LABELS[t]) for t in TesterIndependence),
            ],
            validators=[Optional()],
        )
    return type(f"EvidenceForm_{kind.name}", (EvidenceForm,), attributes)


class MaturityForm(TrackerForm):
    """A practice's self-assessed maturity level."""

    practice = SelectField("Practice")
    level = SelectField("Level", choices=[SelectChoice(str(n), f"ML{n}") for n in (1, 2, 3, 4)])
    rationale = TextAreaField("Rationale", validators=[DataRequired(), Length(max=5000)])
    assessed_on = DateField("Assessed on", validators=[DataRequired()])


class ScopingForm(TrackerForm):
    """Scope a requirement out of the product (SM-5)."""

    requirement = SelectField("Requirement", validate_choice=False)  # the service knows the product's edition
    justification = TextAreaField("Justification", validators=[DataRequired(), Length(max=5000)])


class WithdrawScopingForm(TrackerForm):
    """Withdraw a scoping-out."""

    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=5000)])


class AcceptScopingForm(TrackerForm):
    """Accept a scoping-out (the CSRF token is all it carries)."""


class IntervalForm(TrackerForm):
    """A kind's review interval for the product."""

    kind = SelectField("Kind", choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    months = StringField("Months", validators=[DataRequired(), Length(max=10)], description="1-120, never, or default")
