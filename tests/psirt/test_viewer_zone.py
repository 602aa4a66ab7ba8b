"""PSIRT times on the viewer's clock: a due time reads in the zone the viewer chose, on either side of a
daylight-saving change, with its UTC instant in the element; UTC without a choice; the main establishment's
clock still beside it where it is another zone; the reporting clocks of My work alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import User
from sdl_tracker.accounts.preferences import set_time_zone
from sdl_tracker.accounts.services import get_user_by_email
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case, update_settings
from tests.factories import OPERATOR, login, make_product, member

pytestmark = pytest.mark.db

OFFICER = "so@example.com"
# Aware at 16:48 UTC: the early warning is due 24 hours later, at 16:48 UTC the next day.
WINTER_AWARE = datetime(2026, 1, 14, 16, 48, tzinfo=UTC)
SUMMER_AWARE = datetime(2026, 7, 14, 16, 48, tzinfo=UTC)


def element(instant: str, shown: str) -> str:
    """The markup of a time shown on the viewer's clock, with its UTC instant for machines and as a tooltip."""
    day, clock = instant[:10], instant[11:16]
    return f'<time datetime="{instant}" title="{day} {clock} UTC">{shown}</time>'


@pytest.fixture
def plc(session: Session) -> Product:
    product = make_product(session, "PLC")
    member(session, product, "security_officer", OFFICER)
    session.commit()
    return product


def exploited(session: Session, product: Product, aware: datetime) -> PsirtCase:
    """A vulnerability known to be actively exploited since `aware`, received that morning."""
    case = create_case(
        session,
        OPERATOR,
        product.id,
        kind="vulnerability",
        title=f"Exploited since {aware:%B}",
        source="researcher",
        received_at=aware.replace(hour=9, minute=0),
        facts={"aware_at": aware},
    )
    session.commit()
    return case


def viewer(app: Flask, session: Session, zone: str | None) -> FlaskClient:
    """The officer, signed in, having chosen `zone` (None: no choice)."""
    set_time_zone(session, OPERATOR, get_user_by_email(session, OFFICER).id, zone)
    session.commit()
    client = app.test_client()
    login(client, OFFICER)
    return client


@pytest.mark.parametrize(
    ("zone", "winter", "summer"),
    [
        ("Europe/Berlin", "2026-01-15 17:48 CET", "2026-07-15 18:48 CEST"),
        ("America/New_York", "2026-01-15 11:48 EST", "2026-07-15 12:48 EDT"),
    ],
)
def test_a_due_time_reads_on_the_viewers_clock_across_daylight_saving(
    app: Flask, session: Session, plc: Product, zone: str, winter: str, summer: str
) -> None:
    cases = [exploited(session, plc, WINTER_AWARE), exploited(session, plc, SUMMER_AWARE)]
    client = viewer(app, session, zone)
    instants = ("2026-01-15T16:48:00Z", "2026-07-15T16:48:00Z")
    for case, instant, shown in zip(cases, instants, (winter, summer), strict=True):
        page = client.get(f"/psirt/cases/{case.id}").get_data(as_text=True)
        assert f"Times in {zone}" in page
        # The product has no settings: the main establishment's clock is UTC's, shown beside the viewer's.
        assert f'{element(instant, shown)} <span class="muted">({instant[:10]} 16:48 UTC)</span>' in page
        assert f"due {shown}</title>" in page  # the clocks' timeline, its tooltip
    winter_page = client.get(f"/psirt/cases/{cases[0].id}").get_data(as_text=True)
    received = "2026-01-14 10:00 CET" if zone == "Europe/Berlin" else "2026-01-14 04:00 EST"
    assert f"<dt>Received</dt><dd>{element('2026-01-14T09:00:00Z', received)}</dd>" in winter_page


def test_without_a_choice_times_read_in_utc(app: Flask, session: Session, plc: Product) -> None:
    case = exploited(session, plc, WINTER_AWARE)
    client = viewer(app, session, None)
    page = client.get(f"/psirt/cases/{case.id}").get_data(as_text=True)
    assert "Times in UTC" in page
    assert f"{element('2026-01-15T16:48:00Z', '2026-01-15 16:48 UTC')}<br>" in page  # nothing in brackets
    assert "CET" not in page and "EST" not in page
    listed = client.get("/psirt/cases").get_data(as_text=True)
    assert element("2026-01-14T09:00:00Z", "2026-01-14 09:00 UTC") in listed


def test_the_main_establishments_clock_stays_beside_the_viewers(app: Flask, session: Session, plc: Product) -> None:
    case = exploited(session, plc, WINTER_AWARE)
    update_settings(session, OPERATOR, plc.id, zone="Europe/Berlin")
    session.commit()
    page = viewer(app, session, "America/New_York").get(f"/psirt/cases/{case.id}").get_data(as_text=True)
    assert "in brackets on the main establishment's clock (Europe/Berlin)" in page
    shown = element("2026-01-15T16:48:00Z", "2026-01-15 11:48 EST")
    assert f'{shown} <span class="muted">(2026-01-15 17:48 CET)</span>' in page
    # A viewer on the establishment's own clock sees each time once.
    same = viewer(app, session, "Europe/Berlin").get(f"/psirt/cases/{case.id}").get_data(as_text=True)
    assert f"{element('2026-01-15T16:48:00Z', '2026-01-15 17:48 CET')}<br>" in same
    assert "in brackets" not in same


def test_my_works_reporting_clocks_read_on_the_viewers_clock(app: Flask, session: Session, plc: Product) -> None:
    exploited(session, plc, SUMMER_AWARE)
    home = viewer(app, session, "Europe/Berlin").get("/").get_data(as_text=True)
    clocks = home[home.index('id="clocks"') :]
    assert f"<b>due {element('2026-07-15T16:48:00Z', '2026-07-15 18:48 CEST')}</b>" in clocks
    in_utc = viewer(app, session, None).get("/").get_data(as_text=True)
    assert f"<b>due {element('2026-07-15T16:48:00Z', '2026-07-15 16:48 UTC')}</b>" in in_utc


def test_a_stored_zone_the_zone_data_no_longer_lists_reads_as_utc(app: Flask, session: Session, plc: Product) -> None:
    case = exploited(session, plc, WINTER_AWARE)
    client = viewer(app, session, None)
    session.execute(update(User).where(User.email == OFFICER).values(time_zone="Atlantis/Lost"))
    session.commit()
    page = client.get(f"/psirt/cases/{case.id}")
    assert page.status_code == 200 and "Times in UTC" in page.get_data(as_text=True)
