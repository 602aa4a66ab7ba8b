"""Evidence pages: lists per product and for the organisation, attach, detail with review, edit, download."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response
from wtforms import SelectChoice

from ..app_access import app_db
from ..audit.services import kept
from ..auth import Principal
from ..errors import DomainError
from ..products.models import Product
from ..products.services import authorize_manage_product, get_product, list_releases, optional_release, release_choices
from ..web.context import db_session, rollback
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import local_path, page_number
from ..web.templating import expose_predicates
from .assessment import authorize_record_maturity, coverage, maturity_history, may_record_maturity, record_maturity
from .downloads import artifact_response
from .forms import (
    KIND_LABELS,
    AcceptScopingForm,
    BulkReviewForm,
    EvidenceFilterForm,
    EvidenceForm,
    IntervalForm,
    MaturityForm,
    ReviewForm,
    ScopingForm,
    WithdrawScopingForm,
    details_from,
    evidence_form_for,
    filter_of,
    split_refs,
)
from .links import linkable_requirements
from .models import Evidence, EvidenceKind, EvidenceRevision, ReviewState
from .previews import preview as preview_of
from .previews import preview_page
from .queries import get_artifact, get_evidence
from .review import authorize_review, may_review, review_evidence
from .rules import render_markdown
from .scoping import (
    accept_scoping,
    authorize_review_scoping,
    authorize_scope,
    change_review_interval,
    get_scoping,
    list_review_intervals,
    may_accept_scoping,
    may_scope,
    propose_scoping,
    withdraw_scoping,
)
from .services import (
    EvidenceInput,
    Upload,
    attach_evidence,
    authorize_attach_evidence,
    authorize_edit_evidence,
    may_attach_evidence,
    may_edit_evidence,
    revise_evidence,
    submit_evidence,
)
from .triage import EvidenceFilter, EvidenceLine, EvidencePage, kept_filter, review_many, search_evidence, submitters

bp = Blueprint("evidence", __name__)
# What higher features (cra: the risk assessment revisions that rest on a threat model) show on an evidence item's
# page, below its facts; the app module installs the providers, since this feature may not import the ones above it.
EvidencePanel = Callable[[Session, Principal, Evidence], Markup | None]
EVIDENCE_PANELS_EXTENSION = "sdl_tracker.evidence.panels"


def set_evidence_panels(app: Flask, *providers: EvidencePanel) -> None:
    """Install the panels an evidence item's page shows, in this order; a provider answers None to show none for
    that item (nothing is shown by default)."""
    app.extensions[EVIDENCE_PANELS_EXTENSION] = providers


expose_predicates(
    bp, may_attach_evidence, may_edit_evidence, may_review, may_scope, may_accept_scoping, may_record_maturity
)


@bp.app_template_filter("markdown")
def markdown_filter(text: str) -> object:
    """Render a description as sanitised HTML."""
    return render_markdown(text)


def _uploads(form: EvidenceForm) -> list[Upload]:
    return [
        Upload(f.filename or "artifact", f.mimetype or "application/octet-stream", f.stream)
        for f in (form.files.data or [])
        if f and f.filename
    ]


def _input(form: EvidenceForm) -> EvidenceInput:
    details = details_from(form["details"].form) if "details" in form else None
    model = form["threat_dragon"].data if "threat_dragon" in form else None
    return EvidenceInput(
        details=details or None,
        threat_dragon=Upload(model.filename, model.mimetype, model.stream) if model and model.filename else None,
        title=form.title.data,
        description=form.description.data or "",
        effective_date=form.effective_date.data,
        author=form.author.data or "",
        review_due=form.review_due.data,
        tester_independence=form["tester_independence"].data if "tester_independence" in form else None,
        requirements=split_refs(form.requirements.data),
        release_versions=(form.releases.data or []) if form.releases else [],
        files=_uploads(form),
    )


def _release_choices(session: Session, form: EvidenceForm, product: Product | None) -> None:
    """The pickers' entries: the catalogs' requirements the product may name, and its releases."""
    # Editions may share ids; the first (in catalog order) names it.
    first: dict[str, str] = {}
    for requirement in linkable_requirements(session, product):
        first.setdefault(requirement.ref, f"{requirement.ref} {requirement.title}")
    form.requirements.choices = [SelectChoice(ref, label) for ref, label in first.items()]
    if product is None:
        del form.releases
        return
    form.releases.choices = [SelectChoice(r.version) for r in reversed(list_releases(session, g.principal, product.id))]


def _flat(details: dict[str, object]) -> dict[str, object]:
    """Stored details as the generated form names them (findings.high -> findings__high; dates as dates)."""
    flat: dict[str, object] = {}
    for key, value in details.items():
        if isinstance(value, dict):
            flat.update({f"{key}__{sub}": v for sub, v in value.items()})
        elif isinstance(value, str) and key.endswith(("_due", "_on")):
            flat[key] = date.fromisoformat(value)
        else:
            flat[key] = value
    return flat


PER_PAGE = 50


def _evidence_table(
    product: Product | None, found: EvidencePage[EvidenceLine], wanted: EvidenceFilter, page: int, filtered: bool
) -> Markup:
    """The list's table. Rendering its lines was most of the page's time: for a list kept as search_evidence keeps
    it, the HTML is kept too, per lines the reader may review (the only part that is the reader's)."""

    def table() -> Markup:
        html = render_template(
            "evidence/_table.html", product=product, found=found, filters=filtered, kind_labels=KIND_LABELS
        )
        return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered

    if not kept_filter(wanted):
        return table()
    reviewable = tuple(line.reviewable for line in found.items)
    question = ("evidence table", product.id if product else None, wanted, page, filtered, reviewable, found.as_of)
    return kept(db_session(), question, table)


def _list_page(product: Product | None) -> tuple[str, int]:
    """An evidence list with its filters, search, sorting, pages and the bulk review form."""
    session = db_session()
    form = EvidenceFilterForm(request.args)
    filters = {name: value for name, value in request.args.items() if name in form._fields and value}
    valid = form.validate()
    release = None
    if product is not None and valid:
        release = optional_release(session, g.principal, product.id, form.release.data or None)
    product_id = product.id if product else None
    wanted, page, found = None, page_number(), None
    if valid:
        wanted = filter_of(form, release.id if release else None)
        found = search_evidence(session, g.principal, product_id, wanted, page=page, per_page=PER_PAGE)
    return render_template(
        "evidence/index.html",
        product=product,
        found=found,
        evidence_table=_evidence_table(product, found, wanted, page, bool(filters)) if found and wanted else None,
        form=form,
        filters=filters,
        bulk=BulkReviewForm(formdata=None),
        release=release,
        releases=release_choices(session, g.principal, product.id) if product else [],
        submitters=submitters(session, g.principal, product.id if product else None),
        kind_labels=KIND_LABELS,
    ), (200 if valid else 400)


@bp.route("/products/<int:product_id>/evidence")
def index(product_id: int) -> tuple[str, int]:
    """A product's evidence, filtered, searched and sorted; with a release, what covers it (with inherited
    organisation-wide evidence)."""
    return _list_page(get_product(db_session(), g.principal, product_id))


@bp.route("/organisation/evidence")
def organisation_index() -> tuple[str, int]:
    """Organisation-wide evidence, which every product inherits."""
    return _list_page(None)


@bp.route("/evidence/bulk-review", methods=["POST"])
def bulk_review() -> tuple[str, int]:
    """Accept or reject the ticked items, each by the single review; the page shows what became of each."""
    form = BulkReviewForm()
    results = []
    if form.validate():
        # The decisions are committed in short batches of their own, which this request's session would
        # block while it holds the write lock (since loading the principal): end it first.
        rollback()
        try:
            results = review_many(
                app_db(),
                g.principal,
                form.chosen(),
                accept=form.decision.data == "accept",
                reason=form.reason.data or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
    back = local_path(request.form.get("back"))  # only a path of ours (never another site's address)
    status = 200 if results else 422  # a form that named nothing to review, as the single review's refusal
    return render_template("evidence/bulk_review.html", form=form, results=results, back=back), status


def _new(product: Product | None) -> Response | str:
    session = db_session()
    authorize_attach_evidence(g.principal, product)
    try:
        kind = EvidenceKind(request.values.get("kind", ""))
    except ValueError:
        # Forms adapt to the kind, so the kind comes first (links keep any requirement or release asked for).
        prefill = {k: v for k, v in request.args.items() if k in ("requirements", "release")}
        return render_template("evidence/choose_kind.html", product=product, kind_labels=KIND_LABELS, prefill=prefill)
    form = evidence_form_for(kind)()
    form.kind.data = kind.value
    _release_choices(session, form, product)
    if not form.is_submitted():
        form.requirements.data = split_refs(request.args.get("requirements", ""))
        if request.args.get("release") and "releases" in form:
            form.releases.data = [request.args["release"]]
    if form.validate_on_submit():
        try:
            attached = attach_evidence(
                session,
                g.principal,
                product_id=product.id if product else None,
                kind=kind.value,
                data=_input(form),
                draft="draft" in request.form,
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            evidence = attached.evidence
            if attached.created:
                flash(f"Evidence “{evidence.current.title}” attached.", "success")
            else:
                flash(f"These files are already attached as #{evidence.id}: nothing new was added.", "info")
            return redirect(url_for("evidence.detail", evidence_id=evidence.id))
    return render_template(
        "evidence/form.html", form=form, product=product, evidence=None, kind=kind, kind_labels=KIND_LABELS
    )


@bp.route("/products/<int:product_id>/evidence/new", methods=["GET", "POST"])
def new(product_id: int) -> Response | str:
    """Attach evidence to a product."""
    return _new(get_product(db_session(), g.principal, product_id))


@bp.route("/organisation/evidence/new", methods=["GET", "POST"])
def organisation_new() -> Response | str:
    """Attach organisation-wide evidence (administrators)."""
    return _new(None)


def _detail_page(session: Session, evidence: Evidence, review: ReviewForm) -> str:
    product = session.get(Product, evidence.product_id) if evidence.product_id else None
    providers: tuple[EvidencePanel, ...] = current_app.extensions.get(EVIDENCE_PANELS_EXTENSION, ())
    panels = [panel for provider in providers if (panel := provider(session, g.principal, evidence)) is not None]
    return render_template(
        "evidence/detail.html",
        evidence=evidence,
        product=product,
        review=review,
        kind_labels=KIND_LABELS,
        ReviewState=ReviewState,
        panels=panels,
    )


@bp.route("/evidence/<int:evidence_id>")
def detail(evidence_id: int) -> str:
    """One evidence item: its current revision, artifacts, review, and every earlier revision."""
    session = db_session()
    return _detail_page(session, get_evidence(session, g.principal, evidence_id), ReviewForm())


@bp.route("/evidence/<int:evidence_id>/edit", methods=["GET", "POST"])
def edit(evidence_id: int) -> Response | str:
    """Edit evidence: a new revision; accepted evidence goes back to submitted."""
    session = db_session()
    evidence = get_evidence(session, g.principal, evidence_id)
    authorize_edit_evidence(g.principal, evidence)
    product = session.get(Product, evidence.product_id) if evidence.product_id else None
    current = evidence.current
    form = evidence_form_for(evidence.kind)(
        data=None
        if request.method == "POST"
        else {
            "kind": evidence.kind.value,
            "title": current.title,
            "description": current.description,
            "effective_date": current.effective_date,
            "author": current.author,
            "review_due": current.review_due,
            "tester_independence": current.tester_independence.value if current.tester_independence else "",
            "requirements": [r.ref for r in current.requirements],
            "releases": [r.version for r in current.releases],
            "details": _flat(current.details),
        }
    )
    _release_choices(session, form, product)
    if form.validate_on_submit():
        try:
            revision = revise_evidence(
                session, g.principal, evidence.id, data=_input(form), submit="draft" not in request.form
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Saved as revision {revision.number} ({revision.state.value}).", "success")
            return redirect(url_for("evidence.detail", evidence_id=evidence.id))
    return render_template(
        "evidence/form.html", form=form, product=product, evidence=evidence, kind=evidence.kind, kind_labels=KIND_LABELS
    )


@bp.route("/evidence/<int:evidence_id>/submit", methods=["POST"])
def submit(evidence_id: int) -> Response:
    """Submit a draft for review."""
    try:
        submit_evidence(db_session(), g.principal, evidence_id)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash("Submitted for review.", "success")
    return redirect(url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/evidence/<int:evidence_id>/review", methods=["POST"])
def review(evidence_id: int) -> Response | str:
    """Accept or reject the current revision; a refusal shows the form again with the choice and reason kept."""
    session = db_session()
    evidence = get_evidence(session, g.principal, evidence_id)
    authorize_review(g.principal, evidence)
    form = ReviewForm()
    if form.validate():
        try:
            revision = review_evidence(
                session, g.principal, evidence_id, accept=form.decision.data == "accept", reason=form.reason.data or ""
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_errors(form, exc)
        else:
            flash(f"Revision {revision.number} {revision.state.value}.", "success")
            return redirect(url_for("evidence.detail", evidence_id=evidence_id))
    return _detail_page(session, evidence, form)


@bp.route("/artifacts/<int:artifact_id>")
def download(artifact_id: int) -> Response:
    """Download an artifact: an attachment, checked against its SHA-256 first."""
    return artifact_response(*get_artifact(db_session(), g.principal, artifact_id))


@bp.route("/artifacts/<int:artifact_id>/preview")
def preview(artifact_id: int) -> str:
    """A preview of an artifact rendered by the server (PNG pages, sanitised Markdown, plain text), or why
    there is none; the artifact itself is only downloaded."""
    session = db_session()
    shown = preview_of(session, g.principal, artifact_id)
    revision = session.get(EvidenceRevision, shown.artifact.revision_id)
    assert revision is not None  # the foreign key guarantees it
    return render_template("evidence/preview.html", preview=shown, evidence=revision.evidence, revision=revision)


@bp.route("/artifacts/<int:artifact_id>/preview/<int:page>.png")
def preview_png(artifact_id: int, page: int) -> Response:
    """One page of a preview: a PNG we encoded, served as an image and nothing else."""
    path = preview_page(db_session(), g.principal, artifact_id, page)
    response = Response(path.read_bytes(), mimetype="image/png")  # at most render.MAX_PNG_BYTES
    response.headers["Content-Disposition"] = f'inline; filename="preview-{artifact_id}-{page}.png"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/products/<int:product_id>/coverage", methods=["GET", "POST"])
def coverage_view(product_id: int) -> Response | str:
    """The IEC 62443-4-1 heat map of a release (judged on its date, today's view beside) or of the product across
    releases, with scoped-out requirements and the organisation's maturity per practice."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    version = request.args.get("release") or None
    release = optional_release(session, g.principal, product.id, version)
    result = coverage(session, g.principal, product.id, release)
    form = MaturityForm()
    form.practice.choices = [SelectChoice(p.practice, f"{p.practice} {p.name}") for p in result.practices]
    if form.is_submitted():
        authorize_record_maturity(g.principal)
    if form.validate_on_submit():
        try:
            record_maturity(
                session,
                g.principal,
                practice=form.practice.data,
                level=int(form.level.data),
                rationale=form.rationale.data,
                assessed_on=form.assessed_on.data,
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"The organisation's {form.practice.data} recorded at ML{form.level.data}.", "success")
            return redirect(url_for("evidence.coverage_view", product_id=product.id, release=version))
    scoping_form = ScopingForm()
    scoping_form.requirement.choices = [SelectChoice(c.ref, f"{c.ref} {c.title}") for c in result.cells]
    attach = may_attach_evidence(g.principal, product)
    # The heat map was most of the page's time (a few thousand template steps): rendered once per figure it
    # shows, kept as the figures are (until the audit chain moves), after access to the product was checked.
    # So were the next steps, which link the attach form only for those who may attach, and what changed since a
    # released release's date (judged today as well: keyed by both days).
    shown = (product.id, release.id if release else None, attach, result.judged.as_of)

    def part(template: str) -> Markup:
        html = render_template(template, result=result, product=product, release=release, attach=attach)
        return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered

    heatmap = kept(session, ("coverage heat map", *shown), lambda: part("evidence/_heatmap.html"))
    today = result.current.as_of if result.current else None
    next_steps = kept(session, ("coverage next steps", *shown, today), lambda: part("evidence/_next_steps.html"))
    return render_template(
        "evidence/coverage.html",
        heatmap=heatmap,
        next_steps=next_steps,
        result=result,
        product=product,
        release=release,
        form=form,
        scoping_form=scoping_form,
        withdraw_form=WithdrawScopingForm(),
        accept_form=AcceptScopingForm(),
        releases=release_choices(session, g.principal, product.id),
        history=maturity_history(session, g.principal, product.id),
    )


@bp.route("/products/<int:product_id>/scoping", methods=["POST"])
def scoping_propose(product_id: int) -> Response:
    """Scope a requirement out of the product, with its justification."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_scope(g.principal, product)
    form = ScopingForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items()), "error")
        return redirect(url_for("evidence.coverage_view", product_id=product.id, _anchor="scoping"))
    try:
        row = propose_scoping(
            session, g.principal, product.id, requirement=form.requirement.data, justification=form.justification.data
        )
    except DomainError as exc:
        flash_refusal(exc, "; ".join([exc.message, *(e.message for e in exc.errors)]))
    else:
        flash(f"{row.requirement_ref} proposed as scoped out; another security officer accepts it.", "success")
    return redirect(url_for("evidence.coverage_view", product_id=product.id, _anchor="scoping"))


def _scoping_action(scoping_id: int, action: str) -> Response:
    session = db_session()
    row = get_scoping(session, g.principal, scoping_id)
    if action == "accept":
        authorize_review_scoping(g.principal, row)
    else:
        authorize_scope(g.principal, get_product(session, g.principal, row.product_id))
    form: AcceptScopingForm | WithdrawScopingForm = AcceptScopingForm() if action == "accept" else WithdrawScopingForm()
    if not form.validate_on_submit():
        flash("; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items()), "error")
        return redirect(url_for("evidence.coverage_view", product_id=row.product_id, _anchor="scoping"))
    try:
        if isinstance(form, WithdrawScopingForm):
            withdraw_scoping(session, g.principal, scoping_id, reason=form.reason.data or "")
        else:
            accept_scoping(session, g.principal, scoping_id)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(f"{row.requirement_ref}: scoping-out {'accepted' if action == 'accept' else 'withdrawn'}.", "success")
    return redirect(url_for("evidence.coverage_view", product_id=row.product_id, _anchor="scoping"))


@bp.route("/scoping/<int:scoping_id>/accept", methods=["POST"])
def scoping_accept(scoping_id: int) -> Response:
    """Accept a scoping-out (a security officer other than the setter, or an administrator)."""
    return _scoping_action(scoping_id, "accept")


@bp.route("/scoping/<int:scoping_id>/withdraw", methods=["POST"])
def scoping_withdraw(scoping_id: int) -> Response:
    """Withdraw a scoping-out: the requirement counts again."""
    return _scoping_action(scoping_id, "withdraw")


@bp.route("/products/<int:product_id>/review-intervals", methods=["GET", "POST"])
def review_intervals(product_id: int) -> Response | str:
    """How long evidence of each kind stands for the product before it must be reviewed again."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    form = IntervalForm()
    if form.is_submitted():
        authorize_manage_product(g.principal, product)
    if form.validate_on_submit():
        try:
            change_review_interval(session, g.principal, product.id, kind=form.kind.data, value=form.months.data or "")
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Review interval of {form.kind.data} saved.", "success")
            return redirect(url_for("evidence.review_intervals", product_id=product.id))
    return render_template(
        "evidence/review_intervals.html",
        product=product,
        form=form,
        intervals=list_review_intervals(session, g.principal, product.id),
        kind_labels=KIND_LABELS,
    )
