"""The catalog filter (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from ..labels import labels
from ..web.forms import BoundedForm
from .rules import COMPONENT_TYPES, FOUNDATIONAL_REQUIREMENTS, ItemKind

KIND_LABELS = labels(ItemKind)


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
