"""What features give their templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, g, url_for

# Stands for a row's id while a URL is built once (an int, so the routes' int converters take it).
_ROW_MARK = 2_147_483_647
_TEXT_MARK = "sdlrowtextmark"
# What werkzeug's string and path converters leave unquoted in a path segment (BaseConverter.to_url).
_PATH_SAFE = "!$&'()*+,/:;=@"


def expose_predicates(bp: Blueprint, *predicates: Callable[..., bool]) -> None:
    """Make services' `may_*` predicates callable in every template, so pages ask the rule the service
    enforces (`may_review(principal, evidence)`) instead of restating it."""
    for predicate in predicates:
        bp.add_app_template_global(predicate)


def row_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`endpoint`'s URL as a function of one integer argument `key` (a row's id): url_for runs once per request
    and endpoint, and each row puts its id in (a url_for per row was much of a long list's rendering). The
    URL is the one url_for gives."""
    built: dict[tuple[Any, ...], Callable[[int], str]] = g.setdefault("row_urls", {})
    name = (endpoint, key, *sorted(values.items()))
    if name not in built:
        arguments: dict[str, Any] = {**values, key: _ROW_MARK}
        head, _, tail = url_for(endpoint, **arguments).partition(str(_ROW_MARK))
        built[name] = lambda value: f"{head}{int(value)}{tail}"
    return built[name]


def text_url(endpoint: str, key: str, **values: Any) -> Callable[[str], str]:
    """As row_url, for a string or path argument (a requirement's ref such as "CR 1.1 RE(1)"): each row's text is
    quoted as werkzeug's converters quote it, so the URL is the one url_for gives."""
    built: dict[tuple[Any, ...], Callable[[str], str]] = g.setdefault("text_urls", {})
    name = (endpoint, key, *sorted(values.items()))
    if name not in built:
        head, _, tail = url_for(endpoint, **{**values, key: _TEXT_MARK}).partition(_TEXT_MARK)
        built[name] = lambda value: f"{head}{quote(str(value), safe=_PATH_SAFE)}{tail}"
    return built[name]
