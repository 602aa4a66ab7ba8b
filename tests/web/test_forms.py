"""The form helpers every feature's pages share."""

from __future__ import annotations

from wtforms import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from sdl_tracker.web.forms import BoundedForm, LeanSelect

# Values and labels that need escaping, an empty value and an empty label (the value reads as the label).
PLAIN = (("", "Any"), ("a&b", 'A "quoted" <label>'), ("SR-2", "SR-2 Threat model"), ("x", ""))


class Choosing(BoundedForm):
    plain = SelectField("Plain", choices=[SelectChoice(value, text) for value, text in PLAIN])
    numbers = SelectField("Numbers", choices=[SelectChoice(1, "one"), SelectChoice(2, "two")], coerce=int)
    marked = SelectField(
        "Marked", choices=[SelectChoice("k", "Kept", render_kw={"disabled": True}), SelectChoice("v", "Visible")]
    )
    flags = SelectField("Flags", choices=[SelectChoice(True, "yes"), SelectChoice(False, "no")], coerce=bool)
    many = SelectMultipleField("Many", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])


def test_a_lean_select_renders_what_wtforms_renders() -> None:
    form = Choosing(data={"plain": "a&b", "numbers": 2, "marked": "v", "flags": True, "many": ["b"]})
    for name in ("plain", "numbers", "marked", "flags"):
        field = form[name]
        assert type(field.widget) is LeanSelect, name
        assert field() == Select()(field), name
        assert field(class_="wide", required=True) == Select()(field, class_="wide", required=True), name
    assert type(form.many.widget) is Select  # a multiple select keeps the generic widget
