"""SBOM pages: a release's SBOMs (licences, history) and import form, a product's SBOMs and policy, one SBOM's
components and a component's dependency paths, the diff of two SBOMs, where a component is."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response

from ..app_access import app_db
from ..auth import Principal
from ..errors import DomainError, Invalid
from ..evidence.downloads import attachment_response
from ..evidence.services import Upload
from ..products.models import Release
from ..products.services import get_product, get_release, may_manage_product
from ..web.context import db_session, rollback
from ..web.forms import apply_errors
from ..web.inputs import id_argument, page_number
from .diff import HEADINGS
from .downloads import bom_download
from .exports import export_bom
from .forms import PolicyForm, PrimaryForm, SbomImportForm, diff_sides, export_format, inline_max_bytes, path_limits
from .importer import submit_sbom
from .queries import component_paths, licence_summary, sbom_history, where_is
from .schemas import license_text
from .services import (
    MEDIA_TYPES,
    ComponentQuery,
    DiffSide,
    authorize_upload_sbom,
    compare_sboms,
    get_sbom,
    list_components,
    list_sboms,
    may_upload_sbom,
    open_original,
    releases_with_sboms,
    set_policy,
    set_primary,
    strict_policy,
)

bp = Blueprint("sboms", __name__)
PER_PAGE = 100
DIFF_ROWS = 500  # per heading on the page; the API and `sbom diff --json` give every row
PATH_ROWS = 500  # transitive dependencies on a component's page; the API and `sbom paths --json` give all
DIFF_TITLES = {
    "added": "Added",
    "removed": "Removed",
    "upgraded": "Upgraded",
    "downgraded": "Downgraded",
    "license_changed": "Licence changed",
    "supplier_changed": "Supplier changed",
    "hash_changed": "Same version, other hashes",
}
# The VEX decisions on a component (by its purl) in the reader's releases, which a higher feature (vex) shows on
# the component page beside the release it is in; the app module installs the provider, since this feature may not
# import the ones above it.
ComponentDecisions = Callable[[Session, Principal, Release, str], Markup]
COMPONENT_DECISIONS_EXTENSION = "sdl_tracker.sboms.component_decisions"


def set_component_decisions(app: Flask, provider: ComponentDecisions) -> None:
    """Install what the component page shows of the decisions on the component (nothing by default)."""
    app.extensions[COMPONENT_DECISIONS_EXTENSION] = provider


@bp.route("/releases/<int:release_id>/sboms", methods=["GET", "POST"])
def release_sboms(release_id: int) -> Response | str:
    """A release's SBOMs, and the import form for those who may upload."""
    form = SbomImportForm()
    if form.is_submitted():
        # The import's phases take the write lock in short transactions of their own, which this
        # request's session would block while it holds the lock (since loading the principal): end it.
        rollback()
        with app_db().unit_of_work(read_only=True) as check:
            release = get_release(check, g.principal, release_id)
            authorize_upload_sbom(g.principal, release.product_id)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            submitted = submit_sbom(
                app_db(),
                g.principal,
                release_id,
                Upload(upload.filename or "", upload.mimetype or "", upload.stream),
                title=form.title.data or "",
                primary=form.primary.data,
                strict=form.strict.data,
                inline_max_bytes=inline_max_bytes(),
            )
        except DomainError as exc:
            apply_errors(form, exc)
            if exc.message not in form.form_errors:
                form.form_errors.insert(0, exc.message)  # the verdict, above the violations on the field
        else:
            if submitted.job is not None:
                flash("The SBOM is large: it is imported by a job; this page shows its progress.", "info")
                return redirect(url_for("jobs.detail", job_id=submitted.job.id))
            sbom = get_sbom(db_session(), g.principal, submitted.sbom_id or 0)
            if submitted.created:
                flash(f"SBOM “{sbom.title}” imported: {sbom.component_count} components.", "success")
            else:
                flash(f"These bytes were already imported as SBOM #{sbom.id}; nothing changed.", "info")
            return redirect(url_for("sboms.detail", sbom_id=sbom.id))
    session = db_session()
    release = get_release(session, g.principal, release_id)
    try:
        licences = licence_summary(session, g.principal, release.id)
    except Invalid:  # no SBOM yet: nothing to count
        licences = None
    return render_template(
        "sboms/release.html",
        licences=licences,
        history=sbom_history(session, g.principal, release.id),
        release=release,
        product=release.product,
        sboms=list_sboms(session, g.principal, release.product_id, release.id),
        form=form,
        may_upload=may_upload_sbom(g.principal, release.product_id),
        strict_policy=strict_policy(session, g.principal, release.product_id),
    )


@bp.route("/products/<int:product_id>/sboms", methods=["GET", "POST"])
def product_sboms(product_id: int) -> Response | str:
    """Every SBOM of a product, and its import policy."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    form = PolicyForm()
    if form.validate_on_submit():
        set_policy(session, g.principal, product.id, strict=form.strict.data)
        flash("SBOM policy saved.", "success")
        return redirect(url_for("sboms.product_sboms", product_id=product.id))
    if not form.is_submitted():
        form.strict.data = strict_policy(session, g.principal, product.id)
    return render_template(
        "sboms/product.html",
        product=product,
        sboms=list_sboms(session, g.principal, product.id),
        form=form,
        may_manage=may_manage_product(g.principal, product),
    )


@bp.route("/releases/<int:release_id>/sbom-export")
def release_export(release_id: int) -> Response:
    """The release's BOM as CycloneDX 1.6 JSON or XML, an attachment (api.bom_download)."""
    export = export_bom(app_db(), g.principal, release_id, export_format(), sbom_id=id_argument("sbom"))
    return bom_download(export)


@bp.route("/sboms/<int:sbom_id>")
def detail(sbom_id: int) -> str:
    """One SBOM: metadata, warnings, components (search, filter by type, pages)."""
    session = db_session()
    sbom = get_sbom(session, g.principal, sbom_id)
    query = ComponentQuery(
        text=request.args.get("q", "")[:200],
        type=request.args.get("type", "")[:40],
        page=page_number(),
        per_page=PER_PAGE,
    )
    components = list_components(session, g.principal, sbom.id, query)
    return render_template(
        "sboms/detail.html",
        sbom=sbom,
        release=sbom.release,
        product=sbom.release.product,
        components=components,
        query=query,
        pages=max(1, -(-components.total // PER_PAGE)),
        license_text=license_text,
        primary_form=PrimaryForm(),
        may_upload=may_upload_sbom(g.principal, sbom.product_id),
    )


@bp.route("/sboms/<int:sbom_id>/original")
def original(sbom_id: int) -> Response:
    """The original document, byte for byte, as an attachment."""
    sbom, stream = open_original(db_session(), g.principal, sbom_id)
    return attachment_response(sbom.filename, MEDIA_TYPES[sbom.format], sbom.size, stream)


@bp.route("/sboms/<int:sbom_id>/primary", methods=["POST"])
def primary(sbom_id: int) -> Response:
    """Make the SBOM its release's primary one."""
    if PrimaryForm().validate_on_submit():
        chosen = set_primary(db_session(), g.principal, sbom_id)
        flash(f"“{chosen.title}” is now the primary SBOM of {chosen.release.version}.", "success")
    return redirect(url_for("sboms.detail", sbom_id=sbom_id))


@bp.route("/products/<int:product_id>/sboms/diff")
def diff(product_id: int) -> tuple[str, int]:
    """What changed between two releases' SBOMs (their primary ones, or those `from_sbom` and `to_sbom` name)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    releases = releases_with_sboms(session, g.principal, product.id)
    before, after = diff_sides()
    comparison, problem = None, ""
    if before != DiffSide() or after != DiffSide():
        try:
            comparison = compare_sboms(session, g.principal, product.id, before, after)
        except Invalid as exc:
            problem = exc.one_line()
    return render_template(
        "sboms/diff.html",
        product=product,
        releases=releases,
        chosen=(before, after),
        comparison=comparison,
        problem=problem,
        headings=[(name, DIFF_TITLES[name]) for name in HEADINGS],
        limit=DIFF_ROWS,
        license_text=lambda pairs: license_text([{kind: value} for kind, value in pairs]),
    ), 422 if problem else 200


@bp.route("/sboms/<int:sbom_id>/components/<int:position>")
def component(sbom_id: int, position: int) -> tuple[str, int]:
    """One component of an SBOM: what depends on it (paths to the roots) and what it pulls in."""
    session = db_session()
    sbom = get_sbom(session, g.principal, sbom_id)
    try:
        max_paths, max_depth = path_limits()
        found, problem = (
            component_paths(session, g.principal, sbom.id, position, max_paths=max_paths, max_depth=max_depth),
            "",
        )
    except Invalid as exc:
        found, problem = component_paths(session, g.principal, sbom.id, position), exc.one_line()
    decisions: ComponentDecisions | None = current_app.extensions.get(COMPONENT_DECISIONS_EXTENSION)
    return render_template(
        "sboms/component.html",
        decisions=decisions(session, g.principal, sbom.release, found.component.purl) if decisions else None,
        sbom=sbom,
        release=sbom.release,
        product=sbom.release.product,
        found=found,
        problem=problem,
        limit=PATH_ROWS,
        license_text=license_text,
    ), 422 if problem else 200


@bp.route("/components")
def where() -> tuple[str, int]:
    """Where a component is: the releases of the products the reader sees whose primary SBOM holds it."""
    text = request.args.get("q", "")[:1000]
    found, problem = None, ""
    page = page_number()
    if text.strip():
        try:
            found = where_is(db_session(), g.principal, text, page=page, per_page=PER_PAGE)
        except Invalid as exc:
            problem = exc.one_line()
    pages = max(1, -(-found.total // PER_PAGE)) if found else 1
    return render_template(
        "sboms/where.html", text=text, found=found, problem=problem, page=page, pages=pages
    ), 422 if problem else 200
