"""The CRA file's web forms."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import (
    DateField,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..evidence.models import Evidence
from ..web.forms import BoundedForm, TrackerForm
from .applicability import TEXT_MAX
from .declarations import LINE_LIMITS, TEXT_LIMITS, DeclarationInput, EvidenceChoice, UserInformationInput
from .models import RiskAssessment
from .records import RISK_TEXT_FIELDS, RISK_TEXT_MAX, SUPPORT_TEXT_MAX, RiskAssessmentInput, SupportPeriodInput
from .rules import (
    OTHER_STANDARDS_MAX,
    PUBLISHED_URL_MAX,
    ROUTE_LABELS,
    STANDARD_REFERENCE_MAX,
    USER_INFORMATION_ITEMS,
    USER_INFORMATION_TEXT_MAX,
    ConformityRoute,
    PresumptionBasis,
    parse_support_end,
    stated_end,
)

# --- Annex I applicability and the mapping version ---

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


# --- risk assessment and support period ---


def _evidence_id(value: object) -> int | None:
    """A threat model's id as the select sends it ('' : none); not a number: "could not coerce"."""
    return None if value in ("", None) else int(str(value))


class RiskAssessmentForm(TrackerForm):
    """A new revision of the product's risk assessment (Art. 13(2)-(3))."""

    intended_purpose = TextAreaField("Intended purpose", validators=[Optional(), Length(max=RISK_TEXT_MAX)])
    foreseeable_use = TextAreaField("Reasonably foreseeable use", validators=[Optional(), Length(max=RISK_TEXT_MAX)])
    foreseeable_misuse = TextAreaField(
        "Reasonably foreseeable misuse", validators=[Optional(), Length(max=RISK_TEXT_MAX)]
    )
    operational_environment = TextAreaField(
        "Operational environment", validators=[Optional(), Length(max=RISK_TEXT_MAX)]
    )
    assets = TextAreaField("Assets to protect", validators=[Optional(), Length(max=RISK_TEXT_MAX)])
    expected_use_months = IntegerField("Expected use time (months)", validators=[Optional()])
    # The view offers the product's threat models; the service refuses any other item.
    threat_model_evidence_id = SelectField(
        "Threat model it rests on", choices=[], coerce=_evidence_id, validate_choice=False, default=None
    )

    def fill(self, revision: RiskAssessment) -> None:
        """Show a recorded revision, to change it into the next."""
        for name in (*RISK_TEXT_FIELDS, "expected_use_months", "threat_model_evidence_id"):
            getattr(self, name).data = getattr(revision, name)

    def offer(self, models: list[Evidence]) -> None:
        """Offer the product's threat models (newest first) in the select."""
        self.threat_model_evidence_id.choices = [
            SelectChoice("", "— none —"),
            *(SelectChoice(model.id, f"#{model.id} {model.current.title}") for model in models),
        ]

    def assessment(self) -> RiskAssessmentInput:
        """The revision as the service takes it."""
        texts = {name: getattr(self, name).data or "" for name in RISK_TEXT_FIELDS}
        return RiskAssessmentInput(
            **texts,
            expected_use_months=self.expected_use_months.data,
            threat_model_evidence_id=self.threat_model_evidence_id.data,
        )


class SupportPeriodForm(TrackerForm):
    """How the product's support period was set (Art. 13(8)); its end becomes the product's."""

    starts_on = DateField("Placed on the market (support starts)", validators=[Optional()])
    ends_on = StringField(
        "Support ends (YYYY-MM: with that month; or YYYY-MM-DD)", validators=[Optional(), Length(max=10)]
    )
    expected_use_months = IntegerField("Expected use time (months)", validators=[Optional()])
    method = TextAreaField("How the period was set", validators=[Optional(), Length(max=SUPPORT_TEXT_MAX)])
    shorter_reason = TextAreaField(
        "Why it is shorter than 5 years (only then)", validators=[Optional(), Length(max=SUPPORT_TEXT_MAX)]
    )
    published_where = StringField(
        "Where the end date is published (a URL, or a short description)",
        validators=[Optional(), Length(max=PUBLISHED_URL_MAX)],
    )

    def validate_ends_on(self, field: StringField) -> None:
        """A month or a day, as the law asks for at least month and year."""
        if field.data and parse_support_end(field.data) is None:
            raise ValidationError("Give the end as YYYY-MM (the period ends with that month) or YYYY-MM-DD.")

    def fill(self, period: SupportPeriodInput) -> None:
        """Show the recorded period (records.support_period_input), to change or confirm it."""
        self.starts_on.data = period.starts_on
        self.ends_on.data = stated_end(period.ends_on, period.ends_precision) if period.ends_on else ""
        for name in ("expected_use_months", "method", "shorter_reason", "published_where"):
            getattr(self, name).data = getattr(period, name)

    def period(self) -> SupportPeriodInput:
        """The period as the service takes it (no end: the service names it as missing)."""
        ends, precision = parse_support_end(self.ends_on.data or "") or (None, "month")
        return SupportPeriodInput(
            starts_on=self.starts_on.data,
            ends_on=ends,
            ends_precision=precision,
            expected_use_months=self.expected_use_months.data,
            method=self.method.data or "",
            shorter_reason=self.shorter_reason.data or "",
            published_where=self.published_where.data or "",
        )


# --- Annex II user information and declaration of conformity ---


def _whole_or_empty(_form: Any, field: Any) -> None:
    if field.data and not str(field.data).isdigit():
        raise ValidationError("Choose a document from the list.")


class UserInformationItemForm(BoundedForm):
    """One Annex II item: its text and a document (an evidence item); neither removes it."""

    text = TextAreaField("Text", validators=[Optional(), Length(max=USER_INFORMATION_TEXT_MAX)])
    # Choices are the release's documents (set per request); a stale one is the service's to refuse.
    evidence_id = SelectField("Document", choices=[], default="", validate_choice=False, validators=[_whole_or_empty])


def item_field(ref: str) -> str:
    """The form's field of an Annex II item (`AII.8a` -> `AII_8a`: a dot would split WTForms' names)."""
    return ref.replace(".", "_")


class UserInformationForm(TrackerForm):
    """Every Annex II item of a release's user information (the items' fields are added below)."""

    # The service names fields `items.AII.1.text`; on the page they are `AII_1-text`.
    error_aliases: ClassVar[dict[str, str]] = {
        f"items.{ref}{part}": f"{item_field(ref)}.{name}"
        for ref, _title in USER_INFORMATION_ITEMS
        for part, name in (("", "text"), (".text", "text"), (".evidence_id", "evidence_id"))
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for ref, _title in USER_INFORMATION_ITEMS:  # every item's fields say whose they are
            self.item(ref).text.label.text = f"Text of {ref}"
            self.item(ref).evidence_id.label.text = f"Document of {ref}"

    def item(self, ref: str) -> UserInformationItemForm:
        """The sub-form of one item."""
        form: UserInformationItemForm = self[item_field(ref)].form
        return form

    def offer(self, choices: list[EvidenceChoice], kept: dict[int, str]) -> None:
        """Offer the release's documents in every item's select, plus a recorded one that no longer covers it."""
        offered = [SelectChoice("", "— no document —")]
        offered += [SelectChoice(str(c.id), f"#{c.id} {c.title} ({c.scope}, {c.state})") for c in choices]
        listed = {c.id for c in choices}
        offered += [
            SelectChoice(str(i), f"#{i} {title} (does not cover this release)")
            for i, title in kept.items()
            if i not in listed
        ]
        for ref, _title in USER_INFORMATION_ITEMS:
            self.item(ref).evidence_id.choices = offered

    def items(self) -> dict[str, UserInformationInput]:
        """Every item as the service takes it."""
        found = {}
        for ref, _title in USER_INFORMATION_ITEMS:
            item = self.item(ref)
            chosen = item.evidence_id.data or ""
            found[ref] = UserInformationInput(item.text.data or "", int(chosen) if chosen else None)
        return found


for _ref, _title in USER_INFORMATION_ITEMS:
    setattr(UserInformationForm, item_field(_ref), FormField(UserInformationItemForm, label=f"{_ref} {_title}"))


BASIS_LABELS = {
    PresumptionBasis.HARMONISED_STANDARD: "A harmonised standard cited in the Official Journal",
    PresumptionBasis.COMMON_SPECIFICATION: "A common specification",
    PresumptionBasis.CERTIFICATION_SCHEME: "A European cybersecurity certification scheme",
}


def _line(label: str, name: str) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=max(LINE_LIMITS[name], 20))])


def _text(label: str, name: str) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=TEXT_LIMITS[name])])


class DeclarationForm(TrackerForm):
    """The data of a release's EU declaration of conformity (Annex V) and its conformity route."""

    manufacturer_name = _line("Manufacturer's name", "manufacturer_name")
    manufacturer_address = _text("Manufacturer's address", "manufacturer_address")
    representative = _text("Authorised representative (name and address, if any)", "representative")
    product_identification = _text("Product: name, type and version (Annex V point 1)", "product_identification")
    object_description = _text("Object of the declaration (Annex V point 4)", "object_description")
    # The routes the product's category allows are set per request; a stale one is the service's to refuse.
    conformity_route = SelectField(
        "Conformity assessment route (Art. 32)", choices=[], default="", validate_choice=False
    )
    presumption_basis = SelectField(
        "Applied in full (module A of an important product of class I only)",
        choices=[SelectChoice("", "—"), *(SelectChoice(b.value, t) for b, t in BASIS_LABELS.items())],
        default="",
        validate_choice=False,
    )
    presumption_basis_reference = _line("Its reference", "presumption_basis_reference")
    notified_body_name = _line("Notified body's name", "notified_body_name")
    notified_body_number = _line("Notified body's number", "notified_body_number")
    certificate_reference = _line("Certificate issued", "certificate_reference")
    other_standards = TextAreaField(
        "Other standards and specifications applied, one a line",
        validators=[Optional(), Length(max=OTHER_STANDARDS_MAX * (STANDARD_REFERENCE_MAX + 2))],
    )
    declaration_url = _line("Internet address of the declaration", "declaration_url")
    place_of_issue = _line("Place of issue", "place_of_issue")
    date_of_issue = DateField("Date of issue", validators=[Optional()])
    signatory_name = _line("Signed by (name)", "signatory_name")
    signatory_function = _line("Signed for (function)", "signatory_function")

    def offer(self, routes: tuple[ConformityRoute, ...], recorded: str) -> None:
        """Offer the routes the product's category allows, and the recorded one if it no longer is."""
        offered = [SelectChoice("", "— not chosen yet —"), *(SelectChoice(r.value, ROUTE_LABELS[r]) for r in routes)]
        if recorded and recorded not in {r.value for r in routes}:
            label = ROUTE_LABELS.get(ConformityRoute(recorded), recorded)
            offered.append(SelectChoice(recorded, f"{label} (not open to this category)"))
        self.conformity_route.choices = offered

    def declaration(self) -> DeclarationInput:
        """The declaration as the service takes it."""
        return DeclarationInput(
            manufacturer_name=self.manufacturer_name.data or "",
            manufacturer_address=self.manufacturer_address.data or "",
            representative=self.representative.data or "",
            product_identification=self.product_identification.data or "",
            object_description=self.object_description.data or "",
            conformity_route=self.conformity_route.data or "",
            presumption_basis=self.presumption_basis.data or "",
            presumption_basis_reference=self.presumption_basis_reference.data or "",
            notified_body_name=self.notified_body_name.data or "",
            notified_body_number=self.notified_body_number.data or "",
            certificate_reference=self.certificate_reference.data or "",
            other_standards=(self.other_standards.data or "").splitlines(),
            declaration_url=self.declaration_url.data or "",
            place_of_issue=self.place_of_issue.data or "",
            date_of_issue=self.date_of_issue.data,
            signatory_name=self.signatory_name.data or "",
            signatory_function=self.signatory_function.data or "",
        )
