"""Products, releases and repositories over /api/v1."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, g
from pydantic import BaseModel, Field, StrictBool

from ..api.inputs import Input, Text
from ..api.openapi import PAGE_QUERY, Page, json_response, operation, page_args, paginated, parse_body
from ..web.context import db_session
from .interfaces import InterfaceData
from .models import ComponentType, CraCategory, InterfaceKind, Product, Release, ReleaseStatus, Repository
from .repositories import add_repository, list_repositories, remove_repository, update_repository
from .services import (
    create_product,
    create_release,
    edition_names_of,
    get_product,
    get_release,
    list_releases,
    products_page,
    update_product,
    update_release,
)

bp = Blueprint("products_api", __name__)
Level = Field(ge=1, le=4, description="SL-C level 1-4")


class TargetSl(Input):
    """A target SL-C vector: one level per foundational requirement."""

    FR1: int = Level
    FR2: int = Level
    FR3: int = Level
    FR4: int = Level
    FR5: int = Level
    FR6: int = Level
    FR7: int = Level


class InterfaceIn(Input):
    """An external interface."""

    name: str = Field(min_length=1, max_length=120)
    kind: InterfaceKind
    protocol: str = Field(default="", max_length=120)
    port: int | None = Field(default=None, ge=1, le=65535)


class ProductIn(Input):
    """A new product."""

    name: str = Field(min_length=1, max_length=120)
    component_type: ComponentType
    target_sl: TargetSl
    vendor: str = Field(default="", max_length=120)
    description: Text = Field(default="", max_length=20_000)
    cra_category: CraCategory = CraCategory.DEFAULT
    support_period_end: date | None = None
    security_contact: str = Field(default="", max_length=320)
    cvd_policy_url: str = Field(default="", max_length=500)
    interfaces: list[InterfaceIn] = Field(default_factory=list, max_length=200)
    require_verified_authors: StrictBool = False


class ProductPatch(Input):
    """Changes to a product: only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    component_type: ComponentType | None = None
    target_sl: TargetSl | None = None
    vendor: str | None = Field(default=None, max_length=120)
    description: Text | None = Field(default=None, max_length=20_000)
    cra_category: CraCategory | None = None
    support_period_end: date | None = None
    security_contact: str | None = Field(default=None, max_length=320)
    cvd_policy_url: str | None = Field(default=None, max_length=500)
    require_verified_authors: StrictBool | None = Field(
        default=None, description="review coverage counts a commit only when a signature verified its author"
    )
    interfaces: list[InterfaceIn] | None = Field(default=None, max_length=200)
    editions: dict[str, str] | None = Field(
        default=None, description='catalog edition per standard, e.g. {"IEC 62443-4-2": "2019"}'
    )


class InterfaceOut(BaseModel):
    """An interface as returned."""

    id: int
    name: str
    kind: InterfaceKind
    protocol: str
    port: int | None


class ProductOut(BaseModel):
    """A product as returned."""

    id: int
    name: str
    vendor: str
    description: str
    component_type: ComponentType
    target_sl: dict[str, int]
    cra_category: CraCategory
    support_period_end: date | None
    security_contact: str
    cvd_policy_url: str
    require_verified_authors: bool
    interfaces: list[InterfaceOut]
    editions: dict[str, str]
    created_at: datetime

    @classmethod
    def of(cls, product: Product, editions: dict[str, str] | None = None) -> ProductOut:
        """A product as the API and `--json` give it (`editions`: its edition names, when a list read them)."""
        return cls(
            id=product.id,
            name=product.name,
            vendor=product.vendor,
            description=product.description,
            component_type=product.component_type,
            target_sl=product.target_sl,
            cra_category=product.cra_category,
            support_period_end=product.support_period_end,
            security_contact=product.security_contact,
            cvd_policy_url=product.cvd_policy_url,
            require_verified_authors=product.require_verified_authors,
            interfaces=[InterfaceOut.model_validate(i, from_attributes=True) for i in product.interfaces],
            editions=product.edition_names if editions is None else editions,
            created_at=product.created_at,
        )


class ReleaseIn(Input):
    """A new release."""

    version: str = Field(min_length=1, max_length=64)
    status: ReleaseStatus = ReleaseStatus.PLANNED
    release_date: date | None = None
    git_ref: str = Field(default="", max_length=255)


class ReleasePatch(Input):
    """Changes to a release; its version is its identity and cannot change."""

    status: ReleaseStatus | None = None
    release_date: date | None = None
    git_ref: str | None = Field(default=None, max_length=255)


class ReleaseOut(BaseModel):
    """A release as returned."""

    id: int
    product_id: int
    version: str
    status: ReleaseStatus
    release_date: date | None
    git_ref: str
    created_at: datetime

    @classmethod
    def of(cls, release: Release) -> ReleaseOut:
        """A release as the API and `--json` give it."""
        return cls.model_validate(release, from_attributes=True)


class RepositoryIn(Input):
    """A repository to register."""

    name: str = Field(min_length=1, max_length=120)
    location: str = Field(min_length=1, max_length=1000)
    ref_patterns: list[str] | None = Field(default=None, max_length=50)


class RepositoryPatch(Input):
    """Changes to a repository: its name and which refs are history (its location is its identity)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    ref_patterns: list[str] | None = Field(default=None, min_length=1, max_length=50)


class RepositoryOut(BaseModel):
    """A repository as returned."""

    id: int
    product_id: int
    name: str
    location: str
    ref_patterns: list[str]
    created_at: datetime
    removed_at: datetime | None = Field(description="when it was removed: its commits stay as history")

    @classmethod
    def of(cls, repository: Repository) -> RepositoryOut:
        """A repository as the API and `--json` give it."""
        return cls.model_validate(repository, from_attributes=True)


def _interfaces(items: list[InterfaceIn]) -> list[InterfaceData]:
    return [InterfaceData(name=i.name, kind=i.kind.value, protocol=i.protocol, port=i.port) for i in items]


@bp.get("/products")
@operation(
    "List the products you may see",
    response=Page[ProductOut],
    tag="products",
    query=PAGE_QUERY,
)
def products_list() -> Response:
    """List products."""
    page, per_page = page_args()
    session = db_session()
    products, total = products_page(session, g.principal, page=page, per_page=per_page, with_interfaces=True)
    editions = edition_names_of(session, products)
    items = [ProductOut.of(p, editions[p.id]) for p in products]
    return json_response(Page(items=items, total=total, page=page, per_page=per_page))


@bp.post("/products")
@operation(
    "Create a product (administrators)", body=ProductIn, response=ProductOut, status=201, problems=[409], tag="products"
)
def products_create() -> Response:
    """Create a product."""
    data = parse_body(ProductIn)
    product = create_product(
        db_session(),
        g.principal,
        **data.model_dump(exclude={"interfaces", "target_sl"}, mode="python"),
        target_sl=data.target_sl.model_dump(),
        interfaces=_interfaces(data.interfaces),
    )
    return json_response(ProductOut.of(product), 201)


@bp.get("/products/<int:product_id>")
@operation("Show a product", response=ProductOut, tag="products")
def products_show(product_id: int) -> Response:
    """Show a product."""
    return json_response(ProductOut.of(get_product(db_session(), g.principal, product_id)))


@bp.patch("/products/<int:product_id>")
@operation("Change a product", body=ProductPatch, response=ProductOut, problems=[409], tag="products")
def products_update(product_id: int) -> Response:
    """Change a product."""
    data = parse_body(ProductPatch)
    changes = data.model_dump(exclude_unset=True, exclude={"interfaces", "target_sl", "editions"})
    if data.editions is not None:
        changes["editions"] = data.editions
    if data.target_sl is not None:
        changes["target_sl"] = data.target_sl.model_dump()
    if data.interfaces is not None:
        changes["interfaces"] = _interfaces(data.interfaces)
    product = update_product(db_session(), g.principal, product_id, changes=changes)
    return json_response(ProductOut.of(product))


@bp.get("/products/<int:product_id>/releases")
@operation(
    "List a product's releases in release order",
    response=Page[ReleaseOut],
    tag="releases",
    query=PAGE_QUERY,
)
def releases_list(product_id: int) -> Response:
    """List releases."""
    return json_response(paginated(list_releases(db_session(), g.principal, product_id), ReleaseOut.of))


@bp.post("/products/<int:product_id>/releases")
@operation("Create a release", body=ReleaseIn, response=ReleaseOut, status=201, problems=[409], tag="releases")
def releases_create(product_id: int) -> Response:
    """Create a release."""
    data = parse_body(ReleaseIn)
    release = create_release(db_session(), g.principal, product_id, **data.model_dump(mode="python"))
    return json_response(ReleaseOut.of(release), 201)


@bp.get("/releases/<int:release_id>")
@operation("Show a release", response=ReleaseOut, tag="releases")
def releases_show(release_id: int) -> Response:
    """Show a release."""
    return json_response(ReleaseOut.of(get_release(db_session(), g.principal, release_id)))


@bp.patch("/releases/<int:release_id>")
@operation(
    "Change a release's status, date or git ref", body=ReleasePatch, response=ReleaseOut, problems=[409], tag="releases"
)
def releases_update(release_id: int) -> Response:
    """Change a release."""
    data = parse_body(ReleasePatch)
    release = update_release(db_session(), g.principal, release_id, **data.model_dump(exclude_unset=True))
    return json_response(ReleaseOut.of(release))


@bp.get("/products/<int:product_id>/repositories")
@operation(
    "List a product's repositories",
    response=Page[RepositoryOut],
    tag="repositories",
    query=PAGE_QUERY,
)
def repositories_list(product_id: int) -> Response:
    """List repositories."""
    return json_response(paginated(list_repositories(db_session(), g.principal, product_id), RepositoryOut.of))


@bp.post("/products/<int:product_id>/repositories")
@operation(
    "Register a repository", body=RepositoryIn, response=RepositoryOut, status=201, problems=[409], tag="repositories"
)
def repositories_create(product_id: int) -> Response:
    """Register a repository."""
    data = parse_body(RepositoryIn)
    repository = add_repository(
        db_session(), g.principal, product_id, name=data.name, location=data.location, ref_patterns=data.ref_patterns
    )
    return json_response(RepositoryOut.of(repository), 201)


@bp.patch("/repositories/<int:repository_id>")
@operation(
    "Rename a repository or change which refs are history",
    body=RepositoryPatch,
    response=RepositoryOut,
    problems=[409],
    tag="repositories",
)
def repositories_update(repository_id: int) -> Response:
    """Change a repository."""
    data = parse_body(RepositoryPatch)
    repository = update_repository(
        db_session(), g.principal, repository_id, name=data.name, ref_patterns=data.ref_patterns
    )
    return json_response(RepositoryOut.of(repository))


@bp.delete("/repositories/<int:repository_id>")
@operation(
    "Remove a repository: no more scans or deliveries; its commits and their evidence stay as history",
    response=RepositoryOut,
    tag="repositories",
)
def repositories_delete(repository_id: int) -> Response:
    """Remove a repository."""
    return json_response(RepositoryOut.of(remove_repository(db_session(), g.principal, repository_id)))
