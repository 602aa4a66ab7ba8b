"""My work, readiness and notifications read as an assessor and tried as an attacker would."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member, remove_member
from tests.dashboard.test_notifications import _draft
from tests.dashboard.test_pages import Desk, _page, _section, desk  # noqa: F401 - the fixture
from tests.factories import OPERATOR, csrf_token, login, make_product, member


def test_an_administrator_reviews_every_products_queue(client: FlaskClient, desk: Desk) -> None:  # noqa: F811
    # An administrator may review any product's evidence (auth.authorize): their queue holds it too.
    login(client, "admin@example.com")
    queue = _section(_page(client, "/"), "Awaiting my review")
    assert "Waiting analysis" in queue and "Foreign analysis" in queue and "Officer&#39;s own analysis" in queue


def test_the_unread_figure_counts_what_the_page_lists(client: FlaskClient, session: Session) -> None:
    kept, left = make_product(session, "Kept"), make_product(session, "Left")
    member(session, kept, "security_officer", "officer@example.com")
    add_member(session, OPERATOR, left.id, email="officer@example.com", role="security_officer")
    _draft(session, member(session, kept, "developer", "dev@example.com"), kept.id, draft=False)
    _draft(session, member(session, left, "developer", "ldev@example.com"), left.id, draft=False)
    remove_member(session, OPERATOR, left.id, email="officer@example.com", role="security_officer")
    session.commit()
    login(client, "officer@example.com")
    # The product they left: its notification is not listed, so it is not counted, nor marked read.
    home = client.get("/").get_data(as_text=True)
    assert 'class="count">1<' in home, home[home.find("notify") :][:300]
    token = csrf_token(client, "/notifications")
    client.post("/notifications/read", data={"csrf_token": token})
    assert "1 notification marked read." in client.get("/notifications").get_data(as_text=True)
