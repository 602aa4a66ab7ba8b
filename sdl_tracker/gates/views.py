"""Release gate pages: a release's gate (each rule with the links that fix it, waivers, history, evaluate, waive,
sign off), the signed verdict's download, and a product's gate policy as YAML."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug import Response

from ..auth import Permission, Principal, authorize, permits
from ..db import utcnow
from ..errors import DomainError
from ..evidence.downloads import attachment_response
from ..products.models import Release
from ..products.services import get_product, get_release
from ..web.context import db_session, rollback
from ..web.forms import TrackerForm, apply_errors, flash_refusal
from ..web.templating import expose_predicates
from .downloads import verdict_download
from .evaluations import (
    evaluate_release,
    gate_history,
    gate_status,
    product_policy,
    reset_policy,
    set_policy,
    waivable_rules,
)
from .forms import ActionForm, PolicyForm, SignoffForm, WaiverForm, expiry_instant
from .models import GateWaiver
from .policy import RULE_TITLES, SUM_RECORDS, policy_from_yaml, policy_to_yaml
from .rules import FixArea
from .schemas import GateStatusOut, RuleResultOut
from .signoff import add_waiver, revoke_waiver, sign_off_release, verdict_envelope

bp = Blueprint("gates", __name__)
HISTORY = 50  # evaluations and sign-offs the page lists, newest first
YAML_TYPE = "application/yaml"


def may_sign_off_gate(actor: Principal, product_id: int) -> bool:
    """Whether the actor may sign off, waive and revoke on the product's gates (its officers, administrators)."""
    return permits(authorize, actor, Permission.GATE_SIGNOFF, product_id)


def may_evaluate_gate(actor: Principal, product_id: int) -> bool:
    """Whether the actor may ask for a fresh evaluation (anyone who reads the product: it judges, changes nothing)."""
    return permits(authorize, actor, Permission.PRODUCT_READ, product_id)


expose_predicates(bp, may_sign_off_gate, may_evaluate_gate)


def fix_url(release: Release, area: FixArea | str, key: str) -> str:
    """Where a reason of a gate rule is fixed: the page of the tracker that holds the fact (docs/gates.md)."""
    area = FixArea(area)
    product_id, version = release.product_id, release.version
    if area in (FixArea.EVIDENCE, FixArea.UPDATES) and key not in ("", "separation"):
        if area is FixArea.UPDATES:  # the patch release's SUM record of that aspect
            key = SUM_RECORDS.get(key, key)
        if "-" not in key:  # a practice: its requirements on the coverage map
            return url_for("evidence.coverage_view", product_id=product_id, release=version)
        return url_for("evidence.index", product_id=product_id, release=version, requirement=key)
    if area is FixArea.SCOPING:
        return url_for("evidence.coverage_view", product_id=product_id, release=version) + "#scoping"
    if area in (FixArea.REVIEW, FixArea.FINDINGS) and key.isdigit():
        return url_for("evidence.detail", evidence_id=int(key))
    if area is FixArea.COMMITS:
        return url_for("gitlink.commits", release_id=release.id)
    if area is FixArea.INTERFACES:
        return url_for("products.edit", product_id=product_id)
    if area is FixArea.CLAIMS:
        return (
            url_for("claims.index", release_id=release.id, fr=key)
            if key
            else url_for("claims.index", release_id=release.id)
        )
    if area is FixArea.SBOMS:
        return url_for("sboms.release_sboms", release_id=release.id)
    if area is FixArea.VEX:
        vulnerability, _, component = key.partition("@")
        return url_for("vex.release_vex", release_id=release.id, vulnerability=vulnerability, component=component)
    if area in (FixArea.PSIRT, FixArea.CLOCKS):
        if key.isdigit():
            return url_for("psirt.case", case_id=int(key))
        return url_for("psirt.cases", product=product_id)  # a reference (PSIRT-YYYY-NNNN): the product's cases
    if area is FixArea.CRA:
        return _cra_url(release, key)
    return url_for("products.release_detail", release_id=release.id)


def _cra_url(release: Release, key: str) -> str:
    """A CRA duty's page: the file's parts (`point:I.2a`, `risk:assets`...) or the product's own facts."""
    part, _, item = key.partition(":")
    anchor = f"#{item}" if item else ""
    if part == "point" and item:
        return url_for("cra.point", release_id=release.id, ref=item)
    if part == "risk":
        return url_for("cra.risk_assessment", product_id=release.product_id) + anchor
    if part == "support":
        return url_for("cra.support_period", product_id=release.product_id) + anchor
    if part == "user_information":
        return url_for("cra.user_information", release_id=release.id) + anchor
    if part == "declaration":
        return url_for("cra.declaration", release_id=release.id) + anchor
    if part in ("security_contact", "cvd_policy"):
        return url_for("products.edit", product_id=release.product_id)
    return url_for("cra.release_file_view", release_id=release.id)


def _page(release_id: int, waiver_form: WaiverForm | None = None, status_code: int = 200) -> tuple[str, int]:
    session = db_session()
    release = get_release(session, g.principal, release_id)
    now = utcnow()
    status = gate_status(session, g.principal, release.id, now=now)
    shown = GateStatusOut.of(status, now)
    evaluations, signoffs = gate_history(session, g.principal, release.id, limit=HISTORY)
    results: list[RuleResultOut] = shown.evaluation.results if shown.evaluation else []
    return render_template(
        "gates/release_gate.html",
        release=release,
        product=release.product,
        status=shown,
        results=results,
        waivable=waivable_rules(status.evaluation),
        evaluations=evaluations,
        signoffs=signoffs,
        waiver_form=waiver_form or WaiverForm(),
        signoff_form=SignoffForm(),
        action_form=ActionForm(),
        fix_url=fix_url,
        titles=RULE_TITLES,
        now=now,
    ), status_code


def _button(form: TrackerForm, act: Callable[[], str], invalid: str, back: str) -> Response:
    """Do a button's action once its form validates and flash what it says; a refusal is flashed and undone, an
    invalid form said so. Back to `back` either way."""
    if form.validate_on_submit():
        try:
            done = act()
        except DomainError as exc:
            flash_refusal(exc)
        else:
            flash(done, "success")
    else:
        flash(invalid, "error")
    return redirect(back)


@bp.get("/releases/<int:release_id>/gate")
def release_gate(release_id: int) -> tuple[str, int]:
    """A release's gate: the newest result and whether it is current, each rule with what fixes it, waivers,
    evaluations and sign-offs."""
    return _page(release_id)


@bp.post("/releases/<int:release_id>/gate/evaluate")
def evaluate(release_id: int) -> Response:
    """Evaluate the release's gate now, on the facts as they stand, and show the result."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    return _button(
        ActionForm(),
        lambda: f"Evaluated: {evaluate_release(session, g.principal, release.id).outcome.value}.",
        "The form expired: evaluate again.",
        url_for("gates.release_gate", release_id=release.id),
    )


@bp.post("/releases/<int:release_id>/gate/waivers", endpoint="add_waiver")
def add_waiver_view(release_id: int) -> Response | tuple[str, int]:
    """Waive a failing rule with a justification until a day (security officers); refusals on the form."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    authorize(g.principal, Permission.GATE_SIGNOFF, release.product_id)
    form = WaiverForm()
    if form.validate_on_submit() and form.expires_on.data is not None:
        try:
            waiver = add_waiver(
                session,
                g.principal,
                release.id,
                form.rule_id(),
                form.justification.data or "",
                expiry_instant(form.expires_on.data),
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return _page(release.id, form, exc.status)
        flash(f"{waiver.rule.value} waived until {waiver.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.", "success")
        return redirect(url_for("gates.release_gate", release_id=release.id))
    return _page(release.id, form, 422)


@bp.post("/gate/waivers/<int:waiver_id>/revoke", endpoint="revoke_waiver")
def revoke_waiver_view(waiver_id: int) -> Response:
    """Revoke a waiver (security officers); back on its release's gate."""
    session = db_session()
    found = session.get(GateWaiver, waiver_id)
    back = url_for("dashboard.index")
    if found is not None:
        release = get_release(session, g.principal, found.release_id)  # a waiver of a product unseen: 404
        authorize(g.principal, Permission.GATE_SIGNOFF, release.product_id)
        back = url_for("gates.release_gate", release_id=release.id)
    return _button(
        ActionForm(),
        lambda: f"The waiver of {revoke_waiver(session, g.principal, waiver_id).rule.value} is revoked.",
        "The form expired: revoke again.",
        back,
    )


@bp.post("/releases/<int:release_id>/gate/signoff")
def sign_off(release_id: int) -> Response:
    """Sign off the release's current, passing gate (security officers, never on evidence they submitted)."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    authorize(g.principal, Permission.GATE_SIGNOFF, release.product_id)
    form = SignoffForm()

    def sign() -> str:
        signed = sign_off_release(session, g.principal, release.id, form.note.data or "")
        return f"Signed off (verdict signed with key {signed.key_id})."

    return _button(
        form, sign, "The note is too long, or the form expired.", url_for("gates.release_gate", release_id=release.id)
    )


@bp.get("/gate/signoffs/<int:signoff_id>/verdict")
def verdict(signoff_id: int) -> Response:
    """The signed verdict of a sign-off (a DSSE envelope), to verify offline with `sdl-tracker gate verify`."""
    session = db_session()
    envelope = verdict_envelope(session, g.principal, signoff_id)
    return verdict_download(session, signoff_id, envelope)


@bp.route("/products/<int:product_id>/gate-policy", methods=["GET", "POST"])
def policy(product_id: int) -> Response | tuple[str, int]:
    """A product's gate policy as YAML: read it, or (security officers) change it; refusals name their YAML path."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    form = PolicyForm()
    status_code = 200
    if form.is_submitted():
        authorize(g.principal, Permission.GATE_SIGNOFF, product.id)
        if form.validate_on_submit():
            try:
                set_policy(session, g.principal, product.id, policy_from_yaml(form.document.data or ""))
            except DomainError as exc:
                rollback()
                form.document.errors = [*form.document.errors, *_paths(exc)]
                status_code = exc.status
            else:
                flash("Gate policy saved: the releases' gates are judged by it from now on.", "success")
                return redirect(url_for("gates.policy", product_id=product.id))
        else:
            status_code = 422
    current, is_default = product_policy(session, g.principal, product.id)
    if not form.is_submitted():
        form.document.data = policy_to_yaml(current)
    return render_template(
        "gates/policy.html",
        product=product,
        form=form,
        action_form=ActionForm(),
        is_default=is_default,
        may_edit=may_sign_off_gate(g.principal, product.id),
    ), status_code


def _paths(error: DomainError) -> list[str]:
    """A refused policy's problems, each with its path in the document (`rules.fuzzing.enabled: ...`)."""
    if not error.errors:
        return [error.message]
    return [f"{problem.field}: {problem.message}" for problem in error.errors]


@bp.post("/products/<int:product_id>/gate-policy/reset", endpoint="reset_policy")
def reset_policy_view(product_id: int) -> Response:
    """Go back to the default policy for the product's component type and target SL-C (security officers)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    authorize(g.principal, Permission.GATE_SIGNOFF, product.id)

    def reset() -> str:
        reset_policy(session, g.principal, product.id)
        return "Gate policy reset to the default."

    return _button(
        ActionForm(), reset, "The form expired: reset again.", url_for("gates.policy", product_id=product.id)
    )


@bp.get("/products/<int:product_id>/gate-policy.yaml")
def policy_yaml(product_id: int) -> Response:
    """The product's gate policy as a YAML file (what `gate policy --import` and the policy page read back)."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    current, _ = product_policy(session, g.principal, product.id)
    data = policy_to_yaml(current).encode("utf-8")
    response = attachment_response(f"{product.name}-gate-policy.yaml", YAML_TYPE, len(data), io.BytesIO(data))
    response.headers["Content-Type"] = f"{YAML_TYPE}; charset=utf-8"  # our own document, not an upload
    return response
