"""Login, logout, and the session-to-principal step that guards every page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug import Response

from ..errors import Unauthorized
from ..web.context import client_origin, commit, db_session
from .forms import LoginForm
from .models import User
from .services import authenticate, logout, principal_for

bp = Blueprint("accounts", __name__)

# Endpoints open without a login.
PUBLIC_ENDPOINTS = frozenset({"accounts.login", "web.health", "static"})


@bp.before_app_request
def load_principal() -> Response | None:
    """Turn the session cookie into a Principal; send anonymous page requests to the login page."""
    if request.path.startswith("/api/"):
        return None  # the API authenticates bearer tokens only
    user_id = session.get("user_id")
    if user_id is not None:
        user = db_session().get(User, user_id)
        # A bumped epoch (logout, password change, disable) kills every older session.
        if user is None or user.disabled or session.get("epoch") != user.session_epoch:
            session.clear()
        else:
            g.principal = principal_for(db_session(), user, origin=client_origin("web"))
            g.user = user
    if "principal" not in g and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return None


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("web.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """Show the login form and sign the user in."""
    if "principal" in g:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(db_session(), form.email.data, form.password.data, origin=client_origin("web"))
        except Unauthorized as exc:
            commit()  # the failed attempt is audited
            form.password.errors = [exc.message]
        else:
            commit()
            session.clear()  # a fresh session on login: no fixation
            session.permanent = True
            session["user_id"] = user.id
            session["epoch"] = user.session_epoch
            flash(f"Signed in as {user.email}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout_view() -> Response:
    """Sign out everywhere: every session of this user ends."""
    logout(db_session(), g.principal.user_id, origin=client_origin("web"))
    commit()
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("accounts.login"))
