"""The webhook endpoint form."""

from __future__ import annotations

from wtforms import URLField
from wtforms.validators import DataRequired, Length

from ..web.forms import TrackerForm
from .rules import MAX_URL


class WebhookForm(TrackerForm):
    """Add a webhook endpoint to a product (the service checks the URL)."""

    url = URLField("URL", validators=[DataRequired(), Length(max=MAX_URL)])
