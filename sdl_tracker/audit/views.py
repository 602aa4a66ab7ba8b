"""The audit log pages: everything (administrators) or one product (its officers and auditors), and CSV."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, g, render_template, request, stream_with_context

from ..products.services import get_product
from ..web.context import db_session
from .forms import EventFilterForm
from .services import EventFilter, event_json, iter_events, search_events

bp = Blueprint("audit", __name__)
PAGE_SIZE = 100
CSV_COLUMNS = ("seq", "at", "actor", "origin", "action", "target", "product_id", "details", "digest", "hash")


def _filter(form: EventFilterForm, product_id: int | None) -> EventFilter:
    def start_of(day: object) -> datetime | None:
        return datetime.combine(day, time.min, tzinfo=UTC) if day else None  # type: ignore[arg-type]

    until = start_of(form.until.data)
    return EventFilter(
        actor=form.actor.data or "",
        action=form.action.data or "",
        target=form.target.data or "",
        since=start_of(form.since.data),
        until=until + timedelta(days=1) if until else None,  # "until" a day includes that day
        product_id=product_id,
    )


def _page(product_id: int | None) -> tuple[str, int]:
    form = EventFilterForm(request.args)
    product = get_product(db_session(), g.principal, product_id) if product_id is not None else None
    if not form.validate():
        return render_template("audit/log.html", form=form, events=[], total=0, page=1, pages=1, product=product), 422
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events, total = search_events(
        db_session(), g.principal, _filter(form, product_id), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "audit/log.html", form=form, events=events, total=total, page=page, pages=pages, product=product
    ), 200


def _csv(product_id: int | None, filename: str) -> Response:
    form = EventFilterForm(request.args)
    if product_id is not None:
        get_product(db_session(), g.principal, product_id)
    wanted = _filter(form, product_id) if form.validate() else EventFilter(product_id=product_id)
    events = iter_events(db_session(), g.principal, wanted)
    first = next(events, None)  # authorisation happens here, before the first byte is sent

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for event in itertools.chain([first] if first else [], events):
            data = event_json(event)
            data["details"] = json.dumps(data["details"], sort_keys=True)
            writer.writerow([data[c] for c in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/audit")
def log() -> tuple[str, int]:
    """Every event (administrators), newest first, filterable."""
    return _page(None)


@bp.route("/audit.csv")
def log_csv() -> Response:
    """Every matching event as CSV."""
    return _csv(None, "sdl-tracker-audit.csv")


@bp.route("/products/<int:product_id>/audit")
def product_log(product_id: int) -> tuple[str, int]:
    """A product's events (its security officers and auditors)."""
    return _page(product_id)


@bp.route("/products/<int:product_id>/audit.csv")
def product_log_csv(product_id: int) -> Response:
    """A product's matching events as CSV."""
    return _csv(product_id, f"sdl-tracker-audit-product-{product_id}.csv")
