"""VEX decisions: recording, confirming and deleting them, the vulnerabilities they name, carrying them forward
to a new release, and reading them by release, component, case and vulnerability.

A decision is about one release, one vulnerability and one component (its purl's identity; '' the product
itself). The security officers of the release's product (and administrators) decide; its developers and
auditors read. Every change is one audited write. Decisions not made by an officer for this release (carried
forward, matched, a supplier's) are unconfirmed until an officer confirms or records them (docs/vex-decisions.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits, visible_products_clause
from ..boundary import text_problem
from ..db import insert_if_missing, lock_row, utcnow
from ..errors import FieldError, Forbidden, Invalid, NotFound
from ..products.models import Release
from ..products.rules import previous_release, release_sort_key
from ..products.services import get_release
from ..psirt.models import CaseKind, PsirtCase
from ..psirt.services import get_case, parse_reference
from ..psirt.vocabulary import VocabularyError, parse_cve
from ..sboms.diff import purl_identity
from .models import DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
from .rules import CdxJustification, DecisionError, Justification, Status, check_decision

MAX_NAME = 100  # characters of a vulnerability id (Vulnerability.name)
MAX_PURL = 500  # characters of a component's purl (VexDecision.component_purl)
CASE_PREFIX = "PSIRT-"
# GitHub's advisory ids: GHSA and three groups of four from a 32-letter alphabet, written in lower case.
_GHSA = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
# Other OSV ids: a database prefix in capitals (PYSEC, RUSTSEC, GO, DSA, SUSE-SU, ...) and its own entry id.
_OSV_ID = re.compile(r"[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*")
NAME_HINT = "CVE-YYYY-NNNN, GHSA-xxxx-xxxx-xxxx, an OSV id such as PYSEC-2024-1, or a case's PSIRT-YYYY-NNNN"


@dataclass(frozen=True)
class DecisionInput:
    """A decision as a door gives it (enum values as text: the service names a bad one)."""

    status: str
    justification: str | None = None
    cdx_justification: str | None = None
    impact: str = ""
    action: str = ""


@dataclass(frozen=True)
class DecisionFilter:
    """Which of a release's decisions a list shows: a status, a vulnerability, a component (any version; ''
    the product itself; None any)."""

    status: str | None = None
    vulnerability: str = ""
    component: str | None = None


# --- who may do what --------------------------------------------------------------------------------------------


def authorize_decide_vex(actor: Principal, release: Release) -> None:
    """Raise unless the actor may record the release's VEX decisions (its product's security officers)."""
    authorize(actor, Permission.VEX_DECIDE, release.product_id)


def may_decide_vex(actor: Principal, release: Release) -> bool:
    """Whether the actor may record, change and delete the release's VEX decisions."""
    return permits(authorize_decide_vex, actor, release)


def may_delete_decision(actor: Principal, decision: VexDecision) -> bool:
    """Whether the actor may delete the decision."""
    return permits(authorize_decide_vex, actor, decision.release)


def authorize_confirm_decision(actor: Principal, decision: VexDecision) -> None:
    """Raise unless the actor may confirm a decision for its release: its product's security officers, as a
    named user (the confirmation is theirs)."""
    authorize_decide_vex(actor, decision.release)
    if actor.user_id is None:
        raise Forbidden("a confirmation needs a named officer (on the command line: --as EMAIL)")


def _authorize_confirm_decision_now(actor: Principal, decision: VexDecision) -> None:
    authorize_confirm_decision(actor, decision)
    if decision.confirmed:
        raise Invalid.field("confirmed", f"already confirmed by {decision.decided_by}")


def may_confirm_decision(actor: Principal, decision: VexDecision) -> bool:
    """Whether the actor may confirm the decision now (it is unconfirmed)."""
    return permits(_authorize_confirm_decision_now, actor, decision)


# --- names and components ---------------------------------------------------------------------------------------


def vulnerability_name(text: str) -> str:
    """A vulnerability id as stored: CVE and PSIRT references in capitals, GHSA ids with a lower-case tail, other
    OSV ids as written; Invalid naming the field `vulnerability` otherwise."""
    raw = text.strip()
    upper = raw.upper()
    try:
        if upper.startswith("CVE-"):
            return parse_cve(raw)
        if upper.startswith(CASE_PREFIX):
            year, number = parse_reference(raw)
            return f"{CASE_PREFIX}{year:04d}-{number:04d}"
    except (VocabularyError, Invalid) as exc:
        raise Invalid.field("vulnerability", exc.message if isinstance(exc, Invalid) else str(exc)) from None
    if upper.startswith("GHSA-"):
        if _GHSA.fullmatch(raw):
            return "GHSA-" + raw[5:].lower()
    elif len(raw) <= MAX_NAME and raw.isascii() and _OSV_ID.fullmatch(raw):
        return raw
    shown = repr(raw if len(raw) <= 40 else raw[:40] + "...")
    raise Invalid.field("vulnerability", f"{shown} is not a vulnerability id: write {NAME_HINT}")


def component_purl(purl: str) -> str:
    """The component a decision names: the purl's identity (type, namespace and name as the purl specification
    normalises them; no version, qualifiers or subpath) written as a purl, as SBOM components are matched
    (sboms.diff.purl_identity). '' (the product itself) stays ''."""
    text = purl.strip()
    if not text:
        return ""
    found = purl_identity(text)
    if found is None:
        raise Invalid.field("component", f"not a purl: {text[:80]!r} (pkg:type/namespace/name@version)")
    kind, key = found
    if text_problem(key):  # decoded %00, %0a, %1b, U+202E...: a name no package has, and a trap in documents
        raise Invalid.field("component", "a purl's namespace and name hold no control or format characters")
    parts = key.split("/")
    try:
        written = PackageURL(type=kind, namespace="/".join(parts[1:-1]) or None, name=parts[-1]).to_string()
    except ValueError as exc:
        raise Invalid.field("component", f"not a purl: {exc}") from None
    if len(written) > MAX_PURL:
        raise Invalid.field("component", f"a component's purl has at most {MAX_PURL} characters")
    return written


# --- vulnerabilities --------------------------------------------------------------------------------------------


def vulnerability_snapshot(vulnerability: Vulnerability) -> dict[str, Any]:
    """A vulnerability as its audit events record it."""
    return {
        "name": vulnerability.name,
        "aliases": list(vulnerability.aliases),
        "cwe_ids": list(vulnerability.cwe_ids),
        "cvss_v31": vulnerability.cvss_v31,
        "cvss_v40": vulnerability.cvss_v40,
        "known_exploited": vulnerability.known_exploited,
        "source": vulnerability.source.value,
        "case_id": vulnerability.case_id,
    }


def _by_name(session: Session, name: str) -> Vulnerability | None:
    query = select(Vulnerability).where(Vulnerability.name == name)
    return session.scalar(query.execution_options(populate_existing=True))


def _case_of(session: Session, vulnerability: Vulnerability) -> PsirtCase | None:
    return session.get(PsirtCase, vulnerability.case_id) if vulnerability.case_id is not None else None


def may_see_vulnerability(session: Session, actor: Principal, vulnerability: Vulnerability) -> bool:
    """Whether the actor may know of the vulnerability: a public id (CVE, GHSA, OSV) anyone signed in; a case's
    reference only those who see the case's product, as the case itself."""
    if not vulnerability.name.startswith(CASE_PREFIX):
        return True
    case = _case_of(session, vulnerability)
    return actor.can_see(case.product_id) if case is not None else actor.is_admin


def _named(session: Session, actor: Principal, name: str) -> Vulnerability | None:
    """The vulnerability a stored-spelling id names for the actor: by its name, or a case's reference naming the
    case's vulnerability (which goes by its CVE once one is assigned); None if none the actor may see."""
    found = _by_name(session, name)
    if found is None and name.startswith(CASE_PREFIX):
        year, number = parse_reference(name)
        found = session.scalar(
            select(Vulnerability)
            .join(PsirtCase, PsirtCase.id == Vulnerability.case_id)
            .where(PsirtCase.year == year, PsirtCase.number == number)
        )
        if found is not None and not vulnerability_case(session, actor, found):
            return None
    return found if found is not None and may_see_vulnerability(session, actor, found) else None


def get_vulnerability(session: Session, actor: Principal, name: str) -> Vulnerability:
    """A vulnerability by its id (any spelling `vulnerability_name` reads; a case's reference names the case's
    vulnerability), else NotFound."""
    canonical = vulnerability_name(name)
    vulnerability = _named(session, actor, canonical)
    if vulnerability is None:
        raise NotFound(f"no vulnerability {canonical}")
    return vulnerability


def vulnerability_case(session: Session, actor: Principal, vulnerability: Vulnerability) -> PsirtCase | None:
    """The case the vulnerability is linked to, if the actor sees its product."""
    case = _case_of(session, vulnerability)
    return case if case is not None and actor.can_see(case.product_id) else None


def _inserted(session: Session, name: str, **values: Any) -> Vulnerability | None:
    """The vulnerability `name` as this session records it now; None when a row of that name is stored already
    (two officers naming a new CVE at once get one row, and one of them records it)."""
    if not insert_if_missing(session, Vulnerability, {"name": name, **values}):
        return None
    return _by_name(session, name)


def _audit_vulnerability(
    session: Session,
    actor: Principal,
    vulnerability: Vulnerability,
    before: dict[str, Any] | None,
    product_id: int,
    **details: Any,
) -> None:
    after = vulnerability_snapshot(vulnerability)
    if after == before:
        return
    record(
        session,
        actor,
        "vex:vulnerability:create" if before is None else "vex:vulnerability:update",
        target_type="vulnerability",
        target_id=vulnerability.id,
        product_id=product_id,
        details={**details, "old": before, "new": after},
    )


def case_vulnerability(session: Session, actor: Principal, case_id: int) -> Vulnerability | None:
    """The case's vulnerability as recorded, without recording it (a read: pages and lists use this)."""
    case = get_case(session, actor, case_id)
    return session.scalar(select(Vulnerability).where(Vulnerability.case_id == case.id))


def vulnerability_for_case(session: Session, actor: Principal, case_id: int) -> Vulnerability:
    """Create or bring up to date the case's vulnerability (its product's security officers): named by the case's
    first CVE id, else by its reference; its other CVE ids as aliases; CWE and CVSS copied from the case."""
    case = get_case(session, actor, case_id)
    authorize(actor, Permission.VEX_DECIDE, case.product_id)
    return _case_vulnerability(session, actor, case)


def _shared(session: Session, vulnerability: Vulnerability, product_id: int) -> bool:
    """Whether another product's decisions name the vulnerability (a CVE several products decide on)."""
    query = (
        select(VexDecision.id)
        .join(Release, Release.id == VexDecision.release_id)
        .where(VexDecision.vulnerability_id == vulnerability.id, Release.product_id != product_id)
    )
    return session.scalar(query.limit(1)) is not None


def _move_decisions(session: Session, product_id: int, old: Vulnerability, new: Vulnerability) -> None:
    """The product's decisions on `old` now name `new` (its case's CVE changed), except where the release already
    has a decision on `new` for the component: that one stands, and the old one stays with the old id."""
    taken = {
        (release_id, purl)
        for release_id, purl in session.execute(
            select(VexDecision.release_id, VexDecision.component_purl).where(VexDecision.vulnerability_id == new.id)
        )
    }
    moving = session.scalars(
        select(VexDecision)
        .join(Release, Release.id == VexDecision.release_id)
        .where(VexDecision.vulnerability_id == old.id, Release.product_id == product_id)
    )
    for decision in moving:
        if (decision.release_id, decision.component_purl) not in taken:
            decision.vulnerability_id = new.id


def _case_vulnerability(session: Session, actor: Principal, case: PsirtCase) -> Vulnerability:
    """The case's vulnerability, recorded or brought up to date. A row other products decide on, or one known before
    the case (imported, named by an officer), is never renamed and never loses what it holds: when the case's CVE
    changes, the case moves to the new id with its own product's decisions. The case's own facts (other CVE ids,
    CWE, CVSS, active exploitation) fill a row only where it is empty, and only while the row is private (named by
    the case's reference) or the case is not under embargo: a CVE's row is visible to every signed-in reader."""
    lock_row(session, PsirtCase.id, case.id)  # two officers at once: one row for the case, renamed once
    wanted = case.cve_ids[0] if case.cve_ids else case.reference
    own = session.scalar(
        select(Vulnerability).where(Vulnerability.case_id == case.id).execution_options(populate_existing=True)
    )
    before = vulnerability_snapshot(own) if own is not None else None
    if own is not None and own.name != wanted:
        holder = _by_name(session, wanted)
        if holder is None and own.source is VulnerabilitySource.CASE and not _shared(session, own, case.product_id):
            own.name = wanted  # a CVE was assigned to the case's own row: the decisions stay with it
        elif holder is None or holder.case_id is None:
            target = holder or _inserted(session, wanted, source=VulnerabilitySource.CASE) or _by_name(session, wanted)
            assert target is not None
            target_before = vulnerability_snapshot(target) if holder is not None else None
            own.case_id = None
            session.flush()
            target.case_id = case.id
            _move_decisions(session, case.product_id, own, target)
            session.flush()
            _audit_vulnerability(session, actor, own, before, case.product_id, case=case.reference, unlinked=True)
            own, before = target, target_before
    if own is None:
        holder = _by_name(session, wanted)
        if holder is None or holder.case_id is not None:
            # Another product's case may hold the CVE already: this case's vulnerability then goes by its reference.
            name = wanted if holder is None else case.reference
            own = _inserted(session, name, source=VulnerabilitySource.CASE, case_id=case.id)
            holder = _by_name(session, name) if own is None else None  # named by an officer meanwhile
        if holder is not None:  # known before the case named it (imported, or named by an officer): linked
            own, before = holder, vulnerability_snapshot(holder)
            own.case_id = case.id
        assert own is not None
    if own.name.startswith(CASE_PREFIX) or not case.under_embargo(utcnow().date()):
        if own.source is VulnerabilitySource.CASE and not _shared(session, own, case.product_id):
            # The case's own row follows the case.
            own.aliases = [cve for cve in case.cve_ids if cve != own.name]
            own.cwe_ids = list(case.cwe_ids)
            own.cvss_v31, own.cvss_v40 = case.cvss_v31, case.cvss_v40
        else:  # a row others read too: the case adds what it lacks, and changes nothing it holds
            own.aliases = [*own.aliases, *(c for c in case.cve_ids if c != own.name and c not in own.aliases)]
            own.cwe_ids = own.cwe_ids or list(case.cwe_ids)
            own.cvss_v31, own.cvss_v40 = own.cvss_v31 or case.cvss_v31, own.cvss_v40 or case.cvss_v40
        if case.kind is CaseKind.VULNERABILITY and case.aware_at is not None and not case.exercise:
            own.known_exploited = True  # active exploitation known; never unset here (a KEV listing stays)
    session.flush()
    _audit_vulnerability(session, actor, own, before, case.product_id, case=case.reference)
    return own


def _decided_vulnerability(session: Session, actor: Principal, release: Release, name: str) -> Vulnerability:
    """The vulnerability a decision for `release` names: a case of the release's product by its reference (its
    vulnerability, recorded as needed), or a public id, recorded the first time an officer names it."""
    if name.startswith(CASE_PREFIX):
        year, number = parse_reference(name)
        case = session.scalar(
            select(PsirtCase).where(
                PsirtCase.year == year, PsirtCase.number == number, PsirtCase.product_id == release.product_id
            )
        )
        if case is None:  # another product's case reads as one that does not exist
            raise Invalid.field("vulnerability", f"{release.product.name} has no case {name}")
        return _case_vulnerability(session, actor, case)
    found = _by_name(session, name)
    if found is None:
        found = _inserted(session, name, source=VulnerabilitySource.OFFICER)
        if found is None:  # another officer named it meanwhile
            return _decided_vulnerability(session, actor, release, name)
        _audit_vulnerability(session, actor, found, None, release.product_id)
    return found


# --- decisions --------------------------------------------------------------------------------------------------


def decision_snapshot(decision: VexDecision | None) -> dict[str, Any] | None:
    """A decision as its audit events record it (None: no decision)."""
    if decision is None:
        return None
    return {
        "status": decision.status.value,
        "justification": decision.justification.value if decision.justification else None,
        "cdx_justification": decision.cdx_justification.value if decision.cdx_justification else None,
        "impact": decision.impact,
        "action": decision.action,
        "confirmed": decision.confirmed,
        "origin": decision.origin.value,
    }


def _enum(kind: type[Any], value: str | None, field: str) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise Invalid.field(field, f"unknown {field.replace('_', ' ')} {value!r} (one of: {choices})") from None


def _checked(data: DecisionInput) -> tuple[Status, Justification | None, CdxJustification | None, str, str]:
    """The decision's values, refused as the VEX formats would refuse them (rules.check_decision)."""
    status = _enum(Status, data.status, "status")
    if status is None:
        raise Invalid.field("status", "a status is required")
    justification = _enum(Justification, data.justification, "justification")
    cdx = _enum(CdxJustification, data.cdx_justification, "cdx_justification")
    impact, action = data.impact.strip(), data.action.strip()
    errors = [
        FieldError(name, problem)
        for name, text in (("impact", impact), ("action", action))
        if (problem := text_problem(text, multi_line=True))
    ]
    if errors:
        raise Invalid("the decision was not recorded", errors=errors)
    try:
        check_decision(status, justification, cdx, impact, action)
    except DecisionError as exc:
        raise Invalid(str(exc)) from None
    return status, justification, cdx, impact, action


def _decision_query(release_id: int, vulnerability_id: int, component: str) -> Select[VexDecision]:
    return select(VexDecision).where(
        VexDecision.release_id == release_id,
        VexDecision.vulnerability_id == vulnerability_id,
        VexDecision.component_purl == component,
    )


def _audit(session: Session, actor: Principal, action: str, decision: VexDecision, **details: Any) -> None:
    release = decision.release
    record(
        session,
        actor,
        f"vex:decision:{action}",
        target_type="vex_decision",
        target_id=decision.id,
        product_id=release.product_id,
        details={
            "release": release.version,
            "vulnerability": decision.vulnerability.name,
            "component": decision.component_purl,
            **details,
        },
    )


def record_decision(
    session: Session,
    actor: Principal,
    release_id: int,
    vulnerability: str,
    data: DecisionInput,
    *,
    component: str = "",
    origin: DecisionOrigin = DecisionOrigin.OFFICER,
) -> VexDecision:
    """Record or change the release's decision on a vulnerability in a component ('' the product itself): its
    security officers. An officer's decision is confirmed; one of another origin (a match, a supplier's
    statement) is a proposal until an officer confirms it, and never replaces a confirmed decision (that one is
    returned unchanged). Every change is audited, old and new."""
    release = get_release(session, actor, release_id)
    authorize_decide_vex(actor, release)
    status, justification, cdx, impact, action = _checked(data)
    component = component_purl(component)
    name = vulnerability_name(vulnerability)
    lock_row(session, Release.id, release.id)  # decisions on a release take turns: each sees the one before
    found = _decided_vulnerability(session, actor, release, name)
    query = _decision_query(release.id, found.id, component)
    decision = session.scalar(query.execution_options(populate_existing=True))
    if decision is not None and decision.confirmed and origin is not DecisionOrigin.OFFICER:
        return decision  # a proposal never replaces what an officer stands by
    old = decision_snapshot(decision)
    if decision is None:
        decision = VexDecision(release=release, vulnerability=found, component_purl=component)
        session.add(decision)
    decision.status, decision.justification, decision.cdx_justification = status, justification, cdx
    decision.impact, decision.action = impact, action
    decision.confirmed, decision.origin = origin is DecisionOrigin.OFFICER, origin
    new = decision_snapshot(decision)
    if new == old:
        return decision  # nothing changed: not even who decided, or when
    decision.decided_by, decision.decided_at = actor.label, utcnow()
    session.flush()
    _audit(session, actor, "update" if old else "create", decision, old=old, new=new)
    return decision


def get_decision(session: Session, actor: Principal, decision_id: int) -> VexDecision:
    """A decision of a release the actor sees, else NotFound."""
    decision = session.get(VexDecision, decision_id)
    if decision is None or not actor.can_see(decision.release.product_id):
        raise NotFound("no such VEX decision")
    get_release(session, actor, decision.release_id)  # the product's read permission, as every read
    return decision


def find_decision(
    session: Session, actor: Principal, release_id: int, vulnerability: str, component: str = ""
) -> VexDecision | None:
    """The release's decision on a vulnerability in a component, if one is recorded."""
    release = get_release(session, actor, release_id)
    found = _named(session, actor, vulnerability_name(vulnerability))
    if found is None:
        return None
    return session.scalar(_decision_query(release.id, found.id, component_purl(component)))


def _locked(session: Session, actor: Principal, decision_id: int) -> VexDecision:
    """The decision as it stands once its release's decisions are ours (another officer may have changed it)."""
    decision = get_decision(session, actor, decision_id)
    lock_row(session, Release.id, decision.release_id)
    session.refresh(decision)
    return decision


def confirm_decision(session: Session, actor: Principal, decision_id: int) -> VexDecision:
    """Stand by an unconfirmed decision (carried forward, matched, a supplier's) for its release: it becomes the
    confirming officer's."""
    decision = _locked(session, actor, decision_id)
    _authorize_confirm_decision_now(actor, decision)
    origin = decision.origin.value
    decision.confirmed = True
    decision.decided_by, decision.decided_at = actor.label, utcnow()
    session.flush()
    _audit(session, actor, "confirm", decision, status=decision.status.value, origin=origin)
    return decision


def delete_decision(session: Session, actor: Principal, decision_id: int) -> None:
    """Delete a decision (its release's security officers): the audit event keeps what it said."""
    decision = _locked(session, actor, decision_id)
    authorize_decide_vex(actor, decision.release)
    _audit(session, actor, "delete", decision, old=decision_snapshot(decision))
    session.delete(decision)
    session.flush()


def copy_decisions_forward(session: Session, *, release: Release, actor: Principal) -> None:
    """A new release starts with the previous release's decisions (connected to release_created), carried forward
    and unconfirmed: they were decided for the previous release."""
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    if previous is None:
        return
    copied = 0
    for decision in session.scalars(select(VexDecision).where(VexDecision.release_id == previous.id)):
        session.add(
            VexDecision(
                release_id=release.id,
                vulnerability_id=decision.vulnerability_id,
                component_purl=decision.component_purl,
                status=decision.status,
                justification=decision.justification,
                cdx_justification=decision.cdx_justification,
                impact=decision.impact,
                action=decision.action,
                confirmed=False,
                origin=DecisionOrigin.CARRIED,
                decided_by=decision.decided_by,
                decided_at=decision.decided_at,
            )
        )
        copied += 1
    if copied:
        session.flush()
        record(
            session,
            actor,
            "vex:decision:copy",
            target_type="release",
            target_id=release.id,
            product_id=release.product_id,
            details={"from": previous.version, "decisions": copied},
        )


# --- reading ----------------------------------------------------------------------------------------------------


def _in_release_order(decisions: Iterable[VexDecision]) -> list[VexDecision]:
    """Decisions by product, release order (docs/architecture.md), vulnerability and component."""
    return sorted(
        decisions,
        key=lambda d: (d.release.product_id, release_sort_key(d.release), d.vulnerability.name, d.component_purl),
    )


def list_decisions(
    session: Session, actor: Principal, release_id: int, where: DecisionFilter = DecisionFilter()
) -> list[VexDecision]:
    """A release's decisions by vulnerability and component, filtered."""
    release = get_release(session, actor, release_id)
    query = select(VexDecision).where(VexDecision.release_id == release.id)
    if where.status:
        query = query.where(VexDecision.status == _enum(Status, where.status, "status"))
    if where.vulnerability.strip():
        found = _named(session, actor, vulnerability_name(where.vulnerability))
        if found is None:
            return []
        query = query.where(VexDecision.vulnerability_id == found.id)
    if where.component is not None:
        query = query.where(VexDecision.component_purl == component_purl(where.component))
    return _in_release_order(session.scalars(query))


def _visible(actor: Principal, query: Select[VexDecision]) -> Select[VexDecision]:
    """The query limited to decisions of releases of the products the actor sees, their products loaded with them
    (the lists name each release's product)."""
    return (
        query.join(Release, Release.id == VexDecision.release_id)
        .where(visible_products_clause(actor, Release.product_id))
        .options(joinedload(VexDecision.release).joinedload(Release.product))
    )


def component_decisions(session: Session, actor: Principal, purl: str) -> list[VexDecision]:
    """The decisions on a component (any version of its purl) in every release the actor sees."""
    if not purl.strip():
        raise Invalid.field("component", "name the component by its purl")
    query = select(VexDecision).where(VexDecision.component_purl == component_purl(purl))
    return _in_release_order(session.scalars(_visible(actor, query)))


def vulnerability_decisions(session: Session, actor: Principal, name: str) -> list[VexDecision]:
    """The decisions on a vulnerability in every release the actor sees."""
    vulnerability = get_vulnerability(session, actor, name)
    query = select(VexDecision).where(VexDecision.vulnerability_id == vulnerability.id)
    return _in_release_order(session.scalars(_visible(actor, query)))


def case_decisions(session: Session, actor: Principal, case_id: int) -> list[VexDecision]:
    """The decisions on the case's vulnerability in the releases the actor sees (none before it is recorded)."""
    vulnerability = case_vulnerability(session, actor, case_id)
    if vulnerability is None:
        return []
    query = select(VexDecision).where(VexDecision.vulnerability_id == vulnerability.id)
    return _in_release_order(session.scalars(_visible(actor, query)))
