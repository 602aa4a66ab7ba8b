"""A user's time zone through each door (the account page, PATCH /api/v1/account, `user zone`): set, cleared,
audited; unknown zones, folders of zones and over-long names refused with nothing written."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import User
from sdl_tracker.accounts.preferences import set_time_zone
from sdl_tracker.accounts.services import principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Permission
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, NotFound
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_user

pytestmark = pytest.mark.db

ZONE_EVENT = "accounts:time-zone:update"
LONG = "Europe/" + "x" * 60
# Names that are no zone one may choose, each for its own reason.
REFUSED = ("Europe", "Mars/Olympus_Mons", "europe/berlin", LONG)


def zone_of(session: Session, email: str) -> str | None:
    """The user's stored zone, as the database holds it now."""
    return session.scalar(select(User.time_zone).where(User.email == email).execution_options(populate_existing=True))


def zone_events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == ZONE_EVENT).order_by(AuditEvent.seq)))


def event_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def post_zone(client: FlaskClient, zone: str) -> Any:
    """The account page's time zone form, posted with its CSRF token."""
    token = csrf_token(client, "/account")
    return client.post("/account/time-zone", data={"time_zone": zone, "csrf_token": token})


@pytest.fixture
def dev(session: Session) -> User:
    user = make_user(session, "dev@example.com")
    session.commit()
    return user


def test_the_account_page_sets_and_clears_the_zone_audited(app: Flask, session: Session, dev: User) -> None:
    client = app.test_client()
    login(client, dev.email)
    page = client.get("/account").get_data(as_text=True)
    assert re.search(r'<option selected value="">UTC \(default\)</option>', page)
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page and 'value="Europe"' not in page

    set_ = post_zone(client, "Europe/Berlin")
    assert set_.status_code == 302 and set_.headers["Location"] == "/account"
    assert zone_of(session, dev.email) == "Europe/Berlin"
    page = client.get("/account").get_data(as_text=True)
    assert "Times are now shown in Europe/Berlin." in page
    assert '<option selected value="Europe/Berlin">Europe/Berlin</option>' in page

    cleared = post_zone(client, "")
    assert cleared.status_code == 302 and zone_of(session, dev.email) is None
    first, second = zone_events(session)
    assert (first.actor, first.target_type, first.target_id) == (f"user:{dev.email}", "user", str(dev.id))
    assert first.origin.startswith("web ")
    assert first.details == {"email": dev.email, "time_zone": "Europe/Berlin", "old_time_zone": None}
    assert second.details == {"email": dev.email, "time_zone": None, "old_time_zone": "Europe/Berlin"}
    assert post_zone(client, "").status_code == 302 and len(zone_events(session)) == 2  # no change, no event


@pytest.mark.parametrize("zone", REFUSED)
def test_the_account_page_refuses_what_is_no_zone(app: Flask, session: Session, dev: User, zone: str) -> None:
    client = app.test_client()
    login(client, dev.email)
    before = event_count(session)
    refused = post_zone(client, zone)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Not a valid choice" in page and 'id="time_zone-errors"' in page
    assert zone_of(session, dev.email) is None and event_count(session) == before


def test_the_account_page_needs_its_csrf_token(app: Flask, session: Session, dev: User) -> None:
    client = app.test_client()
    login(client, dev.email)
    assert client.post("/account/time-zone", data={"time_zone": "Europe/Berlin"}).status_code == 400
    assert zone_of(session, dev.email) is None


def test_the_api_reads_and_sets_the_callers_zone(api: ApiClient, session: Session, dev: User) -> None:
    token = api.as_user(dev.email)
    shown = api.call("GET", "/api/v1/account", token)
    assert shown.status_code == 200
    assert shown.get_json() == {
        "id": dev.id,
        "email": dev.email,
        "name": dev.name,
        "is_admin": False,
        "time_zone": None,
    }
    changed = api.call("PATCH", "/api/v1/account", token, json={"time_zone": "America/New_York"})
    assert changed.status_code == 200 and changed.get_json()["time_zone"] == "America/New_York"
    assert zone_of(session, dev.email) == "America/New_York"
    assert api.call("GET", "/api/v1/account", token).get_json()["time_zone"] == "America/New_York"
    (event,) = zone_events(session)
    assert event.actor.startswith("token:") and event.origin.startswith("api ")
    assert event.details == {"email": dev.email, "time_zone": "America/New_York", "old_time_zone": None}
    cleared = api.call("PATCH", "/api/v1/account", token, json={"time_zone": None})
    assert cleared.status_code == 200 and cleared.get_json()["time_zone"] is None
    assert zone_of(session, dev.email) is None


@pytest.mark.parametrize(
    "body",
    [*({"time_zone": zone} for zone in REFUSED), {"time_zone": 5}, {}, {"time_zone": "UTC", "email": "x@example.com"}],
)
def test_the_api_refuses_what_is_no_zone(api: ApiClient, session: Session, dev: User, body: dict[str, Any]) -> None:
    token = api.as_user(dev.email)
    before = event_count(session)
    refused = api.call("PATCH", "/api/v1/account", token, json=body)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"][0]["field"] in ("time_zone", "email")
    assert zone_of(session, dev.email) is None and event_count(session) == before


def test_the_api_names_the_reason_for_a_folder(api: ApiClient, dev: User) -> None:
    refused = api.call("PATCH", "/api/v1/account", api.as_user(dev.email), json={"time_zone": "Europe"})
    assert refused.get_json()["errors"] == [
        {"field": "time_zone", "message": "unknown time zone 'Europe' (an IANA name such as Europe/Berlin)"}
    ]


def test_only_the_user_or_who_manages_users_sets_a_zone(session: Session, dev: User) -> None:
    other = make_user(session, "other@example.com")
    own = principal_for(session, dev)
    with pytest.raises(Forbidden):
        set_time_zone(session, own, other.id, "Europe/Berlin")
    # Every token reads products today; one narrowed further would change no zone, as it reads no notification.
    with pytest.raises(Forbidden):
        set_time_zone(session, replace(own, scopes=frozenset({Permission.SIGNING_KEYS_MANAGE})), dev.id, "UTC")
    assert set_time_zone(session, OPERATOR, other.id, "Europe/Berlin").time_zone == "Europe/Berlin"
    with pytest.raises(NotFound):
        set_time_zone(session, OPERATOR, 2_000_000, "Europe/Berlin")
    assert dev.time_zone is None


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(cli, list(args))


def test_the_command_line_sets_and_clears_a_zone(app: Flask, session: Session, dev: User) -> None:
    done = run(app, "user", "zone", dev.email, "Asia/Kolkata")
    assert done.exit_code == 0 and done.output == "dev@example.com sees times in Asia/Kolkata\n"
    assert zone_of(session, dev.email) == "Asia/Kolkata"
    (event,) = zone_events(session)
    assert event.actor.startswith("cli:") and event.details["time_zone"] == "Asia/Kolkata"
    assert '"time_zone": "Asia/Kolkata"' in run(app, "user", "list", "--json").output
    cleared = run(app, "user", "zone", dev.email, "default")
    assert cleared.exit_code == 0 and "UTC (the default)" in cleared.output and zone_of(session, dev.email) is None


@pytest.mark.parametrize("zone", [*REFUSED, "x" * 1000])
def test_the_command_line_refuses_what_is_no_zone(app: Flask, session: Session, dev: User, zone: str) -> None:
    before = event_count(session)
    refused = run(app, "user", "zone", dev.email, zone)
    assert refused.exit_code == 2 and refused.output.count("\n") == 1 and refused.output.startswith("error: ")
    assert zone_of(session, dev.email) is None and event_count(session) == before


def test_with_as_a_user_sets_their_own_zone_only(app: Flask, session: Session, dev: User) -> None:
    make_user(session, "other@example.com")
    session.commit()
    own = run(app, "user", "zone", dev.email, "Europe/Lisbon", "--as", dev.email)
    assert own.exit_code == 0 and zone_of(session, dev.email) == "Europe/Lisbon"
    assert zone_events(session)[0].actor == f"user:{dev.email}"
    other = run(app, "user", "zone", "other@example.com", "Europe/Lisbon", "--as", dev.email)
    assert other.exit_code == 2 and zone_of(session, "other@example.com") is None
