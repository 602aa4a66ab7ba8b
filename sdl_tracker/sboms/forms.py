"""SBOM forms: import, primary, policy; the component filter is a plain GET form."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from ..app_access import app_settings
from ..web.forms import TrackerForm


class SbomImportForm(TrackerForm):
    """Import a CycloneDX document for a release."""

    file = FileField("CycloneDX SBOM (JSON or XML, spec 1.2 to 1.7)", validators=[FileRequired()])
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    primary = BooleanField("Make it the release's primary SBOM")
    strict = BooleanField("Strict: refuse format-only schema violations too")


class PrimaryForm(TrackerForm):
    """Make an SBOM its release's primary one (a button)."""


class PolicyForm(TrackerForm):
    """A product's SBOM import policy."""

    strict = BooleanField("Refuse SBOMs with format-only schema violations (strict)")


def inline_max_bytes() -> int:
    """SBOM_INLINE_MAX_BYTES, for the doors (web and API): bigger uploads are imported by a job."""
    return app_settings().SBOM_INLINE_MAX_BYTES
