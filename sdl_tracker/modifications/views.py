"""A release's substantial-modification signals page, with the security officer's decision forms."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug import Response

from ..app_access import app_db
from ..errors import DomainError
from ..products.services import get_release
from ..web.context import db_session, rollback
from ..web.forms import apply_errors
from ..web.templating import expose_predicates
from .forms import VERDICTS, DecisionForm
from .rules import RULES
from .services import (
    authorize_decide_modifications,
    decide_modification,
    may_decide_modifications,
    read_signals,
    release_modifications,
)

bp = Blueprint("modifications", __name__)
expose_predicates(bp, may_decide_modifications)


@bp.route("/releases/<int:release_id>/modifications", methods=["GET", "POST"])
def release_modifications_view(release_id: int) -> Response | str:
    """Changes since the previous release that may be a substantial modification, to confirm or dismiss."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    form = DecisionForm()
    if form.is_submitted():
        authorize_decide_modifications(g.principal, release)
    if form.validate_on_submit():
        rollback()  # the signals are read before the decision's write transaction (read_signals)
        read_signals(app_db(), g.principal, release.id)
        try:
            decision = decide_modification(
                session,
                g.principal,
                release.id,
                key=form.key.data or "",
                verdict=form.verdict.data or "",
                reason=form.reason.data or "",
            )
        except DomainError as exc:
            if exc.status == 404:  # no such signal: the request names nothing
                raise
            apply_errors(form, exc)
        else:
            flash(f"{decision.summary}: {decision.verdict.value}.", "success")
            return redirect(url_for("modifications.release_modifications_view", release_id=release.id))
    report = release_modifications(session, g.principal, release.id)
    return render_template(
        "modifications/release.html",
        release=release,
        product=release.product,
        report=report,
        rules=RULES,
        verdicts=[(c.value, c.label) for c in VERDICTS],
        form=form,
        posted=form.key.data if form.is_submitted() else None,
    )
