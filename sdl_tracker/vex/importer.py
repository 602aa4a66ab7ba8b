"""Known vulnerabilities in: an OSV, KEV or supplier VEX file read, matched against the components of every
release's primary SBOM, and written as vulnerabilities and proposed decisions, in phases (DESIGN.md).

The file is read and matched outside any transaction (`feeds`, `matching`: pure); the releases' components are
read in one short read-only unit; the writes are short transactions of at most VULNERABILITY_BATCH
vulnerabilities or DECISION_BATCH decisions, so SQLite's write lock is never held long, even for an OSV
ecosystem export. A file that cannot be read is refused whole before anything is written. A match becomes a
decision under investigation, a supplier's statement a proposal; neither ever replaces what an officer decided.
docs/vex-import.md says what each format becomes and who may import what.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, Role, permits, visible_products_clause
from ..blobs import record_blob, session_blobs
from ..boundary import one_line, text_problem
from ..db import Database, insert_missing, lock_row
from ..errors import Forbidden, Invalid
from ..evidence.rules import clean_filename
from ..evidence.services import Upload
from ..jobs.models import Job
from ..jobs.registry import DatabasePhases, JobContext, Phases, collector_paused, register
from ..jobs.services import enqueue
from ..products.models import Product, Release
from ..psirt.scoring import ScoringError, parse_vector
from ..psirt.vocabulary import VocabularyError, parse_cwe
from ..sboms.diff import purl_identity
from ..sboms.models import Sbom, SbomComponent, SbomState
from .feeds import (
    DEFAULT_LIMITS,
    FeedError,
    FeedFormat,
    KevCatalog,
    Limits,
    OsvFeed,
    OsvVulnerability,
    detect_format,
    read_feed,
)
from .matching import Component, Verdict, match_osv, match_statements
from .models import DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
from .rules import STATEMENT_MAX, DecisionError, Status, check_decision
from .services import (
    CASE_PREFIX,
    DecisionInput,
    component_purl,
    decision_snapshot,
    delete_decision,
    record_decision,
    vulnerability_name,
)
from .supplier import Statement, SupplierVex

VULN_IMPORT_KIND = "vex.import"
# Rows per write transaction: a batch of vulnerabilities is three statements and its changed rows; a decision
# is about ten statements and an audit event (tens of milliseconds a batch on SQLite).
VULNERABILITY_BATCH = 500
DECISION_BATCH = 50
MAX_LISTED = 100  # undecidable matches, unused statements and warnings named in a result; the counts are complete
MAX_TITLE = 500  # Vulnerability.title
SUPPLIER_FORMATS = frozenset({FeedFormat.CSAF, FeedFormat.CYCLONEDX})
# What a proposal of each origin may replace: never a confirmed decision, nor one carried from the previous
# release (an officer's judgement until an officer looks again); a supplier's statement replaces a match.
REPLACEABLE = {
    DecisionOrigin.MATCH: frozenset({DecisionOrigin.MATCH}),
    DecisionOrigin.SUPPLIER: frozenset({DecisionOrigin.MATCH, DecisionOrigin.SUPPLIER}),
}
# Where an imported row's facts come from: OSV data replaces what an earlier import left on rows imported
# before; a row an officer or a case named keeps its own and only gains what it lacks.
IMPORTED_SOURCES = frozenset({VulnerabilitySource.OSV, VulnerabilitySource.KEV, VulnerabilitySource.SUPPLIER})


# --- who may import ---------------------------------------------------------------------------------------------


def _officer_products(actor: Principal) -> list[int]:
    """The products whose VEX decisions the actor records as a security officer."""
    return sorted(p for p, role in actor.role_by_product.items() if role is Role.SECURITY_OFFICER and actor.can_see(p))


def authorize_import_vulnerabilities(actor: Principal, feed_format: FeedFormat | None = None) -> None:
    """Raise unless the actor may import vulnerability data (of this format; None: of some format): administrators
    any file; security officers suppliers' CSAF and CycloneDX VEX, for their own products' releases. A token must
    grant vex:decide."""
    if actor.scopes is not None and Permission.VEX_DECIDE not in actor.scopes:
        raise Forbidden(f"this token does not grant {Permission.VEX_DECIDE.value}")
    if actor.is_admin:
        return
    if not _officer_products(actor):
        raise Forbidden("only administrators and security officers import vulnerability data")
    if feed_format is not None and feed_format not in SUPPLIER_FORMATS:
        raise Forbidden(
            "only administrators import OSV records and the KEV catalog; "
            "security officers import suppliers' CSAF and CycloneDX VEX"
        )


def may_import_vulnerabilities(actor: Principal) -> bool:
    """Whether the actor may import some vulnerability data (the upload page and its link)."""
    return permits(authorize_import_vulnerabilities, actor)


# --- what an import answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """Something an import reports rather than writes: an undecidable match, or a statement it could not use."""

    vulnerability: str
    product: str  # "" when no release is concerned (a statement naming no purl)
    release: str
    component: str  # purl identity@version, or the product as the document names it
    reason: str


@dataclass
class ImportResult:
    """What one file did: its counts, and (the first MAX_LISTED of) what it could not decide or use."""

    file: str
    sha256: str
    format: str
    records: int  # OSV records, KEV entries or supplier statements in the file
    vulnerabilities_created: int = 0
    vulnerabilities_updated: int = 0
    decisions_proposed: int = 0  # made or changed: under investigation (a match) or the supplier's statement
    decisions_unchanged: int = 0  # the same proposal stood already (the file imported again)
    skipped: int = 0  # an officer's (confirmed) or carried-forward decision stands and is kept
    retracted: int = 0  # unconfirmed matches of records the file withdraws, deleted
    undecidable: int = 0  # release, vulnerability and component whose version cannot be compared
    known_exploited: int = 0  # vulnerabilities of the file that are known exploited
    unused: int = 0  # supplier statements naming no purl, or that no decision could carry
    warnings: list[str] = field(default_factory=list)
    undecidable_matches: list[Listed] = field(default_factory=list)
    unused_statements: list[Listed] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything (an import that changed nothing leaves no audit event)."""
        return bool(
            self.vulnerabilities_created or self.vulnerabilities_updated or self.decisions_proposed or self.retracted
        )

    def warn(self, message: str) -> None:
        """Note a warning; past MAX_LISTED, only their number grows in the last line."""
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(message)
        elif len(self.warnings) == MAX_LISTED:
            self.warnings.append("... more warnings were left out")

    def summary(self) -> dict[str, Any]:
        """The counts, as the import's audit event records them."""
        data = asdict(self)
        for name in ("warnings", "undecidable_matches", "unused_statements"):
            data.pop(name)
        return data


def _listed(items: list[Listed], item: Listed) -> None:
    if len(items) < MAX_LISTED:
        items.append(item)


# --- a vulnerability as the file names it -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """What a file says of one vulnerability: the names to find its row by (the preferred first), its other ids,
    and its facts; empty facts say nothing."""

    lookup: tuple[str, ...]
    aliases: tuple[str, ...]
    source: VulnerabilitySource
    title: str = ""
    description: str = ""
    cwe_ids: tuple[int, ...] = ()
    cvss_v31: str = ""
    cvss_v40: str = ""
    known_exploited: bool = False
    kev_date_added: date | None = None
    authoritative: bool = False  # OSV: replaces the facts an earlier import left


def _canonical(text: str) -> str | None:
    """A vulnerability id as stored, or None for text that is no id, or a case's reference (no file names a case)."""
    try:
        name = vulnerability_name(text)
    except Invalid:
        return None
    return None if name.startswith(CASE_PREFIX) else name


def _naming(ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(names to look the row up by, every id) of a vulnerability with these ids, the first its own: named by its
    CVE when it has exactly one (KEV, officers and CSAF go by the CVE), else by its own id; None without a usable
    name. Text that is no id (an advisory's URL) is dropped."""
    names = tuple(dict.fromkeys(n for n in map(_canonical, ids) if n))
    own = _canonical(ids[0]) if ids else None
    cves = [n for n in names if n.startswith("CVE-")]
    preferred = cves[0] if len(cves) == 1 else own
    if preferred is None:
        return None
    lookup = tuple(dict.fromkeys(n for n in (preferred, own) if n))
    return lookup, names


def _cwes(values: Iterable[str], where: str, result: ImportResult) -> tuple[int, ...]:
    found = []
    for value in values:
        try:
            found.append(parse_cwe(value))
        except VocabularyError as exc:
            result.warn(f"{where}: {value} not kept: {exc}")
    return tuple(dict.fromkeys(found))


def _vectors(record: OsvVulnerability, result: ImportResult) -> tuple[str, str]:
    """The record's first CVSS v3.1 and v4.0 vectors that score (psirt.scoring), normalised; the others dropped,
    each with a warning (a CVSS 3.0 vector would score differently as 3.1)."""
    kept = {"3.1": "", "4.0": ""}
    for score in [*record.severity, *(s for a in record.affected for s in a.severity)]:
        try:
            parsed = parse_vector(score.vector)
        except ScoringError as exc:
            result.warn(f"{record.id}: CVSS vector {score.vector[:80]!r} not kept: {exc}")
            continue
        if not kept[parsed.version]:
            kept[parsed.version] = parsed.vector
    return kept["3.1"], kept["4.0"]


def _osv_known(
    record: OsvVulnerability, exploited: dict[str, date | None], result: ImportResult
) -> tuple[_Known, tuple[str, ...]] | None:
    naming = _naming(record.ids)
    if naming is None:
        result.warn(f"{record.id[:100]}: not imported: no id of it is a vulnerability id the tracker keeps")
        return None
    lookup, names = naming
    listed = [exploited[n] for n in names if n in exploited]
    v31, v40 = _vectors(record, result)
    known = _Known(
        lookup=lookup,
        aliases=names,
        source=VulnerabilitySource.OSV,
        title=one_line(record.summary)[:MAX_TITLE],
        description=record.details,
        cwe_ids=_cwes(record.cwe_ids, record.id, result),
        cvss_v31=v31,
        cvss_v40=v40,
        known_exploited=bool(listed),
        kev_date_added=min((d for d in listed if d), default=None),
        authoritative=True,
    )
    return known, names


def _kev_known(catalog: KevCatalog, result: ImportResult) -> Iterator[_Known]:
    for entry in catalog.entries:
        name = _canonical(entry.cve_id)
        if name is None or not name.startswith("CVE-"):
            result.warn(f"{entry.cve_id[:100]}: not imported: not a CVE id")
            continue
        yield _Known(
            lookup=(name,),
            aliases=(name,),
            source=VulnerabilitySource.KEV,
            title=one_line(entry.name)[:MAX_TITLE],
            cwe_ids=_cwes(entry.cwes, name, result),
            known_exploited=True,
            kev_date_added=entry.date_added,
        )


def _supplier_known(statement: Statement, exploited: dict[str, date | None]) -> _Known | None:
    # By the statement's own id only: a supplier's cross-references are no aliases the tracker takes from it, as
    # a supplier (or an officer importing its file) cannot rewrite what every product reads of other ids.
    naming = _naming((statement.vulnerability,))
    if naming is None:
        return None
    lookup, names = naming
    listed = [exploited[n] for n in names if n in exploited]
    return _Known(
        lookup=lookup,
        aliases=names,
        source=VulnerabilitySource.SUPPLIER,
        known_exploited=bool(listed),
        kev_date_added=min((d for d in listed if d), default=None),
    )


# --- the releases' components -----------------------------------------------------------------------------------


@dataclass
class _Portfolio:
    """The components of the primary SBOMs of the releases the import may decide for, grouped by identity and
    version, which releases ship each, and which releases each is the product itself of (the SBOM's subject)."""

    components: list[Component] = field(default_factory=list)
    holders: dict[Component, list[int]] = field(default_factory=dict)
    products: dict[Component, list[int]] = field(default_factory=dict)  # the releases it is the subject of
    identity: dict[Component, str] = field(default_factory=dict)  # type/namespace/name
    shipped: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))  # release -> identities
    releases: dict[int, tuple[str, str]] = field(default_factory=dict)  # release -> (product name, version)
    _by_key: dict[tuple[str, str], Component] = field(default_factory=dict)

    def add(self, release_id: int, purl: str, version: str, key: str, *, subject: bool = False) -> None:
        """A component (or, `subject`, the product itself) of a release's primary SBOM."""
        found = Component(purl, version)
        component = self._by_key.setdefault((key, found.effective_version), found)
        if component is found:
            self.components.append(component)
            self.identity[component] = key
            self.holders[component], self.products[component] = [], []
        releases = self.products[component] if subject else self.holders[component]
        if release_id not in releases:
            releases.append(release_id)
        self.shipped[release_id].add(key)

    def targets(self, component: Component) -> Iterator[tuple[int, bool]]:
        """(release, whether it is the product itself) for each release a match on the component concerns."""
        yield from ((release_id, False) for release_id in self.holders[component])
        yield from ((release_id, True) for release_id in self.products[component])


def _read_portfolio(session: Session, actor: Principal) -> _Portfolio:
    """Every (release, component) of the primary published SBOMs of the products the actor decides for (all for
    an administrator, an officer's own otherwise), and each SBOM's subject (the product itself, when it has a
    purl: a statement about it is a decision on the product); one statement for each, one for the releases."""
    products = (
        visible_products_clause(actor, Sbom.product_id)
        if actor.is_admin
        else Sbom.product_id.in_(_officer_products(actor))
    )
    primary = (Sbom.is_primary.is_(True), Sbom.state == SbomState.PUBLISHED, products)
    rows = session.execute(
        select(Sbom.release_id, SbomComponent.purl, SbomComponent.version, SbomComponent.purl_key)
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .where(*primary, SbomComponent.purl_key != "")
        .distinct()
    )
    portfolio = _Portfolio()
    for release_id, purl, version, key in rows:
        portfolio.add(release_id, purl, version, key)
    for release_id, subject in session.execute(select(Sbom.release_id, Sbom.subject).where(*primary)):
        purl = str((subject or {}).get("purl") or "")
        identity = purl_identity(purl) if purl else None
        if identity is not None:
            portfolio.add(release_id, purl, str(subject.get("version") or ""), identity[1], subject=True)
    if portfolio.shipped:
        named = session.execute(
            select(Release.id, Product.name, Release.version)
            .join(Product, Product.id == Release.product_id)
            .where(Release.id.in_(sorted(portfolio.shipped)))
        )
        portfolio.releases = {release_id: (product, version) for release_id, product, version in named}
    return portfolio


# --- proposals --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Proposal:
    """A decision to propose for one release, vulnerability (its row's name) and component (purl identity)."""

    release_id: int
    vulnerability: str
    component: str
    data: DecisionInput
    origin: DecisionOrigin


class _Proposals:
    """The proposals of one file, each (release, vulnerability, component) once; a supplier document that says
    two different things of one of them decides nothing there."""

    def __init__(self, portfolio: _Portfolio, result: ImportResult) -> None:
        self.portfolio, self.result = portfolio, result
        self.chosen: dict[tuple[int, str, str], _Proposal | None] = {}
        self._purls: dict[str, str] = {}

    def purl(self, component: Component) -> str:
        """The component as a decision names it (its identity written as a purl)."""
        key = self.portfolio.identity[component]
        if key not in self._purls:
            self._purls[key] = component_purl(component.purl)
        return self._purls[key]

    def describe(self, component: Component) -> str:
        """`npm/lodash@4.17.20`, for the lists a result gives."""
        return f"{self.portfolio.identity[component]}@{component.effective_version}"

    def undecidable(self, vulnerability: str, component: Component, release_id: int, reason: str) -> None:
        """Report a (release, vulnerability, component) that cannot be decided."""
        product, version = self.portfolio.releases[release_id]
        self.result.undecidable += 1
        _listed(
            self.result.undecidable_matches, Listed(vulnerability, product, version, self.describe(component), reason)
        )

    def add(self, proposal: _Proposal, component: Component) -> None:
        """Propose a decision, unless the same key has another one (then neither stands: undecidable)."""
        key = (proposal.release_id, proposal.vulnerability, proposal.component)
        if key not in self.chosen:
            self.chosen[key] = proposal
            return
        earlier = self.chosen[key]
        if earlier is None or earlier.data == proposal.data:
            return
        self.chosen[key] = None
        self.undecidable(
            proposal.vulnerability,
            component,
            proposal.release_id,
            "the document makes different statements about this component's version",
        )

    def all(self) -> list[_Proposal]:
        """The proposals that stand, by release, vulnerability and component."""
        return [p for _, p in sorted(self.chosen.items(), key=lambda item: item[0]) if p is not None]


def _statement_data(statement: Statement) -> DecisionInput | str:
    """The decision a statement proposes, or why no decision can carry it (the VEX rules, the text boundary)."""
    data = DecisionInput(
        statement.status.value,
        statement.justification.value if statement.justification else None,
        statement.cdx_justification.value if statement.cdx_justification else None,
        statement.impact.strip(),
        statement.action.strip(),
    )
    try:
        check_decision(statement.status, statement.justification, statement.cdx_justification, data.impact, data.action)
    except DecisionError as exc:
        return f"the supplier's statement cannot be a decision: {exc}"
    for name, text in (("impact", data.impact), ("action", data.action)):
        problem = text_problem(text, multi_line=True) or (
            f"longer than {STATEMENT_MAX} characters" if len(text) > STATEMENT_MAX else None
        )
        if problem:
            return f"the supplier's {name} statement is not accepted: {problem}"
    return data


# --- the writes -------------------------------------------------------------------------------------------------

_FACTS = ("aliases", "title", "description", "cwe_ids", "cvss_v31", "cvss_v40", "known_exploited", "kev_date_added")


def _state(row: Vulnerability) -> dict[str, Any]:
    return {
        "aliases": list(row.aliases),
        "title": row.title,
        "description": row.description,
        "cwe_ids": list(row.cwe_ids),
        "cvss_v31": row.cvss_v31,
        "cvss_v40": row.cvss_v40,
        "known_exploited": row.known_exploited,
        "kev_date_added": row.kev_date_added,
    }


BLANK: dict[str, Any] = {
    "aliases": [],
    "title": "",
    "description": "",
    "cwe_ids": [],
    "cvss_v31": "",
    "cvss_v40": "",
    "known_exploited": False,
    "kev_date_added": None,
}


def _merged(state: dict[str, Any], name: str, replace: bool, known: _Known) -> dict[str, Any]:
    """A row's facts once the file's are added: its other ids as aliases (none lost), facts the row lacks (or,
    from OSV on an imported row, newer ones), known exploited once listed (never unset)."""
    new = dict(state)
    new["aliases"] = list(dict.fromkeys([*state["aliases"], *(a for a in known.aliases if a != name)]))
    given = {
        "title": known.title,
        "description": known.description,
        "cwe_ids": list(known.cwe_ids),
        "cvss_v31": known.cvss_v31,
        "cvss_v40": known.cvss_v40,
    }
    for key, value in given.items():
        if value and (not state[key] or (replace and known.authoritative)):
            new[key] = value
    if known.known_exploited:
        new["known_exploited"] = True
        new["kev_date_added"] = known.kev_date_added or state["kev_date_added"]
    return new


def _write_vulnerabilities(
    phases: Phases, known: list[_Known], result: ImportResult, progress: _Progress
) -> dict[str, str]:
    """Create or bring up to date each vulnerability the file names, in batches; {preferred name: row's name}."""
    rows_of: dict[str, str] = {}
    created: set[str] = set()
    updated: set[str] = set()
    exploited: set[str] = set()
    for start in range(0, len(known), VULNERABILITY_BATCH):
        batch = known[start : start + VULNERABILITY_BATCH]
        with phases.write() as session:
            wanted = sorted({name for k in batch for name in k.lookup})
            found = _rows(session, wanted)
            fresh: dict[str, dict[str, Any]] = {}
            for k in batch:
                if not any(n in found for n in k.lookup) and k.lookup[0] not in fresh:
                    facts = _merged(BLANK, k.lookup[0], True, k)
                    fresh[k.lookup[0]] = {"name": k.lookup[0], "source": k.source, "case_id": None, **facts}
            if fresh:
                insert_missing(session, Vulnerability, list(fresh.values()))
                found |= _rows(session, sorted(fresh))
                created |= set(fresh) - updated
            for k in batch:
                row = next(found[n] for n in k.lookup if n in found)
                before = _state(row)
                replace = row.source in IMPORTED_SOURCES and row.case_id is None
                # A supplier's file names a vulnerability; it never changes one the tracker knew already (what
                # every product reads of a CVE is not a supplier's, nor an officer's importing it, to rewrite).
                kept_as_is = k.source is VulnerabilitySource.SUPPLIER and row.name not in created
                after = before if kept_as_is else _merged(before, row.name, replace, k)
                if after != before:
                    for key in _FACTS:
                        setattr(row, key, after[key])
                    if row.name not in created:
                        updated.add(row.name)
                rows_of[k.lookup[0]] = row.name
                if after["known_exploited"]:
                    exploited.add(row.name)
            session.flush()
            progress.step(phases, session, len(batch))
    result.vulnerabilities_created, result.vulnerabilities_updated = len(created), len(updated)
    result.known_exploited = len(exploited)
    return rows_of


def _rows(session: Session, names: list[str]) -> dict[str, Vulnerability]:
    if not names:
        return {}
    query = select(Vulnerability).where(Vulnerability.name.in_(names)).execution_options(populate_existing=True)
    return {row.name: row for row in session.scalars(query)}


def _write_decisions(
    phases: Phases, actor: Principal, proposals: list[_Proposal], result: ImportResult, progress: _Progress
) -> None:
    """Record the proposals in batches, each decision through record_decision (audited), skipping those an
    officer's or a carried decision stands in the way of."""
    for start in range(0, len(proposals), DECISION_BATCH):
        batch = proposals[start : start + DECISION_BATCH]
        with phases.write() as session:
            for proposal in batch:
                outcome = _propose(session, actor, proposal)
                if outcome == "proposed":
                    result.decisions_proposed += 1
                elif outcome == "unchanged":
                    result.decisions_unchanged += 1
                else:
                    result.skipped += 1
            progress.step(phases, session, len(batch))


def _retract(phases: Phases, actor: Principal, names: list[str], result: ImportResult) -> None:
    """Delete the unconfirmed matches of the vulnerabilities a file withdraws (each audited as deleted): a match
    proposed from a record its database took back is no lead to triage. A decision an officer confirmed, or one
    carried forward, a supplier's or an officer's own, stays: it is someone's statement, not the record's."""
    with phases.write() as session:
        stale = session.scalars(
            select(VexDecision.id)
            .join(Vulnerability, Vulnerability.id == VexDecision.vulnerability_id)
            .where(Vulnerability.name.in_(sorted(set(names))))
            .where(VexDecision.origin == DecisionOrigin.MATCH, VexDecision.confirmed.is_(False))
        ).all()
        for decision_id in stale:
            delete_decision(session, actor, decision_id)
        result.retracted = len(stale)


def _propose(session: Session, actor: Principal, proposal: _Proposal) -> str:
    """Record one proposal unless a decision it may not replace stands: "proposed", "unchanged" or "skipped"."""
    lock_row(session, Release.id, proposal.release_id)  # as record_decision does: what is read here stays so
    existing = session.scalar(
        select(VexDecision)
        .join(Vulnerability, Vulnerability.id == VexDecision.vulnerability_id)
        .where(
            VexDecision.release_id == proposal.release_id,
            Vulnerability.name == proposal.vulnerability,
            VexDecision.component_purl == proposal.component,
        )
        .execution_options(populate_existing=True)
    )
    if existing is not None and (existing.confirmed or existing.origin not in REPLACEABLE[proposal.origin]):
        return "skipped"
    before = decision_snapshot(existing)
    decision = record_decision(
        session,
        actor,
        proposal.release_id,
        proposal.vulnerability,
        proposal.data,
        component=proposal.component,
        origin=proposal.origin,
    )
    return "unchanged" if decision_snapshot(decision) == before else "proposed"


@dataclass
class _Progress:
    """How far the writes are, for a job's page."""

    total: int
    done: int = 0

    def step(self, phases: Phases, session: Session, count: int) -> None:
        self.done += count
        phases.progress(session, self.done, self.total, "importing vulnerabilities")


# --- the import -------------------------------------------------------------------------------------------------


def import_feed(phases: Phases, data: bytes, filename: str, *, limits: Limits = DEFAULT_LIMITS) -> ImportResult:
    """Import one vulnerability file (OSV, KEV, a supplier's CSAF or CycloneDX VEX), told by its content: all of it
    or, when it cannot be read, nothing (Invalid naming `file`). The result counts what changed; the import's
    audit event records the counts when anything did."""
    with phases.read() as session:
        actor = phases.actor(session)
    authorize_import_vulnerabilities(actor)
    try:
        feed = read_feed(data, limits)
    except FeedError as exc:
        raise Invalid.field("file", str(exc)) from None
    authorize_import_vulnerabilities(actor, feed.format)
    result = ImportResult(
        file=clean_filename(filename or "vulnerabilities.json"),
        sha256=hashlib.sha256(data).hexdigest(),
        format=feed.format.value,
        records=0,
    )
    with phases.read() as session:
        exploited: dict[str, date | None] = {
            name: added
            for name, added in session.execute(
                select(Vulnerability.name, Vulnerability.kev_date_added).where(Vulnerability.known_exploited.is_(True))
            )
        }
        portfolio = _read_portfolio(session, actor) if not isinstance(feed, KevCatalog) else _Portfolio()

    # The slow part, outside every transaction: what the file names, and what it matches.
    known: list[_Known] = []
    proposals = _Proposals(portfolio, result)
    retract: list[str] = []  # the names of the vulnerabilities the file withdraws
    if isinstance(feed, OsvFeed):
        _plan_osv(feed, portfolio, exploited, known, proposals, result, retract)
    elif isinstance(feed, KevCatalog):
        result.records = len(feed.entries)
        known = list(_kev_known(feed, result))
    else:
        _plan_supplier(feed, portfolio, exploited, known, proposals, result)

    # A job has its process to itself: a full collection first, none inside its writes (as an SBOM import).
    with collector_paused() if isinstance(phases, JobContext) else nullcontext():
        planned = proposals.all()
        progress = _Progress(len(known) + len(planned))
        rows_of = _write_vulnerabilities(phases, known, result, progress)
        named = [
            _Proposal(p.release_id, rows_of.get(p.vulnerability, p.vulnerability), p.component, p.data, p.origin)
            for p in planned
        ]
        _write_decisions(phases, actor, named, result, progress)
        if retract:
            _retract(phases, actor, retract, result)
    with phases.write() as session:
        if result.changed:
            details: dict[str, Any] = result.summary()
            if isinstance(feed, SupplierVex):
                details["document"] = {"id": feed.document_id, "version": feed.version, "publisher": feed.publisher}
            record(
                session,
                actor,
                "vex:feed:import",
                target_type="vulnerability_file",
                target_id=result.sha256,
                details=details,
            )
        phases.finish(session, asdict(result))
    return result


def _plan_osv(
    feed: OsvFeed,
    portfolio: _Portfolio,
    exploited: dict[str, date | None],
    known: list[_Known],
    proposals: _Proposals,
    result: ImportResult,
    retract: list[str],
) -> None:
    """OSV: each record (withdrawn ones only counted) becomes a vulnerability; each match of it a decision under
    investigation for each release shipping the component; an undecidable match is reported."""
    result.records = len(feed.records)
    named: dict[str, str] = {}  # record id -> the name its row is looked up by
    for osv in feed.records:
        if osv.withdrawn is not None:
            continue
        made = _osv_known(osv, exploited, result)
        if made is not None:
            known.append(made[0])
            named[osv.id] = made[0].lookup[0]
    withdrawn = [r for r in feed.records if r.withdrawn is not None]
    for record_ in withdrawn:
        naming = _naming((record_.id, *record_.aliases))
        if naming is not None:
            retract.extend(naming[0])
    if withdrawn:
        result.warn(
            f"{len(withdrawn)} withdrawn record(s): not imported; their earlier unconfirmed matches are retracted"
        )
    under_investigation = DecisionInput(Status.UNDER_INVESTIGATION.value)
    # Known exploited is marked on the vulnerability (_osv_known), not per match: the matches' flag is not read.
    for found in match_osv(feed.records, portfolio.components):
        name = named.get(found.vulnerability.id)
        if name is None:
            continue
        for release_id, itself in portfolio.targets(found.component):
            if found.verdict is Verdict.UNDECIDABLE:
                proposals.undecidable(name, found.component, release_id, found.reason)
                continue
            component = "" if itself else proposals.purl(found.component)
            proposals.add(
                _Proposal(release_id, name, component, under_investigation, DecisionOrigin.MATCH), found.component
            )


def _plan_supplier(
    feed: SupplierVex,
    portfolio: _Portfolio,
    exploited: dict[str, date | None],
    known: list[_Known],
    proposals: _Proposals,
    result: ImportResult,
) -> None:
    """A supplier's CSAF or CycloneDX VEX: each statement that applies to a component a release ships becomes a
    proposal with the supplier's status and statements; a statement naming no purl, or that no decision could
    carry, is reported unused."""
    result.records = len(feed.statements)
    named: dict[str, str] = {}
    for statement in feed.statements:
        made = _supplier_known(statement, exploited)
        if made is None:
            _unused(result, statement, "it names no vulnerability id the tracker keeps")
            continue
        if statement.vulnerability not in named:
            known.append(made)
            named[statement.vulnerability] = made.lookup[0]
        if not statement.purl:
            _unused(result, statement, "it names no purl, so no component can be matched")
    usable: dict[Statement, DecisionInput] = {}
    for statement in feed.statements:
        if statement.vulnerability in named and statement.purl:
            data = _statement_data(statement)
            if isinstance(data, str):
                _unused(result, statement, data)
            else:
                usable[statement] = data
    matches = match_statements(list(usable), portfolio.components)
    for found in matches:
        statement = found.statement
        name = named[statement.vulnerability]
        within = purl_identity(statement.within) if statement.within else None
        for release_id, itself in portfolio.targets(found.component):
            if within is not None and within[1] not in portfolio.shipped[release_id]:
                continue  # about the component as part of a product this release does not ship
            if found.verdict is Verdict.UNDECIDABLE:
                proposals.undecidable(name, found.component, release_id, found.reason)
                continue
            component = "" if itself else proposals.purl(found.component)
            proposals.add(
                _Proposal(release_id, name, component, usable[statement], DecisionOrigin.SUPPLIER), found.component
            )


def _unused(result: ImportResult, statement: Statement, reason: str) -> None:
    result.unused += 1
    _listed(result.unused_statements, Listed(statement.vulnerability, "", "", statement.product, reason))


# --- doors' entry points ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """What an upload did: imported at once (result), or queued (job)."""

    result: ImportResult | None = None
    job: Job | None = None


def submit_feed(database: Database, actor: Principal, upload: Upload, *, inline_max_bytes: int) -> Submitted:
    """Import an uploaded vulnerability file at once when small, else queue a job for it (audited as queued);
    the file is kept in the blob store either way."""
    authorize_import_vulnerabilities(actor)
    with database.unit_of_work(read_only=True) as session:
        blobs = session_blobs(session)
    stored = blobs.put(upload.stream)  # durable before any row names it, and outside the lock
    with database.unit_of_work() as session:
        record_blob(session, stored)
        if stored.size > inline_max_bytes:
            if not actor.is_admin:  # an officer's file must be a supplier's VEX: refused now, not in the worker
                with blobs.open_verified(stored.sha256) as stream:
                    try:
                        authorize_import_vulnerabilities(actor, detect_format(stream.read()))
                    except FeedError as exc:
                        raise Invalid.field("file", str(exc)) from None
            filename = clean_filename(upload.filename or "vulnerabilities.json")
            # One job per file and actor: what an import may decide depends on who asks.
            who = hashlib.sha256(actor.label.encode()).hexdigest()[:16]
            job, created = enqueue(
                session,
                actor,
                kind=VULN_IMPORT_KIND,
                arguments={"sha256": stored.sha256, "filename": filename},
                product_id=None,
                idempotency_key=f"vex:import:{stored.sha256}:{who}",
            )
            if created:
                record(
                    session,
                    actor,
                    "vex:feed:queue-import",
                    target_type="vulnerability_file",
                    target_id=stored.sha256,
                    details={"job": job.id, "file": filename, "size": stored.size},
                )
            return Submitted(job=job)
    with blobs.open_verified(stored.sha256) as stream:
        data = stream.read()
    return Submitted(result=import_feed(DatabasePhases(database, actor), data, upload.filename))


def _import_job(context: JobContext) -> dict[str, Any]:
    with context.read() as session:
        blobs = session_blobs(session)
    with blobs.open_verified(context.arguments["sha256"]) as stream:
        data = stream.read()
    return asdict(import_feed(context, data, context.arguments["filename"]))


def register_jobs() -> None:
    """Let workers import big vulnerability files (a retry imports again: what the first attempt wrote stands)."""
    register(VULN_IMPORT_KIND, _import_job)
