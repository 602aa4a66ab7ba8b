"""Which components a vulnerability affects: OSV affected entries and suppliers' statements matched against
components by purl identity and version, each match flagged known exploited when the KEV catalog lists one of
the vulnerability's ids.

Pure: plain values in, matches out. Identity is the purl's type, namespace and name after the purl
specification's normalisation (`sboms.diff.purl_identity`, which component searches use too); qualifiers,
subpath and version play no part in it. Versions compare by the ecosystem's rules (univers, through the purl
type's class in `sboms.diff.VERSION_CLASSES`). Where a version cannot be compared (a GIT range, a version that
does not parse, an ecosystem without known ordering) the match is reported as undecidable, never dropped as
unaffected. docs/vex-import.md holds the rules.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from univers.versions import SemverVersion, Version

from ..errors import Invalid
from ..sboms.diff import VERSION_CLASSES, VersionOrder, purl_identity
from ..sboms.rules import parse_versions, version_taken
from .feeds import OsvAffected, OsvRange, OsvVulnerability
from .parsing import purl_version
from .supplier import Statement

# OSV ecosystems (the part before any ":" suffix) and the purl type, and namespace where the type needs one,
# that names their packages (purl specification's types; OSV's ecosystem list).
PURL_OF_ECOSYSTEM: dict[str, tuple[str, str]] = {
    "npm": ("npm", ""),
    "PyPI": ("pypi", ""),
    "Maven": ("maven", ""),
    "Go": ("golang", ""),
    "crates.io": ("cargo", ""),
    "RubyGems": ("gem", ""),
    "NuGet": ("nuget", ""),
    "Packagist": ("composer", ""),
    "Hex": ("hex", ""),
    "Pub": ("pub", ""),
    "Hackage": ("hackage", ""),
    "CRAN": ("cran", ""),
    "ConanCenter": ("conan", ""),
    "GitHub Actions": ("githubactions", ""),
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"),
    "Chainguard": ("apk", "chainguard"),
    "Red Hat": ("rpm", "redhat"),
    "AlmaLinux": ("rpm", "almalinux"),
    "Rocky Linux": ("rpm", "rocky-linux"),
    "openSUSE": ("rpm", "opensuse"),
    "SUSE": ("rpm", "suse"),
}


class Verdict(enum.StrEnum):
    """What matching found for a component: the vulnerability (or statement) applies, or it cannot be told."""

    MATCH = "match"
    UNDECIDABLE = "undecidable"


@dataclass(frozen=True)
class Component:
    """A component to match: its purl and its version (the purl's own when `version` is "")."""

    purl: str
    version: str = ""

    @property
    def effective_version(self) -> str:
        """The version matched: the component's, else the one its purl names."""
        return self.version.strip() or purl_version(self.purl)


@dataclass(frozen=True)
class Match:
    """An OSV record and a component it affects (`MATCH`) or may affect (`UNDECIDABLE`); `reason` says which
    range or listed version matched, or why no version comparison could decide."""

    vulnerability: OsvVulnerability
    component: Component
    verdict: Verdict
    reason: str
    known_exploited: bool


@dataclass(frozen=True)
class StatementMatch:
    """A supplier's statement and a component it applies to (`MATCH`) or may apply to (`UNDECIDABLE`)."""

    statement: Statement
    component: Component
    verdict: Verdict
    reason: str
    known_exploited: bool


def is_known_exploited(ids: Iterable[str], exploited: Collection[str]) -> bool:
    """Whether any of a vulnerability's ids is in the KEV catalog's (`KevCatalog.cve_ids`, upper case)."""
    return any(i.strip().upper() in exploited for i in ids)


def osv_identity(affected: OsvAffected) -> str | None:
    """The purl identity (`type/namespace/name`) an OSV affected entry names: its purl, else its ecosystem and
    name; None for an ecosystem without a purl type here (it can match no component)."""
    if affected.purl:
        found = purl_identity(affected.purl)
        return found[1] if found else None
    ecosystem = affected.ecosystem.partition(":")[0]
    if ecosystem not in PURL_OF_ECOSYSTEM or not affected.name:
        return None
    ptype, namespace = PURL_OF_ECOSYSTEM[ecosystem]
    name = affected.name.replace(":", "/") if ptype == "maven" else affected.name  # groupId:artifactId
    found = purl_identity(f"pkg:{ptype}/{namespace}/{name}" if namespace else f"pkg:{ptype}/{name}")
    return found[1] if found else None


def _by_identity(components: Iterable[Component]) -> dict[str, list[Component]]:
    found: dict[str, list[Component]] = defaultdict(list)
    for component in dict.fromkeys(components):  # each once, in order
        identity = purl_identity(component.purl) if component.purl else None
        if identity is not None:
            found[identity[1]].append(component)
    return found


# -- OSV -------------------------------------------------------------------------------------------


class _Versions:
    """Versions parsed once each under a class of univers; None for one that does not parse."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[type[Version], str], Version | None] = {}

    def parse(self, kind: type[Version], text: str) -> Version | None:
        key = (kind, text)
        if key not in self._parsed:
            try:
                self._parsed[key] = kind(text)
            except Exception:  # univers's parsers raise assorted errors (InvalidVersion, ValueError, TypeError)
                self._parsed[key] = None
        return self._parsed[key]


def _describe(found: OsvRange) -> str:
    return ", ".join(f"{e.kind} {e.version}" for e in found.events) + f" ({found.type})"


def _in_range(version: Version, found: OsvRange, kind: type[Version], parsed: _Versions) -> bool | str:
    """OSV's evaluation of one SEMVER or ECOSYSTEM range (schema, "Evaluation"): True, False, or why it cannot
    be told (a bound that does not parse under the ecosystem's rules, or a comparison univers cannot make)."""
    bounds: list[tuple[Any, str]] = []
    for event in found.events:
        if event.kind == "introduced" and event.version == "0":
            bounds.append(((0,), event.kind))  # "0": before every version
            continue
        if event.kind == "limit" and "*" in event.version:
            continue  # "*": no limit
        bound = parsed.parse(kind, event.version)
        if bound is None:
            return f"its {event.kind} version {event.version!r} does not parse as a {kind.__name__}"
        bounds.append(((1, bound), event.kind))
    try:
        limits = [key[1] for key, event_kind in bounds if event_kind == "limit"]
        if limits and not any(version < limit for limit in limits):
            return False
        affected = False
        for key, event_kind in sorted((b for b in bounds if b[1] != "limit"), key=lambda b: b[0]):
            at = (1, version)
            if event_kind == "introduced" and at >= key:
                affected = True
            elif (event_kind == "fixed" and at >= key) or (event_kind == "last_affected" and at > key):
                affected = False  # fixed is the first unaffected version, last_affected the last affected one
    except Exception:  # univers refuses some comparisons (versions of different shapes)
        return f"univers cannot compare the versions of {_describe(found)}"
    return affected


def _ordering(found: OsvRange, ptype: str) -> type[Version] | str:
    """The version class a range compares by (SEMVER: semver; ECOSYSTEM: the component's purl type's), or why
    there is none."""
    match found.type:
        case "SEMVER":
            return SemverVersion
        case "ECOSYSTEM":
            return VERSION_CLASSES.get(ptype) or f"no version ordering is known for {ptype or 'these'} components"
        case "GIT":
            return f"a GIT range (commits of {found.repo or 'a repository'}) says nothing about versions"
    return f"range type {found.type!r} is none of SEMVER, ECOSYSTEM and GIT"


def _affects(affected: OsvAffected, component: Component, parsed: _Versions) -> tuple[Verdict | None, str]:
    """Whether one affected entry covers the component's version: (MATCH, why), (UNDECIDABLE, why) or
    (None, "") for a version it does not cover."""
    version = component.effective_version
    if version and version in affected.versions:
        return Verdict.MATCH, f"{version} is listed among the affected versions"
    if not affected.ranges:
        if affected.versions:
            return None, ""
        return Verdict.UNDECIDABLE, "the record names the package but neither ranges nor versions"
    if not version:
        return Verdict.UNDECIDABLE, "the component has no version"
    ptype = purl_identity(component.purl)
    doubts: list[str] = []
    for found in affected.ranges:
        kind = _ordering(found, ptype[0] if ptype else "")
        if isinstance(kind, str):
            doubts.append(kind)
            continue
        own = parsed.parse(kind, version)
        if own is None:
            doubts.append(f"the version {version!r} does not parse as a {kind.__name__}")
            continue
        verdict = _in_range(own, found, kind, parsed)
        if verdict is True:
            return Verdict.MATCH, f"{version} is in {_describe(found)}"
        if isinstance(verdict, str):
            doubts.append(verdict)
    return (Verdict.UNDECIDABLE, "; ".join(dict.fromkeys(doubts))) if doubts else (None, "")


def match_osv(
    records: Iterable[OsvVulnerability], components: Iterable[Component], exploited: Collection[str] = frozenset()
) -> list[Match]:
    """Each (record, component) where the record affects the component or cannot tell, in the records' order;
    withdrawn records match nothing. `exploited`: the KEV catalog's CVE ids."""
    by_identity = _by_identity(components)
    parsed = _Versions()
    matches: list[Match] = []
    for record in records:
        if record.withdrawn is not None:
            continue
        kev = is_known_exploited(record.ids, exploited)
        found: dict[Component, tuple[Verdict, str]] = {}
        for affected in record.affected:
            identity = osv_identity(affected)
            for component in by_identity.get(identity, ()) if identity else ():
                if found.get(component, (None,))[0] is Verdict.MATCH:
                    continue  # already affected through another entry
                verdict, reason = _affects(affected, component, parsed)
                if verdict is not None:
                    found[component] = (verdict, reason)
        matches += [Match(record, c, verdict, reason, kev) for c, (verdict, reason) in found.items()]
    return matches


# -- Suppliers' statements -------------------------------------------------------------------------


def _covers(statement: Statement, component: Component, order: VersionOrder) -> tuple[Verdict | None, str]:
    """Whether a statement covers the component's version: its one version, its range, or (naming neither)
    every version, as CycloneDX and CSAF documents mean when they name none."""
    version = component.effective_version
    if not statement.version and not statement.versions:
        return Verdict.MATCH, "the statement names no version: it covers every version"
    if not version:
        return Verdict.UNDECIDABLE, "the component has no version"
    ptype = purl_identity(component.purl)
    scheme = ptype[0] if ptype and ptype[0] in VERSION_CLASSES else None
    if scheme is None:
        if statement.version == version:
            return Verdict.MATCH, f"{version} is the version the statement names"
        return Verdict.UNDECIDABLE, f"no version ordering is known for {ptype[0] if ptype else 'these'} components"
    if order.parse(scheme, version) is None:
        return Verdict.UNDECIDABLE, f"the version {version!r} does not parse under {scheme}'s rules"
    unreadable = Verdict.UNDECIDABLE, f"the range {statement.versions!r} cannot be read as versions"
    try:
        versions = parse_versions(statement.versions or f"={statement.version}")
    except Invalid:
        return unreadable
    # Free text read as a range ("before 2.0") holds words that are no version: those cannot decide.
    if any(order.parse(scheme, c.version) is None for alternative in versions.alternatives for c in alternative):
        return unreadable
    if version_taken(versions, scheme, version, order):
        where = f"in {statement.versions}" if statement.versions else "the version the statement names"
        return Verdict.MATCH, f"{version} is {where}"
    return None, ""


def match_statements(
    statements: Sequence[Statement], components: Iterable[Component], exploited: Collection[str] = frozenset()
) -> list[StatementMatch]:
    """Each (statement, component) the statement applies to or may apply to, in the statements' order; a
    statement without a purl matches nothing (the import lists those apart). `exploited`: the KEV CVE ids."""
    by_identity = _by_identity(components)
    order = VersionOrder()
    matches: list[StatementMatch] = []
    for statement in statements:
        identity = purl_identity(statement.purl) if statement.purl else None
        kev = is_known_exploited(statement.ids, exploited)
        for component in by_identity.get(identity[1], ()) if identity else ():
            verdict, reason = _covers(statement, component, order)
            if verdict is not None:
                matches.append(StatementMatch(statement, component, verdict, reason, kev))
    return matches
