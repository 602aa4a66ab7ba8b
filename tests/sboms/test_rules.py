"""The views' pure rules: reading a component search, taking versions, folding names, licences, paths, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sdl_tracker.errors import Invalid
from sdl_tracker.sboms.diff import VersionOrder
from sdl_tracker.sboms.rules import (
    Constraint,
    PrimaryChange,
    count_licences,
    fold,
    parse_query,
    paths_to_roots,
    primary_periods,
    pulled_in,
    version_scheme,
    version_taken,
)


@pytest.mark.parametrize(
    ("text", "name", "constraints"),
    [
        ("openssl 3.0.x", "openssl", [[(">=", "3.0"), ("<", "3.1")]]),
        ("OpenSSL 3.*", "openssl", [[(">=", "3"), ("<", "4")]]),
        ("openssl >=3.0,<3.1", "openssl", [[(">=", "3.0"), ("<", "3.1")]]),
        ("openssl >= 3.0 < 3.1", "openssl", [[(">=", "3.0"), ("<", "3.1")]]),
        ("log4j-core <2.17.1", "log4j-core", [[("<", "2.17.1")]]),
        ("lodash ^4.17", "lodash", [[(">=", "4.17"), ("<", "5")]]),
        ("left-pad ^0.2.1", "left-pad", [[(">=", "0.2.1"), ("<", "0.3")]]),
        ("zlib ~1.2.11", "zlib", [[(">=", "1.2.11"), ("<", "1.3")]]),
        ("zlib 1.2.11 || >=1.3", "zlib", [[("=", "1.2.11")], [(">=", "1.3")]]),
        ("Apache Tomcat 9.0.x", "apache tomcat", [[(">=", "9.0"), ("<", "9.1")]]),
        ("busybox", "busybox", None),
        ("7zip", "7zip", None),
    ],
)
def test_searches_read_as_people_write_them(text: str, name: str, constraints: list[list[tuple[str, str]]]) -> None:
    wanted = parse_query(text)
    assert wanted.name == name and wanted.purl is None
    if constraints is None:
        assert wanted.versions is None
    else:
        assert wanted.versions is not None
        assert [[(c.op, c.version) for c in alt] for alt in wanted.versions.alternatives] == constraints


def test_purls_and_vers_ranges() -> None:
    bare = parse_query("pkg:deb/debian/openssl?arch=amd64")
    assert bare.purl == ("deb", "deb/debian/openssl") and bare.versions is None
    pinned = parse_query("pkg:PyPI/Django_Rest@3.1")
    assert pinned.purl == ("pypi", "pypi/django-rest") and pinned.versions is not None
    assert pinned.versions.alternatives == ((Constraint("=", "3.1"),),)
    ranged = parse_query("pkg:maven/org.apache.logging.log4j/log4j-core <2.17.1")
    assert ranged.purl == ("maven", "maven/org.apache.logging.log4j/log4j-core")
    vers = parse_query("lodash vers:npm/>=1.2.0|<2.0.0")
    assert vers.name == "lodash" and vers.versions is not None and vers.versions.vers is not None
    grouped = parse_query("org.apache.logging.log4j/log4j-core")
    assert (grouped.group, grouped.name) == ("org.apache.logging.log4j", "log4j-core")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "name a component"),
        ("   ", "name a component"),
        ("openssl >=3.0.x", "a wildcard goes without a comparison"),
        ("openssl 3.x.1", "a wildcard ends a version"),
        ("openssl ^1.a", "needs whole numbers"),
        ("openssl >", "cannot read the version range"),
        ("openssl 1.0 || ", "an empty alternative"),
        ("lodash vers:nope/>=1", "unknown versioning scheme"),
        ("lodash vers:npm/>=abc", "not a vers range"),
        ("vers:npm/>=1.0", "name the component before the range"),
        ("pkg:npm", "is not a package URL"),
        ("pkg:1npm/x", "is not a package URL"),
        ("pkg:npm/lodash@4.17.21 <5", "not both"),
        ("openssl\x00", "control"),
        ("openssl \u202e3.0", "control"),
        ("x" * 301, "at most 300"),
        ("openssl " + "1" * 101, "at most 100"),
    ],
)
def test_malformed_searches_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_query(text)
    assert fragment in raised.value.one_line()
    assert raised.value.errors[0].field == "q"


@pytest.mark.parametrize(
    ("query", "purl", "version", "taken"),
    [
        ("openssl 3.0.x", "pkg:deb/debian/openssl@3.0.13-1~deb12u1", "3.0.13-1~deb12u1", True),
        ("openssl 3.0.x", "pkg:deb/debian/openssl@3.1.0-1", "3.1.0-1", False),
        ("openssl 3.0.x", "pkg:deb/debian/openssl@1:3.0.2", "1:3.0.2", False),  # the epoch outranks
        ("openssl 3.0.x", "", "3.0.9", True),  # no purl: the fallback order
        ("openssl 3.0.x", "", "3.0.10a", True),
        ("log4j-core <2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.0", "2.17.0", True),
        ("log4j-core <2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1", "2.17.1", False),
        ("log4j-core <2.17.1", "pkg:maven/x/log4j-core@2.17.1-SNAPSHOT", "2.17.1-SNAPSHOT", True),
        ("lib >=1.10", "pkg:npm/lib@1.9.0", "1.9.0", False),  # numbers, not text
        ("lib >=1.10", "pkg:npm/lib@1.10.0", "1.10.0", True),
        ("lib 1.0", "pkg:pypi/lib@1.0.0", "1.0.0", True),  # equal under PEP 440
        ("lib !=1.0", "pkg:pypi/lib@1.0.0", "1.0.0", False),
        ("lib <2", "pkg:npm/lib", "", False),  # no version: only "any version" takes it
        ("lib *", "pkg:npm/lib", "", True),
        ("lib vers:npm/>=1.2.0|<2.0.0", "pkg:npm/lib@1.5.0", "1.5.0", True),
        ("lib vers:npm/>=1.2.0|<2.0.0", "pkg:npm/lib@2.0.0", "2.0.0", False),
        ("lib vers:npm/>=1.2.0|<2.0.0", "pkg:npm/lib@latest", "latest", False),
    ],
)
def test_versions_compare_by_each_ecosystem(query: str, purl: str, version: str, taken: bool) -> None:
    wanted = parse_query(query)
    assert version_taken(wanted.versions, version_scheme(purl), version, VersionOrder()) is taken


def test_names_fold_alike_on_both_engines() -> None:
    assert fold("ÉVALUATION") == fold("évaluation") == "évaluation"
    assert fold("ΟΔΟΣ") == fold("οδος") == fold("Οδοσ") == "οδοσ"  # final sigma read as sigma
    assert fold("İSTANBUL") == fold("istanbul") == "istanbul"
    assert fold("\u0131stanbul") != fold("istanbul")  # the dotless i is a letter of its own
    assert fold("STRASSE") == fold("Straße") == fold("STRAẞE") == "strasse"
    assert fold("ﬁle") != fold("file")  # no compatibility folding: ligatures stay


EDGES = [
    ("fw", "app"),
    ("fw", "lib"),
    ("app", "lib"),
    ("lib", "zlib"),
    ("zlib", "lib"),
    ("app", "ssl"),
    ("ssl", "zlib"),
]


def test_paths_to_the_roots_handle_loops() -> None:
    found = paths_to_roots(EDGES, "zlib", limit=10, depth=10)
    assert [(p.refs, p.end) for p in found.paths] == [
        (("zlib", "lib", "fw"), "root"),
        (("zlib", "lib", "app", "fw"), "root"),
        (("zlib", "ssl", "app", "fw"), "root"),
    ]
    assert not found.cut
    looped = paths_to_roots([("a", "b"), ("b", "a")], "a", limit=10, depth=10)
    assert [(p.refs, p.end) for p in looped.paths] == [(("a", "b"), "cycle")]
    assert [(p.refs, p.end) for p in paths_to_roots(EDGES, "fw", limit=5, depth=5).paths] == [(("fw",), "root")]


def test_paths_are_bounded_in_number_and_depth() -> None:
    # A ladder: 2**20 paths from the bottom to the top; the answer stops at the limit.
    ladder = [(f"{side}{n + 1}", f"{other}{n}") for n in range(20) for side in "ab" for other in "ab"]
    cut = paths_to_roots(ladder, "a0", limit=50, depth=100)
    assert len(cut.paths) == 50 and cut.cut
    shallow = paths_to_roots(ladder, "a0", limit=5, depth=3)
    assert all(p.end == "depth" and len(p.refs) == 4 for p in shallow.paths) and shallow.cut_at_depth


def test_what_a_component_pulls_in() -> None:
    found, cut = pulled_in(EDGES, "app", depth=10)
    assert [(p.ref, p.depth, p.via) for p in found] == [("lib", 1, "app"), ("ssl", 1, "app"), ("zlib", 2, "lib")]
    assert not cut
    near, cut = pulled_in(EDGES, "fw", depth=1)
    assert [p.ref for p in near] == ["app", "lib"] and cut


def test_licences_are_counted_as_given() -> None:
    counted, without = count_licences(
        [
            [{"id": "MIT"}],
            [{"id": "MIT"}, {"name": "Custom"}],
            [{"expression": "Apache-2.0 OR MIT"}],
            [],
            None,
            [{"id": "MIT"}, {"id": "MIT"}],  # the same licence twice counts the component once
        ]
    )
    assert [(c.kind, c.value, c.components) for c in counted] == [
        ("id", "MIT", 3),
        ("expression", "Apache-2.0 OR MIT", 1),
        ("name", "Custom", 1),
    ]
    assert without == 2


def test_primary_periods_follow_the_audited_changes() -> None:
    t = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(5)]
    periods = primary_periods(
        [
            PrimaryChange(1, t[0], None),  # an import before events said: the first one was primary
            PrimaryChange(2, t[1], False),
            PrimaryChange(2, t[2], True),
            PrimaryChange(3, t[3], True),
            PrimaryChange(1, t[4], True),
        ]
    )
    assert [(p.start, p.end) for p in periods[1]] == [(t[0], t[2]), (t[4], None)]
    assert [(p.start, p.end) for p in periods[2]] == [(t[2], t[3])]
    assert [(p.start, p.end) for p in periods[3]] == [(t[3], t[4])]
