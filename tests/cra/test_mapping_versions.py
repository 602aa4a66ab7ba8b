"""The mapping version a release is assessed with: pinned at creation, read by the points and the claims page,
moved on by an officer through every door (audited), never backwards and never for a shipped release."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.catalog.services import find_edition, newest_mapping
from sdl_tracker.claims.judging import claims_summary
from sdl_tracker.cli import cli
from sdl_tracker.cra.applicability import mapping_state, move_mapping, release_points
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.products.models import Release
from tests.cra.fixtures_points import AUDITOR, DEVELOPER, OFFICER, STRANGER, Plc, cra_events, make_plc, pin, written
from tests.factories import ApiClient, csrf_token, login, make_release

pytestmark = pytest.mark.db


@pytest.fixture
def plc(session: Session) -> Plc:
    made = make_plc(session)
    session.commit()
    return made


def _supporters(session: Session, plc: Plc, ref: str) -> set[str]:
    return {m.ref for p in release_points(session, plc.officer, plc.release.id) if p.ref == ref for m in p.mapped}


def _claims_row(page: str, ref: str) -> str:
    """The claims table's row of one item."""
    return next(row for row in page.split("<tr>") if re.search(rf">{re.escape(ref)}</a>|<td>{re.escape(ref)} ", row))


def test_a_new_release_pins_the_newest_mapping(session: Session, plc: Plc) -> None:
    newest = newest_mapping(session)
    assert newest is not None and newest.version == "2026.2"
    assert plc.release.cra_mapping_id == newest.id
    state = mapping_state(session, plc.auditor, plc.release.id)
    assert (state.pinned, state.newest, state.newer, state.shipped) == ("2026.2", "2026.2", (), False)


def test_a_release_on_2026_1_reads_it_until_an_officer_moves_it_on(
    app: Flask, session: Session, plc: Plc, client: FlaskClient
) -> None:
    sibling = session.get(Release, plc.release.id - 1)  # 0.9
    assert sibling is not None and sibling.version == "0.9"
    for release in (plc.release, sibling):
        pin(session, release, "2026.1")
    session.commit()
    assert "CR 3.6" in _supporters(session, plc, "I.2i") and "CR 3.6" not in _supporters(session, plc, "I.2h")
    assert {p.ref for p in claims_summary(session, plc.officer, plc.release.id).cra["CR 3.6"]} == {"I.2i", "I.2k"}
    login(client, AUDITOR)
    row = _claims_row(client.get(f"/releases/{plc.release.id}/claims").get_data(as_text=True), "CR 3.6")
    assert ">I.2i</span>" in row and ">I.2h</span>" not in row
    assert mapping_state(session, plc.officer, plc.release.id).newer == ("2026.2",)

    moved = move_mapping(session, plc.officer, plc.release.id, "2026.2")
    session.commit()
    assert moved.cra_mapping is not None and moved.cra_mapping.version == "2026.2"
    assert "CR 3.6" in _supporters(session, plc, "I.2h") and "CR 3.6" not in _supporters(session, plc, "I.2i")
    assert {p.ref for p in claims_summary(session, plc.officer, plc.release.id).cra["CR 3.6"]} == {"I.2h", "I.2k"}
    row = _claims_row(client.get(f"/releases/{plc.release.id}/claims").get_data(as_text=True), "CR 3.6")
    assert ">I.2h</span>" in row and ">I.2i</span>" not in row
    (event,) = cra_events(session, "cra:mapping:move")
    assert event.details == {"release": "1.0", "from": "2026.1", "to": "2026.2"}
    assert event.target_id == str(plc.release.id) and event.product_id == plc.product.id
    session.refresh(sibling)
    assert sibling.cra_mapping is not None and sibling.cra_mapping.version == "2026.1"  # the others keep theirs


@pytest.mark.parametrize(
    ("pinned", "version", "fragment"),
    [
        ("2026.2", "2026.1", "mapping version 2026.1 is older than 2026.2, which 1.0 is assessed with"),
        ("2026.2", "2026.2", "1.0 is already assessed with mapping version 2026.2"),
        ("2026.1", "2027.1", "no mapping version '2027.1' is loaded (loaded: 2026.1, 2026.2)"),
    ],
)
def test_a_mapping_never_moves_backwards_or_nowhere(
    session: Session, plc: Plc, pinned: str, version: str, fragment: str
) -> None:
    pin(session, plc.release, pinned)
    before = written(session)
    with session.begin_nested(), pytest.raises(Invalid) as caught:
        move_mapping(session, plc.officer, plc.release.id, version)
    assert fragment in caught.value.one_line(), caught.value.one_line()
    session.expire_all()
    assert written(session) == before and plc.release.cra_mapping is not None
    assert plc.release.cra_mapping.version == pinned


def test_a_shipped_release_keeps_the_version_it_was_assessed_with(session: Session, plc: Plc) -> None:
    shipped = make_release(session, plc.product, "0.8", status="released", release_date=date(2026, 1, 10))
    pin(session, shipped, "2026.1")
    with session.begin_nested(), pytest.raises(Invalid, match=r"0\.8 is released: it keeps the mapping version"):
        move_mapping(session, plc.officer, shipped.id, "2026.2")
    session.expire_all()
    assert shipped.cra_mapping is not None and shipped.cra_mapping.version == "2026.1"
    assert mapping_state(session, plc.officer, shipped.id).shipped
    assert cra_events(session, "cra:mapping:move") == []


def test_only_the_products_officers_move_the_mapping(session: Session, plc: Plc) -> None:
    pin(session, plc.release, "2026.1")
    for actor, error in ((plc.developer, Forbidden), (plc.auditor, Forbidden), (plc.stranger, NotFound)):
        with session.begin_nested(), pytest.raises(error):
            move_mapping(session, actor, plc.release.id, "2026.2")
    assert cra_events(session, "cra:mapping:move") == []


# --- the doors -------------------------------------------------------------------------------------------------


def test_moving_the_mapping_on_the_point_page(client: FlaskClient, session: Session, plc: Plc) -> None:
    pin(session, plc.release, "2026.1")
    session.commit()
    path = f"/releases/{plc.release.id}/cra/points/I.2h"
    action = f"/releases/{plc.release.id}/cra/mapping"
    reader = client.application.test_client()
    login(reader, DEVELOPER)
    assert 'name="version"' not in reader.get(path).get_data(as_text=True)
    refused = reader.post(action, data={"version": "2026.2", "csrf_token": csrf_token(reader, path)})
    assert refused.status_code == 403
    login(client, OFFICER)
    page = client.get(path).get_data(as_text=True)
    assert "mapping version 2026.1" in page and '<option value="2026.2">' in page
    token = csrf_token(client, path)
    moved = client.post(action, data={"version": "2026.2", "next": path, "csrf_token": token}, follow_redirects=True)
    assert moved.status_code == 200 and "1.0 is now assessed with mapping version 2026.2" in moved.get_data(
        as_text=True
    )
    again = client.post(action, data={"version": "2026.1", "next": path, "csrf_token": token}, follow_redirects=True)
    assert "is older than 2026.2" in again.get_data(as_text=True)
    assert [e.details["to"] for e in cra_events(session, "cra:mapping:move")] == ["2026.2"]


def test_the_mapping_through_the_api(api: ApiClient, session: Session, plc: Plc) -> None:
    pin(session, plc.release, "2026.1")
    session.commit()
    path = f"/api/v1/releases/{plc.release.id}/cra/mapping"
    officer = api.as_user(OFFICER)
    shown = api.call("GET", path, api.as_user(AUDITOR)).get_json()
    assert shown == {
        "release_id": plc.release.id, "release": "1.0", "pinned": "2026.1", "newest": "2026.2",
        "newer": ["2026.2"], "shipped": False,
    }  # fmt: skip
    assert api.call("POST", path, api.as_user(DEVELOPER), json={"version": "2026.2"}).status_code == 403
    assert api.call("POST", path, api.as_user(STRANGER), json={"version": "2026.2"}).status_code == 404
    moved = api.call("POST", path, officer, json={"version": "2026.2"})
    assert moved.status_code == 200 and moved.get_json()["pinned"] == "2026.2" and moved.get_json()["newer"] == []
    back = api.call("POST", path, officer, json={"version": "2026.1"})
    assert back.status_code == 422 and back.content_type == "application/problem+json"
    assert "older than 2026.2" in back.get_json()["detail"]


def test_the_mapping_on_the_command_line(app: Flask, session: Session, plc: Plc) -> None:
    pin(session, plc.release, "2026.1")
    session.commit()
    runner = app.test_cli_runner()
    shown = runner.invoke(cli, ["cra", "mapping", "PLC", "1.0"])
    assert shown.exit_code == 0 and "1.0: mapping 2026.1" in shown.output and "newer: 2026.2" in shown.output
    refused = runner.invoke(cli, ["cra", "mapping", "PLC", "1.0", "--to", "2026.2", "--as", DEVELOPER])
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
    assert refused.output.startswith("error: a developer may not do this")
    moved = runner.invoke(cli, ["cra", "mapping", "PLC", "1.0", "--to", "2026.2", "--as", OFFICER, "--json"])
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output)["pinned"] == "2026.2"
    back = runner.invoke(cli, ["cra", "mapping", "PLC", "1.0", "--to", "2026.1"])
    assert back.exit_code == 2 and len(back.output.strip().splitlines()) == 1
    assert "is older than 2026.2" in back.output


def test_the_catalog_page_says_which_mapping_version_it_shows(client: FlaskClient, session: Session, plc: Plc) -> None:
    edition = find_edition(session, "IEC 62443-4-2", "2019")
    assert edition is not None
    login(client, AUDITOR)
    page = client.get(f"/catalog/{edition.id}/CR 3.6").get_data(as_text=True)
    assert "As mapping version 2026.2, the newest loaded, maps it." in page
    assert "Annex I Part I (2h)" in page and "Annex I Part I (2i)" not in page


def test_a_release_pinned_to_none_reads_the_newest_and_may_pin_only_it(session: Session, plc: Plc) -> None:
    plc.release.cra_mapping_id = None  # made before any mapping was loaded
    session.flush()
    session.expire(plc.release, ["cra_mapping"])
    state = mapping_state(session, plc.officer, plc.release.id)
    assert (state.pinned, state.newest, state.newer) == (None, "2026.2", ("2026.2",))
    assert "CR 3.6" in _supporters(session, plc, "I.2h")
    with session.begin_nested(), pytest.raises(Invalid, match=r"older than 2026\.2"):
        move_mapping(session, plc.officer, plc.release.id, "2026.1")
    move_mapping(session, plc.officer, plc.release.id, "2026.2")
    assert cra_events(session, "cra:mapping:move")[-1].details == {"release": "1.0", "from": None, "to": "2026.2"}
    assert mapping_state(session, plc.officer, plc.release.id).pinned == "2026.2"
