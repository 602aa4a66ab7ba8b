"""A release's Annex II user information and the data of its EU declaration of conformity (Annex V), with its
conformity route (Art. 32) and the standards applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from ..audit.rules import field_changes
from ..audit.services import record
from ..auth import Principal
from ..boundary import text_problem
from ..catalog.models import CatalogEdition, Requirement, RequirementLink
from ..catalog.services import newest_mapping
from ..db import lock_row
from ..errors import FieldError, Invalid
from ..evidence.models import Evidence
from ..evidence.queries import EvidenceQuery, list_evidence, with_revisions
from ..installation import installation
from ..products.models import Release
from ..products.rules import previous_release
from ..products.services import get_release
from . import rules
from .applicability import CRA_STANDARD, authorize_keep_file, stands_for
from .models import Declaration, UserInformation
from .rules import ConformityRoute, PresumptionBasis, RouteRules


def route_rules(session: Session) -> RouteRules:
    """The legal facts the route check depends on, from the installation's settings."""
    facts = installation(session).cra
    return RouteRules(
        cited_standards=tuple(facts.harmonised_standards), critical_scheme_required=facts.critical_scheme_required
    )


# --- Annex II user information ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRequirement:
    """A requirement the release's mapping version maps to an Annex II item, and the release's evidence for it."""

    standard: str
    ref: str
    rationale: str  # names the sub-point of Annex II point 8 it serves
    evidence: tuple[tuple[int, str], ...]  # (id, title) of the evidence of the release linked to it


@dataclass(frozen=True)
class UserInformationView:
    """One Annex II item of a release: what is recorded, what the tracker suggests, and what the mapping offers."""

    ref: str
    title: str
    text: str
    evidence: tuple[int, str, str] | None  # (id, title, review state of its current revision)
    suggestion: str  # a starting text from what the tracker knows; never stored until saved
    mapped: tuple[ItemRequirement, ...]
    warning: str = ""  # a recorded text that no longer fits the release (another version named)

    @property
    def recorded(self) -> bool:
        """Whether the item has a text or a document."""
        return bool(self.text or self.evidence)


@dataclass(frozen=True)
class EvidenceChoice:
    """An evidence item an Annex II item may name: the product's or the organisation's, covering the release."""

    id: int
    title: str
    state: str
    scope: str


@dataclass(frozen=True)
class UserInformationInput:
    """An Annex II item as an officer records it: neither text nor document removes it."""

    text: str = ""
    evidence_id: int | None = None


def _release_evidence(session: Session, actor: Principal, release: Release) -> list[Evidence]:
    """The evidence that may stand for the release: its product's (release-scoped only if naming it) and the
    organisation's."""
    return list_evidence(session, actor, EvidenceQuery(release.product_id, release.id, include_organisation=True))


def _mapped(session: Session, release: Release, evidence: Sequence[Evidence]) -> dict[str, tuple[ItemRequirement, ...]]:
    """Per Annex II item, the requirements the release's pinned mapping version maps to it (its newest when it
    pinned none), with the release's evidence linked to each: a fixed number of statements."""
    mapping_id = release.cra_mapping_id
    if mapping_id is None:
        newest = newest_mapping(session)
        if newest is None:
            return {}
        mapping_id = newest.id
    target = aliased(Requirement)
    links = session.scalars(
        select(RequirementLink)
        .join(target, RequirementLink.target_id == target.id)
        .join(CatalogEdition, CatalogEdition.id == target.edition_id)
        .where(
            RequirementLink.mapping_id == mapping_id,
            CatalogEdition.standard == CRA_STANDARD,
            target.ref.in_({rules.mapping_target(ref) for ref in rules.USER_INFORMATION_REFS}),
        )
        .options(
            selectinload(RequirementLink.source).selectinload(Requirement.edition),
            selectinload(RequirementLink.target),
        )
    ).all()
    # Requirement ids differ between editions; their refs (SG-3, CR 1.1) do not, and name one requirement.
    by_ref: dict[str, list[tuple[int, str]]] = {}
    for item in evidence:
        for linked in item.current.requirement_links:
            by_ref.setdefault(linked.requirement.ref, []).append((item.id, item.current.title))
    found: dict[str, list[ItemRequirement]] = {}
    ordered = sorted(links, key=lambda link: (link.source.edition.standard, link.source.position))
    for ref in rules.USER_INFORMATION_REFS:
        for link in ordered:
            assert link.target is not None  # joined on it above
            if link.target.ref == rules.mapping_target(ref) and rules.serves_item(ref, link.rationale):
                found.setdefault(ref, []).append(
                    ItemRequirement(
                        link.source.edition.standard,
                        link.source.ref,
                        link.rationale,
                        tuple(by_ref.get(link.source.ref, ())),
                    )
                )
    return {ref: tuple(items) for ref, items in found.items()}


def _records(session: Session, release: Release) -> dict[str, UserInformation]:
    rows = session.scalars(
        select(UserInformation)
        .where(UserInformation.release_id == release.id)
        .execution_options(populate_existing=True)  # as it stands now, not as this session first read it
    )
    return {row.ref: row for row in rows}


def _evidence_by_id(session: Session, ids: Iterable[int], known: Sequence[Evidence] = ()) -> dict[int, Evidence]:
    """Evidence items by id, those in `known` without another statement."""
    found = {item.id: item for item in known}
    missing = set(ids) - found.keys()
    if missing:
        rows = session.scalars(select(Evidence).where(Evidence.id.in_(missing)).options(*with_revisions()))
        found.update({item.id: item for item in rows})
    return found


def user_information(session: Session, actor: Principal, release_id: int) -> list[UserInformationView]:
    """Every Annex II item of the release, in the Annex's order: recorded text and document, the tracker's
    suggestion, and the requirements (with the release's evidence) the pinned mapping maps to it."""
    release = get_release(session, actor, release_id)
    product = release.product
    records = _records(session, release)
    evidence = _release_evidence(session, actor, release)
    documents = _evidence_by_id(session, (r.evidence_id for r in records.values() if r.evidence_id), evidence)
    declared = session.get(Declaration, release.id)
    suggestions = rules.user_information_suggestions(
        vendor=product.vendor,
        security_contact=product.security_contact,
        cvd_policy_url=product.cvd_policy_url,
        name=product.name,
        component_type=product.component_type.value,
        version=release.version,
        declaration_url=declared.declaration_url if declared else "",
        support_ends=product.support_period_end,
    )
    mapped = _mapped(session, release, evidence)
    views = []
    for ref, title in rules.USER_INFORMATION_ITEMS:
        row = records.get(ref)
        document = documents.get(row.evidence_id) if row is not None and row.evidence_id else None
        text = row.text if row is not None else ""
        views.append(
            UserInformationView(
                ref=ref,
                title=title,
                text=text,
                evidence=(document.id, document.current.title, document.current.state.value) if document else None,
                suggestion=suggestions.get(ref, ""),
                mapped=mapped.get(ref, ()),
                warning=rules.version_warning(text, release.version) if ref == "AII.3" else "",
            )
        )
    return views


def evidence_choices(session: Session, actor: Principal, release_id: int) -> list[EvidenceChoice]:
    """The documents an Annex II item of the release may name, newest first."""
    release = get_release(session, actor, release_id)
    return [
        EvidenceChoice(item.id, item.current.title, item.current.state.value, item.scope.value)
        for item in _release_evidence(session, actor, release)
    ]


def _evidence_problems(
    session: Session, actor: Principal, release: Release, items: Mapping[str, UserInformationInput]
) -> list[FieldError]:
    """What is wrong with the documents the items name (one statement for all of them)."""
    wanted = {ref: item.evidence_id for ref, item in items.items() if item.evidence_id is not None}
    found = _evidence_by_id(session, wanted.values())
    errors = []
    for ref, evidence_id in wanted.items():
        where = f"items.{ref}.evidence_id"
        item = found.get(evidence_id)
        if item is None or (item.product_id is not None and not actor.can_see(item.product_id)):
            errors.append(FieldError(where, f"no evidence #{evidence_id}"))
        elif item.product_id not in (None, release.product_id):
            errors.append(
                FieldError(
                    where, f"#{evidence_id} is another product's evidence: name this product's or the organisation's"
                )
            )
        elif not stands_for(item, release):
            errors.append(
                FieldError(where, f"#{evidence_id} covers other releases of the product, not {release.version}")
            )
    return errors


def record_user_information(
    session: Session, actor: Principal, release_id: int, items: Mapping[str, UserInformationInput]
) -> list[UserInformation]:
    """Record the named Annex II items of a release (the others stay as they are): every item is checked before
    anything is written; an item with neither text nor document is removed. Returns the release's items."""
    release = get_release(session, actor, release_id)
    authorize_keep_file(actor, release.product_id)
    errors = []
    for ref, item in items.items():
        if ref not in rules.USER_INFORMATION_REFS:
            errors.append(
                FieldError(
                    f"items.{ref}",
                    f"{ref[:20]!r} is not an Annex II item (one of: {', '.join(rules.USER_INFORMATION_REFS)})",
                )
            )
        elif len(rules.clean_text(item.text)) > rules.USER_INFORMATION_TEXT_MAX:
            errors.append(FieldError(f"items.{ref}.text", f"at most {rules.USER_INFORMATION_TEXT_MAX:,} characters"))
        elif problem := text_problem(item.text, multi_line=True):
            errors.append(FieldError(f"items.{ref}.text", problem))
    errors += _evidence_problems(
        session, actor, release, {r: i for r, i in items.items() if r in rules.USER_INFORMATION_REFS}
    )
    if errors:
        raise Invalid("the user information was not recorded", errors=errors)

    # Officers saving at the same moment go one after the other, so each audited "old" is what stood.
    lock_row(session, Release.id, release.id)
    records = _records(session, release)
    now = installation(session).now()
    changes: dict[str, dict[str, Any]] = {}
    for ref in rules.USER_INFORMATION_REFS:
        if ref not in items:
            continue
        text, evidence_id = rules.clean_text(items[ref].text), items[ref].evidence_id
        row = records.get(ref)
        old = {"text": row.text, "evidence_id": row.evidence_id} if row is not None else None
        new = {"text": text, "evidence_id": evidence_id} if text or evidence_id is not None else None
        if old == new:
            continue
        changes[ref] = {"old": old, "new": new}
        if row is not None and new is None:
            session.delete(row)
            del records[ref]
        elif row is None:
            records[ref] = UserInformation(
                release_id=release.id,
                ref=ref,
                text=text,
                evidence_id=evidence_id,
                updated_by=actor.label,
                updated_at=now,
            )
            session.add(records[ref])
        else:
            row.text, row.evidence_id, row.updated_by, row.updated_at = text, evidence_id, actor.label, now
    if changes:
        session.flush()
        record(
            session,
            actor,
            "cra:user-information:record",
            target_type="release",
            target_id=release.id,
            product_id=release.product_id,
            details=changes,
        )
    return [records[ref] for ref in rules.USER_INFORMATION_REFS if ref in records]


# --- the declaration of conformity ---------------------------------------------------------------------------------

# Longest accepted values: the columns' lengths for one-line fields, a page of text for the others.
LINE_LIMITS = {
    "manufacturer_name": 300,
    "presumption_basis_reference": 300,
    "notified_body_name": 300,
    "notified_body_number": 4,
    "certificate_reference": 300,
    "declaration_url": 1000,
    "place_of_issue": 200,
    "signatory_name": 200,
    "signatory_function": 200,
}
TEXT_LIMITS = {
    "manufacturer_address": 4000,
    "representative": 4000,
    "product_identification": 4000,
    "object_description": 4000,
}


@dataclass(frozen=True)
class DeclarationInput:
    """The data of a release's EU declaration of conformity (Annex V) as an officer records it."""

    manufacturer_name: str = ""
    manufacturer_address: str = ""
    representative: str = ""  # the authorised representative, if any
    product_identification: str = ""
    object_description: str = ""
    conformity_route: str = ""  # a rules.ConformityRoute value; "" not yet chosen
    presumption_basis: str = ""  # a rules.PresumptionBasis value, only for module A of class I
    presumption_basis_reference: str = ""
    notified_body_name: str = ""
    notified_body_number: str = ""
    certificate_reference: str = ""
    other_standards: list[str] = field(default_factory=list)  # besides IEC 62443-4-1 and 4-2
    declaration_url: str = ""
    place_of_issue: str = ""
    date_of_issue: date | None = None
    signatory_name: str = ""
    signatory_function: str = ""


def _snapshot(declaration: Declaration | None) -> dict[str, Any]:
    """A declaration's recorded data as plain values (the empty declaration for None)."""
    if declaration is None:
        return _values(DeclarationInput(), [])
    return {
        **{name: getattr(declaration, name) for name in (*LINE_LIMITS, *TEXT_LIMITS)},
        "conformity_route": declaration.conformity_route.value if declaration.conformity_route else "",
        "presumption_basis": declaration.presumption_basis.value if declaration.presumption_basis else "",
        "other_standards": list(declaration.other_standards),
        "date_of_issue": declaration.date_of_issue,
    }


def _values(data: DeclarationInput, standards: list[str]) -> dict[str, Any]:
    """The input as it is stored: text trimmed, the other standards cleaned."""
    return {
        **{name: getattr(data, name).strip() for name in LINE_LIMITS},
        **{name: rules.clean_text(getattr(data, name)) for name in TEXT_LIMITS},
        "conformity_route": data.conformity_route.strip(),
        "presumption_basis": data.presumption_basis.strip(),
        "other_standards": standards,
        "date_of_issue": data.date_of_issue,
    }


def declaration_problems(category: str, values: Mapping[str, Any], route_facts: RouteRules) -> list[FieldError]:
    """Everything wrong with a declaration's data for a product of `category` (pure, over stored values)."""
    errors = []
    for name, limit in LINE_LIMITS.items():
        if problem := text_problem(values[name]):
            errors.append(FieldError(name, problem))
        elif len(values[name]) > limit and name != "notified_body_number":
            errors.append(FieldError(name, f"at most {limit} characters"))
    for name, limit in TEXT_LIMITS.items():
        if problem := text_problem(values[name], multi_line=True):
            errors.append(FieldError(name, problem))
        elif len(values[name]) > limit:
            errors.append(FieldError(name, f"at most {limit:,} characters"))
    route, basis, reference = (
        values["conformity_route"],
        values["presumption_basis"],
        values["presumption_basis_reference"],
    )
    errors += rules.route_problems(category, route, basis, reference, route_facts)
    errors += rules.basis_problems(category, route, basis, reference)
    errors += rules.notified_body_problems(route, values["notified_body_name"], values["notified_body_number"])
    if problem := rules.url_problem(values["declaration_url"]):
        errors.append(FieldError("declaration_url", problem))
    # One error per field and message: the route's rule and the basis' may say the same thing twice.
    return list(dict.fromkeys(errors))


def _apply(declaration: Declaration, values: Mapping[str, Any]) -> None:
    """Set a declaration's data from stored values (`_values`, `_snapshot`)."""
    for name, value in values.items():
        if name not in ("conformity_route", "presumption_basis"):
            setattr(declaration, name, value)
    route, basis = values["conformity_route"], values["presumption_basis"]
    declaration.conformity_route = ConformityRoute(route) if route else None
    declaration.presumption_basis = PresumptionBasis(basis) if basis else None


def record_declaration(session: Session, actor: Principal, release_id: int, data: DeclarationInput) -> Declaration:
    """Record the data of the release's EU declaration of conformity (all of it, as given), with a conformity
    route its product's category allows; nothing is written when anything is wrong or nothing changed."""
    release = get_release(session, actor, release_id)
    authorize_keep_file(actor, release.product_id)
    standards, errors = rules.other_standards(data.other_standards)
    after = _values(data, standards)
    errors = declaration_problems(release.product.cra_category.value, after, route_rules(session)) + errors
    if errors:
        raise Invalid("the declaration was not recorded", errors=errors)

    lock_row(session, Release.id, release.id)  # one writer at a time: each audited "old" is what stood
    declaration = session.get(Declaration, release.id, populate_existing=True)
    before = _snapshot(declaration)
    created = declaration is None
    if declaration is None:
        declaration = Declaration(release_id=release.id)
        session.add(declaration)
    elif before == after:
        return declaration
    _apply(declaration, after)
    declaration.updated_by, declaration.updated_at = actor.label, installation(session).now()
    session.flush()
    changes = field_changes(before, after)
    record(
        session,
        actor,
        "cra:declaration:record",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={"created": True, **changes} if created else changes,
    )
    return declaration


def declaration(session: Session, actor: Principal, release_id: int) -> Declaration | None:
    """The release's declaration data, None when none is recorded."""
    release = get_release(session, actor, release_id)
    return session.get(Declaration, release.id)


def applied_standards(session: Session, actor: Principal, release_id: int) -> list[str]:
    """The standards the release's file records as applied: IEC 62443-4-1 and 4-2 in the editions its product is
    assessed against, then the declaration's others."""
    release = get_release(session, actor, release_id)
    declared = session.get(Declaration, release.id)
    return rules.applied_62443(release.product.edition_names) + (list(declared.other_standards) if declared else [])


def standards_note(session: Session, actor: Principal, release_id: int, today: date) -> str:
    """What the file says of the standards applied as of `today`: IEC 62443 gives no presumption of conformity
    unless the settings list it among the cited harmonised standards."""
    return rules.standards_statement(applied_standards(session, actor, release_id), route_rules(session), today)


@dataclass(frozen=True)
class DeclarationView:
    """A release's declaration data with what its pages show beside it."""

    release: Release
    declaration: Declaration | None  # None: nothing recorded yet
    routes: tuple[ConformityRoute, ...]  # the routes the product's category allows
    route_note: str  # why those
    applied_standards: tuple[str, ...]
    standards_statement: str
    warnings: tuple[str, ...]  # recorded data that no longer fits (a route the category closed, another version)
    suggested: dict[str, str]  # starting values of a declaration not yet recorded, by field


def declaration_view(session: Session, actor: Principal, release_id: int, today: date) -> DeclarationView:
    """The release's declaration, the routes open to its product, the standards applied and what the file says of
    them as of `today`."""
    release = get_release(session, actor, release_id)
    declared = session.get(Declaration, release.id)
    facts = route_rules(session)
    category = release.product.cra_category.value
    applied = applied_standards(session, actor, release.id)
    warnings = []
    if declared is not None:
        values = _snapshot(declared)
        # A route chosen before the product's category or the cited standards changed.
        warnings += [
            e.message.rstrip(".")
            for e in rules.route_problems(
                category,
                values["conformity_route"],
                values["presumption_basis"],
                values["presumption_basis_reference"],
                facts,
            )
        ]
        warnings += [w for w in [rules.version_warning(declared.product_identification, release.version)] if w]
    product = release.product
    suggested = {
        "manufacturer_name": product.vendor,
        "product_identification": rules.product_identification(
            product.name, product.component_type.value, release.version
        ),
    }
    return DeclarationView(
        release=release,
        declaration=declared,
        routes=rules.allowed_routes(category, facts),
        route_note=rules.route_note(category, facts),
        applied_standards=tuple(applied),
        standards_statement=rules.standards_statement(applied, facts, today),
        warnings=tuple(warnings),
        suggested={name: text for name, text in suggested.items() if text},
    )


# --- a new release starts with the previous one's ---------------------------------------------------------------


def copy_forward(session: Session, *, release: Release, actor: Principal) -> None:
    """A new release starts with the previous release's user information and declaration data (connected to
    products.signals.release_created): a document that does not cover the new release is not carried, and the
    declaration's date of issue is left for the new declaration to set."""
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    if previous is None:
        return
    items = session.scalars(select(UserInformation).where(UserInformation.release_id == previous.id)).all()
    documents = _evidence_by_id(session, (i.evidence_id for i in items if i.evidence_id is not None))
    copied_by = f"copied from {previous.version}"
    now = installation(session).now()
    copied, not_carried = [], []
    for item in items:
        document = documents.get(item.evidence_id) if item.evidence_id is not None else None
        evidence_id = document.id if document is not None and stands_for(document, release) else None
        if item.evidence_id is not None and evidence_id is None:
            not_carried.append(item.ref)
        if not item.text and evidence_id is None:
            continue
        session.add(
            UserInformation(
                release_id=release.id,
                ref=item.ref,
                text=item.text,
                evidence_id=evidence_id,
                updated_by=copied_by,
                updated_at=now,
            )
        )
        copied.append(item.ref)
    old = session.get(Declaration, previous.id)
    if old is not None:
        new = Declaration(release_id=release.id, updated_by=copied_by, updated_at=now)
        _apply(new, {**_snapshot(old), "date_of_issue": None})
        session.add(new)
    if not copied and old is None:
        return
    session.flush()
    record(
        session,
        actor,
        "cra:declarations:copy",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={
            "from": previous.version,
            "user_information": sorted(copied, key=rules.USER_INFORMATION_REFS.index),
            "documents_not_carried": sorted(not_carried, key=rules.USER_INFORMATION_REFS.index),
            "declaration": old is not None,
        },
    )
