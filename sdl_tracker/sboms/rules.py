"""Views over SBOMs, decided without a database: what a component search asks for and which versions it
takes, how names fold, a release's licences counted, dependency paths, and which SBOM was primary when.

The rules and their readings are in docs/sboms.md; tests/sboms/test_rules.py holds them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from packageurl import PackageURL
from univers.version_range import VersionRange
from univers.versions import Version

from ..errors import Invalid
from .diff import VERSION_CLASSES, VersionOrder, compare_versions, purl_identity

MAX_QUERY = 300
MAX_VERSION = 100
FIELD = "q"
OPERATORS = ("<=", ">=", "!=", "==", "<", ">", "=", "^", "~")
# A range begins at the first word (after the name's first) that starts like a version or a comparison.
RANGE_START = re.compile(r"(?:[<>=!^~*]|vers:|[vV]?[0-9])")
CONSTRAINT = re.compile(r"\s*(<=|>=|!=|==|<|>|=|\^|~)?\s*([^\s,<>=!|^~]+)\s*")
WILDCARDS = ("x", "X", "*")


# What `fold` replaces after lower(), in order: a final sigma, an i with the dot above that Python keeps of a
# lowered dotted capital I (PostgreSQL lowers it to i), and sharp s.
FOLDS = (("\u03c2", "\u03c3"), ("i\u0307", "i"), ("\u00df", "ss"))


def fold(text: str) -> str:
    """A name as searches compare it, the same on both databases (see `queries.folded`): lower case by each
    engine's lower(), then the letters whose lower case differs between them made equal (a final sigma, the
    dot Python keeps on a lowered dotted capital I) and ß read as ss, as Unicode's case folding does."""
    folded = text.lower()
    for letter, read_as in FOLDS:
        folded = folded.replace(letter, read_as)
    return folded


# The longest search key kept (characters): PostgreSQL refuses an index entry over about 2,700 bytes, and a
# name's first 500 characters name it (the component keeps its whole name, up to formats.MAX_TEXT).
MAX_KEY = 500


def search_keys(name: str, purl: str) -> tuple[str, str]:
    """A component's keys as searches look them up: its folded name, and its purl's identity ("" if none).
    Stored at import (and by the migration that added them): changing how either is computed needs a
    migration that computes them again."""
    identity = purl_identity(purl) if purl else None
    return fold(name)[:MAX_KEY], identity[1][:MAX_KEY] if identity else ""


Op = Literal["<", "<=", ">", ">=", "=", "!="]


@dataclass(frozen=True)
class Constraint:
    """One comparison a version must pass: `op` against `version`."""

    op: Op
    version: str


@dataclass(frozen=True)
class Versions:
    """Which versions a search takes: any of `alternatives` (each all of its constraints), or a vers range."""

    text: str
    alternatives: tuple[tuple[Constraint, ...], ...] = ()
    vers: VersionRange | None = None


@dataclass(frozen=True)
class Wanted:
    """A component search: a purl identity (its type and `type/namespace/name`) or a folded name (and
    group), and the versions wanted (None: every version)."""

    text: str
    purl: tuple[str, str] | None = None
    name: str = ""
    group: str = ""
    versions: Versions | None = None

    @property
    def description(self) -> str:
        """What was understood, for the page and the command line."""
        what = f"pkg:{self.purl[1]}" if self.purl else f"name containing “{self.name}”"
        if self.group:
            what += f" in a group containing “{self.group}”"
        return f"{what}, versions {self.versions.text}" if self.versions else f"{what}, any version"


def _refuse(message: str) -> Invalid:
    return Invalid.field(FIELD, message)


def _numbers(prefix: str, text: str) -> list[int]:
    parts = prefix.split(".")
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise _refuse(f"{text!r}: a wildcard, ^ or ~ needs whole numbers before it (3.0.x, ^1.2)")
    return [int(part) for part in parts]


def _bump(numbers: list[int], index: int) -> str:
    """The first version past every one that starts with numbers[:index + 1]: 3.0 -> 3.1 at index 1."""
    head = [*numbers[:index], numbers[index] + 1]
    return ".".join(str(n) for n in head)


def _wildcard(text: str) -> tuple[Constraint, ...]:
    """`3.0.x`, `3.*`: every version that starts with the numbers before the wildcard (`*` alone: any)."""
    parts = text.split(".")
    first = next(i for i, part in enumerate(parts) if part in WILDCARDS)
    if any(part not in WILDCARDS for part in parts[first:]):
        raise _refuse(f"{text!r}: a wildcard ends a version (3.0.x)")
    if first == 0:
        return ()
    numbers = _numbers(".".join(parts[:first]), text)
    return Constraint(">=", ".".join(parts[:first])), Constraint("<", _bump(numbers, first - 1))


def _caret_tilde(op: str, version: str) -> tuple[Constraint, ...]:
    """npm's `^1.2.3` (the same left-most non-zero number) and `~1.2.3` (the same minor)."""
    numbers = _numbers(version, op + version)
    if op == "~":
        index = min(1, len(numbers) - 1)
    else:
        index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
    return Constraint(">=", version), Constraint("<", _bump(numbers, index))


def _alternative(text: str) -> tuple[Constraint, ...]:
    found: list[Constraint] = []
    rest = text.replace(",", " ").strip()
    if not rest:
        raise _refuse("an empty alternative in the version range")
    position = 0
    while position < len(rest):
        match = CONSTRAINT.match(rest, position)
        if match is None or match.end() == position:
            raise _refuse(f"cannot read the version range at {rest[position:]!r}")
        op, version = match.group(1) or "", match.group(2)
        position = match.end()
        if len(version) > MAX_VERSION:
            raise _refuse(f"a version has at most {MAX_VERSION} characters")
        if any(part in WILDCARDS for part in version.split(".")):
            if op:
                raise _refuse(f"{op}{version}: a wildcard goes without a comparison (3.0.x, not >=3.0.x)")
            found += _wildcard(version)
        elif op in ("^", "~"):
            found += _caret_tilde(op, version)
        else:
            found.append(Constraint("=" if op in ("", "==") else op, version))  # type: ignore[arg-type]
    return tuple(found)


def parse_versions(text: str) -> Versions:
    """A version range as people write it (`3.0.x`, `>=3.0,<3.1`, `<2.17.1`, `^1.2`, `1.0 || >=2`) or as a
    vers range (`vers:npm/>=1.2.0|<2.0.0`); Invalid when it cannot be read."""
    text = " ".join(text.split())
    if text.lower().startswith("vers:"):
        try:
            vers = VersionRange.from_string(text)
        except Exception as exc:  # univers raises assorted errors (ValueError, InvalidVersion...) on bad ranges
            raise _refuse(f"not a vers range: {exc}") from None
        return Versions(text, vers=vers)
    if any(ch in text for ch in "|") and "||" not in text:
        raise _refuse("alternatives are separated by ||, or write a vers range (vers:npm/>=1.0|<2.0)")
    alternatives = tuple(_alternative(part) for part in text.split("||"))
    return Versions(text, alternatives=alternatives)


def _range(text: str) -> Versions | None:
    """The versions after a name or purl; None (any version) when there is none or one alternative is `*`."""
    if not text.strip():
        return None
    versions = parse_versions(text)
    return None if versions.vers is None and not all(versions.alternatives) else versions


def _purl_query(text: str) -> Wanted:
    head, _, rest = text.partition(" ")
    identity = purl_identity(head)
    try:
        version = PackageURL.from_string(head).version or ""
    except ValueError:
        identity = None
    if identity is None:
        raise _refuse(f"{head!r} is not a package URL (pkg:type/namespace/name@version)")
    if version and rest.strip():
        raise _refuse("give a version in the purl or a range after it, not both")
    versions = _range(rest)
    if version:
        versions = Versions(version, alternatives=((Constraint("=", version),),))
    return Wanted(text, purl=identity, versions=versions)


def parse_query(text: str) -> Wanted:
    """What a component search asks for: `pkg:...` (with or without a version, or with a range after it), or
    a name (`group/name` to name the group too) and an optional range after it."""
    text = " ".join(text.split())
    if not text:
        raise _refuse("name a component: a purl, or a name with an optional version range (openssl 3.0.x)")
    if len(text) > MAX_QUERY:
        raise _refuse(f"a search has at most {MAX_QUERY} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise _refuse("a search may not contain control or unassigned characters")
    if text.lower().startswith("pkg:"):
        return _purl_query(text)
    if text.lower().startswith("vers:"):
        raise _refuse("name the component before the range (log4j-core vers:maven/<2.17.1)")
    words = text.split(" ")
    cut = next((i for i in range(1, len(words)) if RANGE_START.match(words[i])), len(words))
    name, rest = " ".join(words[:cut]), " ".join(words[cut:])
    group = ""
    if "/" in name:
        group, _, name = name.rpartition("/")
    if not fold(name).strip():
        raise _refuse("name a component before the range")
    versions = _range(rest)
    return Wanted(text, name=fold(name).strip(), group=fold(group).strip(), versions=versions)


def version_scheme(purl: str) -> str | None:
    """The version rules of a component: its purl type's, where univers knows them; else None (the fallback)."""
    found = purl_identity(purl) if purl else None
    return found[0] if found and found[0] in VERSION_CLASSES else None


def key_scheme(purl_key: str) -> str | None:
    """version_scheme of a component from its stored purl identity (search_keys): the type it starts with."""
    scheme = purl_key.partition("/")[0]
    return scheme if scheme in VERSION_CLASSES else None


def _passes(order: VersionOrder, scheme: str | None, version: str, constraint: Constraint) -> bool:
    stands = compare_versions(order, scheme, constraint.version, version)  # how `version` stands to the bound
    match constraint.op:
        case "=":
            return stands == 0
        case "!=":
            return stands != 0
        case "<":
            return stands < 0
        case "<=":
            return stands <= 0
        case ">":
            return stands > 0
        case _:
            return stands >= 0


def version_taken(versions: Versions | None, scheme: str | None, version: str, order: VersionOrder) -> bool:
    """Whether a component's version is one the search wants: by its ecosystem's rules (a vers range: by the
    range's scheme's); a component without a version only when any version will do."""
    if versions is None:
        return True
    if not version.strip():
        return False
    if versions.vers is not None:
        try:
            version_class = cast("type[Version]", versions.vers.version_class)  # typed None on the base class
            return bool(version_class(version) in versions.vers)
        except Exception:  # a version the range's scheme cannot read is not in it
            return False
    return any(all(_passes(order, scheme, version, c) for c in alt) for alt in versions.alternatives)


# Licences


@dataclass(frozen=True)
class LicenceCount:
    """How many components give this licence (`kind`: id, name or expression, as the SBOM gives it)."""

    kind: str
    value: str
    components: int


def count_licences(licences: Iterable[Sequence[dict[str, str]] | None]) -> tuple[list[LicenceCount], int]:
    """Each licence (id, name or expression, as given) and how many components give it, most first; and how
    many components give none. A component that gives two licences counts once under each."""
    counts: Counter[tuple[str, str]] = Counter()
    without = 0
    for given in licences:
        found = {(kind, value) for item in given or () for kind, value in item.items() if value}
        if not found:
            without += 1
        counts.update(found)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0][1].casefold(), item[0]))
    return [LicenceCount(kind, value, n) for (kind, value), n in ordered], without


# Dependency paths

End = Literal["root", "cycle", "depth"]


@dataclass(frozen=True)
class DependencyPath:
    """The component, what depends on it, and so on up to `end`: a root (nothing depends on it), a loop back
    into the path, or the depth limit."""

    refs: tuple[str, ...]
    end: End


@dataclass(frozen=True)
class Dependents:
    """Every path from a component up to a root, at most `limit` of them; `cut` when there were more."""

    paths: tuple[DependencyPath, ...]
    cut: bool

    @property
    def cut_at_depth(self) -> bool:
        """Whether a path reached the depth limit before a root."""
        return any(p.end == "depth" for p in self.paths)


@dataclass(frozen=True)
class Pulled:
    """A transitive dependency: how many steps away and through which ref it was first reached."""

    ref: str
    depth: int
    via: str


def _graph(edges: Iterable[tuple[str, str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    for ref, target in edges:
        if ref == target or target in forward[ref]:
            continue
        forward[ref].append(target)
        backward[target].append(ref)
    return forward, backward


def paths_to_roots(edges: Iterable[tuple[str, str]], start: str, *, limit: int, depth: int) -> Dependents:
    """What depends on `start`, as paths up to the roots (document order of the edges); at most `limit` paths
    of at most `depth` steps; a dependent already on the path ends it as a loop."""
    _, backward = _graph(edges)
    paths: list[DependencyPath] = []
    # Depth first, one path at a time: each stack entry is a path and the index of its next dependent to try.
    stack: list[tuple[tuple[str, ...], int]] = [((start,), 0)]
    while stack:
        path, index = stack.pop()
        node = path[-1]
        parents = backward.get(node, [])
        if index == 0:
            fresh = [p for p in parents if p not in path]
            end: End | None = None
            if not parents:
                end = "root"
            elif not fresh:
                end = "cycle"
            elif len(path) > depth:
                end = "depth"
            if end is not None:
                if len(paths) == limit:
                    return Dependents(tuple(paths), cut=True)
                paths.append(DependencyPath(path, end))
                continue
        if index < len(parents):
            stack.append((path, index + 1))
            parent = parents[index]
            if parent not in path:
                stack.append(((*path, parent), 0))
    return Dependents(tuple(paths), cut=False)


def pulled_in(edges: Iterable[tuple[str, str]], start: str, *, depth: int) -> tuple[list[Pulled], bool]:
    """What `start` depends on, directly and transitively, nearest first (each once, at its shortest
    distance); and whether more lay beyond `depth` steps."""
    forward, _ = _graph(edges)
    found: list[Pulled] = []
    seen = {start}
    level = [start]
    for step in range(1, depth + 1):
        following: list[str] = []
        for node in level:
            for target in forward.get(node, ()):
                if target not in seen:
                    seen.add(target)
                    found.append(Pulled(target, step, node))
                    following.append(target)
        level = following
        if not level:
            return found, False
    return found, any(t not in seen for node in level for t in forward.get(node, ()))


# Which SBOM was primary when


@dataclass(frozen=True)
class PrimaryChange:
    """An audited moment an SBOM of the release became primary (`became`: None where the event does not
    say, an import recorded before it did: then the first SBOM of the release was)."""

    sbom_id: int
    at: datetime
    became: bool | None


@dataclass(frozen=True)
class Period:
    """From when until when (None: still) an SBOM was its release's primary one."""

    start: datetime
    end: datetime | None


def primary_periods(changes: Sequence[PrimaryChange]) -> dict[int, list[Period]]:
    """Each SBOM's periods as the release's primary one, from the audited imports and choices in order."""
    periods: dict[int, list[Period]] = defaultdict(list)
    current: int | None = None
    for change in changes:
        became = change.became if change.became is not None else current is None
        if not became or change.sbom_id == current:
            continue
        if current is not None:
            last = periods[current][-1]
            periods[current][-1] = Period(last.start, change.at)
        periods[change.sbom_id].append(Period(change.at, None))
        current = change.sbom_id
    return dict(periods)
