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
from markupsafe import Markup

from ..errors import FieldError, Invalid
from ..web.context import db_session
from ..web.inputs import page_count, page_number
from ..web.templating import expose_predicates
from .forms import EventFilterForm
from .queries import EventFilter, authorize_read_audit, event_json, event_lines, iter_events, may_read_audit
from .services import kept

bp = Blueprint("audit", __name__)
expose_predicates(bp, may_read_audit)
PAGE_SIZE = 50  # events a page shows; each is a few detail rows to render (100 was most of the page's time)
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


def _events_table(events: list[Any]) -> Markup:
    return Markup(render_template("audit/_events.html", events=events))  # noqa: S704 - a template's own output


def log_page(product: Any | None) -> tuple[str, int]:
    """The log page: every event, or `product`'s (a product the caller already looked up)."""
    form = EventFilterForm(request.args)
    product_id = product.id if product is not None else None
    filters = {name: value for name, value in request.args.items() if name in form._fields and value}
    if not form.validate():
        return render_template(
            "audit/log.html",
            form=form,
            events_table=_events_table([]),
            total=0,
            page=1,
            pages=1,
            product=product,
            filters=filters,
        ), 422
    session, page, wanted = db_session(), page_number(), _filter(form, product_id)

    def table() -> tuple[Markup, int]:
        events, total = event_lines(session, g.principal, wanted, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return _events_table(events), total

    # Rendering the events' detail rows was most of the page's time. An unfiltered page is read and rendered once
    # and kept until the chain moves (which every new event does); it names nobody's rights, only the events, so
    # it is kept for every reader the log is shown to, and access is checked before. Filters would make keys
    # without bound: a filtered page is read each time.
    authorize_read_audit(g.principal, product_id)
    events_table, total = kept(session, ("audit log", product_id, page), table) if not filters else table()
    return render_template(
        "audit/log.html",
        form=form,
        events_table=events_table,
        total=total,
        page=page,
        pages=page_count(total, PAGE_SIZE),
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
