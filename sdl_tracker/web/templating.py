"""What features give their templates."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint


def expose_predicates(bp: Blueprint, *predicates: Callable[..., bool]) -> None:
    """Make services' `may_*` predicates callable in every template, so pages ask the rule the service
    enforces (`may_review(principal, evidence)`) instead of restating it."""
    for predicate in predicates:
        bp.add_app_template_global(predicate)
