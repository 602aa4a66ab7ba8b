"""What changed between two SBOMs: components matched by identity, paired by version, and compared.

A pure decision over plain rows (no ORM, session or Flask); the rules and their stricter readings are in
docs/sboms.md, and tests/sboms/test_diff.py holds them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import unquote

from packageurl import normalize_name, normalize_namespace
from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import Version

PURL_TYPE = re.compile(r"[A-Za-z.\-_][A-Za-z0-9.\-_]*")
NUMBERS = re.compile(r"[0-9]+|[^0-9]+")
# Each purl type's version rules (npm: semver, maven, deb, rpm, golang, nuget, gem, pypi...).
VERSION_CLASSES = {
    scheme: cast("type[Version]", range_class.version_class) for scheme, range_class in RANGE_CLASS_BY_SCHEMES.items()
}
# One to three dotted whole numbers without leading zeros ("1.2.10"): two with as many parts compare as
# numbers under the rules of every ecosystem univers knows but these, so a pair of them needs no parsing
# (it was a third of a diff's time). Longer ones are left to univers: its semver reads only three parts.
PLAIN = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.(?:0|[1-9][0-9]{0,17})){0,2}")
NOT_NUMERIC = frozenset({"lexicographic", "datetime", "intdot", "all", "none"})
DIGITS = "0123456789"  # ASCII only: str.isdigit() is true of "²", which int() refuses


@dataclass(frozen=True, slots=True)
class Component:
    """One component row of an SBOM, as the diff reads it."""

    position: int
    parent_position: int | None
    type: str
    group: str
    name: str
    version: str
    purl: str = ""
    cpe: str = ""
    supplier: str = ""
    hashes: tuple[tuple[str, str], ...] = ()  # (algorithm, content)
    licenses: tuple[tuple[str, str], ...] = ()  # ("id" | "name" | "expression", value)

    @property
    def label(self) -> str:
        """`group/name@version`, how a parent is named in a path."""
        name = f"{self.group}/{self.name}" if self.group else self.name
        return f"{name}@{self.version}" if self.version else name


@dataclass(frozen=True, slots=True)
class Entry:
    """A component where it stands: the labels of the components it is nested in, outermost first."""

    component: Component
    parents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a diff: a component of the old SBOM, of the new one, or a pair of both."""

    identity: str
    before: Entry | None
    after: Entry | None


@dataclass(frozen=True)
class SbomDiff:
    """The changes from one SBOM to another; a pair is listed under each heading that applies to it."""

    added: tuple[Change, ...]
    removed: tuple[Change, ...]
    upgraded: tuple[Change, ...]
    downgraded: tuple[Change, ...]
    license_changed: tuple[Change, ...]
    supplier_changed: tuple[Change, ...]
    hash_changed: tuple[Change, ...]  # the same version with different bytes: a rebuild or tampering
    unchanged: int  # pairs with nothing to report

    @property
    def empty(self) -> bool:
        """Whether nothing changed."""
        return not any(getattr(self, name) for name in HEADINGS)


HEADINGS = (
    "added",
    "removed",
    "upgraded",
    "downgraded",
    "license_changed",
    "supplier_changed",
    "hash_changed",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """What makes two components the same one: `key` compares, `scheme` names the ecosystem's version rules."""

    key: tuple[str, str]  # (kind, text): kinds never collide
    display: str
    scheme: str | None  # a purl type that univers knows, else None: the fallback order


@lru_cache(maxsize=4096)
def _namespace(ptype: str, namespace: str) -> str | None:
    # Few namespaces, many names in each (npm scopes, Maven groups): each is normalised once.
    return normalize_namespace(namespace, ptype, encode=False)


def purl_identity(purl: str) -> tuple[str, str] | None:
    """A purl's (type, `type/namespace/name`), its version, qualifiers and subpath dropped and its type,
    namespace and name normalised by the purl specification's rules for the type; None if it is no purl.

    Split as the specification's parsing steps (and packageurl-python, whose per-type normalisation it
    uses) do; parsing the whole purl with that library took 0.9 s per 50,000 components."""
    head = purl.strip().partition("#")[0].partition("?")[0]
    scheme, colon, rest = head.partition(":")
    if scheme != "pkg" or not colon:
        return None
    ptype, slash, path = rest.strip().lstrip("/").partition("/")
    if not slash or not PURL_TYPE.fullmatch(ptype):
        return None
    ptype = ptype.lower()
    namespace = ""
    if ptype == "npm" and path.startswith("@"):  # an npm scope starts with "@", which is no version
        namespace, _, path = path.partition("/")
    remainder, at, version = path.rpartition("@")
    if not at:
        remainder = version
    parts = [part for part in remainder.strip().strip("/").split("/") if part.strip()]
    if not parts:
        return None
    if not namespace:
        namespace = "/".join(parts[:-1])
    name = normalize_name(parts[-1], None, ptype, encode=False if "%" in parts[-1] else None)
    space = _namespace(ptype, namespace) if namespace else None
    if not name:
        return None
    return ptype, f"{ptype}/{space}/{name}" if space else f"{ptype}/{name}"


def _split_cpe23(text: str) -> list[str]:
    """The fields of a CPE 2.3 formatted string: split at colons that no backslash escapes, escapes removed."""
    fields, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def cpe_identity(cpe: str) -> str | None:
    """A CPE (2.3 formatted string or 2.2 URI) without its version and update, lower case, unescaped, the
    fields it leaves out as `*`; None if it is no CPE."""
    text = cpe.strip().lower()
    if text.startswith("cpe:2.3:"):
        fields = _split_cpe23(text)[2:]
        if len(fields) != 11:
            return None
    elif text.startswith("cpe:/"):
        fields = [unquote(field) or "*" for field in text[5:].split(":")]
        if len(fields) > 7:
            return None
        fields += ["*"] * (11 - len(fields))
    else:
        return None
    part, vendor, product = fields[:3]
    if not part or not vendor or not product:
        return None
    return ":".join(["cpe:2.3", part, vendor, product, "*", "*", *fields[5:]])


def _purl_key(purl: str) -> Identity | None:
    found = purl_identity(purl)
    if found is None:
        return None
    ptype, text = found
    return Identity(("purl", text), f"pkg:{text}", ptype if ptype in VERSION_CLASSES else None)


def identity_of(component: Component, purls: dict[str, Identity | None] | None = None) -> Identity:
    """The purl without version, qualifiers and subpath; else the CPE without version; else group and name.
    `purls` keeps purls read before (most recur on both sides of a diff: those whose version did not change)."""
    if component.purl:
        if purls is None:
            found = _purl_key(component.purl)
        elif component.purl in purls:
            found = purls[component.purl]
        else:
            found = purls[component.purl] = _purl_key(component.purl)
        if found is not None:
            return found
    if component.cpe:
        cpe = cpe_identity(component.cpe)
        if cpe:
            return Identity(("cpe", cpe), cpe, None)
    name = f"{component.group.strip()}/{component.name.strip()}" if component.group.strip() else component.name.strip()
    return Identity(("name", name.casefold()), name, None)


def natural_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """The fallback order: runs of digits compare as numbers and sort before text; a leading `v` is ignored.
    Total once the string itself breaks ties (`version_order` adds it)."""
    text = version.strip()
    if text[:1] in ("v", "V") and text[1:2] and text[1] in DIGITS:
        text = text[1:]
    return tuple((0, int(run), "") if run[0] in DIGITS else (1, 0, run) for run in NUMBERS.findall(text))


# Versions parsed under an ecosystem's rules, shared by every diff and search of the process: univers's
# parsers take about 0.1 ms a version, and a portfolio's products repeat most of their components' versions.
# Its Version objects are immutable, so sharing them is safe; the bound keeps the memory to a few MB.
PARSED_VERSIONS_KEPT = 20_000


@lru_cache(maxsize=PARSED_VERSIONS_KEPT)
def parsed_version(scheme: str, version: str) -> Version | None:
    """The version under the scheme's rules, or None when it does not parse."""
    try:
        return VERSION_CLASSES[scheme](version)
    except Exception:  # univers's parsers raise assorted errors on odd strings: the fallback order reads them
        return None


class VersionOrder:
    """Versions of one diff ordered by each ecosystem's rules (univers), parsed once each."""

    def parse(self, scheme: str | None, version: str) -> Version | None:
        """The version under the scheme's rules, or None when it has none or the version does not parse."""
        return None if scheme is None else parsed_version(scheme, version)

    def keys(self, scheme: str | None, versions: Iterable[str]) -> Callable[[str], Any]:
        """A total sort key over these versions: the ecosystem's order where every one of them parses and
        compares, else the fallback order for all of them (one order, never a mix); the string breaks ties."""
        distinct = set(versions)
        parsed = {v: self.parse(scheme, v) for v in distinct}
        if all(p is not None for p in parsed.values()) and _comparable(parsed.values()):
            return lambda v: (parsed[v], v)
        return lambda v: (natural_key(v), v)


def _comparable(versions: Iterable[Version | None]) -> bool:
    try:
        sorted(versions)  # type: ignore[type-var]
    except Exception:  # a comparison univers cannot make: the fallback order for all
        return False
    return True


def compare_versions(order: VersionOrder, scheme: str | None, old: str, new: str) -> int:
    """-1, 0 or 1: how `new` stands to `old` (0: the same version, however spelt: 1.2 and 1.2.0 in semver)."""
    if old == new:
        return 0
    if scheme is not None and scheme not in NOT_NUMERIC and PLAIN.fullmatch(old) and PLAIN.fullmatch(new):
        a, b = old.split("."), new.split(".")
        if len(a) == len(b):
            x, y = [int(n) for n in a], [int(n) for n in b]
            return (x < y) - (x > y)
    key = order.keys(scheme, (old, new))
    a, b = key(old)[0], key(new)[0]
    return (a < b) - (a > b)


def _parents(by_position: dict[int, Component]) -> dict[int, tuple[int, ...]]:
    """Each component's ancestors' positions, outermost first; a parent that is missing or a loop ends the path."""
    found: dict[int, tuple[int, ...]] = {}
    for position, component in by_position.items():
        parent = component.parent_position
        if parent is None:  # most components
            found[position] = ()
            continue
        chain: list[int] = []
        seen = {position}
        while parent is not None and parent in by_position and parent not in seen:
            if parent in found and seen.isdisjoint(found[parent]):
                chain.extend(reversed((*found[parent], parent)))
                break
            chain.append(parent)
            seen.add(parent)
            parent = by_position[parent].parent_position
        found[position] = tuple(reversed(chain))
    return found


class _Side:
    """One SBOM's components grouped by identity, with where each stands."""

    def __init__(self, rows: Sequence[Component], purls: dict[str, Identity | None]) -> None:
        self.rows = {c.position: c for c in rows}
        self.ancestors = _parents(self.rows)
        self.identity: dict[int, Identity] = {}
        self.groups: dict[tuple[str, str], list[Component]] = {}
        for component in rows:
            found = purls.get(component.purl) if component.purl else None
            if found is None:
                found = identity_of(component, purls)
            self.identity[component.position] = found
            group = self.groups.get(found.key)
            if group is None:
                self.groups[found.key] = [component]
            else:
                group.append(component)

    def entry(self, component: Component) -> Entry:
        return Entry(component, tuple(self.rows[p].label for p in self.ancestors[component.position]))

    def place(self, component: Component) -> tuple[tuple[str, str], ...]:
        """The identities of the enclosing components: where it stands, whatever their versions."""
        return tuple(self.identity[p].key for p in self.ancestors[component.position])


def _zip_rest(
    olds: list[Component], news: list[Component]
) -> tuple[list[tuple[Component, Component]], list[Component], list[Component]]:
    n = min(len(olds), len(news))
    return list(zip(olds[:n], news[:n], strict=True)), olds[n:], news[n:]


def _pair_same_version(
    before: _Side, after: _Side, olds: list[Component], news: list[Component]
) -> tuple[list[tuple[Component, Component]], list[Component], list[Component]]:
    """Copies of one version: those in the same place first, then the rest, each in document order."""
    if len(olds) == 1 and len(news) == 1:
        return [(olds[0], news[0])], [], []
    by_place: dict[Any, list[Component]] = defaultdict(list)
    for component in news:
        by_place[after.place(component)].append(component)
    pairs: list[tuple[Component, Component]] = []
    rest_old: list[Component] = []
    for component in olds:
        same = by_place.get(before.place(component))
        if same:
            pairs.append((component, same.pop(0)))
        else:
            rest_old.append(component)
    rest_new = sorted((c for group in by_place.values() for c in group), key=lambda c: c.position)
    more, rest_old, rest_new = _zip_rest(rest_old, rest_new)
    return pairs + more, rest_old, rest_new


def _pair(
    before: _Side, after: _Side, order: VersionOrder, scheme: str | None, olds: list[Component], news: list[Component]
) -> tuple[list[tuple[Component, Component]], list[Component], list[Component]]:
    """Exact versions first; then the rest by version order, highest with highest, so the lowest are the
    ones added or removed."""
    if len(olds) == 1 and len(news) == 1:
        return [(olds[0], news[0])], [], []
    old_by_version: dict[str, list[Component]] = defaultdict(list)
    new_by_version: dict[str, list[Component]] = defaultdict(list)
    for component in olds:
        old_by_version[component.version].append(component)
    for component in news:
        new_by_version[component.version].append(component)
    pairs: list[tuple[Component, Component]] = []
    rest_old: list[Component] = []
    rest_new: list[Component] = []
    for version in sorted(old_by_version.keys() | new_by_version.keys()):
        same, left_old, left_new = _pair_same_version(
            before, after, old_by_version.get(version, []), new_by_version.get(version, [])
        )
        pairs += same
        rest_old += left_old
        rest_new += left_new
    if rest_old and rest_new:
        key = order.keys(scheme, (c.version for c in rest_old + rest_new))
        rest_old.sort(key=lambda c: (key(c.version), c.position), reverse=True)
        rest_new.sort(key=lambda c: (key(c.version), c.position), reverse=True)
        more, rest_old, rest_new = _zip_rest(rest_old, rest_new)
        pairs += more
    return pairs, rest_old, rest_new


def _hashes(component: Component) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for alg, content in component.hashes:
        found[alg.strip().upper()].add(content.strip().lower())
    return found


def hashes_differ(old: Component, new: Component) -> bool:
    """Whether an algorithm that both give digests differently (hashes only one side gives prove nothing)."""
    if not old.hashes or not new.hashes or old.hashes == new.hashes:
        return False
    a, b = _hashes(old), _hashes(new)
    return any(a[alg] != b[alg] for alg in a.keys() & b.keys())


def _licenses(component: Component) -> frozenset[str]:
    return frozenset(" ".join(value.split()).casefold() for _, value in component.licenses)


@lru_cache(maxsize=1)
def _licensing() -> Any:
    """The SPDX licence list as license-expression reads it (loaded once, and only when expressions differ)."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _expression(text: str) -> str:
    """An SPDX id or expression in a normal form (`MIT OR Apache-2.0` and `(Apache-2.0 OR mit)` alike: the
    library's own parse and simplification); text it cannot read, as written (case and spacing ignored)."""
    from license_expression import ExpressionError

    try:
        return str(_licensing().parse(text, validate=False).simplify()).casefold()
    except (ExpressionError, TypeError, ValueError):
        return " ".join(text.split()).casefold()


def _normal_licenses(component: Component) -> frozenset[str]:
    return frozenset(
        " ".join(value.split()).casefold() if kind == "name" else _expression(value)
        for kind, value in component.licenses
    )


def licenses_differ(old: Component, new: Component) -> bool:
    """Whether the licences differ as sets of ids, names and expressions: case and spacing ignored, and ids and
    expressions compared as the SPDX expressions they are (the order of `OR` and `AND` operands does not
    matter). Expressions are parsed only when the cheap comparison finds a difference."""
    if old.licenses == new.licenses or _licenses(old) == _licenses(new):
        return False
    return _normal_licenses(old) != _normal_licenses(new)


def supplier_differs(old: Component, new: Component) -> bool:
    """Whether the supplier's name differs (case and spacing ignored); a name given on one side only differs."""
    return (
        old.supplier != new.supplier
        and " ".join(old.supplier.split()).casefold() != " ".join(new.supplier.split()).casefold()
    )


def _sorted(changes: list[Change]) -> tuple[Change, ...]:
    def key(change: Change) -> tuple[str, int, int]:
        return (
            change.identity,
            change.before.component.position if change.before else -1,
            change.after.component.position if change.after else -1,
        )

    return tuple(sorted(changes, key=key))


def _named(before: _Side, after: _Side, olds: list[Component], news: list[Component]) -> Identity:
    """The identity of these components; when names match whatever their case, the first of their spellings
    (so the diff reads the same from either side)."""
    identity = before.identity[olds[0].position] if olds else after.identity[news[0].position]
    if identity.key[0] != "name":
        return identity
    spellings = [before.identity[c.position] for c in olds] + [after.identity[c.position] for c in news]
    return min(spellings, key=lambda i: i.display)


def diff(before_rows: Sequence[Component], after_rows: Sequence[Component]) -> SbomDiff:
    """The changes from the SBOM `before_rows` lists to the one `after_rows` lists."""
    purls: dict[str, Identity | None] = {}
    before, after = _Side(before_rows, purls), _Side(after_rows, purls)
    order = VersionOrder()
    lists: dict[str, list[Change]] = {name: [] for name in HEADINGS}
    unchanged = 0

    def judge(identity: Identity, old: Component, new: Component) -> None:
        nonlocal unchanged
        if old.version != new.version:
            direction = compare_versions(order, identity.scheme, old.version, new.version)
            moved = "upgraded" if direction > 0 else "downgraded" if direction < 0 else ""
        else:
            direction, moved = 0, ""
        rebuilt = direction == 0 and hashes_differ(old, new)
        relicensed = licenses_differ(old, new)
        resupplied = supplier_differs(old, new)
        if not (moved or rebuilt or relicensed or resupplied):
            unchanged += 1
            return
        change = Change(identity.display, before.entry(old), after.entry(new))
        for heading, applies in (
            (moved, bool(moved)),
            ("hash_changed", rebuilt),
            ("license_changed", relicensed),
            ("supplier_changed", resupplied),
        ):
            if applies:
                lists[heading].append(change)

    nothing: list[Component] = []
    for key, olds in before.groups.items():
        news = after.groups.get(key, nothing)
        identity = _named(before, after, olds, news)
        if len(olds) == 1 and len(news) == 1:  # nearly every component: one copy on each side
            old, new = olds[0], news[0]
            if (old.version, old.hashes, old.licenses, old.supplier) == (
                new.version,
                new.hashes,
                new.licenses,
                new.supplier,
            ):
                unchanged += 1
            else:
                judge(identity, old, new)
            continue
        pairs, removed, added = _pair(before, after, order, identity.scheme, olds, news)
        lists["removed"] += [Change(identity.display, before.entry(c), None) for c in removed]
        lists["added"] += [Change(identity.display, None, after.entry(c)) for c in added]
        for old, new in pairs:
            judge(identity, old, new)
    for key, news in after.groups.items():
        if key not in before.groups:
            identity = _named(before, after, nothing, news)
            lists["added"] += [Change(identity.display, None, after.entry(c)) for c in news]
    return SbomDiff(**{name: _sorted(changes) for name, changes in lists.items()}, unchanged=unchanged)
