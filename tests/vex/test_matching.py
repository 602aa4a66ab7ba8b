"""Matching vulnerability data to components: purl identity, OSV's range evaluation by each ecosystem's version
order (introduced and last_affected inclusive, fixed and limit exclusive), what cannot be decided, withdrawn
records, KEV flags, and suppliers' statements. Data: tests/vex/data/feeds."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.vex.feeds import KevCatalog, OsvFeed, OsvVulnerability, SupplierVex, read_feed, read_osv
from sdl_tracker.vex.matching import (
    Component,
    Verdict,
    is_known_exploited,
    match_osv,
    match_statements,
    osv_identity,
)
from sdl_tracker.vex.rules import Status

DATA = Path(__file__).parent / "data" / "feeds"
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"


def record(name: str) -> OsvVulnerability:
    feed = read_feed((DATA / name).read_bytes())
    assert isinstance(feed, OsvFeed)
    return feed.records[0]


def kev() -> frozenset[str]:
    catalog = read_feed((DATA / "kev-trimmed.json").read_bytes())
    assert isinstance(catalog, KevCatalog)
    return catalog.cve_ids


def verdicts(found: OsvVulnerability, purl: str, versions: list[str]) -> dict[str, Verdict | None]:
    components = [Component(purl, v) for v in versions]
    matched = {m.component.version: m.verdict for m in match_osv([found], components)}
    return {v: matched.get(v) for v in versions}


M, U = Verdict.MATCH, Verdict.UNDECIDABLE


def test_maven_boundaries_introduced_inclusive_fixed_exclusive() -> None:
    # Log4Shell: [0, 2.3.1), [2.4, 2.12.2), [2.13.0, 2.15.0) under Maven's order.
    found = verdicts(
        record("osv-GHSA-jfh8-c2jp-5v3q.json"),
        LOG4J,
        ["2.0-beta9", "2.3", "2.3.1", "2.4", "2.12.1", "2.12.2", "2.12.4", "2.13.0", "2.14.1", "2.15.0", "2.17.1"],
    )
    assert found == {
        "2.0-beta9": M,
        "2.3": M,
        "2.3.1": None,
        "2.4": M,
        "2.12.1": M,
        "2.12.2": None,
        "2.12.4": None,
        "2.13.0": M,
        "2.14.1": M,
        "2.15.0": None,
        "2.17.1": None,
    }


def test_npm_order_and_the_other_package_of_the_record() -> None:
    lodash = record("osv-GHSA-35jh-r3h4-6jhm.json")
    assert verdicts(lodash, "pkg:npm/lodash", ["4.17.20", "4.17.21", "4.17.21-pre.1", "5.0.0"]) == {
        "4.17.20": M,
        "4.17.21": None,
        "4.17.21-pre.1": M,  # a pre-release sorts before its release under semver
        "5.0.0": None,
    }
    assert verdicts(lodash, "pkg:npm/lodash-es", ["4.17.15"]) == {"4.17.15": M}
    assert verdicts(lodash, "pkg:npm/lodash.template", ["4.5.0"]) == {"4.5.0": None}


def test_pypi_last_affected_is_inclusive() -> None:
    py = record("osv-GHSA-w596-4wvx-j9j6.json")
    assert verdicts(py, "pkg:pypi/py", ["1.4.34", "1.11", "1.11.0", "1.11.0.post1", "1.11.1"]) == {
        "1.4.34": M,
        "1.11": M,  # 1.11 and 1.11.0 are one version under PEP 440
        "1.11.0": M,
        "1.11.0.post1": None,
        "1.11.1": None,
    }


def test_semver_ranges_compare_go_versions_with_their_v() -> None:
    text = record("osv-GO-2021-0113.json")
    assert verdicts(text, "pkg:golang/golang.org/x/text", ["v0.3.6", "v0.3.7", "v0.3.8"]) == {
        "v0.3.6": M,
        "v0.3.7": None,
        "v0.3.8": None,
    }


def test_identity_ignores_version_qualifiers_and_spelling_the_spec_normalises() -> None:
    py = record("osv-GHSA-w596-4wvx-j9j6.json")
    components = [
        Component("pkg:pypi/Py@1.10.0?extension=whl"),  # the version comes from the purl
        Component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar#sub", "2.14.1"),
    ]
    (match,) = match_osv([py], components)
    assert match.component is components[0]
    assert (match.verdict, match.reason) == (M, "1.10.0 is in introduced 0, last_affected 1.11.0 (ECOSYSTEM)")
    (log4j,) = match_osv([record("osv-GHSA-jfh8-c2jp-5v3q.json")], components)
    assert log4j.component is components[1]


def test_git_ranges_are_undecidable_never_unaffected() -> None:
    (match,) = match_osv([record("osv-OSV-2023-162.json")], [Component("pkg:generic/libxml2", "2.10.3")])
    assert match.verdict is U
    assert (
        match.reason
        == "a GIT range (commits of https://gitlab.gnome.org/GNOME/libxml2.git) says nothing about versions"
    )


def test_versions_that_do_not_parse_are_undecidable() -> None:
    py = record("osv-GHSA-w596-4wvx-j9j6.json")
    matches = match_osv([py], [Component("pkg:pypi/py", "latest"), Component("pkg:pypi/py")])
    assert [(m.verdict, m.reason) for m in matches] == [
        (U, "the version 'latest' does not parse as a PypiVersion"),
        (U, "the component has no version"),
    ]


def _synthetic(affected: dict[str, Any]) -> OsvVulnerability:
    """A record shaped like the real ones, for the rules no public record shows compactly."""
    return read_osv({"id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "affected": [affected]})


def test_listed_versions_limits_and_unknown_orderings() -> None:
    listed = _synthetic({"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0", "1.1"]})
    assert verdicts(listed, "pkg:pypi/demo", ["1.0", "1.2"]) == {"1.0": M, "1.2": None}
    limited = _synthetic(
        {
            "package": {"ecosystem": "npm", "name": "demo"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "2.0.0"}]}],
        }
    )
    assert verdicts(limited, "pkg:npm/demo", ["1.9.9", "2.0.0", "2.1.0"]) == {"1.9.9": M, "2.0.0": None, "2.1.0": None}
    unordered = _synthetic(
        {
            "package": {"ecosystem": "Hackage", "name": "demo"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}],
        }
    )
    (match,) = match_osv([unordered], [Component("pkg:hackage/demo", "0.9")])
    assert (match.verdict, match.reason) == (U, "no version ordering is known for hackage components")
    bare = _synthetic({"package": {"ecosystem": "npm", "name": "demo"}})
    (match,) = match_osv([bare], [Component("pkg:npm/demo", "1.0.0")])
    assert (match.verdict, match.reason) == (U, "the record names the package but neither ranges nor versions")
    bad_bound = _synthetic(
        {
            "package": {"ecosystem": "PyPI", "name": "demo"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "next"}]}],
        }
    )
    (match,) = match_osv([bad_bound], [Component("pkg:pypi/demo", "1.0")])
    assert (match.verdict, match.reason) == (U, "its fixed version 'next' does not parse as a PypiVersion")


def test_a_match_through_one_entry_is_not_undone_by_another() -> None:
    # Log4Shell lists log4j-core three times; 2.14.1 is in the first range only.
    (match,) = match_osv([record("osv-GHSA-jfh8-c2jp-5v3q.json")], [Component(LOG4J, "2.14.1")])
    assert match.verdict is M
    assert match.reason == "2.14.1 is in introduced 2.13.0, fixed 2.15.0 (ECOSYSTEM)"


def test_withdrawn_records_match_nothing() -> None:
    withdrawn = dataclasses.replace(record("osv-GHSA-jfh8-c2jp-5v3q.json"), withdrawn=datetime(2024, 1, 1, tzinfo=UTC))
    assert match_osv([withdrawn], [Component(LOG4J, "2.14.1")]) == []


def test_known_exploited_by_any_id_or_alias() -> None:
    components = [Component(LOG4J, "2.14.1"), Component("pkg:npm/lodash", "4.17.20")]
    records = [record("osv-GHSA-jfh8-c2jp-5v3q.json"), record("osv-GHSA-35jh-r3h4-6jhm.json")]
    matches = match_osv(records, components, kev())
    assert [(m.vulnerability.id, m.known_exploited) for m in matches] == [
        ("GHSA-jfh8-c2jp-5v3q", True),  # its alias CVE-2021-44228 is in the catalog
        ("GHSA-35jh-r3h4-6jhm", False),
    ]
    assert is_known_exploited(["cve-2021-44228 "], kev())
    assert all(not m.known_exploited for m in match_osv(records, components))


def test_osv_identity_of_ecosystems() -> None:
    def identity(ecosystem: str, name: str, purl: str = "") -> str | None:
        return osv_identity(_synthetic({"package": {"ecosystem": ecosystem, "name": name, "purl": purl}}).affected[0])

    assert identity("Maven", "org.apache.logging.log4j:log4j-core") == "maven/org.apache.logging.log4j/log4j-core"
    assert identity("npm", "@babel/core") == "npm/@babel/core"
    assert identity("PyPI", "Django") == "pypi/django"
    assert identity("Debian:11", "openssl") == "deb/debian/openssl"
    assert identity("OSS-Fuzz", "libxml2", "pkg:generic/libxml2") == "generic/libxml2"
    assert identity("OSS-Fuzz", "libxml2") is None  # no purl type for the ecosystem: matches nothing


# -- Suppliers' statements


def statements(name: str, document: Any = None) -> SupplierVex:
    data = json.dumps(document).encode() if document is not None else (DATA / name).read_bytes()
    feed = read_feed(data)
    assert isinstance(feed, SupplierVex)
    return feed


def test_a_cyclonedx_statement_applies_to_its_version_only() -> None:
    vex = statements("cyclonedx-vex.json")
    purl = "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
    components = [Component(f"{purl}@2.10.0", "2.10.0"), Component(f"{purl}@2.10.1", "2.10.1")]
    (match,) = match_statements(vex.statements, components)
    assert match.component is components[0]
    assert (match.verdict, match.known_exploited) == (M, False)
    assert match.reason == "2.10.0 is the version the statement names"
    assert match.statement.status is Status.NOT_AFFECTED


def test_a_csaf_statement_over_a_range() -> None:
    document = json.loads((DATA / "csaf-vex-sec-vex-2022-0001.json").read_bytes())
    leaf = document["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
    leaf["product_identification_helper"] = {"purl": "pkg:npm/secvisogram"}  # the example names none
    vex = statements("", document)
    components = [Component("pkg:npm/secvisogram", v) for v in ("1.14.0", "1.15.0")]
    matches = match_statements(vex.statements, components, kev())
    assert {(m.statement.vulnerability, m.component.version, m.known_exploited) for m in matches} == {
        ("CVE-2021-44228", "1.14.0", True),
        ("CVE-2021-45046", "1.14.0", True),
        ("CVE-2021-45105", "1.14.0", False),
    }
    assert matches[0].reason == "1.14.0 is in <=1.14.0"


def test_statements_without_version_purl_or_readable_versions() -> None:
    base = statements("cyclonedx-vex.json").statements[0]
    every = dataclasses.replace(base, version="")
    (match,) = match_statements([every], [Component(base.purl, "9.9.9")])
    assert (match.verdict, match.reason) == (M, "the statement names no version: it covers every version")
    assert match_statements([dataclasses.replace(base, purl="")], [Component(base.purl, "2.10.0")]) == []
    npm = dataclasses.replace(base, purl="pkg:npm/demo@1.0.0", version="1.0.0")
    (odd,) = match_statements([npm], [Component("pkg:npm/demo", "latest")])
    assert (odd.verdict, odd.reason) == (U, "the version 'latest' does not parse under npm's rules")
    free = dataclasses.replace(npm, version="", versions="before 2.0")
    (unread,) = match_statements([free], [Component("pkg:npm/demo", "1.0.0")])
    assert (unread.verdict, unread.reason) == (U, "the range 'before 2.0' cannot be read as versions")
    vers = dataclasses.replace(npm, version="", versions="vers:npm/>=1.0.0|<2.0.0")
    assert [
        m.component.version
        for m in match_statements([vers], [Component("pkg:npm/demo", v) for v in ("1.5.0", "2.0.0")])
    ] == ["1.5.0"]


@pytest.mark.parametrize("count", [2000])
def test_matching_a_release_sized_set_is_quick(count: int) -> None:
    components = [Component(f"pkg:npm/package-{n}", f"1.{n}.0") for n in range(count)]
    components.append(Component("pkg:npm/lodash", "4.17.20"))
    started = datetime.now(UTC)
    matches = match_osv([record("osv-GHSA-35jh-r3h4-6jhm.json")] * 50, components)
    assert len(matches) == 50
    assert (datetime.now(UTC) - started).total_seconds() < 1
