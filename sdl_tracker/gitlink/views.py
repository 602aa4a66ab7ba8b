"""The commits page of a release (review coverage since the previous release), and one's signing keys."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from ..accounts.forms import ActionForm
from ..errors import DomainError
from ..products.services import get_release
from ..web.context import db_session
from ..web.forms import apply_errors
from ..web.inputs import page_count, page_number
from .forms import CommitFilterForm, SigningKeyForm
from .schemas import review_summary
from .services import CommitReview, ReleaseCommits, queue_scan, release_commits_by_id
from .signing import list_keys, register_key, remove_key

bp = Blueprint("gitlink", __name__)
PAGE_SIZE = 100


def _listed(result: ReleaseCommits, show: str) -> tuple[CommitReview, ...]:
    """The commits to list: those not reviewed first (they need something done), then the reviewed ones,
    each newest first."""
    return {
        "unreviewed": result.unreviewed,
        "reviewed": result.reviewed,
    }.get(show, (*result.unreviewed, *result.reviewed))


@bp.route("/releases/<int:release_id>/commits")
def commits(release_id: int) -> tuple[str, int]:
    """Every commit of the release: whether it counts as reviewed (SI-1) and, when not, why; a page at a
    time."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    form = CommitFilterForm(request.args)
    filters = {name: value for name, value in request.args.items() if name in form._fields and value}
    page = page_number()
    # The judged commits are kept (see release_commits): a page shows its slice of them as they are.
    result = release_commits_by_id(session, g.principal, release.id)
    listed = _listed(result, form.show.data or "") if form.validate() else ()
    pages = page_count(len(listed), PAGE_SIZE)
    return render_template(
        "gitlink/commits.html",
        release=release,
        product=release.product,
        result=result,
        summary=review_summary(result),
        form=form,
        filters=filters,
        rows=listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        listed=len(listed),
        page=page,
        pages=pages,
        shown=PAGE_SIZE,  # of the commits with evidence too: every one is in the API and `release commits --json`
    ), (200 if not form.errors else 422)


@bp.post("/repositories/<int:repository_id>/scan")
def scan(repository_id: int) -> Response:
    """Queue a scan of the repository and show its job's progress."""
    job = queue_scan(db_session(), g.principal, repository_id)
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/account/signing-keys", methods=["GET", "POST"])
def signing_keys() -> tuple[str, int] | Response:
    """One's signing keys: commits signed with them count as authored by oneself."""
    session = db_session()
    form = SigningKeyForm()
    if form.validate_on_submit():
        try:
            key = register_key(session, g.principal, form.public_key.data or "", label=form.label.data or "")
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Key {key.fingerprint} registered. Your signed commits are being checked again with it.", "success")
            return redirect(url_for("gitlink.signing_keys"))
    return render_template(
        "gitlink/signing_keys.html",
        form=form,
        keys=list_keys(session, g.principal),
        action=ActionForm(),
    ), (422 if form.errors else 200)


@bp.post("/account/signing-keys/<int:key_id>/remove")
def signing_key_remove(key_id: int) -> Response:
    """Remove one of one's signing keys: the commits it verified become unverified."""
    form = ActionForm()
    if form.validate_on_submit():
        withdrawn = remove_key(db_session(), g.principal, key_id)
        flash(f"Key removed; {withdrawn:,} commits it had verified are unverified now.", "success")
    return redirect(url_for("gitlink.signing_keys"))
