"""PSIRT pages: the dashboard of running clocks, the case list, a case, and the officers' forms (a new case, an
edit, a submission, an intermediate request, a product's Article 14 settings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response

from ..auth import Principal
from ..db import utcnow
from ..errors import DomainError
from ..products.models import Product
from ..products.services import get_product, product_entries, release_choices
from ..web.context import db_session
from ..web.forms import apply_errors
from ..web.inputs import page_count, page_number
from ..web.templating import expose_predicates, viewer_zone
from ..zones import wall_time
from .chart import clock_timeline, remaining
from .forms import (
    KIND_LABELS,
    SOURCE_LABELS,
    CaseFilterForm,
    CaseForm,
    IntermediateForm,
    SettingsForm,
    SubmissionForm,
    case_filter,
    case_values,
)
from .models import PsirtCase
from .packaging import submission_packet
from .packets import packet_json, packet_markdown
from .rules import next_deadline
from .schemas import CaseDetailOut, TimelineEventOut
from .scoring import Score, parse_vector
from .services import (
    INCIDENT_CRITERIA,
    authorize_manage_cases,
    case_clocks,
    case_components,
    case_releases,
    case_timeline,
    clocks_of_cases,
    create_case,
    get_case,
    list_cases,
    may_manage_cases,
    product_of,
    record_submission,
    request_intermediate,
    running_cases,
    settings_of,
    update_case,
    update_settings,
)
from .vocabulary import VocabularyError, cwe_label

bp = Blueprint("psirt", __name__)
expose_predicates(bp, may_manage_cases)
bp.add_app_template_filter(remaining, "remaining")
bp.add_app_template_filter(wall_time, "wall_time")
PER_PAGE = 50

# The VEX decisions on a case's vulnerability, which a higher feature (vex) shows on the case page; the app module
# installs the provider, since this feature may not import the ones above it.
CaseDecisions = Callable[[Session, Principal, PsirtCase], Markup]
CASE_DECISIONS_EXTENSION = "sdl_tracker.psirt.case_decisions"


def set_case_decisions(app: Flask, provider: CaseDecisions) -> None:
    """Install what the case page shows of the decisions on the case's vulnerability (nothing by default)."""
    app.extensions[CASE_DECISIONS_EXTENSION] = provider


def _names(session: Session) -> dict[int, str]:
    """The names of the products the reader sees, by id (the navigation reads the same list)."""
    return {entry.id: entry.name for entry in product_entries(session, g.principal)}


@bp.route("/psirt")
def dashboard() -> str:
    """The cases with a clock running, the next deadline first, each with its clocks on a time line."""
    session = db_session()
    now = utcnow()
    running = running_cases(session, g.principal, now)
    return render_template(
        "psirt/dashboard.html",
        running=running,
        names=_names(session),
        now=now,
        timelines={r.case.id: clock_timeline(r.clocks, now, viewer_zone()) for r in running},
    )


@bp.route("/psirt/cases")
def cases() -> tuple[str, int]:
    """The cases of the products the reader sees, filtered by product, status and kind, newest received first."""
    session = db_session()
    form = CaseFilterForm(request.args)
    valid = form.validate()
    found = list_cases(session, g.principal, case_filter(form)) if valid else []
    page = page_number()
    pages = page_count(len(found), PER_PAGE)
    shown = found[(page - 1) * PER_PAGE : page * PER_PAGE]
    clocks = clocks_of_cases(session, shown)
    arguments: dict[str, Any] = request.args.to_dict(flat=False)
    return render_template(
        "psirt/cases.html",
        form=form,
        cases=shown,
        total=len(found),
        names=_names(session),
        next_clock={case.id: next_deadline(clocks[case.id]) for case in shown},
        now=utcnow(),
        page=page,
        pages=pages,
        previous_url=url_for("psirt.cases", **{**arguments, "page": page - 1}) if page > 1 else None,
        next_url=url_for("psirt.cases", **{**arguments, "page": page + 1}) if page < pages else None,
        kinds=KIND_LABELS,
    ), (200 if valid else 422)


def _scores(case: PsirtCase) -> list[Score]:
    """The case's CVSS vectors broken down into their metrics, with the score and severity (each was checked when
    it was recorded)."""
    return [parse_vector(vector) for vector in (case.cvss_v31, case.cvss_v40) if vector]


def _cwe(number: int) -> str:
    """A CWE id with its name; one that a later CWE list no longer has is shown by its number."""
    try:
        return cwe_label(number)
    except VocabularyError:
        return f"CWE-{number} (not in the packaged CWE list)"


@bp.route("/psirt/cases/<int:case_id>/packets/<stage>")
def packet(case_id: int, stage: str) -> Response | str:
    """What the Single Reporting Platform asks at one stage of a case, with its checklist; as Markdown or JSON
    to download with ?format=markdown|json."""
    session = db_session()
    found = get_case(session, g.principal, case_id)
    drafted = submission_packet(session, g.principal, found.id, stage)
    wanted = request.args.get("format", "")
    if wanted in ("markdown", "json"):
        body = packet_markdown(drafted) if wanted == "markdown" else json.dumps(packet_json(drafted), indent=2)
        name = f"{found.reference}-{drafted.stage}.{'md' if wanted == 'markdown' else 'json'}"
        mimetype = "text/markdown" if wanted == "markdown" else "application/json"
        return Response(
            body + "\n",
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return render_template("psirt/packet.html", case=found, packet=drafted, markdown=packet_markdown(drafted))


@bp.route("/psirt/cases/<int:case_id>")
def case(case_id: int) -> str:
    """A case: its facts, CVSS and CWE, releases and components, clocks, submissions and timeline."""
    session = db_session()
    now = utcnow()
    found = get_case(session, g.principal, case_id)
    settings = settings_of(session, found.product_id)
    duplicate = get_case(session, g.principal, found.duplicate_of_id) if found.duplicate_of_id else None
    decisions: CaseDecisions | None = current_app.extensions.get(CASE_DECISIONS_EXTENSION)
    return render_template(
        "psirt/case.html",
        case=found,
        detail=CaseDetailOut.read(session, found, g.principal),
        product=product_of(session, found),
        zone=settings.zone if settings else "UTC",
        scores=_scores(found),
        cwes=[_cwe(cwe) for cwe in found.cwe_ids],
        timeline=clock_timeline(case_clocks(session, found, now), now, viewer_zone()),
        events=[TimelineEventOut.of(e, g.principal, found.product_id) for e in case_timeline(session, found)],
        duplicate=duplicate,
        now=now,
        kinds=KIND_LABELS,
        sources=SOURCE_LABELS,
        criteria=INCIDENT_CRITERIA,
        decisions=decisions(session, g.principal, found) if decisions else None,
    )


def _offer(form: CaseForm | SubmissionForm | IntermediateForm, session: Session, product: Product) -> None:
    """The choices a form offers for the product: the main establishment's zone, and for a case its releases."""
    settings = settings_of(session, product.id)
    form.offer_zones(settings.zone if settings else None)
    if isinstance(form, CaseForm):
        form.offer_releases(choice.version for choice in release_choices(session, g.principal, product.id))


@bp.route("/products/<int:product_id>/psirt/new", methods=["GET", "POST"])
def new_case(product_id: int) -> Response | str:
    """Record a case of the product (its security officers)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize_manage_cases(g.principal, product.id)
    form = CaseForm(creating=True)
    _offer(form, session, product)
    if form.validate_on_submit():
        arguments, facts = form.new_case()
        try:
            created = create_case(
                session,
                g.principal,
                product.id,
                kind=arguments["kind"],
                title=arguments["title"],
                source=arguments["source"],
                received_at=arguments["received_at"],
                facts=facts | ({"exercise": True} if arguments["exercise"] else {}),
                justification=form.justification.data or "",
            )
        except DomainError as exc:
            _refuse(form, exc)
        else:
            flash(f"Case {created.reference} recorded.", "success")
            return redirect(url_for("psirt.case", case_id=created.id))
    return render_template("psirt/new_case.html", form=form, product=product)


def _refuse(form: Any, error: DomainError) -> None:
    """Show the service's refusal on the form (a 403 or 404 answers the request itself)."""
    if error.status in (403, 404):
        raise error
    apply_errors(form, error)


def _shown(session: Session, found: PsirtCase) -> dict[str, Any]:
    releases = {role: [r.version for r in rows] for role, rows in case_releases(session, found).items()}
    return case_values(found, releases, case_components(session, found))


def _managed(case_id: int) -> tuple[Session, PsirtCase, Product]:
    """The session, the case an officer's form is about and its product; 403 for whoever may not manage it."""
    session = db_session()
    found = get_case(session, g.principal, case_id)
    authorize_manage_cases(g.principal, found.product_id)
    return session, found, product_of(session, found)


@bp.route("/psirt/cases/<int:case_id>/edit", methods=["GET", "POST"])
def edit_case(case_id: int) -> Response | str:
    """Change what is recorded about a case (its security officers); only what the person changed is sent."""
    session, found, product = _managed(case_id)
    shown = _shown(session, found)
    form = CaseForm(data=shown, creating=False)
    _offer(form, session, product)
    if form.validate_on_submit():
        changes = form.changes(found, shown)
        if not changes:
            flash("Nothing changed.", "info")
            return redirect(url_for("psirt.case", case_id=found.id))
        try:
            update_case(session, g.principal, found.id, changes, form.justification.data or "")
        except DomainError as exc:
            _refuse(form, exc)
        else:
            flash(f"Case {found.reference} updated.", "success")
            return redirect(url_for("psirt.case", case_id=found.id))
    return render_template("psirt/edit_case.html", form=form, case=found, product=product)


def _recorded(
    form: SubmissionForm | IntermediateForm, found: PsirtCase, write: Callable[[], object], done: str
) -> Response | None:
    """Write what a validated form says about a case: its refusal shown on the form (None: show the form again),
    or its success confirmed on the case's clocks."""
    if not form.validate_on_submit():
        return None
    try:
        write()
    except DomainError as exc:
        _refuse(form, exc)
        return None
    flash(f"{done} on {found.reference}.", "success")
    return redirect(url_for("psirt.case", case_id=found.id, _anchor="clocks"))


@bp.route("/psirt/cases/<int:case_id>/submissions/new", methods=["GET", "POST"])
def submission(case_id: int) -> Response | str:
    """Record a report the officer made to the Single Reporting Platform: when, which stages, its reference."""
    session, found, product = _managed(case_id)
    clocks = case_clocks(session, found)
    form = SubmissionForm()
    form.stages.choices = [(clock.stage, clock.label) for clock in clocks]
    _offer(form, session, product)

    def write() -> object:
        return record_submission(
            session,
            g.principal,
            found.id,
            submitted_at=form.submitted_at.moment,
            stages=form.stages.data or [],
            reference=form.reference.data or "",
            note=form.note.data or "",
        )

    return _recorded(form, found, write, "Submission recorded") or render_template(
        "psirt/submission.html", form=form, case=found, product=product, clocks=clocks
    )


@bp.route("/psirt/cases/<int:case_id>/intermediate-requests/new", methods=["GET", "POST"])
def intermediate_request(case_id: int) -> Response | str:
    """Record that the CSIRT asked for an intermediate report, due when it said."""
    session, found, product = _managed(case_id)
    form = IntermediateForm()
    _offer(form, session, product)

    def write() -> object:
        return request_intermediate(
            session,
            g.principal,
            found.id,
            requested_at=form.requested_at.moment,
            due_at=form.due_at.moment,
            reference=form.reference.data or "",
        )

    return _recorded(form, found, write, "Intermediate report request recorded") or render_template(
        "psirt/intermediate_request.html", form=form, case=found, product=product
    )


@bp.route("/products/<int:product_id>/psirt/settings", methods=["GET", "POST"])
def settings(product_id: int) -> Response | str:
    """A product's Article 14 settings; its security officers change them."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    current = settings_of(session, product.id)
    form = SettingsForm(
        data={
            "zone": current.zone if current else "UTC",
            "csirt": current.csirt if current else "",
            "member_states": " ".join(current.member_states) if current else "",
        }
    )
    if form.is_submitted():
        authorize_manage_cases(g.principal, product.id)
    if form.validate_on_submit():
        try:
            update_settings(
                session,
                g.principal,
                product.id,
                zone=form.zone.data or "",
                csirt=form.csirt.data or "",
                member_states=form.states(),
            )
        except DomainError as exc:
            _refuse(form, exc)
        else:
            flash(f"Article 14 settings of {product.name} saved.", "success")
            return redirect(url_for("psirt.settings", product_id=product.id))
    return render_template("psirt/settings.html", form=form, product=product, current=current)
