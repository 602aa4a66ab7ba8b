"""API tokens: shown once, stored hashed, scoped, expiring, revocable, never leaked."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import ApiToken
from sdl_tracker.accounts.services import remove_member, set_disabled
from sdl_tracker.accounts.tokens import check_token, create_token, parse_lifetime, revoke_token
from sdl_tracker.auth import Permission
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, make_user, member

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args))


def test_lifetimes() -> None:
    assert parse_lifetime("30d", NOW) == NOW + timedelta(days=30)
    assert parse_lifetime("12h", NOW) == NOW + timedelta(hours=12)
    assert parse_lifetime("2027-01-31", NOW) == datetime(2027, 2, 1, tzinfo=UTC)
    with pytest.raises(Invalid):
        parse_lifetime("soon", NOW)


def test_a_token_is_stored_hashed_and_narrows_its_owner(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer", email="so@example.com")
    assert officer.user_id is not None
    new = create_token(
        session,
        officer,
        user_id=officer.user_id,
        name="ci",
        product_ids=[product.id],
        scopes=["evidence:attach", "sbom:upload"],
    )
    assert re.fullmatch(r"sdlt_[0-9a-f]{10}_[A-Za-z0-9_-]{43}", new.secret)
    stored = session.get(ApiToken, new.token.id)
    assert stored is not None and new.secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    checked = check_token(session, new.secret, origin="api 192.0.2.1")
    assert checked is not None
    assert checked.principal.scopes == {"evidence:attach", "sbom:upload", "product:read"}  # read comes with every token
    assert checked.principal.token_products == {product.id}
    assert checked.principal.label.startswith(f"token:sdlt_{stored.prefix}:so@example.com")


def test_a_hooks_token_delivers_commits_and_nothing_else(session: Session) -> None:
    # A developer's git hook needs `commits:submit` only; an auditor holds no such permission to give.
    product = make_product(session)
    developer = member(session, product, "developer")
    auditor = member(session, product, "auditor")
    assert developer.user_id is not None and auditor.user_id is not None
    hook = create_token(
        session, developer, user_id=developer.user_id, name="hook", product_ids=[product.id], scopes=["commits:submit"]
    )
    checked = check_token(session, hook.secret, origin="api 192.0.2.1")
    assert checked is not None and checked.principal.scopes == {"commits:submit", "product:read"}
    assert checked.principal.has(Permission.COMMITS_SUBMIT, product.id)
    assert not checked.principal.has(Permission.EVIDENCE_ATTACH, product.id)
    with pytest.raises(Forbidden, match="does not hold commits:submit"):
        create_token(
            session, auditor, user_id=auditor.user_id, name="hook", product_ids=[product.id], scopes=["commits:submit"]
        )


def test_a_token_never_exceeds_its_owner(session: Session) -> None:
    mine, theirs = make_product(session), make_product(session)
    dev = member(session, mine, "developer", email="dev@example.com")
    assert dev.user_id is not None
    with pytest.raises(Forbidden, match="does not hold gate:signoff"):
        create_token(session, dev, user_id=dev.user_id, name="x", product_ids=[mine.id], scopes=["gate:signoff"])
    with pytest.raises(NotFound):
        create_token(session, dev, user_id=dev.user_id, name="x", product_ids=[theirs.id])
    with pytest.raises(Invalid, match="not created"):
        create_token(session, dev, user_id=dev.user_id, name="x", product_ids=[], all_products=True)
    with pytest.raises(Invalid) as caught:
        create_token(
            session,
            dev,
            user_id=dev.user_id,
            name="",
            product_ids=[mine.id],
            scopes=["nope"],
            expires_at=NOW - timedelta(days=1),
        )
    assert {e.field for e in caught.value.errors} == {"name", "scopes", "expires"}
    other = make_user(session)
    with pytest.raises(Forbidden):  # tokens are made for oneself, unless one is an administrator
        create_token(session, dev, user_id=other.id, name="x", product_ids=[])


@pytest.mark.parametrize("case", ["expired", "revoked", "disabled owner", "wrong secret", "malformed"])
def test_dead_tokens_get_401(app: Flask, api: ApiClient, session: Session, case: str) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    secret = api.as_user("dev@example.com")
    assert api.call("GET", "/api/v1/products", secret).status_code == 200
    token = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert token is not None
    if case == "expired":
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    elif case == "revoked":
        revoke_token(session, OPERATOR, token.id)
    elif case == "disabled owner":
        set_disabled(session, OPERATOR, "dev@example.com", disabled=True)
    elif case == "wrong secret":
        secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    else:
        secret = "sdlt_" + secret
    session.commit()
    response = api.call("GET", "/api/v1/products", secret)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_scope_and_product_limits_through_the_api(api: ApiClient, session: Session) -> None:
    mine, other = make_product(session, "Mine"), make_product(session, "Other")
    release = make_release(session, other, "1.0")
    member(session, mine, "security_officer", email="so@example.com")
    add = {"product_id": other.id}
    from sdl_tracker.accounts.services import add_member

    add_member(session, OPERATOR, add["product_id"], email="so@example.com", role="security_officer")
    session.commit()
    read_only = api.as_user("so@example.com", scopes=["product:read"], product_ids=[mine.id])
    wrong_scope = api.call("POST", f"/api/v1/products/{mine.id}/releases", read_only, json={"version": "2.0"})
    assert wrong_scope.status_code == 403 and "does not grant release:manage" in wrong_scope.get_json()["detail"]
    # The owner may act on Other; this token may not even see it.
    assert api.call("GET", f"/api/v1/products/{other.id}", read_only).status_code == 404
    assert api.call("GET", f"/api/v1/releases/{release.id}", read_only).status_code == 404
    assert [p["name"] for p in api.call("GET", "/api/v1/products", read_only).get_json()["items"]] == ["Mine"]


def test_last_use_is_recorded(api: ApiClient, session: Session) -> None:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    secret = api.as_user("admin@example.com")
    token = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert token is not None and token.last_used_at is None
    response = api.call("GET", "/api/v1/products", secret, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    session.refresh(token)
    assert token.last_used_at is None, "the last use is written after the response, not inside the request"
    response.close()  # what a server does once the body is sent
    session.refresh(token)
    assert token.last_used_at is not None and token.last_used_from == "api 203.0.113.5"


def test_tokens_through_the_cli(app: Flask, api: ApiClient, session: Session) -> None:
    make_product(session, "P")
    make_user(session, "dev@example.com")
    run(app, "member", "add", "P", "dev@example.com", "developer")
    created = run(
        app,
        "token",
        "create",
        "--user",
        "dev@example.com",
        "--product",
        "P",
        "--scope",
        "evidence:attach",
        "--scope",
        "product:read",
        "--expires",
        "7d",
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("sdlt_")
    assert api.call("GET", "/api/v1/products", secret).get_json()["total"] == 1
    listed = json.loads(run(app, "token", "list", "--json").output)
    assert listed[0]["scopes"] == ["evidence:attach", "product:read"] and listed[0]["owner"] == "dev@example.com"
    assert secret not in json.dumps(listed)
    assert run(app, "token", "revoke", str(listed[0]["id"])).exit_code == 0
    assert api.call("GET", "/api/v1/products", secret).status_code == 401
    too_much = run(app, "token", "create", "--user", "dev@example.com", "--product", "P", "--scope", "gate:signoff")
    assert too_much.exit_code == 2 and "does not hold gate:signoff" in too_much.output
    bad_expiry = run(app, "token", "create", "--user", "dev@example.com", "--expires", "forever")
    assert bad_expiry.exit_code == 2 and "expires" in bad_expiry.output


def _new_token(client: FlaskClient, **fields: object) -> Any:
    """Submit the token page's form (30 days unless told), with its CSRF token."""
    data = {"expires_days": "30", **fields, "csrf_token": csrf_token(client, "/account/tokens")}
    return client.post("/account/tokens", data=data)


def test_token_page_shows_the_secret_once(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    page = _new_token(client, name="laptop", products=[str(product.id)], scopes=["product:read"])
    html = page.get_data(as_text=True)
    secret = re.search(r'<code class="secret">(sdlt_[^<]+)</code>', html)
    assert secret is not None
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret.group(1) not in again and "laptop" in again
    forbidden_scope = _new_token(client, name="x", scopes=["gate:signoff"])
    assert "not a valid choice" in forbidden_scope.get_data(as_text=True).replace("&#39;", "'")
    token = session.scalars(select(ApiToken).where(ApiToken.name == "laptop")).one()
    client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    session.refresh(token)
    assert token.revoked_at is not None


def test_a_token_never_appears_after_creation(
    app: Flask, api: ApiClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    secret = api.as_user("admin@example.com")
    responses = [
        api.call("GET", path, secret).get_data(as_text=True)
        for path in ("/api/v1/products", "/api/v1/catalog/editions", "/api/v1/nothing")
    ]
    responses.append(api.call("GET", "/api/v1/products", secret + "x").get_data(as_text=True))
    responses.append(run(app, "token", "list", "--json").output)
    responses.append(run(app, "audit", "log", "--json", "--limit", "1000").output)
    rows = []
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    for table in metadata.sorted_tables:
        rows += [" ".join(map(str, row)) for row in session.execute(text(f"SELECT * FROM {table.name}"))]  # noqa: S608
    haystack = "\n".join(responses + rows + [caplog.text])
    secret_part = secret.split("_", 2)[2]  # the 43 secret characters after sdlt_<prefix>_
    assert secret_part not in haystack and secret not in haystack
    assert "accounts:token:create" in haystack  # the audit log was searched, and names the token by prefix only


def test_principal_of_a_token_follows_its_owners_current_roles(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer", email="so@example.com")
    assert officer.user_id is not None
    new = create_token(
        session, officer, user_id=officer.user_id, name="ci", product_ids=[product.id], scopes=["release:manage"]
    )
    remove_member(session, OPERATOR, product.id, email="so@example.com", role="security_officer")
    checked = check_token(session, new.secret, origin="api")
    assert checked is not None and not checked.principal.has(Permission.RELEASE_MANAGE, product.id)


# A token acts only on the products it names: one that names none would grant nothing, so every door
# refuses it (an administrator's may still carry only administrator permissions: it grants those).


def test_a_token_for_no_product_is_refused(session: Session) -> None:
    product = make_product(session)
    dev = member(session, product, "developer", email="dev@example.com")
    admin = make_user(session, "admin@example.com", admin=True)
    assert dev.user_id is not None
    with pytest.raises(Invalid) as caught:
        create_token(session, dev, user_id=dev.user_id, name="ci", product_ids=[], scopes=["evidence:attach"])
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("products", "name at least one product: a token for no product grants nothing")
    ]
    with pytest.raises(Invalid) as caught:
        create_token(session, OPERATOR, user_id=admin.id, name="ci", product_ids=[], scopes=["product:manage"])
    refusal = caught.value.errors[0].message  # an administrator is told what else would do
    assert "grants nothing" in refusal and "all products" in refusal and "users:manage" in refusal
    assert session.scalar(select(ApiToken.id)) is None
    # An administrator's token for managing users needs no product and sees none.
    users_only = create_token(session, OPERATOR, user_id=admin.id, name="ci", product_ids=[], scopes=["users:manage"])
    checked = check_token(session, users_only.secret, origin="api")
    assert checked is not None and checked.principal.token_products == frozenset()
    assert checked.principal.has(Permission.USERS_MANAGE) and not checked.principal.can_see(product.id)


def test_token_create_without_a_product_is_a_one_line_error(app: Flask, session: Session) -> None:
    member(session, make_product(session, "P"), "developer", email="dev@example.com")
    session.commit()
    refused = run(app, "token", "create", "--user", "dev@example.com", "--scope", "evidence:attach")
    assert refused.exit_code == 2 and refused.output.count("\n") == 1, refused.output
    assert refused.output.startswith("error: ") and "a token for no product grants nothing" in refused.output
    assert session.scalar(select(ApiToken.id)) is None


def test_the_token_page_refuses_a_token_without_a_product(app: Flask, session: Session) -> None:
    member(session, make_product(session, "P"), "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    page = _new_token(client, name="laptop", scopes=["product:read"])  # and no product
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "a token for no product grants nothing" in html
    assert 'class="secret"' not in html
    assert session.scalar(select(ApiToken.id)) is None


def test_the_token_page_is_in_the_navigation_with_labelled_checkboxes(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    home = client.get("/products/").get_data(as_text=True)
    assert 'href="/account/tokens"' in home
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "select multiple" not in page and "Ctrl" not in page
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    values = sorted(re.search(r'value="([^"]+)"', box).group(1) for box in boxes)  # type: ignore[union-attr]
    # A developer's own permissions and product, each a checkbox; reading is ticked to begin with.
    assert values == sorted(
        [
            str(product.id),
            "artifact:record",
            "commits:submit",
            "evidence:attach",
            "product:read",
            "sbom:upload",
            "signing-keys:manage",
        ]
    )
    assert any("product:read" in box and "checked" in box for box in boxes)
    assert (
        "Attach evidence" in page and "Add and revise evidence items" in page and "<legend>Permissions</legend>" in page
    )
    created = _new_token(client, name="ci", products=[str(product.id)], scopes=["evidence:attach", "sbom:upload"])
    assert re.search(r'<code class="secret">sdlt_', created.get_data(as_text=True))
    token = session.scalars(select(ApiToken).where(ApiToken.name == "ci")).one()
    assert token.scopes == ["evidence:attach", "product:read", "sbom:upload"]
    assert [p.product_id for p in token.products] == [product.id]
