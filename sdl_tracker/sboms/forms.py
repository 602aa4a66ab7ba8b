"""SBOM forms: import, primary, policy; the component filter and the diff's choice are plain GET forms."""

from __future__ import annotations

from flask import request
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from ..app_access import app_settings
from ..boundary import parse_whole
from ..errors import Invalid
from ..web.forms import TrackerForm
from ..web.inputs import id_argument
from .services import DiffSide
from .validation import SbomFormat


class SbomImportForm(TrackerForm):
    """Import a CycloneDX or SPDX document for a release."""

    file = FileField(
        "SBOM: CycloneDX 1.2 to 1.7 (JSON or XML) or SPDX 2.2 or 2.3 (JSON or tag-value)", validators=[FileRequired()]
    )
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


def diff_sides() -> tuple[DiffSide, DiffSide]:
    """The SBOMs a diff compares, from the query (the page and the API): `from` and `to` name releases (their
    primary SBOMs), `from_sbom` and `to_sbom` chosen SBOMs by id."""
    return (
        DiffSide(request.args.get("from", ""), id_argument("from_sbom")),
        DiffSide(request.args.get("to", ""), id_argument("to_sbom")),
    )


def export_format() -> SbomFormat:
    """The format an export asks for (`format`: json, the default, or xml), or Invalid."""
    raw = request.args.get("format", "json")
    try:
        return SbomFormat(raw)
    except ValueError:
        raise Invalid.field("format", "format is json or xml") from None


def path_limits() -> tuple[int, int]:
    """`max_paths` (default 100) and `max_depth` (default 30) from the query, for the page and the API; the
    service refuses what lies outside its bounds."""
    limits = []
    for name, default in (("max_paths", 100), ("max_depth", 30)):
        raw = request.args.get(name, "")
        number = parse_whole(raw) if raw else default
        if number is None:
            raise Invalid.field(name, f"{name} must be a whole number")
        limits.append(number)
    return limits[0], limits[1]
