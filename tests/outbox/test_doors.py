"""Webhook endpoints through the page, the API and the command line; the outbox listing; the refusals of each."""

from __future__ import annotations

import json

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.outbox.models import MessageState, OutboxMessage, WebhookEndpoint
from sdl_tracker.outbox.services import add_webhook, queue_email
from sdl_tracker.outbox.worker import deliver_due
from sdl_tracker.products.models import Product
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, member
from tests.outbox.conftest import Receiver, free_port


def _product(session: Session) -> Product:
    product = make_product(session, "Gateway")
    member(session, product, "security_officer", email="officer@example.com")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "auditor", email="auditor@example.com")
    session.commit()
    return product


def _actions(session: Session) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.action).where(AuditEvent.action.like("outbox:%")).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def _run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def test_an_officer_adds_an_endpoint_on_the_page_and_sees_its_secret_once(
    client: FlaskClient, session: Session, receiver: Receiver
) -> None:
    product = _product(session)
    login(client, "officer@example.com")
    assert f"/products/{product.id}/webhooks" in client.get(f"/products/{product.id}").get_data(as_text=True)
    page = f"/products/{product.id}/webhooks"
    added = client.post(page, data={"url": receiver.url(), "csrf_token": csrf_token(client, page)})
    assert added.status_code == 200
    (endpoint,) = session.scalars(select(WebhookEndpoint))
    shown = added.get_data(as_text=True)
    secret = shown.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith("whsec_") and secret not in endpoint.secret_sealed  # stored sealed
    again = client.get(page).get_data(as_text=True)
    assert receiver.url() in again and secret not in again  # shown once, never again
    receiver.secret = secret
    tested = client.post(f"/webhooks/{endpoint.id}/test", data={"csrf_token": csrf_token(client, page)})
    assert tested.status_code == 302
    assert deliver_due(app_db(client.application)).sent == 1
    (delivery,) = receiver.deliveries
    assert delivery.signature_valid and delivery.headers["x-sdl-tracker-event"] == "webhook.test"
    assert "webhook.test" in client.get(page).get_data(as_text=True)  # under Deliveries
    client.post(f"/webhooks/{endpoint.id}/disable", data={"csrf_token": csrf_token(client, page)})
    refused = client.post(f"/webhooks/{endpoint.id}/test", data={"csrf_token": csrf_token(client, page)})
    assert refused.status_code == 302
    assert "enable it before" in client.get(page).get_data(as_text=True)
    client.post(f"/webhooks/{endpoint.id}/remove", data={"csrf_token": csrf_token(client, page)})
    assert receiver.url() not in client.get(page).get_data(as_text=True).split("<h2>New endpoint</h2>")[0]
    assert _actions(session) == [
        "outbox:webhook:add",
        "outbox:webhook:test",
        "outbox:webhook:disable",
        "outbox:webhook:remove",
    ]


def test_the_page_refuses_a_plain_http_url_and_developers(client: FlaskClient, session: Session) -> None:
    product = _product(session)
    page = f"/products/{product.id}/webhooks"
    login(client, "officer@example.com")
    response = client.post(page, data={"url": "http://hooks.example.com/x", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 200 and "loopback only" in response.get_data(as_text=True)
    assert list(session.scalars(select(WebhookEndpoint))) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "dev@example.com")
    assert client.get(page).status_code == 403
    assert "/webhooks" not in client.get(f"/products/{product.id}").get_data(as_text=True)


def test_the_api_adds_lists_disables_tests_and_removes(api: ApiClient, session: Session) -> None:
    product = _product(session)
    token = api.as_user("officer@example.com")
    url = f"/api/v1/products/{product.id}/webhooks"
    created = api.call("POST", url, token, json={"url": "https://hooks.example.com/sdl?token=t0k3n"})
    assert created.status_code == 201, created.json
    secret, webhook_id = created.json["secret"], created.json["id"]
    assert secret.startswith("whsec_")
    listed = api.call("GET", url, token)
    assert [item["url"] for item in listed.json["items"]] == ["https://hooks.example.com/sdl?token=t0k3n"]
    assert secret not in listed.get_data(as_text=True)
    again = api.call("POST", url, token, json={"url": "https://hooks.example.com/sdl?token=t0k3n"})
    assert again.status_code == 409
    queued = api.call("POST", f"/api/v1/webhooks/{webhook_id}/test", token)
    assert queued.status_code == 202 and queued.json["subject"] == "webhook.test"
    disabled = api.call("PATCH", f"/api/v1/webhooks/{webhook_id}", token, json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json["enabled"] is False
    assert api.call("POST", f"/api/v1/webhooks/{webhook_id}/test", token).status_code == 409
    removed = api.call("DELETE", f"/api/v1/webhooks/{webhook_id}", token)
    assert removed.status_code == 200 and removed.json["removed_at"] is not None
    assert api.call("GET", url, token).json["items"] == []
    readded = api.call("POST", url, token, json={"url": "https://hooks.example.com/sdl?token=t0k3n"})
    assert readded.status_code == 201  # a removed endpoint leaves its URL free
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox:webhook:add")).all()
    assert all(event.details == {"origin": "https://hooks.example.com"} for event in events)  # never the token


def test_the_api_refuses_bad_urls_unknown_products_and_developers_as_problems(api: ApiClient, session: Session) -> None:
    product = _product(session)
    other = make_product(session, "Elsewhere")
    session.commit()
    officer, developer = api.as_user("officer@example.com"), api.as_user("dev@example.com")
    for body, status in (({"url": "http://hooks.example.com/x"}, 422), ({"url": "ftp://x.example.com/"}, 422)):
        refused = api.call("POST", f"/api/v1/products/{product.id}/webhooks", officer, json=body)
        assert refused.status_code == status and refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["errors"][0]["field"] == "url"
    for product_id in (other.id, 999999):
        unseen = api.call(
            "POST", f"/api/v1/products/{product_id}/webhooks", officer, json={"url": "https://h.example.com/"}
        )
        assert unseen.status_code == 404 and unseen.headers["Content-Type"] == "application/problem+json"
    forbidden = api.call(
        "POST", f"/api/v1/products/{product.id}/webhooks", developer, json={"url": "https://h.example.com/"}
    )
    assert forbidden.status_code == 403 and forbidden.headers["Content-Type"] == "application/problem+json"
    assert list(session.scalars(select(WebhookEndpoint))) == [] and _actions(session) == []


def test_the_command_line_manages_endpoints_and_refuses_in_one_line(app: Flask, session: Session) -> None:
    _product(session)
    url = f"http://127.0.0.1:{free_port()}/hook"
    added = _run(app, "webhook", "add", "Gateway", url, "--json")
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert created["secret"].startswith("whsec_")
    listed = _run(app, "webhook", "list", "Gateway")
    assert listed.exit_code == 0 and url in listed.output and created["secret"] not in listed.output
    assert _run(app, "webhook", "disable", str(created["id"])).output.strip() == f"webhook {created['id']} disabled"
    assert _run(app, "webhook", "enable", str(created["id"])).exit_code == 0
    tested = _run(app, "webhook", "test", str(created["id"]))
    assert tested.exit_code == 0 and tested.output.startswith("test event ")
    for args, says in (
        (("webhook", "add", "Gateway", "https://h.example.com/", "--as", "dev@example.com"), "may not do this"),
        (("webhook", "add", "Gateway", "http://hooks.example.com/"), "url: plain http"),
        (("webhook", "add", "Nowhere", "https://h.example.com/"), "no product named"),
        (("webhook", "list", "Gateway", "--as", "auditor@example.com"), "may not do this"),
        (("webhook", "remove", "999999"), "webhook endpoint not found"),
    ):
        refused = _run(app, *args)
        assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
        assert refused.output.startswith("error: ") and says in refused.output, refused.output
    assert _run(app, "webhook", "remove", str(created["id"])).exit_code == 0
    assert "removed" not in _run(app, "webhook", "list", "Gateway").output  # removed endpoints are not listed


def test_the_outbox_command_lists_what_waits_and_what_was_given_up(app: Flask, session: Session) -> None:
    product = _product(session)
    endpoint = add_webhook(session, OPERATOR, product.id, url=f"http://127.0.0.1:{free_port()}/hook").endpoint
    queue_email(session, key="k:1", to="officer@example.com", subject="Due soon", body="b", product_id=product.id)
    session.commit()
    _run(app, "webhook", "test", str(endpoint.id))
    _run(app, "webhook", "disable", str(endpoint.id))
    shown = _run(app, "notifications", "outbox")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "1 pending, 0 sent, 1 failed"
    assert any("failed" in line and "the endpoint was disabled" in line for line in lines)
    assert any("pending" in line and "officer@example.com" in line and "Due soon" in line for line in lines)
    data = json.loads(_run(app, "notifications", "outbox", "--json").output)
    assert data["counts"] == {"pending": 1, "sent": 0, "failed": 1}
    assert {item["state"] for item in data["items"]} == {"pending", "failed"}
    refused = _run(app, "notifications", "outbox", "--as", "officer@example.com")
    assert refused.exit_code == 2 and refused.output.startswith("error: only an administrator")
    messages = session.scalars(select(OutboxMessage)).all()
    assert {m.state for m in messages} == {MessageState.PENDING, MessageState.FAILED}
