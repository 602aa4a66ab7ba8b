"""SBOM operations: import, list, read, mark primary, set the product's policy; authorised and audited."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import Row, Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from ..audit.services import kept, record
from ..auth import Permission, Principal, authorize, permits, visible_products_clause
from ..blobs import session_blobs, store_blob
from ..boundary import one_line
from ..db import lock_row, utcnow
from ..errors import FieldError, Invalid, NotFound
from ..evidence.links import known_requirement_refs
from ..evidence.models import Evidence, EvidenceKind
from ..evidence.services import EvidenceInput, Upload, create_evidence
from ..jobs.registry import collector_paused
from ..products.models import Product, Release
from ..products.rules import order_releases
from ..products.services import authorize_manage_product, get_product, get_release, get_release_by_version
from . import diff, document
from .formats import Rejected, SbomFormat, Violation
from .models import Sbom, SbomComponent, SbomDependency, SbomPolicy, SbomState

# What an SBOM shows: control of third-party components (4-1 SM-9, SM-10) and the CRA's component
# inventory (Annex I Part II (1)).
SBOM_REQUIREMENTS = ("SM-9", "SM-10", "II.1")
MAX_TITLE = 200
MEDIA_TYPES = {
    SbomFormat.JSON: "application/vnd.cyclonedx+json",
    SbomFormat.XML: "application/vnd.cyclonedx+xml",
    SbomFormat.SPDX_JSON: "application/spdx+json",
    SbomFormat.SPDX_TAG_VALUE: "text/spdx",
}
# The name an upload without one is stored under.
DEFAULT_FILENAMES = {
    SbomFormat.JSON: "sbom.json",
    SbomFormat.XML: "sbom.xml",
    SbomFormat.SPDX_JSON: "sbom.spdx.json",
    SbomFormat.SPDX_TAG_VALUE: "sbom.spdx",
}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: `created` is false when the same bytes were already imported for the release."""

    sbom: Sbom
    created: bool


def _rejected(exc: Rejected) -> Invalid:
    errors = [FieldError("file", str(v)) for v in exc.violations] or [FieldError("file", exc.message)]
    more = exc.count - len(exc.violations)
    if more > 0:
        errors.append(FieldError("file", f"… and {more:,} more"))
    return Invalid(exc.message, errors=errors)


def product_strict(session: Session, product_id: int) -> bool:
    """Whether the product refuses SBOMs with format-only violations."""
    policy = session.get(SbomPolicy, product_id)
    return bool(policy and policy.strict)


def strict_policy(session: Session, actor: Principal, product_id: int) -> bool:
    """The product's SBOM policy, for an actor who may see the product."""
    get_product(session, actor, product_id)
    return product_strict(session, product_id)


def authorize_upload_sbom(actor: Principal, product_id: int) -> None:
    """Raise unless the actor may import the product's SBOMs and choose the primary one (developers, officers)."""
    authorize(actor, Permission.SBOM_UPLOAD, product_id)


def may_upload_sbom(actor: Principal, product_id: int) -> bool:
    """Whether the actor may import the product's SBOMs and choose the primary one."""
    return permits(authorize_upload_sbom, actor, product_id)


def import_sbom(
    session: Session,
    actor: Principal,
    release_id: int,
    upload: Upload,
    *,
    title: str = "",
    primary: bool = False,
    strict: bool = False,
) -> ImportResult:
    """Validate a CycloneDX or SPDX document completely and store it for a release, with its evidence, in the
    caller's one transaction (small documents: the demo, tests; doors use importer.submit_sbom)."""
    # Imported here: the importer builds on this module's helpers.
    from ..jobs.registry import InlinePhases
    from .importer import ImportRequest, import_in_phases

    release = get_release(session, actor, release_id)
    authorize_upload_sbom(actor, release.product_id)
    if len(title) > MAX_TITLE:
        raise Invalid.field("title", f"at most {MAX_TITLE} characters")
    with session.begin_nested():  # a refused document leaves no row behind, not even its blob's
        blob = store_blob(session, upload.stream)
        request = ImportRequest(release.id, blob.sha256, upload.filename, title, primary, strict)
        out = import_in_phases(InlinePhases(session, actor), request)
    sbom = session.get(Sbom, out["sbom_id"])
    assert sbom is not None
    return ImportResult(sbom, created=bool(out["created"]))


def _strict_refusal(warnings: list[Violation]) -> Rejected:
    return Rejected.first_of("format violations are refused in strict mode", warnings)


def _already_imported(session: Session, actor: Principal, sbom: Sbom, *, strict: bool, primary: bool) -> ImportResult:
    """The same bytes again: nothing new is stored, but a strict import still refuses what has warnings."""
    if strict and sbom.warnings:
        stored = [Violation(w["path"], w["message"]) for w in sbom.warnings]
        raise _rejected(_strict_refusal(stored))
    if primary and not sbom.is_primary:
        set_primary(session, actor, sbom.id)
    return ImportResult(sbom, created=False)


def _default_title(content: document.SbomContent, filename: str) -> str:
    subject = content.subject or {}
    name = " ".join(part for part in (subject.get("name", ""), subject.get("version", "")) if part)
    return one_line(name or filename)[:MAX_TITLE]


def _create_evidence(session: Session, actor: Principal, release: Release, sbom: Sbom, raw: bytes) -> Evidence | None:
    product = get_product(session, actor, release.product_id)
    requirements = known_requirement_refs(session, product, SBOM_REQUIREMENTS)
    if not requirements:
        return None  # the product's catalog editions know none of them: nothing for coverage to show
    return create_evidence(
        session,
        actor,
        product_id=release.product_id,
        kind=EvidenceKind.SBOM.value,
        data=EvidenceInput(
            title=f"SBOM: {sbom.title}"[:MAX_TITLE],
            description=f"{sbom.format_label}, imported as SBOM #{sbom.id}.",
            effective_date=_effective_date(sbom),
            requirements=requirements,
            release_versions=[release.version],
            details={
                "format": sbom.format_label,
                "components": sbom.component_count,
                "serial_number": sbom.serial_number[:200],
            },
            files=[Upload(sbom.filename, MEDIA_TYPES[sbom.format], io.BytesIO(raw), stored_sha256=sbom.sha256)],
        ),
        permission=Permission.SBOM_UPLOAD,
    )


def _effective_date(sbom: Sbom) -> date:
    # The day the SBOM was generated; a timestamp in the future (a skewed build clock) counts as today.
    today = utcnow().date()
    return min(sbom.generated_at.date(), today) if sbom.generated_at else today


def get_sbom(session: Session, actor: Principal, sbom_id: int) -> Sbom:
    """An SBOM the actor may see, else NotFound."""
    sbom = session.get(Sbom, sbom_id)
    if sbom is None or sbom.state is not SbomState.PUBLISHED or not actor.can_see(sbom.product_id):
        raise NotFound("SBOM not found")
    authorize(actor, Permission.PRODUCT_READ, sbom.product_id)
    return sbom


def list_sboms(session: Session, actor: Principal, product_id: int, release_id: int | None = None) -> list[Sbom]:
    """A product's SBOMs (or one release's), latest created release first, primary first within a release."""
    get_product(session, actor, product_id)
    query = select(Sbom).where(
        Sbom.product_id == product_id,
        Sbom.state == SbomState.PUBLISHED,
        visible_products_clause(actor, Sbom.product_id),
    )
    if release_id is not None:
        query = query.where(Sbom.release_id == release_id)
    return list(session.scalars(query.order_by(Sbom.release_id.desc(), Sbom.is_primary.desc(), Sbom.id.desc())))


@dataclass(frozen=True)
class ComponentQuery:
    """Filters of a component list."""

    text: str = ""  # in name, group, version or purl
    type: str = ""
    page: int = 1
    per_page: int = 50


# What a component list reads of each component (every column but the keys and the search keys): plain rows.
COMPONENT_COLUMNS = tuple(
    c for c in SbomComponent.__table__.columns if c.name not in ("id", "sbom_id", "name_folded", "purl_key")
)


@dataclass(frozen=True)
class ComponentPage:
    """One page of an SBOM's components and how many match."""

    items: list[Row[Any]]  # SbomComponent's columns by name
    total: int
    types: list[str]  # every component type present, for the filter


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_components(session: Session, actor: Principal, sbom_id: int, query: ComponentQuery) -> ComponentPage:
    """A page of the SBOM's components matching the query, in document order."""
    sbom = get_sbom(session, actor, sbom_id)
    where = [SbomComponent.sbom_id == sbom.id]
    if query.text.strip():
        pattern = f"%{_escape_like(query.text.strip().lower())}%"
        where.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        SbomComponent.name,
                        SbomComponent.group_name,
                        SbomComponent.version,
                        SbomComponent.purl,
                    )
                )
            )
        )
    if query.type:
        where.append(SbomComponent.type == query.type)
    everything, types = _facets(session, sbom)
    total = (
        session.scalar(select(func.count()).select_from(SbomComponent).where(*where)) or 0
        if len(where) > 1
        else everything
    )
    rows = session.execute(
        select(*COMPONENT_COLUMNS)
        .where(*where)
        .order_by(SbomComponent.position)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    return ComponentPage(list(rows), total, types)


def _facets(session: Session, sbom: Sbom) -> tuple[int, list[str]]:
    """How many components the SBOM has and their types. Its components never change once it is published,
    so both are kept by the document (its id and the SHA-256 of its bytes), not per audit head: they took
    a scan of every component row on each page of the list (500,000 rows in a big SBOM)."""

    def count() -> tuple[int, tuple[str, ...]]:
        total = session.scalar(select(func.count()).select_from(SbomComponent).where(SbomComponent.sbom_id == sbom.id))
        types = session.scalars(
            select(SbomComponent.type).where(SbomComponent.sbom_id == sbom.id).distinct().order_by(SbomComponent.type)
        )
        return total or 0, tuple(types)

    total, types = kept(session, ("sbom components", sbom.id), count, version=sbom.sha256)
    return total, list(types)


def dependencies_of(session: Session, actor: Principal, sbom_id: int) -> list[tuple[str, str]]:
    """The SBOM's dependency edges (ref, depends on)."""
    sbom = get_sbom(session, actor, sbom_id)
    rows = session.execute(
        select(SbomDependency.ref, SbomDependency.depends_on)
        .where(SbomDependency.sbom_id == sbom.id)
        .order_by(SbomDependency.id)
    )
    return [(ref, target) for ref, target in rows]


# An SBOM's component rows as plain data: the scalar columns, and the JSON ones as their stored text, decoded in
# one json.loads per SBOM rather than one per row and column (most of reading 50,000 rows otherwise).
_ROW_COLUMNS = (
    SbomComponent.position,
    SbomComponent.parent_position,
    SbomComponent.bom_ref,
    SbomComponent.type,
    SbomComponent.group_name,
    SbomComponent.name,
    SbomComponent.version,
    SbomComponent.purl,
    SbomComponent.cpe,
    SbomComponent.scope,
    SbomComponent.supplier,
)
_JSON_COLUMNS = (cast(SbomComponent.hashes, Text), cast(SbomComponent.licenses, Text))
_ROW_NAMES = [c.key for c in _ROW_COLUMNS] + ["hashes", "licenses"]


def component_rows(session: Session, sbom_id: int) -> list[dict[str, Any]]:
    """An SBOM's components as plain rows by column name, in document order (no access check: callers have one)."""
    found = session.execute(
        select(*_ROW_COLUMNS, *_JSON_COLUMNS).where(SbomComponent.sbom_id == sbom_id).order_by(SbomComponent.position)
    ).all()
    decoded = json.loads("[" + ",".join(f"[{row[-2]},{row[-1]}]" for row in found) + "]") if found else []
    return [dict(zip(_ROW_NAMES, (*row[:-2], *pair), strict=True)) for row, pair in zip(found, decoded, strict=True)]


def diff_rows(session: Session, sbom_id: int) -> list[diff.Component]:
    """An SBOM's components as the diff reads them (plain rows), in document order."""
    return [
        diff.Component(
            row["position"],
            row["parent_position"],
            row["type"],
            row["group_name"],
            row["name"],
            row["version"],
            row["purl"],
            row["cpe"],
            row["supplier"],
            tuple((h.get("alg", ""), h.get("content", "")) for h in row["hashes"] or ()),
            tuple(pair for item in row["licenses"] or () for pair in item.items()),
        )
        for row in component_rows(session, sbom_id)
    ]


@dataclass(frozen=True)
class DiffSide:
    """Which SBOM one side of a comparison reads: a release's primary SBOM, or a chosen SBOM of the product."""

    version: str = ""
    sbom_id: int | None = None


@dataclass(frozen=True)
class SbomComparison:
    """Two SBOMs of a product and what changed from the first to the second."""

    before: Sbom
    after: Sbom
    diff: diff.SbomDiff


def _side_sbom(session: Session, actor: Principal, product: Product, side: DiffSide, name: str) -> Sbom:
    if side.sbom_id is not None:
        sbom = get_sbom(session, actor, side.sbom_id)
        if sbom.product_id != product.id:
            raise Invalid.field(f"{name}_sbom", f"SBOM #{sbom.id} is not an SBOM of {product.name}")
        if side.version and sbom.release.version != side.version:
            raise Invalid.field(
                f"{name}_sbom", f"SBOM #{sbom.id} is one of release {sbom.release.version}, not of {side.version}"
            )
        return sbom
    if not side.version:
        raise Invalid.field(name, f"name a release version (or an SBOM id in {name}_sbom)")
    release = get_release_by_version(session, actor, product.id, side.version)
    primary = session.scalar(
        select(Sbom).where(Sbom.release_id == release.id, Sbom.is_primary, Sbom.state == SbomState.PUBLISHED)
    )
    if primary is None:  # the first SBOM published for a release becomes its primary one: it has none
        raise Invalid.field(name, f"{product.name} {release.version} has no SBOM")
    return primary


def releases_with_sboms(session: Session, actor: Principal, product_id: int) -> list[Release]:
    """The product's releases that have an SBOM, oldest first in release order: those a diff can compare."""
    get_product(session, actor, product_id)
    releases = session.scalars(
        select(Release)
        .join(Sbom, Sbom.release_id == Release.id)
        .where(Release.product_id == product_id, Sbom.is_primary, Sbom.state == SbomState.PUBLISHED)
    )
    return order_releases(list(releases))


def compare_sboms(
    session: Session, actor: Principal, product_id: int, before: DiffSide, after: DiffSide
) -> SbomComparison:
    """What changed from one SBOM of the product to another (each a release's primary SBOM or a chosen one)."""
    product = get_product(session, actor, product_id)
    first = _side_sbom(session, actor, product, before, "from")
    second = _side_sbom(session, actor, product, after, "to")
    # The rows of two big SBOMs live until the diff returns, and the collector's passes over them took
    # a third of its time (bench/sbom_diff.py); nothing in them forms a cycle, so refcounting frees them.
    with collector_paused(collect=False):
        rows = diff_rows(session, first.id), diff_rows(session, second.id)
        return SbomComparison(first, second, diff.diff(*rows))


def open_original(session: Session, actor: Principal, sbom_id: int) -> tuple[Sbom, BinaryIO]:
    """The SBOM and its original bytes, checked against their hash."""
    sbom = get_sbom(session, actor, sbom_id)
    return sbom, session_blobs(session).open_verified(sbom.sha256)


def lock_release_sboms(session: Session, release_id: int) -> bool:
    """Hold the release's SBOM decisions (which import stages or publishes the same bytes, which SBOM is
    primary) until this transaction ends, so concurrent ones take turns; whether the release exists."""
    return lock_row(session, Release.id, release_id)


def _clear_primary(session: Session, release_id: int) -> None:
    # Flushed before another SBOM becomes primary: the partial unique index allows one at a time.
    session.execute(update(Sbom).where(Sbom.release_id == release_id).values(is_primary=False))
    session.flush()


def set_primary(session: Session, actor: Principal, sbom_id: int) -> Sbom:
    """Make this SBOM its release's primary one."""
    sbom = get_sbom(session, actor, sbom_id)
    authorize_upload_sbom(actor, sbom.product_id)
    lock_release_sboms(session, sbom.release_id)
    session.refresh(sbom)  # as it stands now that no other choice of the release's primary can interleave
    if sbom.is_primary:
        return sbom
    _clear_primary(session, sbom.release_id)
    session.execute(update(Sbom).where(Sbom.id == sbom.id).values(is_primary=True))
    session.refresh(sbom)
    record(
        session,
        actor,
        "sbom:document:primary",
        target_type="sbom",
        target_id=sbom.id,
        product_id=sbom.product_id,
        details={"release": sbom.release.version, "title": sbom.title},
    )
    return sbom


def set_policy(session: Session, actor: Principal, product_id: int, *, strict: bool) -> SbomPolicy:
    """Whether the product refuses SBOMs with format-only violations."""
    authorize_manage_product(actor, get_product(session, actor, product_id))
    lock_row(session, Product.id, product_id)  # two first settings at once: the second finds the first's row
    policy = session.get(SbomPolicy, product_id, populate_existing=True)
    if policy is None:
        policy = SbomPolicy(product_id=product_id, strict=strict, updated_by=actor.label)
        session.add(policy)
    elif policy.strict == strict:
        return policy
    policy.strict = strict
    policy.updated_by = actor.label
    session.flush()
    record(
        session,
        actor,
        "sbom:policy:update",
        target_type="product",
        target_id=product_id,
        product_id=product_id,
        details={"strict": strict},
    )
    return policy
