"""`sdl-tracker user` commands."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal, Role
from ..commands import emit, json_option, server_command
from ..errors import Invalid
from ..products.services import get_product_by_name
from .services import add_member, create_user

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
    if role and product_name:
        found = get_product_by_name(session, actor, product_name)
        add_member(session, actor, found.id, email=created.email, role=role)
    data = {"id": created.id, "email": created.email, "name": created.name, "is_admin": created.is_admin}
    emit(data, as_json, lambda: click.echo(f"created user {created.email} (id {created.id})"))
