"""The SBOM diff as a pure function: properties over generated SBOMs, and one example per rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from sdl_tracker.sboms.diff import (
    HEADINGS,
    NOT_NUMERIC,
    VERSION_CLASSES,
    Change,
    Component,
    SbomDiff,
    VersionOrder,
    compare_versions,
    cpe_identity,
    diff,
    identity_of,
    natural_key,
    purl_identity,
)


def lib(
    position: int,
    name: str,
    version: str,
    *,
    purl: str | None = None,
    ptype: str = "npm",
    parent: int | None = None,
    **fields: Any,
) -> Component:
    """A library row; its purl by default is `pkg:<ptype>/<name>@<version>`."""
    return Component(
        position=position,
        parent_position=parent,
        type="library",
        group=fields.pop("group", ""),
        name=name,
        version=version,
        purl=f"pkg:{ptype}/{name}@{version}" if purl is None else purl,
        **fields,
    )


def versions(changes: tuple[Change, ...]) -> list[tuple[str, str | None, str | None]]:
    return [
        (
            c.identity,
            c.before.component.version if c.before else None,
            c.after.component.version if c.after else None,
        )
        for c in changes
    ]


def only(result: SbomDiff, **expected: int) -> None:
    """The headings with entries are exactly `expected`, with these counts."""
    assert {h: len(getattr(result, h)) for h in HEADINGS if getattr(result, h)} == expected


# Generated SBOMs: few names and versions, so identities recur, several versions share an identity, and
# purls, CPEs and bare names all occur; some rows are nested in earlier ones.
NAMES = st.sampled_from(["lodash", "Lodash", "minimist", "openssl", "zlib", "left-pad"])
VERSIONS = st.sampled_from(["1.0.0", "1.0.1", "1.2", "1.2.0", "2.0.0-rc.1", "2.0.0", "v3", "", "not a version", "10"])
KINDS = st.sampled_from(["npm", "pypi", "maven", "deb", "unknowntype", "cpe", "name"])


@st.composite
def component_rows(draw: st.DrawFn) -> list[Component]:
    rows: list[Component] = []
    for position in range(draw(st.integers(0, 12))):
        name, version, kind = draw(NAMES), draw(VERSIONS), draw(KINDS)
        parent = draw(st.one_of(st.none(), st.integers(0, position - 1))) if position else None
        fields: dict[str, Any] = {
            "supplier": draw(st.sampled_from(["", "Acme", "ACME ", "Other"])),
            "hashes": draw(st.sampled_from([(), (("SHA-256", "aa"),), (("sha-256", "AA"),), (("SHA-256", "bb"),)])),
            "licenses": draw(st.sampled_from([(), (("id", "MIT"),), (("name", "mit"),), (("id", "Apache-2.0"),)])),
        }
        if kind == "cpe":
            row = lib(position, name, version, purl="", cpe=f"cpe:2.3:a:acme:{name}:{version or '*'}:*:*:*:*:*:*:*")
        elif kind == "name":
            row = lib(position, name, version, purl="", group=draw(st.sampled_from(["", "org.acme"])))
        else:
            qualifier = draw(st.sampled_from(["", "?arch=x86_64", "#lib/sub"]))
            row = lib(position, name, version, purl=f"pkg:{kind}/{name}@{version}{qualifier}")
        rows.append(replace(row, parent_position=parent, **fields))
    return rows


def oriented(changes: tuple[Change, ...], *, swap: bool) -> Counter[tuple[Any, ...]]:
    """The changes as a multiset of (identity, before, after), before and after exchanged when `swap`."""
    out: Counter[tuple[Any, ...]] = Counter()
    for c in changes:
        pair = (c.after, c.before) if swap else (c.before, c.after)
        out[(c.identity, *pair)] += 1
    return out


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(component_rows())
def test_an_sbom_against_itself_is_empty(rows: list[Component]) -> None:
    result = diff(rows, rows)
    assert result.empty and result.unchanged == len(rows)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(component_rows(), component_rows())
def test_swapping_sides_swaps_added_removed_upgraded_downgraded(old: list[Component], new: list[Component]) -> None:
    forward, backward = diff(old, new), diff(new, old)
    assert oriented(forward.added, swap=False) == oriented(backward.removed, swap=True)
    assert oriented(forward.removed, swap=False) == oriented(backward.added, swap=True)
    assert oriented(forward.upgraded, swap=False) == oriented(backward.downgraded, swap=True)
    assert oriented(forward.downgraded, swap=False) == oriented(backward.upgraded, swap=True)
    for heading in ("license_changed", "supplier_changed", "hash_changed"):
        assert oriented(getattr(forward, heading), swap=False) == oriented(getattr(backward, heading), swap=True)
    assert forward.unchanged == backward.unchanged


@settings(max_examples=200)
@given(component_rows(), component_rows())
def test_every_component_is_accounted_for_once(old: list[Component], new: list[Component]) -> None:
    result = diff(old, new)
    changes = [c for heading in HEADINGS for c in getattr(result, heading)]
    pairs = {(c.before.component.position, c.after.component.position) for c in changes if c.before and c.after}
    assert len(result.removed) + len(pairs) + result.unchanged == len(old)
    assert len(result.added) + len(pairs) + result.unchanged == len(new)


PURL_TYPES = st.sampled_from(["npm", "NPM", "pypi", "maven", "github", "golang", "deb", "generic", "cpan"])
SEGMENT = st.text(st.sampled_from("abcXYZ_-.019"), min_size=1, max_size=6)


@settings(max_examples=300)
@given(
    PURL_TYPES,
    st.lists(SEGMENT, max_size=2),
    SEGMENT,
    st.one_of(st.none(), SEGMENT),
    st.sampled_from(["", "?type=jar&classifier=x", "#sub/path", "?a=b#c"]),
)
def test_purl_identity_agrees_with_packageurl(
    ptype: str, namespace: list[str], name: str, version: str | None, tail: str
) -> None:
    text = f"pkg:{ptype}/{'/'.join([*namespace, name])}{'@' + version if version else ''}{tail}"
    try:
        parsed = PackageURL.from_string(text)
    except ValueError:
        return
    expected = "/".join(part for part in (parsed.type, parsed.namespace, parsed.name) if part)
    assert purl_identity(text) == (parsed.type, expected)


def test_purl_identity_normalises_per_type_and_drops_version_qualifiers_and_subpath() -> None:
    assert purl_identity("pkg:PyPI/Django_Rest@3.0?extension=whl#x") == ("pypi", "pypi/django-rest")
    assert purl_identity("pkg:npm/%40Scope/Left-Pad@1.0.0") == ("npm", "npm/@Scope/left-pad")
    assert purl_identity("pkg:npm/@scope/left-pad") == ("npm", "npm/@scope/left-pad")
    assert purl_identity("pkg:maven/org.Apache/Commons-IO@2.0") == ("maven", "maven/org.Apache/Commons-IO")
    assert purl_identity("pkg:github/Package-URL/Purl-Spec@v1") == ("github", "github/package-url/purl-spec")
    assert purl_identity("not a purl") is None
    assert purl_identity("pkg:npm") is None
    assert purl_identity("pkg:1bad/x@1") is None


def test_cpe_identity_drops_version_and_update_and_reads_both_bindings() -> None:
    cpe23 = "cpe:2.3:a:OpenSSL:OpenSSL:3.0.13:*:*:*:*:*:*:*"
    assert cpe_identity(cpe23) == "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"
    assert cpe_identity("cpe:/a:openssl:openssl:3.0.13") == cpe_identity(cpe23)
    assert cpe_identity("cpe:2.3:a:openbsd:openssh:8.9:p1:*:*:*:*:*:*") == cpe_identity(
        "cpe:2.3:a:openbsd:openssh:9.0:p2:*:*:*:*:*:*"
    )
    assert cpe_identity(r"cpe:2.3:a:acme:hello\:world:1:*:*:*:*:*:*:*") == "cpe:2.3:a:acme:hello:world:*:*:*:*:*:*:*:*"
    assert cpe_identity("cpe:2.3:a:too:short") is None
    assert cpe_identity("openssl") is None


def test_npm_trees_pair_exact_versions_first_then_highest_with_highest() -> None:
    old = [lib(0, "minimist", "0.0.8"), lib(1, "minimist", "1.2.5"), lib(2, "minimist", "1.2.5", parent=1)]
    new = [lib(0, "minimist", "1.2.5"), lib(1, "minimist", "1.2.8"), lib(2, "minimist", "1.2.6")]
    result = diff(old, new)
    # 1.2.5 stays (one copy of two); the other 1.2.5 and 0.0.8 pair with 1.2.8 and 1.2.6, highest first.
    assert versions(result.upgraded) == [("pkg:npm/minimist", "0.0.8", "1.2.6"), ("pkg:npm/minimist", "1.2.5", "1.2.8")]
    assert result.unchanged == 1 and not result.added and not result.removed


def test_npm_tree_that_loses_a_copy_removes_the_lowest() -> None:
    old = [lib(0, "lodash", "3.10.1"), lib(1, "lodash", "4.17.20")]
    new = [lib(0, "lodash", "4.17.21")]
    result = diff(old, new)
    assert versions(result.upgraded) == [("pkg:npm/lodash", "4.17.20", "4.17.21")]
    assert versions(result.removed) == [("pkg:npm/lodash", "3.10.1", None)]


def test_the_same_version_in_the_same_place_pairs_first() -> None:
    """Two firmware images each hold busybox 1.36.1; the one under `b` was rebuilt."""
    old = [
        lib(0, "a", "1"),
        lib(1, "busybox", "1.36.1", parent=0, hashes=(("SHA-256", "11"),)),
        lib(2, "b", "1"),
        lib(3, "busybox", "1.36.1", parent=2, hashes=(("SHA-256", "22"),)),
    ]
    new = [
        lib(0, "b", "2"),
        lib(1, "busybox", "1.36.1", parent=0, hashes=(("SHA-256", "33"),)),
        lib(2, "a", "2"),
        lib(3, "busybox", "1.36.1", parent=2, hashes=(("SHA-256", "11"),)),
    ]
    result = diff(old, new)
    assert [(c.before.parents, c.after.parents) for c in result.hash_changed if c.before and c.after] == [
        (("b@1",), ("b@2",))
    ]
    assert len(result.upgraded) == 2


def test_a_downgrade_follows_the_ecosystem_order() -> None:
    result = diff([lib(0, "express", "4.10.0")], [lib(0, "express", "4.9.1")])
    only(result, downgraded=1)
    # Maven's order: a SNAPSHOT comes before its release; text order would say the opposite.
    maven = diff([lib(0, "guava", "1.0", ptype="maven")], [lib(0, "guava", "1.0-SNAPSHOT", ptype="maven")])
    only(maven, downgraded=1)
    # Debian's epoch outranks everything after it.
    debian = diff([lib(0, "zlib", "1:1.2.13-1", ptype="deb")], [lib(0, "zlib", "1.3.1-1", ptype="deb")])
    only(debian, downgraded=1)


def test_the_same_version_spelt_twice_is_no_upgrade() -> None:
    result = diff([lib(0, "six", "1.0", ptype="pypi")], [lib(0, "six", "1.0.0", ptype="pypi")])
    assert result.empty and result.unchanged == 1


def test_same_version_with_other_hashes_is_reported() -> None:
    old = lib(0, "zlib", "1.3.1", hashes=(("SHA-256", "AB" * 32), ("MD5", "00" * 16)))
    new = lib(0, "zlib", "1.3.1", hashes=(("sha-256", "cd" * 32),))
    only(diff([old], [new]), hash_changed=1)
    # The same digest in other case, or digests of different algorithms only: nothing to compare against.
    assert diff([old], [lib(0, "zlib", "1.3.1", hashes=(("SHA-256", "ab" * 32),))]).empty
    assert diff([old], [lib(0, "zlib", "1.3.1", hashes=(("SHA-512", "ef" * 64),))]).empty
    # A new version with new hashes is an upgrade, not a hash change.
    only(diff([old], [lib(0, "zlib", "1.3.2", hashes=(("SHA-256", "cd" * 32),))]), upgraded=1)


def test_licence_change() -> None:
    old = lib(0, "chart", "2.0.0", licenses=(("id", "MIT"),))
    assert diff([old], [lib(0, "chart", "2.0.0", licenses=(("name", "mit"),))]).empty
    only(diff([old], [lib(0, "chart", "2.0.0", licenses=(("expression", "GPL-3.0-only"),))]), license_changed=1)
    both = diff([old], [lib(0, "chart", "3.0.0", licenses=())])
    only(both, upgraded=1, license_changed=1)
    assert both.upgraded == both.license_changed  # one pair, listed under both headings


def test_licence_expressions_compare_as_expressions() -> None:
    dual = lib(0, "serde", "1.0.0", licenses=(("expression", "MIT OR Apache-2.0"),))
    for same in ("Apache-2.0 OR MIT", "(apache-2.0 or mit)"):
        assert diff([dual], [lib(0, "serde", "1.0.0", licenses=(("expression", same),))]).empty, same
    assert diff(
        [lib(0, "x", "1", licenses=(("id", "MIT"),))], [lib(0, "x", "1", licenses=(("expression", "MIT"),))]
    ).empty
    narrower = lib(0, "serde", "1.0.0", licenses=(("expression", "MIT AND Apache-2.0"),))
    only(diff([dual], [narrower]), license_changed=1)  # OR became AND: another licence
    unreadable = lib(0, "serde", "1.0.0", licenses=(("expression", "MIT OR (("),))
    only(diff([dual], [unreadable]), license_changed=1)  # compared as text


def test_supplier_change() -> None:
    old = lib(0, "zlib", "1.3.1", supplier="zlib project")
    assert diff([old], [lib(0, "zlib", "1.3.1", supplier=" Zlib  Project")]).empty
    only(diff([old], [lib(0, "zlib", "1.3.1", supplier="Mirror Inc.")]), supplier_changed=1)


def test_purl_qualifiers_and_subpath_are_ignored() -> None:
    old = lib(0, "openssl", "3.0.13", purl="pkg:deb/debian/openssl@3.0.13?arch=amd64&distro=bookworm")
    new = lib(0, "openssl", "3.0.14", purl="pkg:deb/debian/openssl@3.0.14?arch=arm64#usr/lib")
    result = diff([old], [new])
    only(result, upgraded=1)
    assert result.upgraded[0].identity == "pkg:deb/debian/openssl"


def test_cpe_when_there_is_no_purl_then_group_and_name() -> None:
    old = [
        lib(0, "OpenSSL library", "3.0.13", purl="", cpe="cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"),
        lib(1, "vendor-blob", "7", purl="", group="Acme"),
    ]
    new = [
        lib(0, "openssl", "3.1.0", purl="", cpe="cpe:2.3:a:openssl:openssl:3.1.0:*:*:*:*:*:*:*"),
        lib(1, "Vendor-Blob", "6", purl="", group="acme"),
    ]
    result = diff(old, new)
    assert versions(result.upgraded) == [("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "3.0.13", "3.1.0")]
    assert versions(result.downgraded) == [("Acme/vendor-blob", "7", "6")]
    # A purl that does not parse falls back too.
    assert identity_of(lib(0, "x", "1", purl="pkg:", cpe="cpe:/a:acme:x:1")).key[0] == "cpe"


def test_a_purl_and_a_bare_name_are_different_identities() -> None:
    """The stricter reading: a generator that stops writing purls makes its components new ones."""
    result = diff([lib(0, "zlib", "1.3.1")], [lib(0, "zlib", "1.3.1", purl="")])
    only(result, added=1, removed=1)


@pytest.mark.parametrize(
    ("ptype", "old", "new", "heading"),
    [
        ("npm", "1.0.0", "not-a-version", "upgraded"),  # the fallback order: numbers before text
        ("npm", "", "1.0.0", "upgraded"),
        ("pypi", "2.9-custom", "2.10-custom", "upgraded"),
        ("unknowntype", "r9", "r10", "upgraded"),  # no ecosystem rules: numbers compare as numbers
        ("npm", "1.0.0 beta!", "1.0.0 alpha!", "downgraded"),
        ("maven", "\x00", "\u00b2", "upgraded"),  # no crash on strange strings; the text decides
    ],
)
def test_unparseable_versions_follow_the_fallback_order(ptype: str, old: str, new: str, heading: str) -> None:
    result = diff([lib(0, "thing", old, ptype=ptype)], [lib(0, "thing", new, ptype=ptype)])
    only(result, **{heading: 1})


@settings(max_examples=300)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(*[st.lists(st.integers(0, 10**6), min_size=n, max_size=n)] * 2)))
def test_plain_numbers_compare_as_every_ecosystem_does(pair: tuple[list[int], list[int]]) -> None:
    """The shortcut for dotted numbers agrees with univers wherever it is taken."""
    old, new = (".".join(map(str, numbers)) for numbers in pair)
    for scheme, version_class in VERSION_CLASSES.items():
        if scheme in NOT_NUMERIC:
            continue
        try:
            a, b = version_class(old), version_class(new)
        except Exception:  # noqa: S112 - not a version under this scheme's rules: no shortcut to check
            continue
        assert compare_versions(VersionOrder(), scheme, old, new) == (b > a) - (b < a), scheme


def test_fallback_order() -> None:
    ordered = ["", "1", "1.2", "1.10", "v2", "2a", "10", "abc"]
    assert sorted(reversed(ordered), key=lambda v: (natural_key(v), v)) == ordered


def test_nested_components_report_their_parents() -> None:
    old = [lib(0, "fw", "1.0"), lib(1, "busybox", "1.35", parent=0), lib(2, "libc", "2.36", parent=1)]
    new = [lib(0, "fw", "1.1"), lib(1, "busybox", "1.36", parent=0), lib(2, "libc", "2.37", parent=1)]
    result = diff(old, new)
    rows = {c.identity: (c.before.parents, c.after.parents) for c in result.upgraded if c.before and c.after}
    assert rows == {
        "pkg:npm/fw": ((), ()),
        "pkg:npm/busybox": (("fw@1.0",), ("fw@1.1",)),
        "pkg:npm/libc": (("fw@1.0", "busybox@1.35"), ("fw@1.1", "busybox@1.36")),
    }


def test_a_parent_loop_or_a_missing_parent_ends_the_path() -> None:
    rows = [lib(0, "a", "1", parent=1), lib(1, "b", "1", parent=0), lib(2, "c", "1", parent=99)]
    result = diff([], rows)
    assert sorted(c.after.parents for c in result.added if c.after) == [(), ("a@1",), ("b@1",)]
