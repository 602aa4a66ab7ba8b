"""The form and template helpers every feature's pages share."""

from __future__ import annotations

from flask import Flask, url_for
from wtforms import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from sdl_tracker.web.forms import BoundedForm, LeanSelect
from sdl_tracker.web.templating import row_url, text_url

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


def test_a_row_url_is_the_url_url_for_gives(app: Flask) -> None:
    for base in ("", "/tracker"):  # behind a proxy that mounts the app under a prefix too
        with app.test_request_context("/", base_url=f"http://tracker.example{base}"):
            for endpoint, key, fixed in (
                ("evidence.detail", "evidence_id", {}),
                ("dashboard.readiness", "release_id", {}),
                ("sboms.release_sboms", "release_id", {}),
                ("evidence.new", "product_id", {"kind": "fuzz-run", "requirements": "SVV-3"}),
            ):
                url = row_url(endpoint, key, **fixed)
                assert row_url(endpoint, key, **fixed) is url  # built once per request
                for value in (1, 42, 2_147_483_646):
                    assert url(value) == url_for(endpoint, **fixed, **{key: value}), (endpoint, value)


def test_a_text_url_is_the_url_url_for_gives(app: Flask) -> None:
    refs = ["CR 1.1", "CR 1.1 RE(1)", "SR 3.4 RE(2)", "EDR 2.13", "a/b c?d#e%f&g=h+i~j", "é ü", "x\\y"]
    for base in ("", "/tracker"):
        with app.test_request_context("/", base_url=f"http://tracker.example{base}"):
            url = text_url("claims.edit", "ref", release_id=7)
            assert text_url("claims.edit", "ref", release_id=7) is url  # built once per request
            for ref in refs:
                assert url(ref) == url_for("claims.edit", release_id=7, ref=ref), ref
