"""The catalog filter (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from ..web.forms import BoundedForm
from .rules import COMPONENT_TYPES, FOUNDATIONAL_REQUIREMENTS, ItemKind

KIND_LABELS = {
    ItemKind.PRACTICE: "Practice",
    ItemKind.PROCESS_REQUIREMENT: "Requirement",
    ItemKind.MATURITY_LEVEL: "Maturity level",
    ItemKind.FOUNDATIONAL_REQUIREMENT: "Foundational requirement",
    ItemKind.CCSC: "Common constraint (CCSC)",
    ItemKind.COMPONENT_REQUIREMENT: "Component requirement (CR)",
    ItemKind.TYPE_REQUIREMENT: "Component-type requirement",
    ItemKind.ENHANCEMENT: "Requirement enhancement (RE)",
    ItemKind.CRA_ANNEX_I_PART_I: "Annex I Part I",
    ItemKind.CRA_ANNEX_I_PART_II: "Annex I Part II",
    ItemKind.CRA_ANNEX_VII: "Annex VII",
    ItemKind.CRA_ANNEX_II: "Annex II",
}


def _any(label: str) -> SelectChoice:
    return SelectChoice("", label)


class RequirementFilterForm(BoundedForm):
    """Search and filters for one edition."""

    q = SearchField("Search", validators=[Optional(), Length(max=100)])
    kind = SelectField(
        "Kind", default="", choices=[_any("Any kind"), *(SelectChoice(k.value, v) for k, v in KIND_LABELS.items())]
    )
    fr = SelectField(
        "FR", default="", choices=[_any("Any FR"), *(SelectChoice(fr) for fr in FOUNDATIONAL_REQUIREMENTS)]
    )
    component_type = SelectField(
        "Applies to", default="", choices=[_any("Any component type"), *(SelectChoice(t) for t in COMPONENT_TYPES)]
    )
    level = SelectField(
        "Required at",
        default="",
        choices=[_any("Any level"), *(SelectChoice(str(n), f"SL-C {n}") for n in (1, 2, 3, 4))],
    )
