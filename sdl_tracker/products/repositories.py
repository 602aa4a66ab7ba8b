"""A product's source repositories: registration (with the locations git may read) and listing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..errors import Conflict, FieldError, Invalid, NotFound
from ..installation import installation
from .models import DEFAULT_REF_PATTERNS, Product, Repository
from .rules import name_problem
from .services import flush_or_conflict, get_product


def _location_problem(location: str, actor: Principal, schemes: frozenset[str]) -> str | None:
    # Issue-level detail (mirroring, protocol allow-lists) lives with the git feature; these are
    # the rules no repository may break: nothing git could read as an option or a remote helper.
    if not location or len(location) > 1000:
        return "a location of 1-1000 characters is required"
    if location.startswith("-") or any(unicodedata.category(c).startswith("C") for c in location):
        return "a location may not begin with '-' or contain control characters"
    if "::" in location.split("/", 1)[0]:
        return "remote helpers (such as ext::) are not allowed"
    scheme = urlsplit(location).scheme if "://" in location else ""
    if scheme and scheme in schemes:
        return None
    if scheme == "file" or (not scheme and location.startswith("/")):
        return None if actor.is_admin else "only an administrator may register a local path"
    if not scheme and "ssh" in schemes and re.match(r"^[\w.-]+@[\w.-]+:", location):
        return None  # scp-style ssh: git@host:org/repo.git
    if not schemes:
        return "this installation takes local paths only, registered by an administrator"
    allowed = ", ".join(f"{s}://" for s in sorted(schemes))
    return f"use a URL of {allowed} (or, for administrators, a local path)"


# Hosting refs (refs/pull/*) are left out on purpose: they carry unreviewed contributor code.
REF_PATTERN = re.compile(r"^refs/(?!pull(/|$))[A-Za-z0-9._/*+-]{1,200}$")


def authorize_manage_repositories(actor: Principal, product: Product) -> None:
    """Raise unless the actor may register the product's repositories (its security officers)."""
    authorize(actor, Permission.REPOSITORY_MANAGE, product.id)


def may_manage_repositories(actor: Principal, product: Product) -> bool:
    """Whether the actor may register the product's repositories."""
    return permits(authorize_manage_repositories, actor, product)


def add_repository(
    session: Session,
    actor: Principal,
    product_id: int,
    *,
    name: str,
    location: str,
    ref_patterns: Sequence[str] | None = None,
) -> Repository:
    """Register a source repository for a product."""
    product = get_product(session, actor, product_id)
    authorize_manage_repositories(actor, product)
    errors: list[FieldError] = []
    problem = name_problem(name, "repository name")
    if problem:
        errors.append(FieldError("name", problem))
    location_problem = _location_problem(location.strip(), actor, installation(session).git.schemes)
    if location_problem:
        errors.append(FieldError("location", location_problem))
    patterns = list(ref_patterns) if ref_patterns else list(DEFAULT_REF_PATTERNS)
    bad = [p for p in patterns if not REF_PATTERN.match(p) or ".." in p]
    if bad:
        errors.append(FieldError("refs", f"not a ref pattern under refs/ (hosting refs excluded): {', '.join(bad)}"))
    if errors:
        raise Invalid("the repository was not added", errors=errors)
    if session.scalar(select(Repository.id).where(Repository.product_id == product.id, Repository.name == name)):
        raise Conflict(f"{product.name} already has a repository {name!r}")
    repository = Repository(product=product, name=name, location=location.strip(), ref_patterns=patterns)
    session.add(repository)
    flush_or_conflict(session, f"{product.name} already has a repository {name!r}")
    record(
        session,
        actor,
        "products:repository:create",
        target_type="repository",
        target_id=repository.id,
        product_id=product.id,
        details={"name": name, "location": repository.location, "refs": patterns},
    )
    return repository


def get_repository_by_name(session: Session, actor: Principal, product_id: int, name: str) -> Repository:
    """The product's repository named `name` (as registered, exactly), else NotFound."""
    product = get_product(session, actor, product_id)
    found = session.scalar(select(Repository).where(Repository.product_id == product.id, Repository.name == name))
    if found is None:
        raise NotFound(f"{product.name} has no repository {name!r} (see `repo list {product.name}`)")
    return found


def list_repositories(session: Session, actor: Principal, product_id: int) -> list[Repository]:
    """A product's repositories by name."""
    product = get_product(session, actor, product_id)
    return list(
        session.scalars(select(Repository).where(Repository.product_id == product.id).order_by(Repository.name))
    )
