"""The CRA file's web forms."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from ..evidence.models import Evidence
from ..web.forms import TrackerForm
from .models import RiskAssessment
from .records import RISK_TEXT_FIELDS, RISK_TEXT_MAX, SUPPORT_TEXT_MAX, RiskAssessmentInput, SupportPeriodInput
from .rules import PUBLISHED_URL_MAX, parse_support_end, stated_end

# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


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


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
