"""The commits page's filter (a GET form: it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField

from ..web.forms import BoundedForm

SHOW_CHOICES = [
    SelectChoice("", "Every commit"),
    SelectChoice("unreviewed", "Not reviewed"),
    SelectChoice("reviewed", "Reviewed"),
]


class CommitFilterForm(BoundedForm):
    """Which of a release's commits to list."""

    show = SelectField("Show", choices=SHOW_CHOICES, default="")
