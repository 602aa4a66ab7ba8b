"""`sdl-tracker user` commands."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Permission, Principal, Role
from ..commands import echo_lines, emit, json_option, say, server_command
from ..db import utcnow
from ..errors import Invalid
from ..labels import label
from ..products.services import get_product_by_name
from .models import ApiToken, User
from .preferences import set_time_zone
from .services import (
    ProductRole,
    add_member,
    create_user,
    get_user_by_email,
    list_members,
    list_users_with_roles,
    remove_member,
    reset_password,
    set_admin,
    set_disabled,
)
from .tokens import create_token, list_tokens, parse_lifetime, revoke_token, token_label

user = AppGroup("user", help="Users and their roles.")


def read_password(password_stdin: bool) -> str:
    """The new password: from standard input when piped or asked to, else a hidden prompt typed twice."""
    if password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise Invalid.field("password", "no password on standard input")
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--admin", is_flag=True, help="Global administrator.")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Role in --product.")
@click.option("--product", "product_name", metavar="NAME", help="Product to give --role in.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@server_command()
def user_create(
    session: Session,
    actor: Principal,
    email: str,
    name: str,
    admin: bool,
    role: str | None,
    product_name: str | None,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Create a user EMAIL; the password is prompted for (or read from standard input)."""
    if bool(role) != bool(product_name):
        raise Invalid.field("--role", "--role and --product go together")
    password = read_password(password_stdin)
    created = create_user(session, actor, email=email, password=password, name=name, is_admin=admin)
    roles = []
    if role and product_name:
        found = get_product_by_name(session, actor, product_name)
        membership = add_member(session, actor, found.id, email=created.email, role=role)
        roles.append(ProductRole(found.id, found.name, membership.role))
    emit(user_json(created, roles), as_json, lambda: say(f"created user {created.email} (id {created.id})"))


def user_json(found: User, roles: list[ProductRole]) -> dict[str, Any]:
    """A user as `--json` prints it, with their role in each product by product name (never the password hash)."""
    return {
        "id": found.id,
        "email": found.email,
        "name": found.name,
        "is_admin": found.is_admin,
        "disabled": found.disabled,
        "last_login_at": found.last_login_at.isoformat() if found.last_login_at else None,
        "time_zone": found.time_zone,
        "memberships": [{"product_id": r.product_id, "product": r.product, "role": r.role.value} for r in roles],
    }


@user.command("list")
@json_option
@server_command(read_only=True)
def user_list(session: Session, actor: Principal, as_json: bool) -> None:
    """List every user (administrators) with their role in each product."""
    items = [user_json(u, roles) for u, roles in list_users_with_roles(session, actor)]
    lines = [
        f"{u['email']:<36} {'admin' if u['is_admin'] else '':<6} {'disabled' if u['disabled'] else 'active':<9} "
        + (", ".join(f"{m['product']}: {m['role']}" for m in u["memberships"]) or "no product")
        for u in items
    ]
    emit(items, as_json, echo_lines(lines, "no users"))


@user.command("disable")
@click.argument("email")
@server_command()
def user_disable(session: Session, actor: Principal, email: str) -> None:
    """Disable EMAIL: every session of theirs ends at once."""
    found = set_disabled(session, actor, email, disabled=True)
    say(f"disabled {found.email}")


@user.command("enable")
@click.argument("email")
@server_command()
def user_enable(session: Session, actor: Principal, email: str) -> None:
    """Enable EMAIL again."""
    found = set_disabled(session, actor, email, disabled=False)
    say(f"enabled {found.email}")


@user.command("admin")
@click.argument("email")
@click.option("--grant/--revoke", required=True, help="Grant or revoke administrator rights.")
@server_command()
def user_admin(session: Session, actor: Principal, email: str, grant: bool) -> None:
    """Grant or revoke EMAIL's administrator rights (the last administrator stays)."""
    found = set_admin(session, actor, email, is_admin=grant)
    say(f"{found.email} {'is' if grant else 'is no longer'} an administrator")


@user.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@server_command()
def user_password(session: Session, actor: Principal, email: str, password_stdin: bool) -> None:
    """Set EMAIL's password (prompted, or read from standard input); their sessions end."""
    found = reset_password(session, actor, email, read_password(password_stdin))
    say(f"password of {found.email} changed; their sessions have ended")


# What `user zone` takes for "no zone of one's own": pages show UTC again. No IANA name is written in lower case.
DEFAULT_ZONE = "default"


@user.command("zone")
@click.argument("email")
@click.argument("zone", metavar=f"ZONE|{DEFAULT_ZONE}")
@server_command()
def user_zone(session: Session, actor: Principal, email: str, zone: str) -> None:
    """Show EMAIL's pages' times in ZONE (an IANA name such as Europe/Berlin), or in UTC again with `default`.

    With --as, users choose their own zone; administrators anyone's."""
    found = set_time_zone(session, actor, get_user_by_email(session, email).id, None if zone == DEFAULT_ZONE else zone)
    say(f"{found.email} sees times in {found.time_zone or 'UTC (the default)'}")


member = AppGroup("member", help="Roles of users in products.")
ROLE_CHOICE = click.Choice([r.value for r in Role])


@member.command("add")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@server_command()
def member_add(session: Session, actor: Principal, product_name: str, email: str, role: str) -> None:
    """Give EMAIL the ROLE in PRODUCT (a second add changes the role).

    With --as, a product's security officer adds developers and auditors; security officers are an
    administrator's to appoint."""
    found = get_product_by_name(session, actor, product_name)
    add_member(session, actor, found.id, email=email, role=role)
    say(f"{email} is a {role} of {found.name}")


@member.command("remove")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@server_command()
def member_remove(session: Session, actor: Principal, product_name: str, email: str, role: str) -> None:
    """Take EMAIL's ROLE in PRODUCT away."""
    found = get_product_by_name(session, actor, product_name)
    remove_member(session, actor, found.id, email=email, role=role)
    say(f"{email} is no longer a {role} of {found.name}")


@member.command("list")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def member_list(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List PRODUCT's members and their roles."""
    found = get_product_by_name(session, actor, product_name)
    items = [
        {"email": u.email, "name": u.name, "role": role.value} for u, role in list_members(session, actor, found.id)
    ]
    emit(items, as_json, echo_lines([f"{m['email']:<36} {label(m['role'])}" for m in items], "no members"))


token = AppGroup("token", help="API tokens for CI jobs, git hooks and scripts.")


def token_json(found: ApiToken) -> dict[str, Any]:
    """A token as `--json` prints it (never the secret, which is not stored)."""
    return {
        "id": found.id,
        "token": token_label(found),
        "owner": found.user.email,
        "name": found.name,
        "scopes": found.scopes,
        "products": "all" if found.all_products else sorted(p.product_id for p in found.products),
        "created_at": found.created_at.isoformat(),
        "expires_at": found.expires_at.isoformat(),
        "revoked_at": found.revoked_at.isoformat() if found.revoked_at else None,
        "last_used_at": found.last_used_at.isoformat() if found.last_used_at else None,
        "last_used_from": found.last_used_from,
    }


@token.command("create")
@click.option("--user", "email", required=True, help="Whose rights the token carries.")
@click.option("--product", "product_names", multiple=True, help="A product the token may act on (repeatable).")
@click.option("--all-products", is_flag=True, help="Every product (administrators' tokens only).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([p.value for p in Permission]),
    help="A permission the token carries (repeatable; default: product:read).",
)
@click.option("--expires", default="90d", show_default=True, help="30d, 12h or YYYY-MM-DD.")
@click.option("--name", default="cli", help="What the token is for.")
@server_command()
def token_create(
    session: Session,
    actor: Principal,
    email: str,
    product_names: tuple[str, ...],
    all_products: bool,
    scopes: tuple[str, ...],
    expires: str,
    name: str,
) -> None:
    """Create a token; it is printed once, on the last line, and never stored."""
    owner = get_user_by_email(session, email)
    product_ids = [get_product_by_name(session, actor, n).id for n in product_names]
    new = create_token(
        session,
        actor,
        user_id=owner.id,
        name=name,
        product_ids=product_ids,
        scopes=scopes,
        expires_at=parse_lifetime(expires, utcnow()),
        all_products=all_products,
    )
    say(
        f"created {token_label(new.token)} for {owner.email}: {', '.join(new.token.scopes)}; "
        f"expires {new.token.expires_at:%Y-%m-%d %H:%M} UTC. Store it now; it is not shown again:",
        err=True,
    )
    say(new.secret)


@token.command("list")
@click.option("--user", "email", help="Only this user's tokens.")
@json_option
@server_command(read_only=True)
def token_list(session: Session, actor: Principal, email: str | None, as_json: bool) -> None:
    """List tokens (yours, or anyone's for an administrator)."""
    user_id = get_user_by_email(session, email).id if email else None
    items = [token_json(t) for t in list_tokens(session, actor, user_id=user_id)]
    lines = [
        f"{t['id']:>4}  {t['token']:<16} {t['owner']:<28} {t['name']:<16} "
        f"{'revoked' if t['revoked_at'] else 'expires ' + t['expires_at'][:10]}"
        for t in items
    ]
    emit(items, as_json, echo_lines(lines, "no tokens"))


@token.command("revoke")
@click.argument("token_id", type=int)
@server_command()
def token_revoke(session: Session, actor: Principal, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    found = revoke_token(session, actor, token_id)
    say(f"revoked {token_label(found)}")
