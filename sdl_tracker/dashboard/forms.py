"""The dashboard's forms."""

from __future__ import annotations

from ..web.forms import TrackerForm


class MarkReadForm(TrackerForm):
    """Mark notifications read (the CSRF token is all it carries; which ones is in the path)."""
