"""Products and releases: create, change, read; every operation checks authorize() and audits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..audit.rules import field_changes
from ..audit.services import kept, record
from ..auth import Permission, Principal, authorize, permits, visible_products_clause
from ..catalog.models import CatalogEdition
from ..catalog.services import current_editions, find_edition, newest_mapping
from ..db import lock_row, locked
from ..errors import Conflict, FieldError, Invalid, NotFound
from . import signals
from .fields import enum_value, product_fields, target_or_errors
from .interfaces import InterfaceData, replace_interfaces, validate_interfaces
from .models import ComponentType, CraCategory, Product, ProductEdition, Release, ReleaseStatus
from .rules import name_key, name_problem, order_releases, previous_release, same_version, version_problem

# A tag name or commit SHA: what git accepts as a ref, never something git could take for an option.
GIT_REF = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]{1,255}(?<!\.lock)(?<![./])$")
NULLABLE_PRODUCT_FIELDS = frozenset({"support_period_end"})


def _name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    query = select(Product.id).where(Product.name_key == name_key(name))
    if except_id is not None:
        query = query.where(Product.id != except_id)
    return session.scalar(query) is not None


def authorize_create_product(actor: Principal) -> None:
    """Raise unless the actor may create products (administrators)."""
    authorize(actor, Permission.PRODUCT_CREATE)


def may_create_product(actor: Principal) -> bool:
    """Whether the actor may create products."""
    return permits(authorize_create_product, actor)


def authorize_manage_product(actor: Principal, product: Product) -> None:
    """Raise unless the actor may change the product and its settings (its security officers, administrators)."""
    authorize(actor, Permission.PRODUCT_MANAGE, product.id)


def may_manage_product(actor: Principal, product: Product) -> bool:
    """Whether the actor may change the product and its settings."""
    return permits(authorize_manage_product, actor, product)


def authorize_manage_releases(actor: Principal, product: Product) -> None:
    """Raise unless the actor may add and change the product's releases."""
    authorize(actor, Permission.RELEASE_MANAGE, product.id)


def may_manage_releases(actor: Principal, product: Product) -> bool:
    """Whether the actor may add and change the product's releases."""
    return permits(authorize_manage_releases, actor, product)


def flush_or_conflict(session: Session, message: str, *, errors: list[FieldError] | None = None) -> None:
    """Flush, turning a UNIQUE violation into Conflict(message)."""
    # The pre-checks catch duplicates; this catches the race between two concurrent writers.
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(message, errors=errors) from None


def _product_summary(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "vendor": product.vendor,
        "component_type": product.component_type.value,
        "target_sl": product.target_sl,
        "cra_category": product.cra_category.value,
        "support_period_end": product.support_period_end,
        "security_contact": product.security_contact,
        "cvd_policy_url": product.cvd_policy_url,
        "require_verified_authors": product.require_verified_authors,
        "editions": product.edition_names,
        "interfaces": [
            {"name": i.name, "kind": i.kind.value, "protocol": i.protocol, "port": i.port} for i in product.interfaces
        ],
    }


def create_product(
    session: Session,
    actor: Principal,
    *,
    name: str,
    component_type: str,
    target_sl: dict[str, Any],
    vendor: str = "",
    description: str = "",
    cra_category: str = CraCategory.DEFAULT.value,
    support_period_end: date | None = None,
    security_contact: str = "",
    cvd_policy_url: str = "",
    interfaces: Sequence[InterfaceData] = (),
    require_verified_authors: bool = False,
) -> Product:
    """Create a product (administrators only)."""
    authorize_create_product(actor)
    errors: list[FieldError] = []
    problem = name_problem(name)
    if problem:
        errors.append(FieldError("name", problem))
    elif _name_taken(session, name):
        raise Conflict(f"a product named {name!r} already exists", errors=[FieldError("name", "already exists")])
    ctype = enum_value(ComponentType, component_type, "component_type", errors)
    vector = target_or_errors(target_sl, errors)
    fields = product_fields(
        vendor=vendor,
        description=description,
        cra_category=cra_category,
        support_period_end=support_period_end,
        security_contact=security_contact,
        cvd_policy_url=cvd_policy_url,
        errors=errors,
    )
    interface_rows = validate_interfaces(interfaces, errors)
    if errors:
        raise Invalid("the product was not created", errors=errors)

    product = Product(
        name=name,
        name_key=name_key(name),
        component_type=ctype,
        require_verified_authors=_flag(require_verified_authors, "require_verified_authors"),
        **fields,
    )
    product.target_sl = vector
    product.interfaces = interface_rows
    # Assessed against the newest loaded edition of each standard until someone chooses otherwise.
    product.editions = [
        ProductEdition(standard=s, edition_id=e.id) for s, e in sorted(current_editions(session).items())
    ]
    session.add(product)
    flush_or_conflict(session, f"a product named {name!r} already exists")
    record(
        session,
        actor,
        "products:product:create",
        target_type="product",
        target_id=product.id,
        product_id=product.id,
        details=_product_summary(product),
    )
    return product


def _flag(value: object, name: str) -> bool:
    """A yes/no field's value; anything but a boolean is refused (a string "false" is not false)."""
    if not isinstance(value, bool):
        raise Invalid.field(name, "true or false")
    return value


def update_product(
    session: Session,
    actor: Principal,
    product_id: int,
    *,
    changes: dict[str, Any],
) -> Product:
    """Change a product's fields; `changes` names only the fields to change."""
    product = get_product(session, actor, product_id)
    authorize_manage_product(actor, product)
    # Changes at the same moment go one after the other, so each audited "before" is what stood.
    product = locked(session, product)
    allowed = {
        "name",
        "vendor",
        "description",
        "component_type",
        "target_sl",
        "cra_category",
        "support_period_end",
        "security_contact",
        "cvd_policy_url",
        "interfaces",
        "editions",
        "require_verified_authors",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise Invalid("unknown fields", errors=[FieldError(f, "unknown field") for f in unknown])
    # A null clears only what may be empty; for anything else it is an error, not a crash.
    nulls = sorted(k for k, v in changes.items() if v is None and k not in NULLABLE_PRODUCT_FIELDS)
    if nulls:
        raise Invalid("the product was not changed", errors=[FieldError(k, "may not be null") for k in nulls])

    before = _product_summary(product)
    errors: list[FieldError] = []
    name = changes.get("name", product.name)
    problem = name_problem(name)
    if problem:
        errors.append(FieldError("name", problem))
    elif _name_taken(session, name, except_id=product.id):
        raise Conflict(f"a product named {name!r} already exists", errors=[FieldError("name", "already exists")])
    ctype = enum_value(ComponentType, changes.get("component_type", product.component_type), "component_type", errors)
    vector = target_or_errors(changes.get("target_sl", product.target_sl), errors)
    fields = product_fields(
        vendor=changes.get("vendor", product.vendor),
        description=changes.get("description", product.description),
        cra_category=changes.get("cra_category", product.cra_category),
        support_period_end=changes.get("support_period_end", product.support_period_end),
        security_contact=changes.get("security_contact", product.security_contact),
        cvd_policy_url=changes.get("cvd_policy_url", product.cvd_policy_url),
        errors=errors,
    )
    interface_rows = None
    if "interfaces" in changes:
        interface_rows = validate_interfaces(changes["interfaces"], errors)
    if errors:
        raise Invalid("the product was not changed", errors=errors)

    product.name = name
    product.name_key = name_key(name)
    product.component_type = ctype
    product.target_sl = vector
    for key, value in fields.items():
        setattr(product, key, value)
    if interface_rows is not None:
        replace_interfaces(session, product, interface_rows)
    if "require_verified_authors" in changes:
        product.require_verified_authors = _flag(changes["require_verified_authors"], "require_verified_authors")
    flush_or_conflict(session, f"a product named {name!r} already exists")
    for standard, edition in (changes.get("editions") or {}).items():
        set_product_edition(session, actor, product.id, standard=standard, edition=edition)
    after = _product_summary(product)
    changed = field_changes(before, after)
    if changed:
        record(
            session,
            actor,
            "products:product:update",
            target_type="product",
            target_id=product.id,
            product_id=product.id,
            details=changed,
        )
    return product


def set_product_edition(session: Session, actor: Principal, product_id: int, *, standard: str, edition: str) -> Product:
    """Assess a product against another loaded edition of a standard."""
    product = get_product(session, actor, product_id)
    authorize_manage_product(actor, product)
    chosen = find_edition(session, standard, edition)
    if chosen is None:
        raise Invalid.field("edition", f"{standard} edition {edition} is not loaded")
    existing = next((pe for pe in product.editions if pe.standard == standard), None)
    old = existing.edition.edition if existing else None
    if old == edition:
        return product
    if existing is None:
        product.editions.append(ProductEdition(standard=standard, edition_id=chosen.id))
    else:
        existing.edition_id = chosen.id
    session.flush()
    session.expire(product, ["editions"])
    record(
        session,
        actor,
        "products:edition:update",
        target_type="product",
        target_id=product.id,
        product_id=product.id,
        details={"standard": standard, "old": old, "new": edition},
    )
    return product


def _visible_products(actor: Principal) -> ColumnElement[bool] | None:
    """Which products the actor may see (None: none, for a token without product:read)."""
    if actor.scopes is not None and Permission.PRODUCT_READ not in actor.scopes:
        return None
    return visible_products_clause(actor, Product.id)


def list_products(session: Session, actor: Principal) -> list[Product]:
    """The products the actor may see, by name (none for a token without product:read)."""
    visible = _visible_products(actor)
    if visible is None:
        return []
    query = select(Product).where(visible).options(selectinload(Product.interfaces)).order_by(Product.name_key)
    return list(session.scalars(query))


def products_page(
    session: Session, actor: Principal, *, page: int, per_page: int, with_interfaces: bool = False
) -> tuple[list[Product], int]:
    """A page of the products the actor may see, by name, read in SQL, and how many the actor may see.
    `with_interfaces` loads their interfaces too (not one query per product)."""
    visible = _visible_products(actor)
    if visible is None:
        return [], 0
    query = select(Product).where(visible).order_by(Product.name_key, Product.id)
    if with_interfaces:
        query = query.options(selectinload(Product.interfaces))
    products = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    total = session.scalar(select(func.count()).select_from(Product).where(visible)) or 0
    return products, total


def edition_names_of(session: Session, products: Sequence[Product]) -> dict[int, dict[str, str]]:
    """The catalog editions each product (the caller read it) is assessed against, {standard: edition} by product
    id, as columns in one statement: loading them as rows with their catalog editions was most of a list's time."""
    names: dict[int, dict[str, str]] = {p.id: {} for p in products}
    query = (
        select(ProductEdition.product_id, ProductEdition.standard, CatalogEdition.edition)
        .join(CatalogEdition, CatalogEdition.id == ProductEdition.edition_id)
        .where(ProductEdition.product_id.in_(list(names)))
    )
    for product_id, standard, edition in session.execute(query) if names else ():
        names[product_id][standard] = edition
    return names


@dataclass(frozen=True)
class ProductEntry:
    """A product as a list of names shows it (plain data, so a kept navigation may hold it)."""

    id: int
    name: str
    component_type: ComponentType


def product_entries(session: Session, actor: Principal) -> list[ProductEntry]:
    """The products the actor may see, by name, as three columns: the navigation lists them on every page."""
    if actor.scopes is not None and Permission.PRODUCT_READ not in actor.scopes:
        return []
    query = (
        select(Product.id, Product.name, Product.component_type)
        .where(visible_products_clause(actor, Product.id))
        .order_by(Product.name_key)
    )
    return [ProductEntry(row.id, row.name, row.component_type) for row in session.execute(query)]


def get_product(session: Session, actor: Principal, product_id: int) -> Product:
    """A product the actor may see, else NotFound."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("product not found")
    authorize(actor, Permission.PRODUCT_READ, product.id)
    return product


def get_product_by_name(session: Session, actor: Principal, name: str) -> Product:
    """A product by its name (case-insensitive) that the actor may see, else NotFound."""
    product_id = session.scalar(select(Product.id).where(Product.name_key == name_key(name)))
    if product_id is None:
        raise NotFound(f"no product named {name!r}")
    try:
        return get_product(session, actor, product_id)
    except NotFound:
        raise NotFound(f"no product named {name!r}") from None


def _check_git_ref(git_ref: str, errors: list[FieldError]) -> None:
    if git_ref and not GIT_REF.match(git_ref):
        errors.append(FieldError("git_ref", "not a valid tag name or commit SHA"))


SHIPPED_STATUSES = (ReleaseStatus.RELEASED, ReleaseStatus.WITHDRAWN)


def create_release(
    session: Session,
    actor: Principal,
    product_id: int,
    *,
    version: str,
    status: str = ReleaseStatus.PLANNED.value,
    release_date: date | None = None,
    git_ref: str = "",
) -> Release:
    """Add a release to a product; later features react through `signals.release_created`."""
    product = get_product(session, actor, product_id)
    authorize_manage_releases(actor, product)
    # Twins by version semantics (1.0, 1.0.0) are different strings that no UNIQUE constraint sees: the
    # product's releases are added one at a time, each checked against those the one before committed.
    lock_row(session, Product.id, product.id)
    errors: list[FieldError] = []
    problem = version_problem(version)
    if problem:
        errors.append(FieldError("version", problem))
    elif session.scalar(select(Release.id).where(Release.product_id == product.id, Release.version == version)):
        raise Conflict(
            f"{product.name} already has a release {version!r}",
            errors=[FieldError("version", "already exists")],
        )
    else:
        existing = session.scalars(select(Release.version).where(Release.product_id == product.id)).all()
        twin = same_version(version, existing)
        if twin is not None:
            raise Conflict(
                f"{product.name} already has release {twin!r}, the same version as {version!r}",
                errors=[FieldError("version", f"equals the existing release {twin} by version semantics")],
            )
    release_status = enum_value(ReleaseStatus, status, "status", errors)
    _check_git_ref(git_ref.strip(), errors)
    if errors:
        raise Invalid("the release was not created", errors=errors)

    release = Release(
        product=product,
        version=version,
        status=ReleaseStatus.PLANNED if release_status in SHIPPED_STATUSES else release_status,
        release_date=release_date,
        git_ref=git_ref.strip(),
        cra_mapping=newest_mapping(session),
    )
    session.add(release)
    flush_or_conflict(session, f"{product.name} already has a release {version!r}")
    if release_status in SHIPPED_STATUSES:
        # Made shipped at once: it goes through the same check as a release marked released later.
        signals.release_shipping.send(session, release=release, actor=actor, status=release_status)
        release.status = release_status
    record(
        session,
        actor,
        "products:release:create",
        target_type="release",
        target_id=release.id,
        product_id=product.id,
        details={
            "version": version,
            "status": release.status.value,
            "git_ref": release.git_ref,
            "release_date": release_date,
            "cra_mapping": release.cra_mapping.version if release.cra_mapping else None,
        },
    )
    signals.release_created.send(session, release=release, actor=actor)
    return release


def update_release(
    session: Session,
    actor: Principal,
    release_id: int,
    *,
    status: str | None = None,
    release_date: date | None = None,
    git_ref: str | None = None,
) -> Release:
    """Change a release's status, date or git ref (the version is its identity and stays)."""
    release = get_release(session, actor, release_id)
    authorize_manage_releases(actor, release.product)
    # Changes at the same moment go one at a time, so each audited "old" is what the one before left.
    release = locked(session, release)
    errors: list[FieldError] = []
    new_status = release.status if status is None else enum_value(ReleaseStatus, status, "status", errors)
    new_ref = release.git_ref if git_ref is None else git_ref.strip()
    _check_git_ref(new_ref, errors)
    if errors:
        raise Invalid("the release was not changed", errors=errors)
    before = {"status": release.status.value, "release_date": release.release_date, "git_ref": release.git_ref}
    if new_status is ReleaseStatus.RELEASED and release.status is not ReleaseStatus.RELEASED:
        signals.release_shipping.send(session, release=release, actor=actor, status=new_status)
    release.status = new_status
    release.git_ref = new_ref
    if release_date is not None:
        release.release_date = release_date
    after = {"status": release.status.value, "release_date": release.release_date, "git_ref": release.git_ref}
    changed = field_changes(before, after)
    if changed:
        session.flush()
        record(
            session,
            actor,
            "products:release:update",
            target_type="release",
            target_id=release.id,
            product_id=release.product_id,
            details=changed,
        )
    return release


def list_releases(session: Session, actor: Principal, product_id: int) -> list[Release]:
    """A product's releases, oldest first in release order (DESIGN.md: version semantics)."""
    product = get_product(session, actor, product_id)
    releases = session.scalars(select(Release).where(Release.product_id == product.id)).all()
    return order_releases(releases)


@dataclass(frozen=True)
class ReleaseChoice:
    """A release as a list of versions offers it (plain data, so it may be kept)."""

    id: int
    version: str


def release_choices(session: Session, actor: Principal, product_id: int) -> list[ReleaseChoice]:
    """A product's releases as a choice of versions, oldest first in release order: kept until the audit chain
    moves (a new release is audited; versions never change), as the lists that filter by release offer them."""
    get_product(session, actor, product_id)

    def read() -> tuple[ReleaseChoice, ...]:
        rows = session.execute(select(Release.id, Release.version).where(Release.product_id == product_id))
        return tuple(order_releases([ReleaseChoice(release_id, version) for release_id, version in rows]))

    return list(kept(session, ("release choices", product_id), read))


def get_release(session: Session, actor: Principal, release_id: int) -> Release:
    """A release the actor may see, else NotFound."""
    release = session.get(Release, release_id)
    if release is None or not actor.can_see(release.product_id):
        raise NotFound("release not found")
    authorize(actor, Permission.PRODUCT_READ, release.product_id)
    return release


def get_previous_release(session: Session, actor: Principal, release_id: int) -> Release | None:
    """The release before this one in release order (DESIGN.md), if any."""
    release = get_release(session, actor, release_id)
    return previous_release(list_releases(session, actor, release.product_id), release.version)


def optional_release(session: Session, actor: Principal, product_id: int, version: str | None) -> Release | None:
    """The release named by an optional `--release`/`?release=` version; None when none was named."""
    return get_release_by_version(session, actor, product_id, version) if version else None


def get_release_by_version(session: Session, actor: Principal, product_id: int, version: str) -> Release:
    """A product's release by version, else NotFound."""
    product = get_product(session, actor, product_id)
    release = session.scalar(select(Release).where(Release.product_id == product.id, Release.version == version))
    if release is None:
        raise NotFound(f"{product.name} has no release {version!r}")
    return release
