"""The audit log pages: everything (administrators) or one product (its officers and auditors), and CSV."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, g, render_template, request, stream_with_context

from ..errors import FieldError, Invalid
from ..web.context import db_session
from ..web.inputs import page_count, page_number
from ..web.templating import expose_predicates
from .forms import EventFilterForm
from .queries import EventFilter, event_json, event_lines, iter_events, may_read_audit

bp = Blueprint("audit", __name__)
expose_predicates(bp, may_read_audit)
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


def log_page(product: Any | None) -> tuple[str, int]:
    """The log page: every event, or `product`'s (a product the caller already looked up)."""
    form = EventFilterForm(request.args)
    product_id = product.id if product is not None else None
    filters = {name: value for name, value in request.args.items() if name in form._fields and value}
    if not form.validate():
        return render_template(
            "audit/log.html",
            form=form,
            events=[],
            total=0,
            page=1,
            pages=1,
            product=product,
            filters=filters,
        ), 422
    page = page_number()
    events, total = event_lines(
        db_session(), g.principal, _filter(form, product_id), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = page_count(total, PAGE_SIZE)
    return render_template(
        "audit/log.html",
        form=form,
        events=events,
        total=total,
        page=page,
        pages=pages,
        product=product,
        filters=filters,
    ), 200


def log_csv_response(product_id: int | None, filename: str) -> Response:
    """Every matching event as CSV, streamed; an invalid filter is refused rather than widened."""
    form = EventFilterForm(request.args)
    if not form.validate():
        raise Invalid("the filter is invalid", errors=[FieldError(k, v[0]) for k, v in form.errors.items()])
    events = iter_events(db_session(), g.principal, _filter(form, product_id))
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
    return log_page(None)


@bp.route("/audit.csv")
def log_csv() -> Response:
    """Every matching event as CSV."""
    return log_csv_response(None, "sdl-tracker-audit.csv")
