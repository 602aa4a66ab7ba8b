"""Product and release forms."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS
from ..labels import labels
from ..web.forms import BoundedForm, TrackerForm
from .interfaces import InterfaceData
from .models import DEFAULT_REF_PATTERNS, ComponentType, CraCategory, InterfaceKind, ReleaseStatus

LEVEL_CHOICES = [SelectChoice(str(n), f"SL {n}") for n in (1, 2, 3, 4)]
COMPONENT_TYPE_LABELS = {
    ComponentType.SAR: "SAR: software application",
    ComponentType.EDR: "EDR: embedded device",
    ComponentType.HDR: "HDR: host device",
    ComponentType.NDR: "NDR: network device",
}
CRA_CATEGORY_LABELS = labels(CraCategory)
BLANK_INTERFACE_ROWS = 2


class InterfaceForm(BoundedForm):
    """One interface row; a row with no name is ignored."""

    name = StringField("Name", validators=[Optional(), Length(max=120)])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, text) for k, text in labels(InterfaceKind).items()])
    protocol = StringField("Protocol", validators=[Optional(), Length(max=120)])
    port = IntegerField("Port", validators=[Optional(), NumberRange(1, 65535)])


class ProductForm(TrackerForm):
    """Create or edit a product."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    vendor = StringField("Vendor", validators=[Optional(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=20_000)])
    component_type = SelectField(
        "Component type", choices=[SelectChoice(k.value, v) for k, v in COMPONENT_TYPE_LABELS.items()]
    )
    target_fr1 = SelectField("FR1", choices=LEVEL_CHOICES, default="2")
    target_fr2 = SelectField("FR2", choices=LEVEL_CHOICES, default="2")
    target_fr3 = SelectField("FR3", choices=LEVEL_CHOICES, default="2")
    target_fr4 = SelectField("FR4", choices=LEVEL_CHOICES, default="2")
    target_fr5 = SelectField("FR5", choices=LEVEL_CHOICES, default="2")
    target_fr6 = SelectField("FR6", choices=LEVEL_CHOICES, default="2")
    target_fr7 = SelectField("FR7", choices=LEVEL_CHOICES, default="2")
    cra_category = SelectField(
        "CRA category", choices=[SelectChoice(k.value, v) for k, v in CRA_CATEGORY_LABELS.items()]
    )
    support_period_end = DateField("Support period ends", validators=[Optional()])
    security_contact = StringField("Security contact", validators=[Optional(), Length(max=320)])
    cvd_policy_url = StringField("CVD policy URL", validators=[Optional(), Length(max=500), URL(require_tld=False)])
    require_verified_authors = BooleanField("Require verified authors")
    interfaces = FieldList(FormField(InterfaceForm), min_entries=BLANK_INTERFACE_ROWS)
    # Choices are the loaded editions, set by the view (set_edition_choices); only shown on edit.
    edition_4_1 = SelectField("IEC 62443-4-1 edition", validate_choice=True)
    edition_4_2 = SelectField("IEC 62443-4-2 edition", validate_choice=True)
    edition_cra = SelectField("CRA edition", validate_choice=True)
    EDITION_FIELDS: ClassVar[dict[str, str]] = {
        "IEC 62443-4-1": "edition_4_1",
        "IEC 62443-4-2": "edition_4_2",
        "CRA": "edition_cra",
    }

    def set_edition_choices(self, loaded: dict[str, list[str]], current: dict[str, str] | None) -> None:
        """Offer the loaded editions per standard; without `current` (a new product) they are not asked."""
        for standard, name in self.EDITION_FIELDS.items():
            field = getattr(self, name)
            if current is None:
                del self[name]
                continue
            field.choices = [SelectChoice(e) for e in loaded.get(standard, [])]
            if not self.is_submitted() and standard in current:
                field.data = current[standard]

    def edition_values(self) -> dict[str, str]:
        """The chosen edition per standard (only the fields the form shows)."""
        return {standard: self[name].data for standard, name in self.EDITION_FIELDS.items() if name in self}

    # Service errors name `target_sl.FR1`; the form's fields are target_fr1..target_fr7.
    error_aliases: ClassVar[dict[str, str]] = {
        f"target_sl.{fr}": f"target_{fr.lower()}" for fr in FOUNDATIONAL_REQUIREMENTS
    }

    def target_fields(self) -> list[Any]:
        """The seven level selectors in FR order."""
        return [getattr(self, f"target_{fr.lower()}") for fr in FOUNDATIONAL_REQUIREMENTS]

    def target_sl(self) -> dict[str, Any]:
        """The chosen target SL-C vector."""
        return {fr: int(field.data) for fr, field in zip(FOUNDATIONAL_REQUIREMENTS, self.target_fields(), strict=True)}

    def interface_data(self) -> list[InterfaceData]:
        """The interface rows that have a name."""
        return [
            InterfaceData(
                name=(row.form.name.data or "").strip(),
                kind=row.form.kind.data,
                protocol=row.form.protocol.data or "",
                port=row.form.port.data,
            )
            for row in self.interfaces
            if (row.form.name.data or "").strip()
        ]

    def values(self) -> dict[str, Any]:
        """Every field as the services take it."""
        return {
            "name": (self.name.data or "").strip(),
            "vendor": self.vendor.data or "",
            "description": self.description.data or "",
            "component_type": self.component_type.data,
            "target_sl": self.target_sl(),
            "cra_category": self.cra_category.data,
            "support_period_end": self.support_period_end.data,
            "security_contact": self.security_contact.data or "",
            "cvd_policy_url": self.cvd_policy_url.data or "",
            "require_verified_authors": bool(self.require_verified_authors.data),
            "interfaces": self.interface_data(),
            **({"editions": self.edition_values()} if self.edition_values() else {}),
        }


class ReleaseForm(TrackerForm):
    """Create a release."""

    version = StringField("Version", validators=[DataRequired(), Length(max=64)])
    status = SelectField("Status", choices=[SelectChoice(s.value, text) for s, text in labels(ReleaseStatus).items()])
    release_date = DateField("Release date", validators=[Optional()])
    git_ref = StringField("Git tag or commit", validators=[Optional(), Length(max=255)])


class RepositoryEditForm(TrackerForm):
    """Rename a repository or change which refs are history."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    refs = StringField("Refs that are history", validators=[Optional(), Length(max=2000)])

    def ref_patterns(self) -> list[str]:
        """The patterns typed, space-separated; none means every branch and tag."""
        return (self.refs.data or "").split() or list(DEFAULT_REF_PATTERNS)


class RepositoryForm(RepositoryEditForm):
    """Register a repository."""

    location = StringField("Location", validators=[DataRequired(), Length(max=1000)])
