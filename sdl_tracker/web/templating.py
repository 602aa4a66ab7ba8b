"""What features give their templates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from flask import Blueprint, g, url_for
from flask.sansio.blueprints import BlueprintSetupState
from markupsafe import Markup
from wtforms import Field, StringField

from ..zones import utc_stamp, wall_time, zone_problem
from .context import current_principal

# Stands for a row's id while a URL is built once (an int, so the routes' int converters take it).
_ROW_MARK = 2_147_483_647
_TEXT_MARK = "sdlrowtextmark"
# What werkzeug's string and path converters leave unquoted in a path segment (BaseConverter.to_url).
_PATH_SAFE = "!$&'()*+,/:;=@"


# A field's markup by what it shows (static_field); at most this many, the oldest dropped first.
_FIELDS: dict[tuple[Any, ...], Markup] = {}
_FIELDS_MAX = 1024
_FIELDS_LOCK = threading.Lock()


def static_field(render: Callable[..., Markup], field: Field, **options: Any) -> Markup:
    """`render(field, **options)` (the `field` macro), rendered once per value shown and kept in the process, for a
    field whose declaration (label, choices, attributes) is the same on every request, as a filter form's are: a
    filter form's fields were a good part of a list's rendering. A field with errors, and text typed in (whose
    values have no bound), are rendered each time."""
    value = field._value() if hasattr(field, "_value") else None
    if field.errors or (isinstance(field, StringField) and value):
        return render(field, **options)
    choices = getattr(field, "choices", None)  # a select's options differ by product (releases, requirements)
    key = (
        type(field),
        field.id,
        field.name,
        str(field.label.text),
        value,
        repr(field.data),
        repr(choices),
        *sorted(options.items()),
    )
    with _FIELDS_LOCK:
        found = _FIELDS.get(key)
    if found is None:
        found = render(field, **options)
        with _FIELDS_LOCK:
            while len(_FIELDS) >= _FIELDS_MAX:
                del _FIELDS[next(iter(_FIELDS))]
            _FIELDS[key] = found
    return found


def expose_predicates(bp: Blueprint, *predicates: Callable[..., bool]) -> None:
    """Make services' `may_*` predicates callable in every template, so pages ask the rule the service
    enforces (`may_review(principal, evidence)`) instead of restating it. Template globals are one namespace
    across features: a second predicate of the same name fails the app's creation instead of silently
    replacing the first (whose pages would then call the wrong one)."""
    for predicate in predicates:
        bp.record_once(partial(_refuse_clash, predicate))
        bp.add_app_template_global(predicate)


def _refuse_clash(predicate: Callable[..., bool], state: BlueprintSetupState) -> None:
    exposed = state.app.jinja_env.globals.get(predicate.__name__)
    if exposed is not None and exposed is not predicate:
        raise RuntimeError(f"two features expose a template predicate named {predicate.__name__}: rename one")


def row_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`endpoint`'s URL as a function of one integer argument `key` (a row's id): url_for runs once per request
    and endpoint, and each row puts its id in (a url_for per row was much of a long list's rendering). The
    URL is the one url_for gives."""
    return _built_once(endpoint, key, values, _ROW_MARK, lambda value: str(int(value)))


def text_url(endpoint: str, key: str, **values: Any) -> Callable[[str], str]:
    """As row_url, for a string or path argument (a requirement's ref such as "CR 1.1 RE(1)"): each row's text is
    quoted as werkzeug's converters quote it, so the URL is the one url_for gives."""
    return _built_once(endpoint, key, values, _TEXT_MARK, lambda value: quote(str(value), safe=_PATH_SAFE))


def _built_once(
    endpoint: str, key: str, values: dict[str, Any], mark: int | str, put: Callable[[Any], str]
) -> Callable[[Any], str]:
    """The URL with `mark` for `key`, built once per request: each row's value goes where the mark was."""
    built: dict[tuple[Any, ...], Callable[[Any], str]] = g.setdefault("row_urls", {})
    name = (endpoint, key, mark, *sorted(values.items()))
    if name not in built:
        head, _, tail = url_for(endpoint, **{**values, key: mark}).partition(str(mark))
        built[name] = lambda value: f"{head}{put(value)}{tail}"
    return built[name]


def viewer_zone() -> str:
    """The zone the signed-in viewer chose for the times pages show, else UTC (also for a zone that newer zone
    data no longer lists: the pages must not fail on a stored choice)."""
    principal = current_principal()
    chosen = principal.time_zone if principal else None
    return chosen if chosen and zone_problem(chosen) is None else "UTC"


def local_time(moment: datetime | None, *, seconds: bool = False) -> Markup:
    """An aware moment on the viewer's clock ("2026-12-05 17:48 CET") in a `<time>` element that holds the UTC
    instant for machines and, as its tooltip, for people; "—" for none."""
    if moment is None:
        return Markup("—")
    shown, utc = wall_time(moment, viewer_zone(), seconds=seconds), wall_time(moment, "UTC", seconds=seconds)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(utc_stamp(moment), utc, shown)
