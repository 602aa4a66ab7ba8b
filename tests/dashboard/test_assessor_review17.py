"""My work, readiness and notifications read as an assessor and tried as an attacker would."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.dashboard.test_pages import Desk, _page, _section, desk  # noqa: F401 - the fixture
from tests.factories import login


def test_an_administrator_reviews_every_products_queue(client: FlaskClient, desk: Desk) -> None:  # noqa: F811
    # An administrator may review any product's evidence (auth.authorize): their queue holds it too.
    login(client, "admin@example.com")
    queue = _section(_page(client, "/"), "Awaiting my review")
    assert "Waiting analysis" in queue and "Foreign analysis" in queue and "Officer&#39;s own analysis" in queue
