"""`sdl-tracker product|release|repo` commands."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..boundary import parse_whole
from ..catalog.rules import vector_text
from ..commands import DAY, TEXT, echo_lines, emit, json_option, say, server_command
from ..errors import Invalid
from ..labels import label
from .api import ProductOut, ReleaseOut, RepositoryOut
from .interfaces import InterfaceData
from .models import ComponentType, CraCategory, InterfaceKind, ReleaseStatus
from .repositories import (
    add_repository,
    get_repository_by_name,
    list_repositories,
    remove_repository,
    update_repository,
)
from .rules import parse_target_sl
from .services import create_product, create_release, get_product_by_name, list_products, list_releases

product = AppGroup("product", help="Products: create, list, show.")
release = AppGroup("release", help="Releases of a product.")
repo = AppGroup("repo", help="Source repositories of a product.")


def _parse_interface(text: str) -> InterfaceData:
    """NAME:KIND[:PROTOCOL[:PORT]], e.g. `eth0:network:Modbus TCP:502`."""
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 4:
        raise Invalid.field("--interface", f"expected NAME:KIND[:PROTOCOL[:PORT]], got {text!r}")
    port: int | None = None
    if len(parts) == 4 and parts[3]:
        port = parse_whole(parts[3])
        if port is None:
            raise Invalid.field("--interface", f"port must be a number, got {parts[3]!r}")
    return InterfaceData(name=parts[0], kind=parts[1], protocol=parts[2] if len(parts) > 2 else "", port=port)


def _product_line(p: dict[str, Any]) -> str:
    return (
        f"{p['id']:>4}  {p['name']:<32} {p['component_type']}  SL-C target {vector_text(p['target_sl'])}  {p['vendor']}"
    )


@product.command("create")
@click.argument("name")
@click.option(
    "--type",
    "component_type",
    required=True,
    type=click.Choice([t.value for t in ComponentType], case_sensitive=False),
    help="IEC 62443-4-2 component type.",
)
@click.option(
    "--target-sl", required=True, metavar="LEVEL|FR1=n,...", help="One level 1-4 for every FR, or FR1=n,...,FR7=n."
)
@click.option("--vendor", default="")
@click.option("--description", type=TEXT, default="")
@click.option("--cra-category", default=CraCategory.DEFAULT.value, type=click.Choice([c.value for c in CraCategory]))
@click.option("--support-end", type=DAY, help="End of the support period (YYYY-MM-DD).")
@click.option("--security-contact", default="", help="Email or URL for vulnerability reports.")
@click.option("--cvd-url", default="", help="URL of the coordinated vulnerability disclosure policy.")
@click.option(
    "--interface",
    "interfaces",
    multiple=True,
    metavar="NAME:KIND[:PROTOCOL[:PORT]]",
    help=f"Repeatable; KIND is one of {', '.join(k.value for k in InterfaceKind)}.",
)
@json_option
@server_command()
def product_create(
    session: Session,
    actor: Principal,
    name: str,
    component_type: str,
    target_sl: str,
    vendor: str,
    description: str,
    cra_category: str,
    support_end: date | None,
    security_contact: str,
    cvd_url: str,
    interfaces: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a product NAME (administrators)."""
    created = create_product(
        session,
        actor,
        name=name,
        component_type=component_type.upper(),
        target_sl=parse_target_sl(target_sl),
        vendor=vendor,
        description=description,
        cra_category=cra_category,
        support_period_end=support_end,
        security_contact=security_contact,
        cvd_policy_url=cvd_url,
        interfaces=[_parse_interface(i) for i in interfaces],
    )
    data = ProductOut.of(created).model_dump(mode="json")
    emit(data, as_json, lambda: say(f"created product {created.name} (id {created.id})"))


@product.command("list")
@json_option
@server_command(read_only=True)
def product_list(session: Session, actor: Principal, as_json: bool) -> None:
    """List the products you may see."""
    items = [ProductOut.of(p).model_dump(mode="json") for p in list_products(session, actor)]
    emit(items, as_json, echo_lines([_product_line(p) for p in items], "no products"))


@product.command("show")
@click.argument("name")
@json_option
@server_command(read_only=True)
def product_show(session: Session, actor: Principal, name: str, as_json: bool) -> None:
    """Show the product NAME."""
    found = get_product_by_name(session, actor, name)
    data = ProductOut.of(found).model_dump(mode="json")
    data["releases"] = [ReleaseOut.of(r).model_dump(mode="json") for r in list_releases(session, actor, found.id)]

    def text() -> None:
        say(f"{found.name}  ({found.component_type.value}, CRA {label(found.cra_category).lower()})")
        say(f"  vendor:          {found.vendor or '-'}")
        say(f"  target SL-C:     {vector_text(found.target_sl)}")
        say(f"  support ends:    {found.support_period_end or '-'}")
        say(f"  security contact {found.security_contact or '-'}")
        for i in found.interfaces:
            say(f"  interface        {i.name} ({label(i.kind)} {i.protocol} {i.port or ''})".rstrip())
        for r in data["releases"]:
            say(f"  release          {r['version']} [{label(r['status'])}]")

    emit(data, as_json, text)


@release.command("create")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--tag", default="", help="Git tag or commit of the release.")
@click.option("--status", default=ReleaseStatus.PLANNED.value, type=click.Choice([s.value for s in ReleaseStatus]))
@click.option("--date", "release_date", type=DAY, help="Release date (YYYY-MM-DD).")
@json_option
@server_command()
def release_create(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    tag: str,
    status: str,
    release_date: date | None,
    as_json: bool,
) -> None:
    """Create release VERSION of PRODUCT."""
    found = get_product_by_name(session, actor, product_name)
    created = create_release(
        session,
        actor,
        found.id,
        version=version,
        status=status,
        release_date=release_date,
        git_ref=tag,
    )
    emit(
        ReleaseOut.of(created).model_dump(mode="json"),
        as_json,
        lambda: say(f"created release {found.name} {created.version} (id {created.id})"),
    )


@release.command("list")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def release_list(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List PRODUCT's releases, oldest first in release order."""
    found = get_product_by_name(session, actor, product_name)
    items = [ReleaseOut.of(r).model_dump(mode="json") for r in list_releases(session, actor, found.id)]
    lines = [f"{r['version']:<20} {label(r['status']):<12} {r['release_date'] or '':<10} {r['git_ref']}" for r in items]
    emit(items, as_json, echo_lines(lines, "no releases"))


@repo.command("add")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("location")
@click.option("--name", default="", help="Defaults to the last part of LOCATION.")
@click.option(
    "--ref",
    "ref_patterns",
    multiple=True,
    metavar="PATTERN",
    help="Refs that are history (repeatable; default refs/heads and refs/tags).",
)
@json_option
@server_command()
def repo_add(
    session: Session,
    actor: Principal,
    product_name: str,
    location: str,
    name: str,
    ref_patterns: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register the repository at LOCATION for PRODUCT."""
    found = get_product_by_name(session, actor, product_name)
    name = name or location.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or location
    created = add_repository(session, actor, found.id, name=name, location=location, ref_patterns=ref_patterns)
    emit(
        RepositoryOut.of(created).model_dump(mode="json"),
        as_json,
        lambda: say(f"added repository {created.name} (id {created.id})"),
    )


@repo.command("list")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def repo_list(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List PRODUCT's repositories."""
    found = get_product_by_name(session, actor, product_name)
    items = [RepositoryOut.of(r).model_dump(mode="json") for r in list_repositories(session, actor, found.id)]
    emit(items, as_json, echo_lines([f"{r['name']:<24} {r['location']}" for r in items], "no repositories"))


@repo.command("edit")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("name")
@click.option("--name", "new_name", default=None, help="A new name (hooks and CI name the repository by it).")
@click.option(
    "--ref",
    "ref_patterns",
    multiple=True,
    metavar="PATTERN",
    help="Refs that are history, replacing the current ones (repeatable; refs/heads and refs/tags: all).",
)
@json_option
@server_command()
def repo_edit(
    session: Session,
    actor: Principal,
    product_name: str,
    name: str,
    new_name: str | None,
    ref_patterns: tuple[str, ...],
    as_json: bool,
) -> None:
    """Rename PRODUCT's repository NAME or change which of its refs are history (the next scan follows them)."""
    found = get_product_by_name(session, actor, product_name)
    repository = get_repository_by_name(session, actor, found.id, name)
    changed = update_repository(
        session, actor, repository.id, name=new_name, ref_patterns=list(ref_patterns) if ref_patterns else None
    )
    emit(
        RepositoryOut.of(changed).model_dump(mode="json"),
        as_json,
        lambda: say(f"repository {changed.name}: refs {' '.join(changed.ref_patterns)}"),
    )


@repo.command("remove")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("name")
@json_option
@server_command()
def repo_remove(session: Session, actor: Principal, product_name: str, name: str, as_json: bool) -> None:
    """Remove PRODUCT's repository NAME: no more scans or deliveries; its commits and evidence stay as history."""
    found = get_product_by_name(session, actor, product_name)
    removed = remove_repository(session, actor, get_repository_by_name(session, actor, found.id, name).id)
    emit(
        RepositoryOut.of(removed).model_dump(mode="json"),
        as_json,
        lambda: say(f"removed repository {removed.name}; its commits stay as history"),
    )
