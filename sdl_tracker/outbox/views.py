"""A product's webhooks page: its endpoints, a new one's secret shown once, the buttons, and recent deliveries."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug import Response

from ..auth import Principal
from ..errors import DomainError
from ..products.services import get_product
from ..web.context import db_session
from ..web.forms import apply_errors, flash_refusal
from ..web.templating import expose_predicates
from .forms import WebhookForm
from .services import (
    CreatedEndpoint,
    add_webhook,
    authorize_manage_webhooks,
    e_mail_configured,
    get_webhook,
    list_webhooks,
    may_manage_webhooks,
    remove_webhook,
    send_test_event,
    set_webhook_enabled,
    webhook_deliveries,
)

bp = Blueprint("outbox", __name__)

expose_predicates(bp, may_manage_webhooks)


@bp.route("/products/<int:product_id>/webhooks", methods=["GET", "POST"])
def webhooks(product_id: int) -> str:
    """The product's webhook endpoints (security officers); a new endpoint's secret is shown here once."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_manage_webhooks(g.principal, product.id)
    form = WebhookForm()
    created: CreatedEndpoint | None = None
    if form.validate_on_submit():
        try:
            created = add_webhook(session, g.principal, product.id, url=form.url.data or "")
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            form = WebhookForm(formdata=None)
    return render_template(
        "outbox/webhooks.html",
        product=product,
        form=form,
        created=created,
        endpoints=list_webhooks(session, g.principal, product.id),
        deliveries=webhook_deliveries(session, g.principal, product.id),
        e_mail=e_mail_configured(session),
    )


def _button(webhook_id: int, act: Callable[[Session, Principal, int], object], done: str) -> Response:
    """Do one button's action on an endpoint, say what became of it (or why not), and go back to the product's
    webhooks."""
    session = db_session()
    endpoint = get_webhook(session, g.principal, webhook_id)
    try:
        act(session, g.principal, endpoint.id)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(done, "success")
    return redirect(url_for("outbox.webhooks", product_id=endpoint.product_id))


@bp.post("/webhooks/<int:webhook_id>/disable")
def disable(webhook_id: int) -> Response:
    """Disable an endpoint: no new events, and what still waited for it is given up."""
    act = partial(set_webhook_enabled, enabled=False)
    return _button(webhook_id, act, "Endpoint disabled; it gets no events until it is enabled again.")


@bp.post("/webhooks/<int:webhook_id>/enable")
def enable(webhook_id: int) -> Response:
    """Enable an endpoint again."""
    act = partial(set_webhook_enabled, enabled=True)
    return _button(webhook_id, act, "Endpoint enabled; it gets the product's events from now on.")


@bp.post("/webhooks/<int:webhook_id>/remove")
def remove(webhook_id: int) -> Response:
    """Remove an endpoint and its secret."""
    return _button(webhook_id, remove_webhook, "Endpoint removed with its secret; nothing more is sent to it.")


@bp.post("/webhooks/<int:webhook_id>/test")
def test(webhook_id: int) -> Response:
    """Queue a test event for an endpoint."""
    return _button(webhook_id, send_test_event, "Test event queued; it shows under Deliveries once the worker sent it.")
