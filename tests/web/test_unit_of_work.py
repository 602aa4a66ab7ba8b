"""The request's one commit (web/context.py): kept after 2xx/3xx, undone after errors and refusals."""

from __future__ import annotations

from flask import Flask, Response, redirect
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.errors import Invalid
from sdl_tracker.products.models import Product
from sdl_tracker.web.context import db_session, keep_despite_error, rollback
from tests.factories import PASSWORD, ApiClient, csrf_token, make_product, make_user


def _write(name: str) -> None:
    """What a service does: add a row and flush (the door owns the transaction)."""
    make_product(db_session(), name)


def _kept(app: Flask, name: str) -> bool:
    with app_db(app).unit_of_work(read_only=True) as session:
        return session.scalar(select(Product.id).where(Product.name == name)) is not None


def _route(app: Flask, path: str, view: object) -> None:
    # Under /api/ so neither the sign-in redirect nor CSRF applies; outside the API blueprint, no token.
    app.add_url_rule(f"/api/test-uow/{path}", path, view, methods=["POST"])  # type: ignore[arg-type]


def test_a_successful_write_is_committed_without_the_view_committing(app: Flask) -> None:
    _route(app, "created", lambda: (_write("Kept 201"), ("", 201))[1])
    _route(app, "redirect", lambda: (_write("Kept 303"), redirect("/", 303))[1])
    client = app.test_client()
    assert client.post("/api/test-uow/created").status_code == 201
    assert client.post("/api/test-uow/redirect").status_code == 303
    assert _kept(app, "Kept 201") and _kept(app, "Kept 303")


def test_a_streamed_response_is_committed_before_its_body(app: Flask) -> None:
    def stream() -> Response:
        _write("Streamed")
        return Response((part for part in ("a", "b")), mimetype="text/plain")

    _route(app, "stream", stream)
    response = app.test_client().post("/api/test-uow/stream", buffered=False)
    assert _kept(app, "Streamed")  # before a byte of the body was read
    assert response.get_data(as_text=True) == "ab"


def test_a_service_that_raises_after_writing_leaves_nothing(app: Flask) -> None:
    def refuse() -> Response:
        _write("Refused")
        raise Invalid("refused after writing")

    _route(app, "refuse", refuse)
    response = app.test_client().post("/api/test-uow/refuse")
    assert response.status_code == 422
    assert not _kept(app, "Refused")


def test_an_error_response_rolls_back_unless_the_view_keeps_it(app: Flask) -> None:
    _route(app, "conflict", lambda: (_write("Error 409"), ("", 409))[1])
    _route(app, "counted", lambda: (_write("Kept 401"), keep_despite_error(), ("", 401))[2])
    client = app.test_client()
    assert client.post("/api/test-uow/conflict").status_code == 409
    assert client.post("/api/test-uow/counted").status_code == 401
    assert not _kept(app, "Error 409")
    assert _kept(app, "Kept 401")


def test_a_refusal_shown_again_on_a_page_is_not_committed(app: Flask) -> None:
    """A form page re-rendered (200) after a refused service: the view rolls back, the 200 commits nothing of it."""
    _route(app, "rerender", lambda: (_write("Shown again"), rollback(), ("form again", 200))[2])
    assert app.test_client().post("/api/test-uow/rerender").status_code == 200
    assert not _kept(app, "Shown again")


def test_a_failing_commit_becomes_an_error_response(app: Flask) -> None:
    def fail_on_commit() -> tuple[str, int]:
        _write("Lost")
        event.listen(db_session(), "before_commit", _raise)
        return "", 201

    _route(app, "fails", fail_on_commit)
    response = app.test_client().post("/api/test-uow/fails")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the other response steps still ran
    assert not _kept(app, "Lost")


def test_a_commit_refused_by_a_busy_database_answers_503(app: Flask) -> None:
    def busy(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    def write() -> tuple[str, int]:
        _write("Busy")
        event.listen(db_session(), "before_commit", busy)
        return "", 201

    _route(app, "busy", write)
    response = app.test_client().post("/api/test-uow/busy")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert not _kept(app, "Busy")


def test_a_failing_commit_does_not_sign_in(app: Flask, session: Session) -> None:
    """The cookie session goes back to what the request brought: no sign-in whose audit event was lost."""
    make_user(session, "fails@example.com")
    session.commit()

    @app.before_request
    def break_commits() -> None:
        event.listen(db_session(), "before_commit", _raise)

    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "fails@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 500
    assert client.get("/").headers["Location"].startswith("/login")


def _raise(_session: Session) -> None:
    raise RuntimeError("the database went away")


def test_an_api_post_is_committed(api: ApiClient, session: Session, app: Flask) -> None:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    token = api.as_user("admin@example.com")
    body = {"name": "From the API", "component_type": "EDR", "target_sl": {f"FR{i}": 2 for i in range(1, 8)}}
    assert api.call("POST", "/api/v1/products", token, json=body).status_code == 201
    assert _kept(app, "From the API")
