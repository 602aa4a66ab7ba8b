"""The form and template helpers every feature's pages share."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, url_for
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select, html_params

from sdl_tracker.claims.review import may_confirm as claims_may_confirm
from sdl_tracker.web.forms import BoundedForm, LeanLabel, LeanSelect, lean_params
from sdl_tracker.web.templating import expose_predicates, row_url, static_field, text_url

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


class Typing(BoundedForm):
    text = StringField("Text <b>&</b>", render_kw={"placeholder": 'say "hi"'})
    number = IntegerField("Number")
    day = DateField("Day")
    secret = PasswordField("Secret")
    hidden = HiddenField("Hidden")
    tick = BooleanField("Tick")
    pick = RadioField("Pick", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])
    notes = TextAreaField("Notes")


def test_lean_params_are_the_attributes_wtforms_renders() -> None:
    cases: list[dict[str, object]] = [
        {},
        {"id": "q", "name": "q", "type": "text", "value": ""},
        {"class_": "wide", "for_": "x", "data_row_id": 3, "aria_invalid": "true", "aria-describedby": "q-errors"},
        {"value": 'a "b" <c> & d\'e', "checked": True, "disabled": False, "required": True},
        {"value": Markup('<b title="x">bold</b>'), "title": Markup("a &amp; b")},
        {"min": 1, "max": 3650, "step": 0.5, "list": "submitters"},
    ]
    for kwargs in cases:
        assert lean_params(**kwargs) == html_params(**kwargs), kwargs


def test_lean_inputs_and_labels_render_what_wtforms_renders() -> None:
    form = Typing(data={"text": 'x "y" <z>', "number": 7, "secret": "s", "hidden": "h&", "tick": True, "pick": "b"})
    names = ("text", "number", "day", "secret", "hidden", "tick", "pick", "notes")
    # The same fields on a stock WTForms form, bound without the lean widgets, for comparison.
    stock = type("Stock", (Form,), {name: Typing.__dict__[name] for name in names})(data=form.data)
    for name in names:
        field, plain = form[name], stock[name]
        assert isinstance(field.label, LeanLabel), name
        for kwargs in ({}, {"class_": "wide", "aria-invalid": "true"}, {"required": True, "disabled": False}):
            assert field(**kwargs) == plain(**kwargs), (name, kwargs)
            assert field.label(**kwargs) == plain.label(**kwargs), (name, kwargs)
        assert str(field.label) == str(plain.label), name
        assert field.label("other", for_="elsewhere") == plain.label("other", for_="elsewhere"), name


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


def test_a_static_field_renders_what_the_field_macro_renders(app: Flask) -> None:
    from werkzeug.datastructures import MultiDict

    from sdl_tracker.evidence.forms import EvidenceFilterForm

    queries = [{}, {"state": "submitted", "sort": "title", "days": "90"}, {"q": 'a "b" <c>', "kind": "sbom"}]
    queries += [{"state": "nonsense", "days": "0"}, {"q": "other", "submitter": "x@example.com"}, {"days": "90"}]
    with app.test_request_context("/"):
        field = app.jinja_env.get_template("macros/forms.html").module.field  # type: ignore[attr-defined]
        for _ in range(2):  # the second time from what was kept
            for query in queries:
                form = EvidenceFilterForm(MultiDict(query))
                form.validate()
                for f in form:
                    assert static_field(field, f, class_="wide") == field(f, class_="wide"), (query, f.name)
                    assert static_field(field, f) == field(f), (query, f.name)
                    if f.errors:
                        assert "has-error" in static_field(field, f)


def test_a_static_field_with_other_choices_is_rendered_afresh(app: Flask) -> None:
    with app.test_request_context("/"):
        field = app.jinja_env.get_template("macros/forms.html").module.field  # type: ignore[attr-defined]
        shown = []
        for refs in (["SM-1", "SM-2"], ["SR-1"]):  # two products' requirements, the same field otherwise
            form = Choosing()
            form.plain.choices = [SelectChoice(ref, ref) for ref in refs]
            shown.append(static_field(field, form.plain))
            assert shown[-1] == field(form.plain)
        assert "SM-1" in shown[0] and "SM-1" not in shown[1] and "SR-1" in shown[1]


def test_two_features_exposing_a_predicate_of_one_name_fail_the_app() -> None:
    """Template globals are one namespace: the second `may_confirm` would replace the first on every page."""

    def may_confirm(actor: object) -> bool:
        return True

    first, second = Blueprint("first", __name__), Blueprint("second", __name__)
    expose_predicates(first, may_confirm)
    expose_predicates(second, claims_may_confirm)
    app = Flask(__name__)
    app.register_blueprint(first)
    with pytest.raises(RuntimeError, match="two features expose a template predicate named may_confirm"):
        app.register_blueprint(second)
