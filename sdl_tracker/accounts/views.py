"""Login, logout, and the session-to-principal step that guards every page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug import Response
from wtforms import SelectChoice

from ..app_access import app_db
from ..auth import Role
from ..db import utcnow
from ..errors import DomainError, TooManyRequests, Unauthorized
from ..products.services import get_product, list_products
from ..web.context import client_origin, db_session, keep_despite_error, rollback
from ..web.forms import apply_errors
from ..web.inputs import local_path
from ..web.templating import expose_predicates
from .forms import (
    ROLE_LABELS,
    SCOPE_LABELS,
    ActionForm,
    LoginForm,
    MemberForm,
    MemberRemoveForm,
    PasswordChangeForm,
    TimeZoneForm,
    TokenForm,
    UserCreateForm,
    scope_groups,
)
from .preferences import set_time_zone
from .services import (
    add_member,
    authorize_manage_members,
    change_password,
    check_sign_in,
    create_user,
    get_user,
    list_members,
    list_users_with_roles,
    logout,
    may_change_member,
    may_manage_members,
    may_manage_users,
    own_account,
    record_sign_in,
    remove_member,
    roles_to_manage,
    session_principal,
    set_admin,
    set_disabled,
)
from .tokens import create_token, grantable_scopes, list_tokens, revoke_token, token_label

bp = Blueprint("accounts", __name__)
expose_predicates(bp, may_manage_users, may_manage_members, may_change_member)

# Endpoints open without a login.
PUBLIC_ENDPOINTS = frozenset({"accounts.login", "web.health", "static"})
WELL_KNOWN = "/.well-known/"


@bp.before_app_request
def load_principal() -> Response | None:
    """Turn the session cookie into a Principal; send anonymous page requests to the login page."""
    if request.path.startswith("/api/"):
        return None  # the API authenticates bearer tokens only
    user_id = session.get("user_id")
    if user_id is not None:
        # A bumped epoch (logout, password change, disable) kills every older session.
        principal = session_principal(db_session(), user_id, session.get("epoch"), origin=client_origin("web"))
        if principal is None:
            session.clear()
        else:
            g.principal = principal
    # The CSAF provider directory (/.well-known/csaf/) answers for itself: its TLP:WHITE files are for anyone, and
    # its other files refuse an anonymous reader with 401 rather than send an aggregator to a login page.
    if "principal" not in g and request.endpoint not in PUBLIC_ENDPOINTS and not request.path.startswith(WELL_KNOWN):
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login form and sign the user in."""
    if "principal" in g:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        address = request.remote_addr or "-"
        # Two units: the Argon2 check reads only, so on SQLite it never holds the write lock.
        with app_db().unit_of_work(read_only=True) as reading:
            attempt = check_sign_in(reading, form.email.data, form.password.data, client_address=address, now=now)
        try:
            user = record_sign_in(
                db_session(),
                attempt,
                origin=client_origin("web"),
                client_address=address,
                now=now,
                password=form.password.data,
            )
        except (Unauthorized, TooManyRequests) as exc:
            keep_despite_error()  # the failed attempt counts and is audited
            form.password.errors = [exc.message]
            return render_template("accounts/login.html", form=form), exc.status
        else:
            session.clear()  # a fresh session on login: no fixation
            session.permanent = True
            session["user_id"] = user.id
            session["epoch"] = user.session_epoch
            flash(f"Signed in as {user.email}.", "success")
            return redirect(local_path(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout_view() -> Response:
    """Sign out everywhere: every session of this user ends."""
    logout(db_session(), g.principal.user_id, origin=client_origin("web"))
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("accounts.login"))


def _account_page(password: PasswordChangeForm | None = None, zone: TimeZoneForm | None = None) -> str:
    """The account page with its two forms; the one not posted shows afresh (not filled from the other's post)."""
    user = own_account(db_session(), g.principal)
    return render_template(
        "accounts/account.html",
        form=password or PasswordChangeForm(formdata=None),
        zone_form=zone or TimeZoneForm(formdata=None, time_zone=user.time_zone or ""),
        user=user,
    )


@bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str:
    """The signed-in user's account: change the password (which ends every other session)."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = change_password(
                db_session(),
                g.principal,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            session["epoch"] = user.session_epoch  # this session lives on; the others are gone
            flash("Password changed. Every other session has been signed out.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password=form)


@bp.route("/account/time-zone", methods=["POST"])
def account_time_zone() -> Response | str:
    """Choose the zone one's pages show times in (UTC by default)."""
    form = TimeZoneForm()
    if form.validate_on_submit():
        session_ = db_session()
        try:
            user = set_time_zone(session_, g.principal, own_account(session_, g.principal).id, form.chosen())
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"Times are now shown in {user.time_zone or 'UTC'}.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(zone=form)


@bp.route("/admin/users", methods=["GET", "POST"])
def users() -> Response | str:
    """Every user, and a form to create one (administrators)."""
    form = UserCreateForm()
    users = list_users_with_roles(db_session(), g.principal)
    if form.validate_on_submit():
        try:
            created = create_user(
                db_session(),
                g.principal,
                email=form.email.data,
                password=form.password.data,
                name=form.name.data or "",
                is_admin=form.is_admin.data,
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"User {created.email} created.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/users.html", form=form, users=users, action=ActionForm(), role_labels=ROLE_LABELS)


def _user_action(user_id: int, change: Callable[[str], object], message: str) -> Response:
    form = ActionForm()
    if not form.validate():  # the CSRF check already ran for the whole app; this guards the form itself
        abort(400)
    user = get_user(db_session(), g.principal, user_id)
    try:
        change(user.email)
    except DomainError as exc:
        rollback()
        flash(exc.message, "error")
    else:
        flash(message.format(email=user.email), "success")
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/disable", methods=["POST"])
def disable_user(user_id: int) -> Response:
    """Disable a user: their sessions end at once."""
    return _user_action(
        user_id,
        lambda email: set_disabled(db_session(), g.principal, email, disabled=True),
        "{email} is disabled; their sessions have ended.",
    )


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
def enable_user(user_id: int) -> Response:
    """Enable a disabled user."""
    return _user_action(
        user_id, lambda email: set_disabled(db_session(), g.principal, email, disabled=False), "{email} is enabled."
    )


@bp.route("/admin/users/<int:user_id>/grant-admin", methods=["POST"])
def grant_admin(user_id: int) -> Response:
    """Make a user an administrator."""
    return _user_action(
        user_id,
        lambda email: set_admin(db_session(), g.principal, email, is_admin=True),
        "{email} is now an administrator.",
    )


@bp.route("/admin/users/<int:user_id>/revoke-admin", methods=["POST"])
def revoke_admin(user_id: int) -> Response:
    """Take administrator rights away."""
    return _user_action(
        user_id,
        lambda email: set_admin(db_session(), g.principal, email, is_admin=False),
        "{email} is no longer an administrator.",
    )


@bp.route("/products/<int:product_id>/members", methods=["GET", "POST"])
def members(product_id: int) -> Response | str:
    """A product's members (anyone who sees the product); its officers manage its developers and auditors,
    administrators every role. A second add of a member changes their role."""
    session_ = db_session()
    product = get_product(session_, g.principal, product_id)
    form = MemberForm()
    roles = roles_to_manage(g.principal, product)
    form.role.choices = [SelectChoice(r.value, ROLE_LABELS[r]) for r in roles]
    if form.is_submitted():
        authorize_manage_members(g.principal, product.id)
    if form.validate_on_submit():
        try:
            add_member(session_, g.principal, product.id, email=form.email.data, role=form.role.data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            label = ROLE_LABELS[Role(form.role.data)].lower()
            flash(
                f"{form.email.data} is now {'an' if label[0] in 'aeiou' else 'a'} {label} of {product.name}.", "success"
            )
            return redirect(url_for("accounts.members", product_id=product.id))
    return render_template(
        "accounts/members.html",
        product=product,
        form=form,
        members=list_members(session_, g.principal, product.id),
        remove=MemberRemoveForm(),
        roles=roles,
        role_labels=ROLE_LABELS,
    )


@bp.route("/products/<int:product_id>/members/remove", methods=["POST"])
def remove_member_view(product_id: int) -> Response:
    """Take a member's role away (the product's officers for developers and auditors; administrators)."""
    product = get_product(db_session(), g.principal, product_id)
    authorize_manage_members(g.principal, product.id)
    form = MemberRemoveForm()
    if not form.validate():
        flash("Nothing removed: " + "; ".join(e for errs in form.errors.values() for e in errs), "error")
    else:
        try:
            remove_member(db_session(), g.principal, product.id, email=form.email.data, role=form.role.data)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            flash(f"{form.email.data} is no longer a member of {product.name}.", "success")
    return redirect(url_for("accounts.members", product_id=product.id))


@bp.route("/account/tokens", methods=["GET", "POST"])
def tokens() -> str:
    """One's API tokens; a new token is shown on this page once, and never again."""
    session_ = db_session()
    principal = g.principal
    form = TokenForm()
    visible = list_products(session_, principal)
    form.products.choices = [SelectChoice(p.id, p.name) for p in visible]
    grantable = grantable_scopes(session_, principal)
    form.scopes.choices = [SelectChoice(p.value, SCOPE_LABELS[p].label) for p in grantable]
    created = None
    if form.validate_on_submit():
        try:
            created = create_token(
                session_,
                principal,
                user_id=principal.user_id,
                name=form.name.data,
                product_ids=form.products.data or [],
                scopes=form.scopes.data,
                expires_at=utcnow() + timedelta(days=form.expires_days.data),
            )
        except DomainError as exc:
            apply_errors(form, exc)
    return render_template(
        "accounts/tokens.html",
        form=form,
        created=created,
        tokens=list_tokens(session_, principal, user_id=principal.user_id),
        action=ActionForm(),
        label=token_label,
        now=utcnow(),
        scope_groups=scope_groups(grantable),
        scope_labels=SCOPE_LABELS,
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token_view(token_id: int) -> Response:
    """Revoke one of one's tokens."""
    found = revoke_token(db_session(), g.principal, token_id)
    flash(f"Token {token_label(found)} revoked.", "success")
    return redirect(url_for("accounts.tokens"))
