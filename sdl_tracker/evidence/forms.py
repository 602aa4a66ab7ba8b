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
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..boundary import MAX_ID, parse_whole
from ..errors import FieldError, Invalid
from ..labels import labels
from ..web.forms import BoundedForm, TrackerForm
from .details import schema_for
from .models import EvidenceKind, ReviewState
from .triage import EvidenceFilter
from .vocabulary import TEST_KINDS, TesterIndependence

KIND_LABELS = labels(EvidenceKind)
INDEPENDENCE_LABELS = {
    TesterIndependence.NONE: "None (the developers themselves)",
    TesterIndependence.PERSON: "Independent person",
    TesterIndependence.DEPARTMENT: "Independent department",
    TesterIndependence.ORGANISATION: "Independent organisation",
}


def split_refs(text: str | list[str] | None) -> list[str]:
    """`SR-2, SM-9` or one per line (or a list of such, from checkboxes) into ids."""
    texts = text if isinstance(text, list) else [text or ""]
    return list(dict.fromkeys(part.strip() for t in texts for part in re.split(r"[,;\n]", t) if part.strip()))


class EvidenceForm(TrackerForm):
    """Attach evidence, or edit it (which makes a new revision)."""

    kind = SelectField("Kind", choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    # Checkboxes (the page fills the choices from the catalogs); a comma-separated value is still read, so a
    # link such as ?requirements=SR-2 and older clients keep working. The service decides what is known.
    requirements = SelectMultipleField(
        "Requirements it shows",
        validate_choice=False,
        validators=[DataRequired("Choose at least one requirement."), Length(max=200)],
    )
    releases = SelectMultipleField("Releases", validators=[Optional()])
    effective_date = DateField("Effective date", validators=[Optional()])
    author = StringField("Author", validators=[Optional(), Length(max=200)])
    review_due = DateField("Review due", validators=[Optional()])
    description = TextAreaField("Description (Markdown)", validators=[Optional(), Length(max=50_000)])
    files = MultipleFileField("Files")


STATE_CHOICES = [SelectChoice("", "Any state"), *(SelectChoice(s.value, s.value.capitalize()) for s in ReviewState)]
SORT_LABELS = {
    "created": "Age (attached)",
    "updated": "Last revised",
    "title": "Title",
    "state": "State",
    "expiry": "Expiry",
}


class EvidenceFilterForm(BoundedForm):
    """Filters, search and sorting of an evidence list (a GET form: it changes nothing, so no CSRF token);
    the API's list reads the same arguments through it."""

    q = StringField("Search titles and descriptions", validators=[Optional(), Length(max=200)])
    state = SelectField("State", choices=STATE_CHOICES, default="")
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any kind"), *(SelectChoice(k.value, t) for k, t in KIND_LABELS.items())],
        default="",
    )
    requirement = StringField("Requirement", validators=[Optional(), Length(max=40)], description="an id, e.g. SR-2")
    release = StringField("Release", validators=[Optional(), Length(max=64)])
    submitter = StringField("Submitted by", validators=[Optional(), Length(max=400)])
    expiry = SelectField(
        "Expiry",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("expired", "Expired"),
            SelectChoice("due", "Expires within the days below"),
        ],
        default="",
    )
    days = IntegerField("Days", validators=[Optional(), NumberRange(min=1, max=3650)], default=30)
    sort = SelectField("Sort by", choices=[SelectChoice(k, v) for k, v in SORT_LABELS.items()], default="created")
    order = SelectField(
        "Order", choices=[SelectChoice("desc", "Descending"), SelectChoice("asc", "Ascending")], default="desc"
    )


class BulkReviewForm(TrackerForm):
    """Accept or reject the items ticked on a list; each is `evidence id:revision number` as the list showed it."""

    items = SelectMultipleField("Items", validate_choice=False, validators=[DataRequired("Tick at least one item.")])
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("accept", "Accept"), SelectChoice("reject", "Reject")],
        invalid_choice_message="Choose accept or reject.",
    )
    reason = TextAreaField("Reason (required to reject)", validators=[Optional(), Length(max=5000)])

    def chosen(self) -> list[tuple[int, int]]:
        """The ticked items as (evidence id, revision number); ticks that are not such pairs are refused."""
        pairs: list[tuple[int, int]] = []
        for value in self.items.data or []:
            evidence_id, _, number = value.partition(":")
            first, second = parse_whole(evidence_id), parse_whole(number)
            if first is None or second is None or not (1 <= first <= MAX_ID and 1 <= second <= MAX_ID):
                raise Invalid.field("items", f"not an item of the list: {value[:40]}")
            pairs.append((first, second))
        return pairs  # how many at once is the service's rule (triage.MAX_BULK), the same for the API


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


def filter_of(form: EvidenceFilterForm, release_id: int | None) -> EvidenceFilter:
    """The service's filter from a validated filter form (`release` already looked up as `release_id`)."""
    return EvidenceFilter(
        state=ReviewState(form.state.data) if form.state.data else None,
        kind=EvidenceKind(form.kind.data) if form.kind.data else None,
        requirement=form.requirement.data or "",
        release_id=release_id,
        submitter=form.submitter.data or "",
        expiry=form.expiry.data if form.expiry.data in ("expired", "due") else "",
        days=form.days.data or 30,
        text=form.q.data or "",
        sort=form.sort.data,
        descending=form.order.data != "asc",
    )


def filter_problem(form: EvidenceFilterForm) -> Invalid | None:
    """The filter form's errors as the API's refusal (None when it is valid)."""
    if form.validate():
        return None
    return Invalid("the filter is invalid", errors=[FieldError(k, v[0]) for k, v in form.errors.items()])
