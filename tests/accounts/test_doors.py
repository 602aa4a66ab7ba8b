"""Accounts through the pages and the CLI; sessions that must die; secrets that must never show."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Membership, User
from sdl_tracker.cli import cli
from tests.factories import PASSWORD, ApiClient, csrf_token, login, make_product, make_release, make_user, member

SECRET = "Tr0ub4dor&3-unique-test-secret"


def run(app: Flask, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args), input=input)


@pytest.fixture
def admin_client(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    login(client, "admin@example.com")
    return client


def _replayed(app: Flask, cookie: str) -> int:
    """Status of a page request made with an old session cookie, from a fresh browser."""
    other = app.test_client()
    other.set_cookie("sdl_tracker_session", cookie)
    response = other.get("/products/")
    return response.status_code


def test_password_change_ends_other_sessions_but_not_this_one(app: Flask, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "dev@example.com")
    login(phone, "dev@example.com")
    old_cookie = phone.get_cookie("sdl_tracker_session").value  # type: ignore[union-attr]
    response = laptop.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": SECRET,
            "confirm": SECRET,
            "csrf_token": csrf_token(laptop, "/account"),
        },
    )
    assert response.status_code == 302
    assert laptop.get("/products/").status_code == 200
    assert phone.get("/products/").status_code == 302
    assert _replayed(app, old_cookie) == 302


def test_password_change_form_errors(app: Flask, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    for data, message in (
        ({"current_password": "wrong one", "new_password": SECRET, "confirm": SECRET}, "current password is wrong"),
        ({"current_password": PASSWORD, "new_password": "short", "confirm": "short"}, "at least 12"),
        ({"current_password": PASSWORD, "new_password": SECRET, "confirm": SECRET + "x"}, "the passwords differ"),
    ):
        page = client.post("/account", data={**data, "csrf_token": csrf_token(client, "/account")}).get_data(
            as_text=True
        )
        assert message in page


def test_disable_ends_sessions_at_once(app: Flask, admin_client: FlaskClient, session: Session) -> None:
    victim = make_user(session, "dev@example.com")
    session.commit()
    dev = app.test_client()
    login(dev, "dev@example.com")
    cookie = dev.get_cookie("sdl_tracker_session").value  # type: ignore[union-attr]
    response = admin_client.post(
        f"/admin/users/{victim.id}/disable",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
        follow_redirects=True,
    )
    assert "is disabled" in response.get_data(as_text=True)
    assert dev.get("/").status_code == 302 and _replayed(app, cookie) == 302
    token = csrf_token(dev, "/login")
    refused = dev.post("/login", data={"email": "dev@example.com", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 401


def test_revoking_admin_rights_ends_sessions(app: Flask, admin_client: FlaskClient, session: Session) -> None:
    second = make_user(session, "second@example.com", admin=True)
    session.commit()
    other = app.test_client()
    login(other, "second@example.com")
    assert other.get("/admin/users").status_code == 200
    admin_client.post(
        f"/admin/users/{second.id}/revoke-admin", data={"csrf_token": csrf_token(admin_client, "/admin/users")}
    )
    assert other.get("/admin/users").status_code == 302  # signed out, not silently still an admin


def test_last_admin_cannot_be_disabled_from_the_page(admin_client: FlaskClient, session: Session) -> None:
    admin = session.scalars(select(User).where(User.email == "admin@example.com")).one()
    page = admin_client.post(
        f"/admin/users/{admin.id}/disable",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "last active administrator" in page
    session.refresh(admin)
    assert not admin.disabled


def test_throttled_sign_in_page(client: FlaskClient, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    statuses = []
    for _ in range(6):
        response = client.post(
            "/login",
            data={"email": "dev@example.com", "password": "wrong password", "csrf_token": csrf_token(client, "/login")},
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 401, 429, 429]
    assert "Too many failed sign-ins for this account; try again in 15 minutes." in response.get_data(as_text=True)


def test_users_page_creates_users_and_shows_errors(admin_client: FlaskClient, session: Session) -> None:
    data = {
        "email": "new@example.com",
        "name": "New",
        "password": SECRET,
        "csrf_token": csrf_token(admin_client, "/admin/users"),
    }
    assert "User new@example.com created." in admin_client.post(
        "/admin/users", data=data, follow_redirects=True
    ).get_data(as_text=True)
    again = admin_client.post("/admin/users", data={**data, "csrf_token": csrf_token(admin_client, "/admin/users")})
    assert "already exists" in again.get_data(as_text=True)
    short = admin_client.post(
        "/admin/users",
        data={
            **data,
            "email": "x@example.com",
            "password": "short",
            "csrf_token": csrf_token(admin_client, "/admin/users"),
        },
    )
    assert "at least 12" in short.get_data(as_text=True)
    huge = admin_client.post(
        "/admin/users", data={**data, "name": "n" * 5000, "csrf_token": csrf_token(admin_client, "/admin/users")}
    )
    assert "cannot be longer than 200" in huge.get_data(as_text=True)
    assert session.scalars(select(User.email).order_by(User.email)).all() == ["admin@example.com", "new@example.com"]


def test_members_page(admin_client: FlaskClient, session: Session) -> None:
    product = make_product(session, "P")
    make_user(session, "dev@example.com")
    session.commit()
    path = f"/products/{product.id}/members"
    added = admin_client.post(
        path,
        data={"email": "dev@example.com", "role": "developer", "csrf_token": csrf_token(admin_client, path)},
        follow_redirects=True,
    )
    assert "dev@example.com is now a developer of P." in added.get_data(as_text=True)
    bad_role = admin_client.post(
        path, data={"email": "dev@example.com", "role": "owner", "csrf_token": csrf_token(admin_client, path)}
    )
    assert "Not a valid choice" in bad_role.get_data(as_text=True)
    unknown = admin_client.post(
        path, data={"email": "ghost@example.com", "role": "auditor", "csrf_token": csrf_token(admin_client, path)}
    )
    assert "no user ghost@example.com" in unknown.get_data(as_text=True)
    removed = admin_client.post(
        f"{path}/remove",
        data={"email": "dev@example.com", "role": "developer", "csrf_token": csrf_token(admin_client, path)},
        follow_redirects=True,
    )
    assert "no longer a member" in removed.get_data(as_text=True)
    assert session.scalar(select(Membership).where(Membership.product_id == product.id)) is None


def test_no_password_is_stored_logged_or_shown(app: Flask, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    """Search everything the app keeps or says for the secrets used in real flows."""
    caplog.set_level(logging.DEBUG)
    outputs = [run(app, "user", "create", "secret@example.com", "--admin", input=SECRET + "\n").output]
    client = app.test_client()
    wrong = "Wr0ng-but-also-secret-" + SECRET
    outputs.append(
        client.post(
            "/login",
            data={"email": "secret@example.com", "password": wrong, "csrf_token": csrf_token(client, "/login")},
        ).get_data(as_text=True)
    )
    login(client, "secret@example.com", SECRET)
    new = "N3w-" + SECRET
    outputs.append(
        client.post(
            "/account",
            data={
                "current_password": SECRET,
                "new_password": new,
                "confirm": new,
                "csrf_token": csrf_token(client, "/account"),
            },
            follow_redirects=True,
        ).get_data(as_text=True)
    )
    outputs.append(run(app, "user", "password", "secret@example.com", input="R3set-" + SECRET + "\n").output)
    outputs.append(run(app, "user", "list", "--json").output)
    database_text = []
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    for table in metadata.sorted_tables:
        for row in session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608 - reflected names
            database_text.append(" ".join(str(value) for value in row))
    haystack = "\n".join(outputs + database_text + [caplog.text])
    for secret in (SECRET, wrong, new, "R3set-" + SECRET):
        assert secret not in haystack
    assert "$argon2id$" in haystack  # the hashes are there, so the search did look at the users


def test_user_and_member_cli(app: Flask, session: Session) -> None:
    make_product(session, "P")
    make_user(session, "admin@example.com", admin=True)
    make_user(session, "dev@example.com")
    assert run(app, "member", "add", "P", "dev@example.com", "developer").exit_code == 0
    listed = json.loads(run(app, "member", "list", "P", "--json").output)
    assert listed == [{"email": "dev@example.com", "name": "dev", "role": "developer"}]
    users = json.loads(run(app, "user", "list", "--json").output)
    assert [u["email"] for u in users] == ["admin@example.com", "dev@example.com"]
    assert "password" not in json.dumps(users) and all("hash" not in k for u in users for k in u)
    assert run(app, "user", "disable", "dev@example.com").output.strip() == "disabled dev@example.com"
    assert session.scalars(select(User.disabled).where(User.email == "dev@example.com")).one()
    assert run(app, "user", "enable", "dev@example.com").exit_code == 0
    last = run(app, "user", "admin", "admin@example.com", "--revoke")
    assert last.exit_code == 2 and "last active administrator" in last.output
    unknown_role = run(app, "member", "add", "P", "dev@example.com", "owner")
    assert unknown_role.exit_code == 2 and "owner" in unknown_role.output
    assert run(app, "member", "remove", "P", "dev@example.com", "auditor").exit_code == 2
    assert run(app, "member", "remove", "P", "dev@example.com", "developer").exit_code == 0
    assert run(app, "user", "disable", "ghost@example.com").output.strip() == "error: no user ghost@example.com"


def test_another_products_objects_are_not_found_through_every_door(
    app: Flask, client: FlaskClient, api: ApiClient, session: Session
) -> None:
    mine, theirs = make_product(session, "Mine"), make_product(session, "Theirs-Secret-Name")
    release = make_release(session, theirs, "7.7")
    run(app, "repo", "add", "Theirs-Secret-Name", "https://git.example.com/secret.git")
    member(session, mine, "security_officer", email="so@example.com")
    session.commit()
    login(client, "so@example.com")
    pages = [
        f"/products/{theirs.id}",
        f"/products/{theirs.id}/edit",
        f"/products/{theirs.id}/releases/new",
        f"/products/releases/{release.id}",
        f"/products/{theirs.id}/members",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 404 and "Theirs-Secret-Name" not in response.get_data(as_text=True), path
    token = api.as_user("so@example.com")
    for method, path in [
        ("GET", f"/api/v1/products/{theirs.id}"),
        ("GET", f"/api/v1/releases/{release.id}"),
        ("GET", f"/api/v1/products/{theirs.id}/repositories"),
        ("PATCH", f"/api/v1/releases/{release.id}"),
    ]:
        response = api.call(method, path, token, json={} if method == "PATCH" else None)
        assert response.status_code == 404 and "Theirs-Secret-Name" not in response.get_data(as_text=True), path
    for args in (["product", "show"], ["release", "list"], ["repo", "list"], ["member", "list"]):
        result = run(app, *args, "Theirs-Secret-Name", "--as", "so@example.com")
        assert result.exit_code == 2 and "no product named" in result.output, args
    assert quote("Theirs-Secret-Name") not in client.get("/").get_data(as_text=True)
