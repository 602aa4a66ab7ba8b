"""A product's source repositories: registration (with the locations git may read), listing, editing their
names and ref patterns, and removal (a removed repository stays as history)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.rules import field_changes
from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..db import locked, utcnow
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
    _check_patterns(patterns, errors)
    if errors:
        raise Invalid("the repository was not added", errors=errors)
    _check_name_free(session, product, name)
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


def _check_patterns(patterns: Sequence[str], errors: list[FieldError]) -> None:
    bad = [p for p in patterns if not REF_PATTERN.match(p) or ".." in p]
    if bad:
        errors.append(FieldError("refs", f"not a ref pattern under refs/ (hosting refs excluded): {', '.join(bad)}"))


def _check_name_free(session: Session, product: Product, name: str) -> None:
    """Raise Conflict when one of the product's repositories, a removed one included, has the name."""
    holder = session.scalar(select(Repository).where(Repository.product_id == product.id, Repository.name == name))
    if holder is None:
        return
    if holder.removed_at is not None:
        raise Conflict(
            f"{product.name}'s repository {name!r}, removed on {holder.removed_at.date().isoformat()}, keeps its "
            "name as history: choose another"
        )
    raise Conflict(f"{product.name} already has a repository {name!r}")


def get_repository(session: Session, actor: Principal, repository_id: int) -> Repository:
    """A repository of a product the actor may see (a removed one too), else NotFound."""
    repository = session.get(Repository, repository_id)
    if repository is None or not actor.can_see(repository.product_id):
        raise NotFound("repository not found")
    return repository


def _editable(session: Session, actor: Principal, repository_id: int) -> Repository:
    """The repository, locked, once the actor may manage its product's repositories."""
    repository = get_repository(session, actor, repository_id)
    authorize_manage_repositories(actor, repository.product)
    repository = locked(session, repository)  # edits and removals at once go one at a time
    return repository


def update_repository(
    session: Session,
    actor: Principal,
    repository_id: int,
    *,
    name: str | None = None,
    ref_patterns: Sequence[str] | None = None,
) -> Repository:
    """Rename a repository or change which refs are history (the next scan reads what the new patterns name,
    and flags what they no longer reach); its location stays, as its history is that location's."""
    repository = _editable(session, actor, repository_id)
    authorize_edit_repository(actor, repository)  # after the lock: a removal committed meanwhile counts
    errors: list[FieldError] = []
    new_name = repository.name if name is None else name
    problem = name_problem(new_name, "repository name")
    if problem:
        errors.append(FieldError("name", problem))
    patterns = list(repository.ref_patterns) if ref_patterns is None else list(ref_patterns)
    if not patterns:
        errors.append(
            FieldError("refs", "name at least one ref pattern (refs/heads and refs/tags: every branch and tag)")
        )
    _check_patterns(patterns, errors)
    if errors:
        raise Invalid("the repository was not changed", errors=errors)
    if new_name != repository.name:
        _check_name_free(session, repository.product, new_name)
    before = {"name": repository.name, "refs": list(repository.ref_patterns)}
    repository.name = new_name
    repository.ref_patterns = patterns
    after = {"name": repository.name, "refs": list(repository.ref_patterns)}
    changed = field_changes(before, after)
    if changed:
        flush_or_conflict(session, f"{repository.product.name} already has a repository {new_name!r}")
        record(
            session,
            actor,
            "products:repository:update",
            target_type="repository",
            target_id=repository.id,
            product_id=repository.product_id,
            details=changed,
        )
    return repository


def remove_repository(session: Session, actor: Principal, repository_id: int) -> Repository:
    """Remove a repository: no more scans or deliveries, its commits and the evidence linked to them stay as
    history (removing it again changes nothing)."""
    repository = _editable(session, actor, repository_id)
    if repository.removed_at is None:
        repository.removed_at = utcnow()
        session.flush()
        record(
            session,
            actor,
            "products:repository:remove",
            target_type="repository",
            target_id=repository.id,
            product_id=repository.product_id,
            details={"name": repository.name, "location": repository.location},
        )
    return repository


def authorize_edit_repository(actor: Principal, repository: Repository) -> None:
    """Raise unless the actor may edit the repository: its product's security officers, while it is not removed."""
    authorize_manage_repositories(actor, repository.product)
    if repository.removed_at is not None:
        raise Conflict(f"the repository {repository.name!r} was removed: it changes no more")


def may_edit_repository(actor: Principal, repository: Repository) -> bool:
    """Whether the actor may edit (and remove) the repository."""
    return permits(authorize_edit_repository, actor, repository)


def get_repository_by_name(session: Session, actor: Principal, product_id: int, name: str) -> Repository:
    """The product's repository named `name` (as registered, exactly), else NotFound."""
    product = get_product(session, actor, product_id)
    found = session.scalar(select(Repository).where(Repository.product_id == product.id, Repository.name == name))
    if found is None:
        raise NotFound(f"{product.name} has no repository {name!r} (see `repo list {product.name}`)")
    return found


def list_repositories(
    session: Session, actor: Principal, product_id: int, *, removed: bool | None = False
) -> list[Repository]:
    """A product's repositories by name (`removed`: the removed ones instead; None: both)."""
    product = get_product(session, actor, product_id)
    query = select(Repository).where(Repository.product_id == product.id).order_by(Repository.name)
    if removed is not None:
        query = query.where(Repository.removed_at.is_not(None) if removed else Repository.removed_at.is_(None))
    return list(session.scalars(query))
