"""Which changes of a release may be a substantial modification: a pure decision over plain inputs.

The inputs are the SBOM diff from the previous release (sboms/diff.py), the release's commits with the
paths they changed, and the product's interfaces before and after. Each signal names its rule, says in
one line what changed, carries the evidence, and has a stable key (rule, kind, subject) that a security
officer's decision is stored under. The rules, their vocabularies and their stricter readings are in
docs/sboms.md ("Substantial-modification signals"); tests/modifications/test_rules.py holds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..sboms.diff import Change, Component, SbomDiff, cpe_identity, identity_of
from .vocabulary import (
    CRYPTO_ASSET_TYPE,
    CRYPTO_COMPONENTS,
    NETWORK_COMPONENTS,
    NETWORK_INTERFACE_KINDS,
    OPENSSL_NAMES,
    PRIVILEGED_COMPONENTS,
    PRIVILEGED_PATHS,
    PRIVILEGED_TYPES,
    PRIVILEGED_WORDS,
    UPDATE_COMPONENTS,
    UPDATE_PREFIXES,
    UPDATE_SEGMENTS,
    UPDATE_TOKENS,
    UPDATE_WORDS,
)

NETWORK = "network-facing"
CRYPTO = "crypto"
PRIVILEGED = "privileged-service"
UPDATE = "update-mechanism"
RULES: dict[str, str] = {
    NETWORK: "a new network-facing component or network interface",
    CRYPTO: "a new or removed crypto or TLS library, a major-version change of one, or an algorithm change",
    PRIVILEGED: "a new or changed privileged service",
    UPDATE: "a changed update mechanism or bootloader",
}
SONAME = re.compile(r"^(.*?[a-z+])[-.]?[0-9]+(?:\.[0-9]+)*$")  # libssl3, libssl1.1, bind9, grub2
PACKAGING = ("-server", "-daemon", "-bin", "-core", "-common", "-libs", "-lib", "-dev", "-devel", "-utils", "-tools")
LEADING = re.compile(r"^[vV]?([0-9]+)(?:\.([0-9]+))?")
TOKENS = re.compile(r"[-_.]")


@dataclass(frozen=True)
class CommitFacts:
    """One commit of the release: where it is, what it says, which paths it changed."""

    repository: str
    sha: str
    subject: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class InterfaceFacts:
    """One interface of the product as it stood at a moment."""

    name: str
    kind: str
    protocol: str = ""
    port: int | None = None


@dataclass(frozen=True)
class ComponentFact:
    """A component a signal rests on: its identity and its versions before and after ("" when absent)."""

    identity: str
    name: str
    type: str
    old_version: str
    new_version: str
    purl: str = ""
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitFact:
    """A commit a signal rests on, with the paths of it that matched (none when its subject did)."""

    repository: str
    sha: str
    subject: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class InterfaceFact:
    """An interface a signal rests on, and how it stood before (None: it did not exist)."""

    interface: InterfaceFacts
    before: InterfaceFacts | None = None


@dataclass(frozen=True)
class Signal:
    """One change that may be a substantial modification, for a security officer to confirm or dismiss."""

    rule: str
    key: str  # rule:kind:subject, stable while the change stands
    summary: str
    components: tuple[ComponentFact, ...] = ()
    commits: tuple[CommitFact, ...] = ()
    interfaces: tuple[InterfaceFact, ...] = ()


@dataclass
class _Draft:
    rule: str
    key: str
    summary: str
    components: list[ComponentFact] = field(default_factory=list)
    commits: dict[tuple[str, str], CommitFact] = field(default_factory=dict)
    interfaces: list[InterfaceFact] = field(default_factory=list)


class _Signals:
    """Signals under construction, merged by key (two copies of one library added make one signal)."""

    def __init__(self) -> None:
        self.drafts: dict[str, _Draft] = {}

    def add(self, rule: str, kind: str, subject: str, summary: str) -> _Draft:
        key = f"{rule}:{kind}:{subject}"
        return self.drafts.setdefault(key, _Draft(rule, key, summary))

    def done(self) -> tuple[Signal, ...]:
        order = list(RULES)
        return tuple(
            Signal(
                d.rule,
                d.key,
                d.summary,
                tuple(d.components),
                tuple(sorted(d.commits.values(), key=lambda c: (c.repository, c.sha))),
                tuple(d.interfaces),
            )
            for d in sorted(self.drafts.values(), key=lambda d: (order.index(d.rule), d.key))
        )


# Name forms and vocabulary matching.


def name_forms(component: Component) -> tuple[str | None, frozenset[str]]:
    """The component's purl type (None without a purl) and the names it may be listed under, lower case: its
    name, `namespace/name` and the CPE's product, each also without a trailing number (a soname: `libssl3`,
    `bind9`) and without one packaging suffix (`openssh-server`, `nginx-core`)."""
    identity = identity_of(component)
    ptype: str | None = None
    names = {component.name.strip().lower()}
    if component.group.strip():
        names.add(f"{component.group.strip().lower()}/{component.name.strip().lower()}")
    if identity.key[0] == "purl":
        ptype, _, rest = identity.key[1].partition("/")
        names.add(rest.rsplit("/", 1)[-1].lower())
        names.add(rest.lower())
    cpe = cpe_identity(component.cpe) if component.cpe else None
    if cpe:
        names.add(cpe.split(":")[4])
    forms = set(names)
    for name in names:
        stem = name.rsplit("/", 1)[-1]
        match = SONAME.match(stem)
        if match:
            forms.add(match.group(1))
        for suffix in PACKAGING:
            if stem.endswith(suffix) and len(stem) > len(suffix):
                forms.add(stem[: -len(suffix)])
    return ptype, frozenset(f for f in forms if f)


def listed(component: Component, vocabulary: Mapping[str, str]) -> str | None:
    """The category of the first vocabulary entry that names the component, or None."""
    ptype, forms = name_forms(component)
    for entry, category in vocabulary.items():
        wanted_type, colon, name = entry.partition(":")
        if not colon:
            wanted_type, name = "", entry
        elif wanted_type != ptype:
            continue
        if name.endswith("/*"):
            if any(form.startswith(name[:-1]) for form in forms):
                return category
        elif name.endswith("*"):
            if any(form.rsplit("/", 1)[-1].startswith(name[:-1]) or form.startswith(name[:-1]) for form in forms):
                return category
        elif name in forms:
            return category
    return None


# Versions: the major line.


def upstream_version(scheme: str | None, version: str) -> str:
    """The upstream part of a packaged version: Debian and RPM without epoch and revision, Alpine without `-rN`."""
    text = version.strip()
    if scheme in ("deb", "rpm"):
        text = re.sub(r"^[0-9]+:", "", text)
        if "-" in text:
            text = text.rsplit("-", 1)[0]
    elif scheme in ("apk", "alpine"):
        text = re.sub(r"-r[0-9]+$", "", text)
    return text


def major_line(scheme: str | None, version: str, openssl: bool = False) -> tuple[int, ...] | None:
    """The major line of a version: its first number; with 0 first, the first two (semver: 0.x breaks at the
    minor); OpenSSL before 3 the first two (1.0.2 and 1.1.1 are major lines). None when it does not begin with
    a number."""
    match = LEADING.match(upstream_version(scheme, version))
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2) or 0)
    if first == 0 or (openssl and first < 3):
        return (first, second)
    return (first,)


def _line_text(line: tuple[int, ...] | None, version: str) -> str:
    return ".".join(str(n) for n in line) if line is not None else version


def major_change(component: Component, old: str, new: str) -> tuple[str, str] | None:
    """The two major lines when a version change crosses one (a version not read as numbers counts as
    crossing), else None."""
    if old == new:
        return None
    identity = identity_of(component)
    _, forms = name_forms(component)
    openssl = bool(forms & OPENSSL_NAMES)
    a, b = major_line(identity.scheme, old, openssl), major_line(identity.scheme, new, openssl)
    if a is not None and a == b:
        return None
    return _line_text(a, old), _line_text(b, new)


# The component rules.


def _fact(change: Change) -> ComponentFact:
    entry = change.after or change.before
    assert entry is not None
    c = entry.component
    return ComponentFact(
        change.identity,
        f"{c.group}/{c.name}" if c.group else c.name,
        c.type,
        change.before.component.version if change.before else "",
        change.after.component.version if change.after else "",
        c.purl,
        entry.parents,
    )


def _label(fact: ComponentFact) -> str:
    version = fact.new_version or fact.old_version
    return f"{fact.name} {version}".strip()


def _component_rules(diff: SbomDiff, out: _Signals) -> None:
    for change in diff.added:
        assert change.after is not None
        component, fact = change.after.component, _fact(change)
        for rule, vocabulary, what in (
            (NETWORK, NETWORK_COMPONENTS, "new network-facing component"),
            (CRYPTO, CRYPTO_COMPONENTS, "new crypto library"),
            (PRIVILEGED, PRIVILEGED_COMPONENTS, "new privileged service"),
            (UPDATE, UPDATE_COMPONENTS, "new update component"),
        ):
            category = listed(component, vocabulary)
            if category:
                out.add(rule, "added", change.identity, f"{what}: {_label(fact)} ({category})").components.append(fact)
        if component.type == CRYPTO_ASSET_TYPE:
            out.add(
                CRYPTO, "algorithm-added", change.identity, f"cryptographic asset added: {_label(fact)}"
            ).components.append(fact)
        if component.type in PRIVILEGED_TYPES:
            summary = f"new {PRIVILEGED_TYPES[component.type]}: {_label(fact)}"
            out.add(PRIVILEGED, "added", change.identity, summary).components.append(fact)
    for change in diff.removed:
        assert change.before is not None
        component, fact = change.before.component, _fact(change)
        for rule, vocabulary, what in (
            (CRYPTO, CRYPTO_COMPONENTS, "crypto library removed"),
            (UPDATE, UPDATE_COMPONENTS, "update component removed"),
        ):
            category = listed(component, vocabulary)
            if category:
                summary = f"{what}: {_label(fact)} ({category})"
                out.add(rule, "removed", change.identity, summary).components.append(fact)
        if component.type == CRYPTO_ASSET_TYPE:
            summary = f"cryptographic asset removed: {_label(fact)}"
            out.add(CRYPTO, "algorithm-removed", change.identity, summary).components.append(fact)
    for change in (*diff.upgraded, *diff.downgraded):
        assert change.before is not None and change.after is not None
        component, fact = change.after.component, _fact(change)
        lines = major_change(component, fact.old_version, fact.new_version)
        if lines is None:
            continue
        subject = f"{change.identity}@{lines[0]}->{lines[1]}"
        moved = f"{fact.name} {fact.old_version} → {fact.new_version}"
        for rule, vocabulary, what in (
            (CRYPTO, CRYPTO_COMPONENTS, "major version change of a crypto library"),
            (UPDATE, UPDATE_COMPONENTS, "major version change of an update component"),
        ):
            category = listed(component, vocabulary)
            if category:
                out.add(rule, "major", subject, f"{what}: {moved} ({category})").components.append(fact)
        if component.type == "operating-system":
            out.add(
                PRIVILEGED, "major", subject, f"major version change of the operating system: {moved}"
            ).components.append(fact)


# The commit rules.


def privileged_path(path: str) -> tuple[str, str] | None:
    """(subject, label) when the path is one of a privileged service's files: the folder the pattern ended at
    (`etc/sudoers.d/`), else the path itself."""
    lower = path.lower()
    for pattern, label in PRIVILEGED_PATHS:
        match = pattern.search(lower)
        if match:
            end = match.end()
            return (path[:end] if lower[end - 1 : end] == "/" else path), label
    return None


def update_path(path: str) -> str | None:
    """The subject when the path is update, OTA or bootloader work: the path up to the first segment that
    names it (a folder ends with `/`), else None."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        lower = segment.lower()
        stem = lower.rsplit(".", 1)[0] if "." in lower else lower
        if (
            lower in UPDATE_SEGMENTS
            or stem in UPDATE_SEGMENTS
            or lower.startswith(UPDATE_PREFIXES)
            or any(token in UPDATE_TOKENS for token in TOKENS.split(lower))
        ):
            subject = "/".join(segments[: index + 1])
            return subject if index == len(segments) - 1 else subject + "/"
    return None


def _commit_rules(commits: Iterable[CommitFacts], out: _Signals) -> None:
    for commit in commits:
        for path in commit.paths:
            found = privileged_path(path)
            if found:
                subject, label = found
                draft = out.add(
                    PRIVILEGED, "path", f"{commit.repository}:{subject}", f"{label} added or changed: {subject}"
                )
                _add_commit(draft, commit, path)
            update = update_path(path)
            if update:
                draft = out.add(
                    UPDATE, "path", f"{commit.repository}:{update}", f"update or boot files changed: {update}"
                )
                _add_commit(draft, commit, path)
        for rule, words, what in (
            (PRIVILEGED, PRIVILEGED_WORDS, "privileges"),
            (UPDATE, UPDATE_WORDS, "the update mechanism"),
        ):
            match = words.search(commit.subject)
            if match:
                summary = f"commit {commit.sha[:10]} speaks of {what} ({match.group(0)!r}): {commit.subject}"
                _add_commit(out.add(rule, "commit", f"{commit.repository}:{commit.sha}", summary), commit, None)


def _add_commit(draft: _Draft, commit: CommitFacts, path: str | None) -> None:
    key = (commit.repository, commit.sha)
    known = draft.commits.get(key) or CommitFact(commit.repository, commit.sha, commit.subject)
    if path is not None and path not in known.paths:
        known = CommitFact(known.repository, known.sha, known.subject, (*known.paths, path))
    draft.commits[key] = known


# The interface rule.


def _interface_rules(before: Sequence[InterfaceFacts], after: Sequence[InterfaceFacts], out: _Signals) -> None:
    earlier = {i.name.casefold(): i for i in before}
    for interface in after:
        if interface.kind not in NETWORK_INTERFACE_KINDS:
            continue
        old = earlier.get(interface.name.casefold())
        where = " ".join(str(p) for p in (interface.protocol, interface.port) if p)
        named = f"{interface.name} ({interface.kind}{', ' + where if where else ''})"
        if old is None or old.kind not in NETWORK_INTERFACE_KINDS:
            summary = f"new network interface: {named}" if old is None else f"interface now {interface.kind}: {named}"
        elif (old.protocol, old.port) != (interface.protocol, interface.port):
            summary = f"network interface changed protocol or port: {named}"
        else:
            continue
        draft = out.add(NETWORK, "interface", interface.name.casefold(), summary)
        draft.interfaces.append(InterfaceFact(interface, old))


def modification_signals(
    diff: SbomDiff | None,
    commits: Sequence[CommitFacts] = (),
    interfaces_before: Sequence[InterfaceFacts] | None = None,
    interfaces_after: Sequence[InterfaceFacts] | None = None,
) -> tuple[Signal, ...]:
    """The signals of one release against the previous one, in rule order, then by key. A missing input
    (no diff, no interfaces on either side) gives no signal of its own: the caller says what was not read."""
    out = _Signals()
    if diff is not None:
        _component_rules(diff, out)
    _commit_rules(commits, out)
    if interfaces_before is not None and interfaces_after is not None:
        _interface_rules(interfaces_before, interfaces_after, out)
    return out.done()
