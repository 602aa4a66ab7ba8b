"""Who manages a product's members: its security officers its developers and auditors, administrators every
role; through the services, the members page, the users page and the command line."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Membership
from sdl_tracker.accounts.services import (
    add_member,
    list_members,
    principal_for,
    remove_member,
)
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Role
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, NotFound
from sdl_tracker.products.models import Product
from tests.concurrency import at_once
from tests.factories import OPERATOR, csrf_token, login, make_product, make_user, member, statements


def _roles(session: Session, product: Product) -> dict[str, str]:
    return {user.email: role.value for user, role in list_members(session, OPERATOR, product.id)}


def test_an_officer_manages_the_developers_and_auditors_of_their_product(session: Session) -> None:
    product = make_product(session, "PLC")
    officer = member(session, product, "security_officer", email="so@example.com")
    make_user(session, "dev@example.com")
    add_member(session, officer, product.id, email="dev@example.com", role="developer")
    add_member(session, officer, product.id, email="dev@example.com", role="auditor")
    assert _roles(session, product)["dev@example.com"] == "auditor"
    remove_member(session, officer, product.id, email="dev@example.com", role="auditor")
    assert "dev@example.com" not in _roles(session, product)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("accounts:membership:%")).order_by(AuditEvent.seq)
    ).all()
    mine = [(e.action, e.details.get("role"), e.details.get("old_role")) for e in events if e.actor == officer.label]
    assert mine == [
        ("accounts:membership:create", "developer", None),
        ("accounts:membership:update", "auditor", "developer"),
        ("accounts:membership:delete", "auditor", None),
    ]
    assert all(e.product_id == product.id for e in events)


def test_an_officer_touches_no_security_officer_not_even_themselves(session: Session) -> None:
    product = make_product(session, "PLC")
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    make_user(session, "dev@example.com")
    member(session, product, "developer", email="dev2@example.com")
    refused: list[Callable[[], object]] = [
        lambda: add_member(session, officer, product.id, email="dev@example.com", role="security_officer"),
        lambda: add_member(session, officer, product.id, email="dev2@example.com", role="security_officer"),
        lambda: add_member(session, officer, product.id, email="so2@example.com", role="developer"),
        lambda: remove_member(session, officer, product.id, email="so2@example.com", role="security_officer"),
        lambda: add_member(session, officer, product.id, email="so@example.com", role="developer"),
        lambda: remove_member(session, officer, product.id, email="so@example.com", role="security_officer"),
    ]
    for call in refused:
        with pytest.raises(Forbidden, match="only an administrator"):
            call()
    assert _roles(session, product) == {
        "so@example.com": "security_officer",
        "so2@example.com": "security_officer",
        "dev2@example.com": "developer",
    }
    admin = principal_for(session, make_user(session, admin=True))
    add_member(session, admin, product.id, email="so2@example.com", role="developer")
    add_member(session, admin, product.id, email="dev@example.com", role="security_officer")
    assert _roles(session, product)["dev@example.com"] == "security_officer"


def test_others_manage_nothing_and_other_products_do_not_exist(session: Session) -> None:
    product, other = make_product(session, "PLC"), make_product(session, "HMI")
    elsewhere = member(session, other, "security_officer")
    make_user(session, "dev@example.com")
    for role in ("developer", "auditor"):
        actor = member(session, product, role)
        with pytest.raises(Forbidden):
            add_member(session, actor, product.id, email="dev@example.com", role="developer")
    with pytest.raises(NotFound):
        add_member(session, elsewhere, product.id, email="dev@example.com", role="developer")
    add_member(session, OPERATOR, product.id, email="dev@example.com", role="developer")
    with pytest.raises(NotFound):
        remove_member(session, elsewhere, product.id, email="dev@example.com", role="developer")
    assert _roles(session, product)["dev@example.com"] == "developer"


def test_an_officer_whose_role_was_taken_meanwhile_manages_nothing(session: Session) -> None:
    product = make_product(session, "PLC")
    officer = member(session, product, "security_officer", email="so@example.com")  # built before the change
    make_user(session, "dev@example.com")
    add_member(session, OPERATOR, product.id, email="so@example.com", role="developer")
    with pytest.raises(Forbidden, match="security officers and administrators"):
        add_member(session, officer, product.id, email="dev@example.com", role="developer")


@pytest.mark.db
def test_an_officer_demoted_while_adding_a_member_adds_nobody_after_the_demotion(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        officer = member(session, product, "security_officer", email="so@example.com")
        product_id = product.id
        for n in range(6):
            make_user(session, f"dev{n}@example.com")

    def add(n: int) -> str:
        with database.unit_of_work() as session:
            add_member(session, officer, product_id, email=f"dev{n}@example.com", role="developer")
        return "added"

    def demote() -> str:
        with database.unit_of_work() as session:
            add_member(session, OPERATOR, product_id, email="so@example.com", role="developer")
        return "demoted"

    answers = at_once([*(lambda n=n: add(n) for n in range(3)), demote, *(lambda n=n: add(n) for n in range(3, 6))])
    assert "demoted" in answers and all(a in ("added", "demoted") or isinstance(a, Forbidden) for a in answers)
    with database.unit_of_work(read_only=True) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("accounts:membership:%")).order_by(AuditEvent.seq)
        ).all()
        demoted_at = next(
            e.seq for e in events if e.details == {**e.details, "email": "so@example.com", "role": "developer"}
        )
        assert [e for e in events if e.seq > demoted_at and e.actor == officer.label] == []
        added = session.scalars(select(Membership).where(Membership.role == Role.DEVELOPER)).all()
        assert len(added) == answers.count("added") + 1  # and the demoted officer


# --- The pages --------------------------------------------------------------------------------------------


def _post(client: FlaskClient, path: str, data: dict[str, str]) -> str:
    page = f"/products/{path.split('/')[2]}/members"
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_members_page_of_an_officer(app: Flask, client: FlaskClient, session: Session) -> None:
    product, other = make_product(session, "PLC"), make_product(session, "HMI")
    member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    make_user(session, "dev@example.com")
    session.commit()
    login(client, "so@example.com")
    path = f"/products/{product.id}/members"
    page = client.get(path).get_data(as_text=True)
    assert "Add a member" in page and '<option value="developer">' in page and 'value="security_officer"' not in page
    assert "Remove" not in page  # the two officers' rows: an administrator's to change
    page = _post(client, path, {"email": "dev@example.com", "role": "developer"})
    assert "dev@example.com is now a developer of PLC." in page and "Change role" in page
    page = _post(client, path, {"email": "dev@example.com", "role": "auditor"})
    assert "dev@example.com is now an auditor of PLC." in page
    page = _post(client, path, {"email": "dev@example.com", "role": "security_officer"})
    assert "Not a valid choice" in page
    page = _post(client, f"{path}/remove", {"email": "so2@example.com", "role": "security_officer"})
    assert "only an administrator" in page
    page = _post(client, f"{path}/remove", {"email": "dev@example.com", "role": "auditor"})
    assert "no longer a member" in page
    assert _roles(session, product) == {"so@example.com": "security_officer", "so2@example.com": "security_officer"}
    assert client.get(f"/products/{other.id}/members").status_code == 404
    refused = client.post(
        f"/products/{other.id}/members",
        data={"email": "dev@example.com", "role": "developer", "csrf_token": csrf_token(client, path)},
    )
    assert refused.status_code == 404


def test_a_developer_sees_the_members_and_changes_nothing(app: Flask, client: FlaskClient, session: Session) -> None:
    product = make_product(session, "PLC")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "auditor", email="aud@example.com")
    session.commit()
    login(client, "dev@example.com")
    path = f"/products/{product.id}/members"
    page = client.get(path).get_data(as_text=True)
    assert "aud@example.com" in page and "Add a member" not in page and "Remove" not in page
    token = csrf_token(client, path)
    for target, data in (
        (path, {"email": "aud@example.com", "role": "developer"}),
        (f"{path}/remove", {"email": "aud@example.com", "role": "auditor"}),
    ):
        assert client.post(target, data={**data, "csrf_token": token}).status_code == 403
    assert _roles(session, product)["aud@example.com"] == "auditor"


def test_the_users_page_names_each_product_and_role_in_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    make_user(session, "admin@example.com", admin=True)
    plc, hmi = make_product(session, "PLC"), make_product(session, "HMI")
    member(session, plc, "auditor", email="aud@example.com")
    add_member(session, OPERATOR, hmi.id, email="aud@example.com", role="developer")
    session.commit()
    login(client, "admin@example.com")

    def counted() -> tuple[int, str]:
        with statements(app) as seen:
            page = client.get("/admin/users").get_data(as_text=True)
        return len(seen), page

    few, page = counted()
    assert "HMI</a>: developer" in page and "PLC</a>: auditor" in page and page.index("HMI</a>") < page.index("PLC</a>")
    for _ in range(15):
        user = make_user(session)
        add_member(session, OPERATOR, hmi.id, email=user.email, role="developer")
        add_member(session, OPERATOR, plc.id, email=user.email, role="auditor")
    session.commit()
    many, page = counted()
    assert many == few, (few, many)
    assert page.count(": auditor") >= 16


# --- The command line ---------------------------------------------------------------------------------------


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args))


def test_member_commands_follow_the_same_rules_for_an_acting_officer(app: Flask, session: Session) -> None:
    product = make_product(session, "PLC")
    make_product(session, "HMI")
    member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    make_user(session, "dev@example.com")
    session.commit()
    added = run(app, "member", "add", "PLC", "dev@example.com", "auditor", "--as", "so@example.com")
    assert added.exit_code == 0, added.output
    for args, fragment in (
        (["add", "PLC", "dev@example.com", "security_officer"], "only an administrator"),
        (["remove", "PLC", "so2@example.com", "security_officer"], "only an administrator"),
        (["add", "HMI", "dev@example.com", "developer"], "no product named"),
    ):
        refused = run(app, "member", *args, "--as", "so@example.com")
        assert refused.exit_code == 2 and refused.output.count("\n") == 1 and fragment in refused.output, refused.output
    assert run(app, "member", "remove", "PLC", "dev@example.com", "auditor", "--as", "so@example.com").exit_code == 0
    event_ = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:membership:delete")).one()
    assert event_.actor == "user:so@example.com"


def test_user_list_names_each_product_and_role(app: Flask, session: Session) -> None:
    make_user(session, "admin@example.com", admin=True)
    plc, hmi = make_product(session, "PLC"), make_product(session, "HMI")
    member(session, plc, "auditor", email="aud@example.com")
    add_member(session, OPERATOR, hmi.id, email="aud@example.com", role="developer")
    session.commit()
    text = run(app, "user", "list").output.splitlines()
    assert [line.split()[0] for line in text] == ["admin@example.com", "aud@example.com"]
    assert text[1].endswith("HMI: developer, PLC: auditor") and text[0].endswith("no product")
    listed = {u["email"]: u["memberships"] for u in json.loads(run(app, "user", "list", "--json").output)}
    assert listed["aud@example.com"] == [
        {"product_id": hmi.id, "product": "HMI", "role": "developer"},
        {"product_id": plc.id, "product": "PLC", "role": "auditor"},
    ]
    assert listed["admin@example.com"] == []
