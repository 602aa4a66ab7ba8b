"""The home page (my work), the portfolio, release readiness, notifications, and the navigation's figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response

from ..accounts.models import Notification
from ..accounts.notifications import list_notifications, mark_read, unread_count
from ..audit.services import kept
from ..auth import Principal
from ..db import utcnow
from ..products.models import Release
from ..products.services import get_release, product_entries, products_page
from ..web.context import current_principal, db_session
from ..web.inputs import page_count, page_number
from ..web.templating import row_url
from .forms import MarkReadForm
from .readiness import ReleaseFigures, in_flight_of, release_figures, release_readiness
from .services import Link, my_work, readiness_facts

bp = Blueprint("dashboard", __name__)
PORTFOLIO_PER_PAGE = 20
IN_FLIGHT_SHOWN = 5  # releases in flight a portfolio row shows; the product page lists them all


@bp.route("/")
def index() -> str:
    """My work: what awaits the user, by role, each item linking to where it is acted on."""
    sections = my_work(db_session(), g.principal)
    return render_template("dashboard/index.html", sections=sections)


@bp.route("/portfolio")
def portfolio() -> str:
    """Every product the user sees, one row each, with its releases in flight and their readiness figures."""
    session = db_session()
    # A page of products, read in SQL, each with at most a few releases in flight: their rows (each release with
    # its figures) are what the page costs, so a portfolio of fifty products serves as fast as one of three.
    page = page_number()
    products, total = products_page(session, g.principal, page=page, per_page=PORTFOLIO_PER_PAGE)
    pages = page_count(total, PORTFOLIO_PER_PAGE)
    if not products and page > pages:  # past the last page: the last
        page = pages
        products, total = products_page(session, g.principal, page=page, per_page=PORTFOLIO_PER_PAGE)
    ids = [p.id for p in products]

    def table() -> Markup:
        releases, in_flight_count = in_flight_of(session, g.principal, ids, per_product=IN_FLIGHT_SHOWN)
        figures = release_figures(session, releases)
        by_product: dict[int, list[ReleaseFigures]] = {i: [] for i in ids}
        for release in releases:
            by_product[release.product_id].append(figures[release.id])
        more = {
            i: in_flight_count[i] - len(by_product[i]) for i in ids if in_flight_count.get(i, 0) > len(by_product[i])
        }
        html = render_template("dashboard/_portfolio_table.html", products=products, by_product=by_product, more=more)
        return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered

    # Its rows (each release in flight with its figures) were most of the page's time: rendered once per page of
    # products the reader sees and day, and kept until the audit chain moves (every figure moves only with an
    # audited change); the products are the reader's own (read above), and nothing in the rows is.
    portfolio_table = kept(session, ("portfolio table", *ids, utcnow().date()), table) if ids else Markup()
    return render_template(
        "dashboard/portfolio.html",
        products=products,
        portfolio_table=portfolio_table,
        page=page,
        pages=pages,
        total=total,
        first=(page - 1) * PORTFOLIO_PER_PAGE + 1,
    )


@bp.route("/releases/<int:release_id>/readiness")
def readiness(release_id: int) -> str:
    """One release's readiness on one screen: coverage, SL-C gap, commits, SBOMs, reviews and expiries."""
    session = db_session()
    release = get_release(session, g.principal, release_id)  # held here, so the service finds it in the session
    result = release_readiness(session, g.principal, release.id)
    return render_template("dashboard/readiness.html", r=result, product=release.product, release=release)


@bp.route("/notifications")
def notifications() -> str:
    """The user's review requests and decisions, unread first."""
    items = list_notifications(db_session(), g.principal)
    return render_template("dashboard/notifications.html", items=items, form=MarkReadForm(), link_of=notification_link)


def _mark(notification_id: int | None) -> Response:
    form = MarkReadForm()
    if form.validate_on_submit():
        count = mark_read(db_session(), g.principal, notification_id)
        if notification_id is None:
            flash(f"{count} notification{'' if count == 1 else 's'} marked read.", "success")
    return redirect(url_for("dashboard.notifications"))


@bp.route("/notifications/read", methods=["POST"])
def mark_all_read() -> Response:
    """Mark every notification of the user read."""
    return _mark(None)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def mark_one_read(notification_id: int) -> Response:
    """Mark one notification read (another user's, or an unknown id, changes nothing)."""
    return _mark(notification_id)


def notification_link(n: Notification) -> Link:
    """Where a notification's subject is acted on."""
    if n.subject_type == "claim" and n.release_id is not None:
        return Link("claims.edit", {"release_id": n.release_id, "ref": n.ref})
    if n.subject_type == "requirement_scoping" and n.product_id is not None:
        return Link("evidence.coverage_view", {"product_id": n.product_id})
    return Link("evidence.detail", {"evidence_id": n.subject_id})


@bp.app_template_global()
def href(link: Link) -> str:
    """Where a Link leads; one that names a single id goes through `row_url`, built once per endpoint (a
    template macro and url_for per link were much of the product page's and the home page's rendering)."""
    if len(link.args) == 1:
        ((key, value),) = link.args.items()
        if type(value) is int:
            return row_url(link.endpoint, key)(value)
    arguments: dict[str, Any] = dict(link.args)
    return url_for(link.endpoint, **arguments)


def release_summaries(session: Session, actor: Principal, releases: Sequence[Release]) -> dict[int, Any]:
    """The readiness figures the product page shows per release (the app module installs this on the product
    page, which checked access to the product; products sit below the dashboard and cannot import it)."""
    return {release_id: readiness_facts(f) for release_id, f in release_figures(session, releases).items()}


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    """The products the navigation lists on every page, and the user's unread notifications."""
    principal = current_principal()
    if not principal:
        return {"nav_products": [], "unread_notifications": 0}
    session = db_session()
    # Kept per user and roles until the chain moves: the products listed and the notifications change only
    # with audited changes (products, memberships, decisions, review requests, marking read).
    roles = tuple(sorted(principal.role_by_product.items()))
    return kept(
        session,
        ("navigation", principal.user_id, principal.is_admin, roles),
        lambda: {
            "nav_products": [
                (entry, url_for("products.detail", product_id=entry.id))
                for entry in product_entries(session, principal)
            ],
            "unread_notifications": unread_count(session, principal),
        },
    )
