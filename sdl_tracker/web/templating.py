"""What features give their templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, url_for

# Stands for a row's id while a URL is built once (an int, so the routes' int converters take it).
_ROW_MARK = 2_147_483_647


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
