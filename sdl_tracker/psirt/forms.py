"""PSIRT forms: a case (new and edit), a submission, an intermediate request, a product's Article 14 settings;
the case list's filter is a plain GET form that the API's list reads too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import CheckboxesField
from ..boundary import day_problem
from ..errors import FieldError, Invalid
from ..labels import label
from ..web.forms import BoundedForm, TrackerForm
from ..zones import zone_names
from .models import CaseKind, CaseSource, CaseStatus, PsirtCase
from .services import INCIDENT_CRITERIA, MAX_SHORT, MAX_TEXT, MAX_TITLE, CaseFilter

MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%S"  # what a datetime-local input with seconds shows and sends
KIND_LABELS = {CaseKind.VULNERABILITY: "Vulnerability", CaseKind.INCIDENT: "Severe incident"}
SOURCE_LABELS = {
    CaseSource.RESEARCHER: "External researcher",
    CaseSource.CUSTOMER: "Customer",
    CaseSource.INTERNAL: "Internal",
    CaseSource.SUPPLIER: "Upstream supplier or maintainer",
    CaseSource.COORDINATOR: "Coordinator (CSIRT, CERT)",
}
CRITERIA_LABELS = {
    "protection-affected": "Affects the protection of sensitive or important data or functions (Art. 14(5)(a))",
    "malicious-code": "Led or can lead to malicious code in the product or users' systems (Art. 14(5)(b))",
}
TRI_STATE = [SelectChoice("", "Not stated"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class ChoicesField(SelectMultipleField):
    """Several choices from a query; an empty value (a select's "any") names none, and every other must be one of
    the choices (Optional() would let any value through after an empty first one)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """The values given, the empty ones left out."""
        super().process_formdata([value for value in valuelist if value])


class CaseFilterForm(BoundedForm):
    """Which cases a list shows (a GET form: it changes nothing, so no CSRF token); the API reads it too."""

    product = IntegerField("Product", validators=[Optional()])
    status = ChoicesField("Status", choices=[SelectChoice(s.value, label(s.value)) for s in CaseStatus])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any kind"), *(SelectChoice(k.value, t) for k, t in KIND_LABELS.items())],
        default="",
    )


def case_filter(form: CaseFilterForm) -> CaseFilter:
    """The service's filter from a validated filter form."""
    return CaseFilter(
        product_id=form.product.data,
        statuses=tuple(CaseStatus(s) for s in form.status.data or ()),
        kind=CaseKind(form.kind.data) if form.kind.data else None,
    )


def filter_problem(form: CaseFilterForm) -> Invalid | None:
    """The filter form's errors as the API's refusal (None when it is valid)."""
    if form.validate():
        return None
    return Invalid("the filter is invalid", errors=[FieldError(k, v[0]) for k, v in form.errors.items()])


class MomentField(StringField):
    """A time as a datetime-local input shows it; read in the zone the form names (or its own offset, if typed)."""

    moment: datetime | None = None

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("render_kw", {"type": "datetime-local", "step": "1"})
        super().__init__(label, **kwargs)


def read_moment(text: str, zone: str) -> datetime:
    """A time typed on a form, as an aware UTC instant: with an offset as typed, else on `zone`'s wall clock
    (a wall-clock time that happens twice reads as its first); ValueError with a message for people."""
    try:
        typed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Give a date and time, such as 2026-12-05T09:30.") from None
    problem = day_problem(typed.date())
    if problem:
        raise ValueError(problem[0].upper() + problem[1:] + ".")
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=ZoneInfo(zone))
    return typed.astimezone(UTC)


def show_moment(moment: datetime | None, zone: str = "UTC") -> str:
    """A time as a form shows it, on `zone`'s wall clock."""
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime(MOMENT_FORMAT)


class MomentsForm(TrackerForm):
    """A form with times: they are typed in the zone chosen on the form (UTC or the main establishment's)."""

    zone = SelectField("Times on this form are in", choices=["UTC"], default="UTC")

    def offer_zones(self, establishment: str | None) -> None:
        """UTC, and the main establishment's zone where it is another."""
        self.zone.choices = ["UTC", *([establishment] if establishment and establishment != "UTC" else [])]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """The fields' own checks, then each time read in the chosen zone (its error on its field)."""
        valid = super().validate(extra_validators)
        zone = "UTC" if self.zone.errors else (self.zone.data or "UTC")
        for field in self._moment_fields():
            field.moment = None
            if field.errors or not (field.data or "").strip():
                continue
            try:
                field.moment = read_moment(field.data or "", zone)
            except ValueError as exc:
                field.errors = [*field.errors, str(exc)]
                valid = False
        return valid

    def _moment_fields(self) -> Iterable[MomentField]:
        return [field for field in self if isinstance(field, MomentField)]


def _list(text: str | None) -> list[str]:
    """Ids typed on one line, separated by commas or spaces."""
    return [part for part in (text or "").replace(",", " ").split() if part]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CaseForm(MomentsForm):
    """Everything recorded about a case. New cases take kind and exercise; edits take the status; the view
    sends the service only what the person changed (see `changes`)."""

    kind = SelectField("Kind", choices=[SelectChoice(k.value, t) for k, t in KIND_LABELS.items()])
    title = StringField("Title", validators=[DataRequired(), Length(max=MAX_TITLE)])
    source = SelectField("Reported by", choices=[SelectChoice(s.value, t) for s, t in SOURCE_LABELS.items()])
    received_at = MomentField("Received", validators=[DataRequired()])
    exercise = BooleanField("A tabletop exercise: runs every clock and packet, counts for nothing")
    status = SelectField("Status", choices=[SelectChoice(s.value, label(s.value)) for s in CaseStatus])
    status_reason = TextAreaField("Why rejected or a duplicate", validators=[Optional(), Length(max=MAX_TEXT)])
    duplicate_of = StringField("Duplicate of (PSIRT-YYYY-NNNN)", validators=[Optional(), Length(max=40)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=MAX_TEXT)])
    reporter_contact = TextAreaField(
        "Reporter's contact (security officers only)", validators=[Optional(), Length(max=MAX_TEXT)]
    )
    aware_at = MomentField("Aware of active exploitation (or of the incident) since: the clocks start")
    measure_available_at = MomentField("A corrective or mitigating measure available since")
    incident_criteria = CheckboxesField(
        "Why the incident is severe (Art. 14(5))",
        choices=[SelectChoice(k, CRITERIA_LABELS.get(k, k)) for k in INCIDENT_CRITERIA],
        validators=[Optional()],
    )
    malicious_suspected = SelectField("Unlawful or malicious acts suspected", choices=TRI_STATE, default="")
    cve_ids = StringField("CVE ids", validators=[Optional(), Length(max=5000)])
    cwe_ids = StringField("CWE ids", validators=[Optional(), Length(max=2000)])
    cvss_v31 = StringField("CVSS v3.1 vector", validators=[Optional(), Length(max=MAX_SHORT * 2)])
    cvss_v40 = StringField("CVSS v4.0 vector", validators=[Optional(), Length(max=MAX_SHORT * 2)])
    affected = CheckboxesField("Affected releases", validators=[Optional()])
    fixed_in = CheckboxesField("Fixed in releases", validators=[Optional()])
    components = TextAreaField("Affected components, one purl a line", validators=[Optional(), Length(max=MAX_TEXT)])
    embargo_until = DateField("Embargo until", validators=[Optional()])
    remediation = TextAreaField("Remediation", validators=[Optional(), Length(max=MAX_TEXT)])
    mitigation = TextAreaField("Mitigation", validators=[Optional(), Length(max=MAX_TEXT)])
    impact = TextAreaField("Severity and impact, in words", validators=[Optional(), Length(max=MAX_TEXT)])
    sensitivity = TextAreaField("How sensitive the information is", validators=[Optional(), Length(max=MAX_TEXT)])
    malicious_actor = TextAreaField("The malicious actor, where known", validators=[Optional(), Length(max=MAX_TEXT)])
    root_cause = TextAreaField("Root cause (incidents)", validators=[Optional(), Length(max=MAX_TEXT)])
    upstream_component = StringField("Third-party component", validators=[Optional(), Length(max=MAX_SHORT * 5)])
    maintainer_reported_at = MomentField("Reported to its maintainer")
    maintainer_reference = StringField("Maintainer's reference", validators=[Optional(), Length(max=MAX_SHORT)])
    users_informed_at = MomentField("Affected users informed")
    users_information = TextAreaField("What users were told", validators=[Optional(), Length(max=MAX_TEXT)])
    justification = TextAreaField(
        "Justification (to set awareness before receipt, move a time the clocks run from, or disclose before a fix)",
        validators=[Optional(), Length(max=MAX_TEXT)],
    )

    # The fields a new case and an edit give; kind and exercise are fixed once recorded, the status starts received.
    NEW_ONLY = ("kind", "exercise")
    EDIT_ONLY = ("status", "status_reason", "duplicate_of")
    ARGUMENTS = ("kind", "title", "source", "received_at", "exercise")  # create_case takes these apart

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.EDIT_ONLY if creating else self.NEW_ONLY:
            delattr(self, name)  # not asked, so neither read nor checked

    def offer_releases(self, versions: Iterable[str]) -> None:
        """The product's releases, as the affected and fixed-in choices."""
        choices = [SelectChoice(v, v) for v in versions]
        self.affected.choices = choices
        self.fixed_in.choices = list(choices)

    def facts(self) -> dict[str, Any]:
        """What the form says, by the names the service takes (times as instants; lists as lists)."""
        return {
            field.name: self._value_of(field)
            for field in self
            if field.name not in ("zone", "csrf_token", "justification")
        }

    def _value_of(self, field: Field) -> Any:
        if isinstance(field, MomentField):
            return field.moment
        if field.name in ("cve_ids", "cwe_ids"):
            return _list(field.data)
        if field.name == "components":
            return _lines(field.data)
        if field.name == "malicious_suspected":
            return {"yes": True, "no": False}.get(field.data or "")
        if isinstance(field, SelectMultipleField | BooleanField | DateField):
            return field.data if field.data is not None else ([] if isinstance(field, SelectMultipleField) else None)
        return (field.data or "").strip()

    def new_case(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """create_case's arguments and the further facts given (those left empty are not sent)."""
        facts = self.facts()
        arguments = {name: facts.pop(name) for name in self.ARGUMENTS}
        return arguments, {name: value for name, value in facts.items() if value not in (None, "", [])}

    def changes(self, case: PsirtCase, shown: Mapping[str, Any]) -> dict[str, Any]:
        """The facts the person changed from what the form showed (`shown`, from `case_values`): a time left as
        shown (to the second) is no change, so an anchor is never moved by the form's rounding."""
        found = {}
        for name, value in self.facts().items():
            field = self[name]
            if isinstance(field, MomentField):
                stored = getattr(case, name)
                unchanged = value == stored or (stored is not None and value == stored.replace(microsecond=0))
            else:
                unchanged = _comparable(field, field.data) == _comparable(field, shown.get(name))
            if not unchanged:
                found[name] = value
        return found


def _comparable(field: Field, raw: Any) -> Any:
    """A field's value as shown or posted, in a form where equal means unchanged."""
    if field.name in ("cve_ids", "cwe_ids"):
        return _list(raw)
    if field.name == "components":
        return _lines(raw)
    if isinstance(field, SelectMultipleField):
        return sorted(raw or [])
    if isinstance(field, DateField | BooleanField):
        return raw
    return (raw or "").strip()


def case_values(case: PsirtCase, releases: Mapping[str, list[str]], components: list[str]) -> dict[str, Any]:
    """A case as the edit form shows it (times in UTC)."""
    values: dict[str, Any] = {
        name: getattr(case, name)
        for name in (
            "title",
            "status_reason",
            "description",
            "reporter_contact",
            "remediation",
            "mitigation",
            "impact",
            "sensitivity",
            "malicious_actor",
            "root_cause",
            "upstream_component",
            "maintainer_reference",
            "users_information",
            "embargo_until",
        )
    }
    for name in ("received_at", "aware_at", "measure_available_at", "maintainer_reported_at", "users_informed_at"):
        values[name] = show_moment(getattr(case, name))
    values.update(
        kind=case.kind.value,
        source=case.source.value,
        status=case.status.value,
        duplicate_of="",
        incident_criteria=list(case.incident_criteria),
        malicious_suspected={True: "yes", False: "no"}.get(case.malicious_suspected, ""),  # type: ignore[arg-type]
        cve_ids=", ".join(case.cve_ids),
        cwe_ids=", ".join(f"CWE-{cwe}" for cwe in case.cwe_ids),
        cvss_v31=case.cvss_v31,
        cvss_v40=case.cvss_v40,
        affected=list(releases["affected"]),
        fixed_in=list(releases["fixed"]),
        components="\n".join(components),
    )
    return values


class SubmissionForm(MomentsForm):
    """A report the officer made to the Single Reporting Platform."""

    submitted_at = MomentField("Submitted", validators=[DataRequired()])
    stages = CheckboxesField("Stages it covers", validators=[DataRequired(message="Tick the stages it covers.")])
    reference = StringField("The platform's reference", validators=[Optional(), Length(max=MAX_SHORT)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_TEXT)])


class IntermediateForm(MomentsForm):
    """The CSIRT's request for an intermediate report."""

    requested_at = MomentField("Requested", validators=[DataRequired()])
    due_at = MomentField("Due", validators=[DataRequired()])
    reference = StringField("The CSIRT's reference", validators=[Optional(), Length(max=MAX_SHORT)])


class SettingsForm(TrackerForm):
    """A product's Article 14 settings."""

    zone = SelectField("Time zone of the main establishment", default="UTC")
    csirt = StringField("CSIRT of the main establishment", validators=[Optional(), Length(max=MAX_SHORT)])
    member_states = StringField(
        "Member States where the product is made available (two-letter codes)",
        validators=[Optional(), Length(max=200)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone.choices = list(zone_names())

    def states(self) -> list[str]:
        """The Member States typed."""
        return _list(self.member_states.data)
