"""Form helpers shared by every feature's HTML views."""

from __future__ import annotations

import copy
import re
from typing import Any
from weakref import WeakKeyDictionary

from flask import flash
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, Form, Label, PasswordField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation
from wtforms.widgets import Input, Select
from wtforms.widgets.core import clean_key

from ..boundary import value_problem
from ..errors import DomainError
from .context import rollback

_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")


def _boundary_problem(field: Field) -> str | None:
    """Why a field's value is outside the input boundary (None when it is inside), by the field's kind:
    text areas and passwords may span lines, other text is one line; numbers fit the database; days
    are within the recorded range."""
    values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    multi_line = isinstance(field, (TextAreaField, PasswordField))
    return next((p for value in values if (p := value_problem(value, multi_line=multi_line))), None)


def _within_boundary(_form: Any, field: Field) -> None:
    """A validator every field of every form gets; it stops the field's other checks (which may look
    the value up in the database) when it fails."""
    problem = _boundary_problem(field)
    if problem:
        raise StopValidation(problem[0].upper() + problem[1:] + ".")


def lean_params(**kwargs: Any) -> Markup:
    """WTForms' `html_params`, attribute for attribute (sorted, `True` bare, `False` left out, values escaped), built
    as one string: the original formats a Markup per attribute, which was most of a filter form's rendering."""
    params: list[str] = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(clean_key(key))
        elif value is not False:
            params.append(f'{escape(clean_key(key))}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # noqa: S704 - every part escaped just above


class LeanSelect(Select):
    """WTForms' select, rendering each plain option (no attributes of its own) directly: the generic path
    sorts and escapes a dict of attributes per option, most of a long select's cost (a coverage page's
    47 requirements). The markup is the same, attribute for attribute."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        """The `<select>` as WTForms renders it, its attributes through `lean_params`; options in groups (none of
        ours) the generic way."""
        if field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for key in self.validation_attrs:
            if key not in kwargs and getattr(flags, key, False):
                kwargs[key] = getattr(flags, key)
        options = "".join(self.render_option(choice) for choice in field._iter_choices_normalized())
        return Markup(f"<select {lean_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704 - escaped

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        """One `<option>`; the generic rendering for options with attributes or a boolean value."""
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""  # html_params sorts: `selected` before `value`
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{value}">{label}</option>')  # noqa: S704 - both escaped just above


LEAN_SELECT = LeanSelect()
# A lean copy of each input widget the fields share (most are their field class's), made on first use.
_LEAN_INPUTS: WeakKeyDictionary[Input, Input] = WeakKeyDictionary()


def _lean_input(widget: Input) -> Input:
    lean = _LEAN_INPUTS.get(widget)
    if lean is None:
        lean = copy.copy(widget)
        lean.html_params = lean_params  # an instance's plain function: Input calls self.html_params(...)
        _LEAN_INPUTS[widget] = lean
    return lean


class LeanLabel(Label):
    """WTForms' label, its attributes through `lean_params`: the same markup."""

    def __call__(self, text: str | None = None, **kwargs: Any) -> Markup:
        """`<label for="...">text</label>`, as WTForms renders it."""
        if "for_" in kwargs:
            kwargs["for"] = kwargs.pop("for_")
        else:
            kwargs.setdefault("for", self.field_id)
        attributes = lean_params(**kwargs)
        return Markup(f"<label{' ' if attributes else ''}{attributes}>{escape(text or self.text)}</label>")  # noqa: S704


class BoundedFields(DefaultMeta):
    """Form meta that gives every field the input boundary's validator: a new field cannot forget it."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
        """Bind the field as usual, then put the boundary check first, before any validator of its own; a
        single select renders through LeanSelect, inputs and labels with `lean_params` (the same markup)."""
        field: Field = super().bind_field(form, unbound_field, options)
        field.validators = [_within_boundary, *field.validators]
        if type(field.widget) is Select and not field.widget.multiple:
            field.widget = LEAN_SELECT
        elif isinstance(field.widget, Input) and type(field.widget).html_params is Input.html_params:
            field.widget = _lean_input(field.widget)
        if type(field.label) is Label:
            field.label = LeanLabel(field.label.field_id, field.label.text)
        return field


class TrackerForm(FlaskForm):
    """Base of every form that changes something (CSRF-protected); every field is bounded."""

    class Meta(BoundedFields, FlaskForm.Meta):
        """CSRF from Flask-WTF, the boundary from BoundedFields."""


class BoundedForm(Form):
    """Base of the GET filter forms (they change nothing, so carry no CSRF token) and of the sub-forms a
    FormField nests; every field is bounded."""

    class Meta(BoundedFields):
        """The boundary from BoundedFields."""


def _resolve(form: Any, path: str) -> Any | None:
    """Find the field a service error names: `name`, `interfaces[0].port`, or an alias the form declares."""
    path = getattr(form, "error_aliases", {}).get(path, path)
    node: Any = form
    for part in path.split("."):
        match = _INDEXED.match(part)
        name, index = (match.group(1), int(match.group(2))) if match else (part, None)
        fields = getattr(node, "_fields", None)
        if fields is None and hasattr(node, "form"):  # a FormField entry of a FieldList
            fields = node.form._fields
        node = fields.get(name) if fields is not None else None
        if node is None:
            return None
        if index is not None:
            entries = getattr(node, "entries", [])
            if index >= len(entries):
                return None
            node = entries[index]
    return node


def flash_refusal(error: DomainError, message: str | None = None) -> None:
    """Show a service's refusal of a button's action as a flash message (its own, or `message`) and undo
    whatever it wrote; a 403 or 404 is raised on, since it answers the request itself. Call from `except`."""
    if error.status in (403, 404):
        raise error
    rollback()
    flash(error.message if message is None else message, "error")


def apply_errors(form: Any, error: DomainError) -> None:
    """Put a service's refusal on the form (field errors on their fields, the rest above them) and undo
    whatever it wrote before it raised, so the page shows the form again and the request keeps nothing."""
    rollback()
    placed = False
    for field_error in error.errors:
        field = _resolve(form, field_error.field)
        if field is not None and hasattr(field, "errors") and not hasattr(field, "entries"):
            field.errors = [*list(field.errors), field_error.message]
            placed = True
        else:
            form.form_errors.append(f"{field_error.field}: {field_error.message}")
            placed = True
    if not placed:
        form.form_errors.append(error.message)
