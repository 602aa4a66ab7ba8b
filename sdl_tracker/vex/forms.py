"""The decision form, the decision list's filter (a GET form the API reads too), how decisions read on pages, and
the form publishing a case's CSAF document."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..app_access import app_settings
from ..labels import labels
from ..web.forms import BoundedForm, TrackerForm
from .advisory import Tlp, TrackingStatus
from .models import CsafProfile, DecisionOrigin
from .publishing import PUBLISHED, SUMMARY_MAX
from .queries import VulnerabilityFilter
from .rules import DEFAULT_CDX_OF_LABEL, LABEL_OF_CDX, STATEMENT_MAX, CdxJustification, Justification, Status
from .services import MAX_NAME, DecisionFilter, DecisionInput

# How statuses and justifications read for people (the API and `--json` keep the values).
STATUS_LABELS = labels(Status)
JUSTIFICATION_LABELS = labels(Justification)
ORIGIN_LABELS = {
    DecisionOrigin.OFFICER: "an officer's",
    DecisionOrigin.CARRIED: "carried forward",
    DecisionOrigin.MATCH: "matched",
    DecisionOrigin.SUPPLIER: "the supplier's",
}


def _cdx_choice(cdx: CdxJustification) -> SelectChoice:
    """A CycloneDX justification, named with the label it falls under (rules.LABEL_OF_CDX)."""
    default = " (its default)" if DEFAULT_CDX_OF_LABEL[LABEL_OF_CDX[cdx]] is cdx else ""
    return SelectChoice(cdx.value, f"{cdx.value} (under {LABEL_OF_CDX[cdx].value}){default}")


class DecisionFilterForm(BoundedForm):
    """Which of a release's decisions a list shows (a GET form: no CSRF token); the API reads it too."""

    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status"), *(SelectChoice(s.value, t) for s, t in STATUS_LABELS.items())],
        default="",
        validate_choice=False,  # the service names an unknown status
    )
    vulnerability = StringField("Vulnerability", validators=[Optional(), Length(max=MAX_NAME)])
    component = StringField("Component (purl)", validators=[Optional(), Length(max=1000)])


def decision_filter(form: DecisionFilterForm) -> DecisionFilter:
    """The service's filter from the filter form (an empty component: any)."""
    return DecisionFilter(
        status=form.status.data or None,
        vulnerability=form.vulnerability.data or "",
        component=(form.component.data or "").strip() or None,
    )


class DecisionForm(TrackerForm):
    """Record or change one decision."""

    vulnerability = StringField(
        "Vulnerability", validators=[DataRequired(message="Name the vulnerability."), Length(max=MAX_NAME)]
    )
    component = StringField("Component (purl; empty: the product itself)", validators=[Optional(), Length(max=1000)])
    # No status is preselected: a decision nobody chose must not read as "not affected".
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "— choose —"), *(SelectChoice(s.value, t) for s, t in STATUS_LABELS.items())],
        default="",
        validators=[DataRequired(message="Choose a status.")],
    )
    justification = SelectField(
        "Justification (not affected)",
        choices=[SelectChoice("", "—"), *(SelectChoice(j.value, t) for j, t in JUSTIFICATION_LABELS.items())],
        default="",
    )
    cdx_justification = SelectField(
        "CycloneDX justification (optional, under the justification chosen)",
        choices=[SelectChoice("", "— the label's default —"), *(_cdx_choice(c) for c in CdxJustification)],
        default="",
    )
    impact = TextAreaField("Impact statement (not affected: why)", validators=[Optional(), Length(max=STATEMENT_MAX)])
    action = TextAreaField(
        "Action statement (affected: what users should do)", validators=[Optional(), Length(max=STATEMENT_MAX)]
    )

    def decision(self) -> DecisionInput:
        """The decision as the service takes it."""
        return DecisionInput(
            self.status.data or "",
            self.justification.data or None,
            self.cdx_justification.data or None,
            self.impact.data or "",
            self.action.data or "",
        )


PROFILE_LABELS = {CsafProfile.ADVISORY: "Security advisory", CsafProfile.VEX: "VEX"}


class CsafPublishForm(TrackerForm):
    """Publish the next version of a case's CSAF document (an officer)."""

    profile = SelectField(
        "Document", choices=[SelectChoice(p.value, t) for p, t in PROFILE_LABELS.items()], default=CsafProfile.ADVISORY
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice(s.value, s.value.capitalize()) for s in PUBLISHED],
        default=TrackingStatus.FINAL.value,
    )
    # No label is preselected: what a document may be shared with is the officer's decision.
    tlp = SelectField(
        "TLP",
        choices=[SelectChoice("", "— choose —"), *(SelectChoice(t.value, f"TLP:{t.value}") for t in Tlp)],
        default="",
        validators=[DataRequired(message="Choose who may read it (TLP).")],
    )
    summary = StringField(
        "What changed (the revision history's entry)",
        validators=[DataRequired(message="Say what this version changes."), Length(max=SUMMARY_MAX)],
    )


class VulnerabilityImportForm(TrackerForm):
    """Upload a vulnerability file: OSV, CISA's KEV catalog, or a supplier's CSAF or CycloneDX VEX."""

    file = FileField(
        "File: OSV JSON (a record, a list, or an ecosystem export zip), the KEV catalog JSON, CSAF 2.0 or "
        "CycloneDX VEX JSON",
        validators=[FileRequired()],
    )


class VulnerabilityFilterForm(BoundedForm):
    """Which known vulnerabilities the list shows (a GET form: no CSRF token); the API reads it too."""

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    everything = BooleanField("Also those without a decision in your releases")
    exploited = BooleanField("Known exploited only")


def vulnerability_filter(form: VulnerabilityFilterForm) -> VulnerabilityFilter:
    """The service's filter from the filter form."""
    return VulnerabilityFilter(
        search=form.q.data or "", everything=bool(form.everything.data), exploited=bool(form.exploited.data)
    )


def vuln_inline_max_bytes() -> int:
    """VULN_INLINE_MAX_BYTES, for the doors (web and API): bigger uploads are imported by a job."""
    return app_settings().VULN_INLINE_MAX_BYTES
