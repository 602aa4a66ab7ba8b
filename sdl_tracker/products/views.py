"""Product and release pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug import Response

from ..audit.views import log_csv_response, log_page
from ..auth import Principal
from ..catalog.services import list_editions
from ..errors import DomainError
from ..web.context import db_session
from ..web.forms import apply_errors
from ..web.templating import expose_predicates
from .forms import BLANK_INTERFACE_ROWS, ProductForm, ReleaseForm, RepositoryEditForm, RepositoryForm
from .models import FOUNDATIONAL_REQUIREMENTS, Release
from .repositories import (
    add_repository,
    authorize_edit_repository,
    authorize_manage_repositories,
    get_repository,
    list_repositories,
    may_edit_repository,
    may_manage_repositories,
    remove_repository,
    update_repository,
)
from .services import (
    authorize_create_product,
    authorize_manage_product,
    authorize_manage_releases,
    create_product,
    create_release,
    edition_names_of,
    get_previous_release,
    get_product,
    get_release,
    list_products,
    list_releases,
    may_create_product,
    may_manage_product,
    may_manage_releases,
    update_product,
)

bp = Blueprint("products", __name__, url_prefix="/products")

# Figures per release that a higher feature (the dashboard's readiness) shows on the product page; the app
# module installs the provider, since this feature may not import the ones above it.
ReleaseSummaries = Callable[[Session, Principal, Sequence[Release]], Mapping[int, Any]]
RELEASE_SUMMARIES_EXTENSION = "sdl_tracker.products.release_summaries"


def set_release_summaries(app: Flask, provider: ReleaseSummaries) -> None:
    """Install what the product page shows beside each release (none by default)."""
    app.extensions[RELEASE_SUMMARIES_EXTENSION] = provider


expose_predicates(
    bp, may_create_product, may_manage_product, may_manage_releases, may_manage_repositories, may_edit_repository
)


@bp.route("/")
def index() -> str:
    """Every product the user may see."""
    products = list_products(db_session(), g.principal)
    return render_template("products/index.html", products=products)


@bp.route("/new", methods=["GET", "POST"])
def create() -> Response | str:
    """Create a product (administrators)."""
    authorize_create_product(g.principal)
    form = ProductForm()
    form.set_edition_choices({}, None)  # a new product starts on the newest editions
    if form.validate_on_submit():
        try:
            product = create_product(db_session(), g.principal, **form.values())
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Product {product.name} created.", "success")
            return redirect(url_for("products.detail", product_id=product.id))
    return render_template("products/form.html", form=form, product=None)


@bp.route("/<int:product_id>")
def detail(product_id: int) -> str:
    """A product: target levels, interfaces, releases and repositories."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    releases = list(reversed(list_releases(session, g.principal, product.id)))
    every = list_repositories(session, g.principal, product.id, removed=None)
    summarise: ReleaseSummaries | None = current_app.extensions.get(RELEASE_SUMMARIES_EXTENSION)
    return render_template(
        "products/detail.html",
        product=product,
        releases=releases,
        summaries=summarise(session, g.principal, releases) if summarise else {},
        repositories=[r for r in every if r.removed_at is None],
        removed_repositories=[r for r in every if r.removed_at is not None],
        # As columns in one statement (the product's editions as rows, each with its catalog edition, were three).
        editions=edition_names_of(session, [product])[product.id],
        frs=FOUNDATIONAL_REQUIREMENTS,
    )


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id: int) -> Response | str:
    """Edit a product (security officers and administrators)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_manage_product(g.principal, product)
    form = ProductForm(obj=product)
    form.set_edition_choices(_loaded_editions(session), product.edition_names)
    if not form.is_submitted():
        for fr, field in zip(FOUNDATIONAL_REQUIREMENTS, form.target_fields(), strict=True):
            field.data = str(product.target_sl[fr])
        _fill_interfaces(form, product)
    if form.validate_on_submit():
        try:
            update_product(session, g.principal, product.id, changes=form.values())
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash("Product saved.", "success")
            return redirect(url_for("products.detail", product_id=product.id))
    return render_template("products/form.html", form=form, product=product)


def _loaded_editions(session: Session) -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = {}
    for edition in list_editions(session):
        loaded.setdefault(edition.standard, []).append(edition.edition)
    return loaded


def _fill_interfaces(form: ProductForm, product: object) -> None:
    while len(form.interfaces.entries):
        form.interfaces.pop_entry()
    for interface in getattr(product, "interfaces", []):
        form.interfaces.append_entry(
            {
                "name": interface.name,
                "kind": interface.kind.value,
                "protocol": interface.protocol,
                "port": interface.port,
            }
        )
    for _ in range(BLANK_INTERFACE_ROWS):
        form.interfaces.append_entry()


@bp.route("/<int:product_id>/releases/new", methods=["GET", "POST"])
def create_release_view(product_id: int) -> Response | str:
    """Add a release to a product."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_manage_releases(g.principal, product)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            release = create_release(
                session,
                g.principal,
                product.id,
                version=(form.version.data or "").strip(),
                status=form.status.data,
                release_date=form.release_date.data,
                git_ref=form.git_ref.data or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Release {release.version} created.", "success")
            return redirect(url_for("products.release_detail", release_id=release.id))
    return render_template("products/release_form.html", form=form, product=product)


@bp.route("/<int:product_id>/audit")
def audit_log(product_id: int) -> tuple[str, int]:
    """The product's audit events (its security officers and auditors), filterable."""
    return log_page(get_product(db_session(), g.principal, product_id))


@bp.route("/<int:product_id>/audit.csv")
def audit_log_csv(product_id: int) -> Response:
    """The product's matching audit events as CSV."""
    product = get_product(db_session(), g.principal, product_id)
    return log_csv_response(product.id, f"sdl-tracker-audit-product-{product.id}.csv")


@bp.route("/releases/<int:release_id>")
def release_detail(release_id: int) -> str:
    """A release and its place in the product's release order."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    previous = get_previous_release(session, g.principal, release.id)
    return render_template("products/release_detail.html", release=release, product=release.product, previous=previous)


@bp.route("/<int:product_id>/repositories/new", methods=["GET", "POST"])
def create_repository_view(product_id: int) -> Response | str:
    """Register a source repository (security officers; local paths: administrators)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_manage_repositories(g.principal, product)
    form = RepositoryForm()
    if form.validate_on_submit():
        try:
            repository = add_repository(
                session,
                g.principal,
                product.id,
                name=(form.name.data or "").strip(),
                location=form.location.data or "",
                ref_patterns=form.ref_patterns(),
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(
                f"Repository {repository.name} registered; scan it with Scan now on this page.",
                "success",
            )
            return redirect(url_for("products.detail", product_id=product.id))
    return render_template("products/repository_form.html", form=form, product=product)


@bp.route("/repositories/<int:repository_id>/edit", methods=["GET", "POST"])
def edit_repository_view(repository_id: int) -> Response | str:
    """Rename a repository or change which refs are history (security officers); remove it from here too."""
    session = db_session()
    repository = get_repository(session, g.principal, repository_id)
    authorize_edit_repository(g.principal, repository)
    form = RepositoryEditForm()
    if not form.is_submitted():
        form.name.data = repository.name
        form.refs.data = " ".join(repository.ref_patterns)
    if form.validate_on_submit():
        try:
            update_repository(
                session,
                g.principal,
                repository.id,
                name=(form.name.data or "").strip(),
                ref_patterns=form.ref_patterns(),
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Repository {repository.name} saved; the next scan reads the refs it names now.", "success")
            return redirect(url_for("products.detail", product_id=repository.product_id))
    return render_template(
        "products/repository_edit.html", form=form, product=repository.product, repository=repository
    )


@bp.post("/repositories/<int:repository_id>/remove")
def remove_repository_view(repository_id: int) -> Response:
    """Remove a repository: no more scans or deliveries; its commits and their evidence stay as history."""
    repository = remove_repository(db_session(), g.principal, repository_id)
    flash(f"Repository {repository.name} removed; its commits stay as history.", "success")
    return redirect(url_for("products.detail", product_id=repository.product_id))
