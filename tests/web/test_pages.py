"""The HTML door: login, product and release pages, form errors, CSRF, headers, error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import encode_multipart

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.products.models import Product, Release, Repository
from sdl_tracker.resources import resource_dir
from tests.factories import PASSWORD, ApiClient, csrf_token, login, make_product, make_release, make_user, member

PRODUCT_FORM = {
    "name": "NW-RTU 300",
    "vendor": "Northwind",
    "description": "Remote terminal unit",
    "component_type": "EDR",
    "cra_category": "important_class_i",
    **{f"target_fr{i}": "3" for i in range(1, 8)},
    "support_period_end": "2031-12-31",
    "security_contact": "psirt@northwind.example",
    "cvd_policy_url": "https://northwind.example/cvd",
    "interfaces-0-name": "eth0",
    "interfaces-0-kind": "network",
    "interfaces-0-protocol": "DNP3",
    "interfaces-0-port": "20000",
    "interfaces-1-name": "",
    "interfaces-1-kind": "network",
}


@pytest.fixture
def admin_client(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    login(client, "admin@example.com")
    return client


def test_pages_need_a_login_except_login_and_health(client: FlaskClient) -> None:
    for path in ("/", "/products/", "/products/1", "/products/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/login").status_code == 200
    assert client.get("/health").get_json() == {"status": "ok"}


def test_wrong_password_shows_a_form_error_and_is_audited(client: FlaskClient, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": "dev@example.com", "password": "wrong password!", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "wrong email or password" in response.get_data(as_text=True)
    fails = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:login:fail")).all()
    assert len(fails) == 1 and "wrong" not in str(fails[0].details)


def test_unknown_user_gets_the_same_answer(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": "nobody@example.com", "password": "whatever123456", "csrf_token": token}
    )
    assert "wrong email or password" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client: FlaskClient, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    response = client.post("/login", data={"email": "dev@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_login_redirects_only_to_local_paths(client: FlaskClient, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    for target, expected in (
        ("/products/", "/products/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),  # browsers read the backslash as a slash
    ):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        token = csrf_token(client, f"/login?next={target}")
        response = client.post(
            f"/login?next={target}", data={"email": "dev@example.com", "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    # A line break in the target is refused with the request (422), before anything reads it.
    token = csrf_token(client, "/login")
    injected = client.post(
        "/login?next=/%0d%0aSet-Cookie:x", data={"email": "dev@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert injected.status_code == 422 and "Location" not in injected.headers
    assert client.get_cookie("x") is None


def test_admin_creates_a_product_through_the_form(admin_client: FlaskClient, session: Session) -> None:
    data = {**PRODUCT_FORM, "csrf_token": csrf_token(admin_client, "/products/new")}
    response = admin_client.post("/products/new", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Product NW-RTU 300 created." in page
    product = session.scalars(select(Product).where(Product.name == "NW-RTU 300")).one()
    assert product.target_sl == dict.fromkeys(product.target_sl, 3)
    assert [(i.name, i.protocol, i.port) for i in product.interfaces] == [("eth0", "DNP3", 20000)]
    assert "NW-RTU 300" in admin_client.get("/products/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"target_fr2": "7"}, "Not a valid choice"),
        ({"cvd_policy_url": "not a url"}, "Invalid URL"),
        ({"security_contact": "nobody"}, "must be an email address or a URL"),
        ({"interfaces-0-port": "99999"}, "Number must be between 1 and 65535"),
        ({"component_type": "PLC"}, "Not a valid choice"),
    ],
)
def test_bad_product_form_shows_errors_and_writes_nothing(
    admin_client: FlaskClient, session: Session, changes: dict, message: str
) -> None:
    data = {**PRODUCT_FORM, **changes, "csrf_token": csrf_token(admin_client, "/products/new")}
    response = admin_client.post("/products/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_duplicate_name_is_a_form_error(admin_client: FlaskClient, session: Session) -> None:
    make_product(session, "nw-rtu 300")
    session.commit()
    data = {**PRODUCT_FORM, "csrf_token": csrf_token(admin_client, "/products/new")}
    page = admin_client.post("/products/new", data=data).get_data(as_text=True)
    assert "already exists" in page
    assert session.scalar(select(func.count()).select_from(Product)) == 1


def test_form_post_without_csrf_is_refused(admin_client: FlaskClient, session: Session) -> None:
    response = admin_client.post("/products/new", data=PRODUCT_FORM)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_oversize_fields_are_refused(admin_client: FlaskClient, app: Flask, session: Session) -> None:
    data = {
        **PRODUCT_FORM,
        "description": "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 10),
        "csrf_token": csrf_token(admin_client, "/products/new"),
    }
    too_long = admin_client.post("/products/new", data=data)
    assert too_long.status_code == 200
    assert "cannot be longer than 20000 characters" in too_long.get_data(as_text=True)
    # Encoded here: the test client would spool a body this large to a temporary file it never closes.
    boundary, body = encode_multipart(data)
    multipart = admin_client.post("/products/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert multipart.status_code == 413
    assert "larger than this server accepts" in multipart.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_edit_product_and_add_release(admin_client: FlaskClient, session: Session) -> None:
    product = make_product(session, "Editable")
    session.commit()
    edit_page = admin_client.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="Editable"' in edit_page and 'value="eth0"' in edit_page
    assert '<option selected value="2019">2019</option>' in edit_page
    editions = {"edition_4_1": "2018", "edition_4_2": "2019", "edition_cra": "2024/2847"}
    bad_edition = {
        **PRODUCT_FORM,
        **editions,
        "edition_4_2": "1999",
        "csrf_token": csrf_token(admin_client, f"/products/{product.id}/edit"),
    }
    assert "Not a valid choice" in admin_client.post(f"/products/{product.id}/edit", data=bad_edition).get_data(
        as_text=True
    )
    data = {
        **PRODUCT_FORM,
        **editions,
        "name": "Edited",
        "csrf_token": csrf_token(admin_client, f"/products/{product.id}/edit"),
    }
    assert admin_client.post(f"/products/{product.id}/edit", data=data).status_code == 302
    session.expire_all()
    assert session.get(Product, product.id).name == "Edited"  # type: ignore[union-attr]

    path = f"/products/{product.id}/releases/new"
    bad = admin_client.post(
        path, data={"version": "1 0", "status": "planned", "csrf_token": csrf_token(admin_client, path)}
    )
    assert "whitespace" in bad.get_data(as_text=True)
    good = admin_client.post(
        path,
        data={
            "version": "2.0.0",
            "status": "candidate",
            "git_ref": "v2.0.0",
            "csrf_token": csrf_token(admin_client, path),
        },
        follow_redirects=True,
    )
    assert "Release 2.0.0 created." in good.get_data(as_text=True)
    assert session.scalar(select(Release.git_ref).where(Release.version == "2.0.0")) == "v2.0.0"


def test_members_see_their_products_only(client: FlaskClient, session: Session) -> None:
    mine, theirs = make_product(session, "Mine"), make_product(session, "Theirs")
    release = make_release(session, theirs, "1.0")
    member(session, mine, "developer", email="dev@example.com")
    session.commit()
    login(client, "dev@example.com")
    dashboard = client.get("/").get_data(as_text=True)
    assert "Mine" in dashboard and "Theirs" not in dashboard
    assert client.get(f"/products/{theirs.id}").status_code == 404
    assert client.get(f"/products/releases/{release.id}").status_code == 404
    assert client.get(f"/products/{theirs.id}/edit").status_code == 404
    assert client.get(f"/products/{mine.id}/edit").status_code == 403  # a developer does not manage products
    assert client.get("/products/new").status_code == 403
    assert "New product" not in dashboard


def test_logout_kills_the_old_cookie(admin_client: FlaskClient) -> None:
    cookie = admin_client.get_cookie("sdl_tracker_session")
    assert cookie is not None
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    admin_client.set_cookie("sdl_tracker_session", cookie.value)  # replay the session from before
    response = admin_client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_security_headers_on_every_page(admin_client: FlaskClient) -> None:
    for path in ("/", "/login", "/products/", "/no-such-page"):
        headers = admin_client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_flags(client: FlaskClient, session: Session) -> None:
    make_user(session, "dev@example.com")
    session.commit()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "dev@example.com", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_error_pages_are_pages_not_traces(admin_client: FlaskClient) -> None:
    response = admin_client.get("/products/999999")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Back to the dashboard" in response.get_data(as_text=True)


def test_every_template_compiles(app: Flask) -> None:
    templates = sorted(
        p.relative_to(resource_dir("templates")).as_posix() for p in resource_dir("templates").rglob("*.html")
    )
    assert templates
    for name in templates:
        app.jinja_env.get_template(name)


def test_no_inline_script_or_style_in_templates() -> None:
    """The CSP forbids inline script and style; a template that used them would break silently."""
    for path in Path(resource_dir("templates")).rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and " style=" not in text and "onclick=" not in text, path


def test_every_form_route_refuses_a_post_without_csrf_token(
    app: Flask, admin_client: FlaskClient, session: Session
) -> None:
    """CSRF protection covers every non-API route that takes a POST; nothing can opt out by accident."""
    product = make_product(session)
    session.commit()
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:product_id>", str(product.id)).replace("<int:release_id>", "1")
        response = admin_client.post(path, data={"name": "x"})
        assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True), path
        posted += 1
    assert posted >= 5


def test_hsts_only_behind_https_and_nothing_cached(app: Flask, admin_client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in admin_client.get("/").headers
    assert admin_client.get("/").headers["Cache-Control"] == "no-store"
    assert admin_client.get("/audit.csv").headers["Cache-Control"] == "no-store"
    app.config["SESSION_COOKIE_SECURE"] = True
    assert admin_client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_register_a_repository_through_the_page(app: Flask, client: FlaskClient, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    login(client, "so@example.com")
    path = f"/products/{product.id}/repositories/new"
    local = client.post(path, data={"name": "fw", "location": "/srv/git/fw", "csrf_token": csrf_token(client, path)})
    assert "only an administrator may register a local path" in local.get_data(as_text=True)
    evil = client.post(path, data={"name": "fw", "location": "ext::sh -c id", "csrf_token": csrf_token(client, path)})
    assert "remote helpers" in evil.get_data(as_text=True)
    pulls = client.post(
        path,
        data={
            "name": "fw",
            "location": "https://git.example.com/fw.git",
            "refs": "refs/heads/main refs/pull/*",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert pulls.status_code == 200 and "hosting refs excluded" in pulls.get_data(as_text=True)
    assert not session.scalar(select(Repository.id))  # nothing half-registered
    ok = client.post(
        path,
        data={"name": "fw", "location": "https://git.example.com/fw.git", "csrf_token": csrf_token(client, path)},
        follow_redirects=True,
    )
    assert "Repository fw registered" in ok.get_data(as_text=True)
    assert session.scalars(select(Repository)).one().ref_patterns == ["refs/heads", "refs/tags"]


@pytest.mark.parametrize(
    "path", ["/products/99999999999999999999", "/products/2147483648", "/api/v1/products/99999999999999999999"]
)
def test_ids_beyond_the_id_columns_are_404(client: FlaskClient, api: ApiClient, session: Session, path: str) -> None:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    if path.startswith("/api/"):
        response = api.call("GET", path, api.as_user("admin@example.com"))
    else:
        login(client, "admin@example.com")
        response = client.get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/products/2147483648"),
        ("DELETE", "/api/v1/products/2147483648/review-intervals/fuzz-run"),
        ("POST", "/api/v1/products/99999999999999999999/releases"),
    ],
)
def test_ids_beyond_the_id_columns_are_404_whatever_the_method(
    api: ApiClient, session: Session, method: str, path: str
) -> None:
    """Not 405: the path has a GET route too, which the method was compared with before the id was refused."""
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    response = api.call(method, path, api.as_user("admin@example.com"), json={})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
