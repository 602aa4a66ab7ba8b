"""My work, readiness and notifications read as an assessor and tried as an attacker would."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member, remove_member
from sdl_tracker.cli import cli
from sdl_tracker.db import utcnow
from sdl_tracker.demo import demo_password
from sdl_tracker.installation import installation
from sdl_tracker.products.models import Release
from tests.dashboard.test_notifications import _draft
from tests.dashboard.test_pages import Desk, _page, _section, desk  # noqa: F401 - the fixture
from tests.factories import OPERATOR, csrf_token, login, make_product, make_release, member

TODAY = utcnow().date()


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


def test_a_released_releases_commit_figure_says_on_which_day_as_the_commits_page_does(
    app: Flask, session: Session
) -> None:
    assert app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    release = session.scalars(select(Release).where(Release.version == "4.2.0")).one()
    client = app.test_client()
    login(client, "officer@example.com", demo_password(installation(session).data_dir))
    commits = _text(client.get(f"/releases/{release.id}/commits").get_data(as_text=True))
    readiness = _text(client.get(f"/releases/{release.id}/readiness").get_data(as_text=True))
    # "0 of 5" alone reads as today's figure; the commits page says it is the release date's, 2 today.
    found = re.search(r"\d+ of \d+ commits reviewed as of the release date [\d-]+ \(\d+ today\)", commits)
    assert found is not None and found.group(0) in readiness


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_planned_date_that_has_passed_says_which_day_expiries_are_read_to(
    client: FlaskClient,
    desk: Desk,  # noqa: F811
    session: Session,
) -> None:
    late = make_release(session, desk.product, "1.9", status="development", release_date=TODAY - timedelta(days=3))
    session.commit()
    login(client, "officer@example.com")
    page = _text(_page(client, f"/releases/{late.id}/readiness"))
    # Expiries are read to 30 days ahead, not to the planned day that has passed: the page says so.
    ahead = (TODAY + timedelta(days=30)).isoformat()
    assert f"Expires before {ahead}" in page
    assert f"planned {late.release_date} (passed; expiries read 30 days ahead, to {ahead})" in page
