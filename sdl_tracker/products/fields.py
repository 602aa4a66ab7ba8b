"""Checks of submitted product fields; each adds to a list of field errors, so a form shows every problem at once."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ..errors import FieldError, Invalid
from .models import CraCategory
from .rules import validate_target_sl

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def enum_value(enum_cls: Any, value: object, field: str, errors: list[FieldError]) -> Any:
    """The member of `enum_cls` named by `value`, else None with a field error."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        errors.append(FieldError(field, f"unknown value {value!r} (one of: {allowed})"))
        return None


def _check_url(url: str, field: str, errors: list[FieldError]) -> None:
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc or any(c.isspace() for c in url):
        errors.append(FieldError(field, "must be an http(s) URL"))


def _check_contact(contact: str, errors: list[FieldError]) -> None:
    if not contact:
        return
    if EMAIL.match(contact):
        return
    parts = urlsplit(contact)
    if parts.scheme in {"https", "http", "mailto"} and (parts.netloc or parts.path):
        return
    errors.append(FieldError("security_contact", "must be an email address or a URL"))


def target_or_errors(target_sl: dict[str, Any], errors: list[FieldError]) -> dict[str, int]:
    """A valid target SL-C vector, else {} with its field errors."""
    try:
        return validate_target_sl(target_sl)
    except Invalid as exc:
        errors.extend(exc.errors)
        return {}


def product_fields(
    *,
    vendor: str,
    description: str,
    cra_category: str,
    support_period_end: date | None,
    security_contact: str,
    cvd_policy_url: str,
    errors: list[FieldError],
) -> dict[str, Any]:
    """The checked, trimmed descriptive fields of a product, as column values."""
    if len(vendor) > 120:
        errors.append(FieldError("vendor", "at most 120 characters"))
    if len(description) > 20_000:
        errors.append(FieldError("description", "at most 20,000 characters"))
    category = enum_value(CraCategory, cra_category, "cra_category", errors)
    _check_contact(security_contact.strip(), errors)
    _check_url(cvd_policy_url.strip(), "cvd_policy_url", errors)
    return {
        "vendor": vendor.strip(),
        "description": description,
        "cra_category": category,
        "support_period_end": support_period_end,
        "security_contact": security_contact.strip(),
        "cvd_policy_url": cvd_policy_url.strip(),
    }
