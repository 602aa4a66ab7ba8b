"""The product tree of a CSAF document: releases, their hardware revisions and the libraries they ship.

Branches run vendor -> product name -> product version, one `product_version` branch per release; a release's
hardware revisions are products of their own, which it is `installed_on`. A library is a product of its own
(its purl as helper), tied to each release shipping it by a `default_component_of` relationship, whose
product is the one a decision about the library in that release states a status for.

Product ids are `CSAFPID-` and the parts that name the product, each URL-encoded so ids never collide:
`CSAFPID-R:Controller:2.1.0` (a release), `CSAFPID-L:pkg%3Anpm/lodash@4.17.20` (a library),
`CSAFPID-L:pkg%3Anpm/lodash@4.17.20:in:Controller:2.1.0` (the library in a release),
`CSAFPID-H:Controller:B` (a hardware revision), `CSAFPID-R:Controller:2.1.0:on:B` (the release on it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote_plus

from packageurl import PackageURL

from ..products.rules import release_sort_key


class AdvisoryError(ValueError):
    """Input a CSAF document cannot be built from; the message is one line and names the rule."""


@dataclass(frozen=True, order=True)
class ReleaseRef:
    """A release by its product's name and its version (how decisions, libraries and remediations name it)."""

    product: str
    version: str


@dataclass(frozen=True)
class Release:
    """A product release: vendor (the publisher's name if empty), product name, version, and what is known of
    its CPE, purl and the hardware revisions it runs on."""

    product: str
    version: str
    vendor: str = ""
    cpe: str = ""
    purl: str = ""
    hardware_revisions: tuple[str, ...] = ()

    @property
    def ref(self) -> ReleaseRef:
        """How other input names this release."""
        return ReleaseRef(self.product, self.version)


@dataclass(frozen=True)
class Library:
    """A third-party component, by purl (name and version read from it), and the releases that ship it."""

    purl: str
    shipped_in: tuple[ReleaseRef, ...]


def _part(text: str) -> str:
    """One part of a product id: URL-encoded, so the `:` between parts is never inside one."""
    return quote_plus(text, safe="/@")


def _release_id(ref: ReleaseRef) -> str:
    return f"CSAFPID-R:{_part(ref.product)}:{_part(ref.version)}"


def _hardware_id(product: str, revision: str) -> str:
    return f"CSAFPID-H:{_part(product)}:{_part(revision)}"


def _library_id(purl: str) -> str:
    return f"CSAFPID-L:{_part(purl)}"


class _Ordered(NamedTuple):
    """What `products.rules.release_sort_key` reads: a version (and a creation order, equal here)."""

    version: str
    id: int = 0


def _version_order(release: Release) -> tuple[Any, ...]:
    return (release_sort_key(_Ordered(release.version)), release.version)


def _releases(releases: Iterable[Release]) -> dict[ReleaseRef, Release]:
    result: dict[ReleaseRef, Release] = {}
    for release in releases:
        if release.ref in result:
            raise AdvisoryError(f"release {release.product} {release.version} is given twice")
        result[release.ref] = release
    return result


def _known(ref: ReleaseRef, releases: Mapping[ReleaseRef, Release], what: str) -> ReleaseRef:
    if ref not in releases:
        raise AdvisoryError(f"{what} names {ref.product} {ref.version}, which is not a release of the advisory")
    return ref


@dataclass(frozen=True)
class _Library:
    purl: str
    name: str  # namespace/name version, read from the purl
    shipped_in: frozenset[ReleaseRef]


def _libraries(libraries: Iterable[Library], releases: Mapping[ReleaseRef, Release]) -> dict[str, _Library]:
    result: dict[str, _Library] = {}
    for library in libraries:
        try:
            purl = PackageURL.from_string(library.purl)
        except ValueError as error:
            raise AdvisoryError(f"{library.purl!r} is not a purl: {error}") from None
        if library.purl in result:
            raise AdvisoryError(f"library {library.purl} is given twice")
        shipped = frozenset(_known(ref, releases, f"library {library.purl}") for ref in library.shipped_in)
        if not shipped:
            raise AdvisoryError(f"library {library.purl} is shipped in no release of the advisory")
        name = "/".join(filter(None, [purl.namespace, purl.name]))
        result[library.purl] = _Library(library.purl, f"{name} {purl.version}" if purl.version else name, shipped)
    return result


class ProductTree:
    """The product tree of the releases and libraries, and the product id of each thing a status is stated for."""

    def __init__(self, publisher: str, releases: Iterable[Release], libraries: Iterable[Library]):
        """The tree of these releases and libraries; AdvisoryError for one given twice or naming an unknown release."""
        self.publisher = publisher
        self.releases = _releases(releases)
        self.libraries = _libraries(libraries, self.releases)

    def vendor(self, release: Release) -> str:
        """The release's vendor: its own, else the publisher (who then made the product)."""
        return release.vendor or self.publisher

    def full_name(self, release: Release) -> str:
        return f"{self.vendor(release)} {release.product} {release.version}"

    def product_id(self, ref: ReleaseRef, component: str, what: str) -> str:
        """The id of the release, or of the library `component` in the release; AdvisoryError if unknown."""
        _known(ref, self.releases, what)
        if not component:
            return _release_id(ref)
        library = self.libraries.get(component)
        if library is None or ref not in library.shipped_in:
            raise AdvisoryError(
                f"{what} names component {component} in {ref.product} {ref.version}, "
                "which is not a library the advisory lists for that release"
            )
        return f"{_library_id(component)}:in:{_part(ref.product)}:{_part(ref.version)}"

    def as_json(self) -> dict[str, Any]:
        """`/product_tree`: branches, full product names (the libraries) and relationships, each sorted."""
        vendors: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        hardware: dict[tuple[str, str], set[str]] = defaultdict(set)  # (vendor, product): revisions
        relationships: list[dict[str, Any]] = []
        ordered = sorted(self.releases.values(), key=lambda r: (self.vendor(r), r.product, _version_order(r)))
        for release in ordered:
            vendors[self.vendor(release)][release.product].append(self._version_branch(release))
            for revision in sorted(set(release.hardware_revisions)):
                hardware[(self.vendor(release), release.product)].add(revision)
                relationships.append(self._installed_on(release, revision))
        # A product's hardware revisions, which several releases may run on, are products once each.
        for (vendor, product), revisions in hardware.items():
            vendors[vendor][f"{product} hardware"] += [
                self._hardware_branch(vendor, product, revision) for revision in sorted(revisions)
            ]
        for library in sorted(self.libraries.values(), key=lambda library: library.purl):
            for ref in sorted(library.shipped_in):
                relationships.append(self._component_of(library, self.releases[ref]))
        tree: dict[str, Any] = {
            "branches": [
                {
                    "category": "vendor",
                    "name": vendor,
                    "branches": [
                        {"category": "product_name", "name": product, "branches": versions}
                        for product, versions in sorted(products.items())
                    ],
                }
                for vendor, products in sorted(vendors.items())
            ]
        }
        if self.libraries:
            tree["full_product_names"] = [
                {"name": library.name, "product_id": _library_id(library.purl),
                 "product_identification_helper": {"purl": library.purl}}
                for library in sorted(self.libraries.values(), key=lambda library: library.purl)
            ]  # fmt: skip
        if relationships:
            tree["relationships"] = sorted(relationships, key=lambda item: item["full_product_name"]["product_id"])
        return tree

    def _version_branch(self, release: Release) -> dict[str, Any]:
        product: dict[str, Any] = {"name": self.full_name(release), "product_id": _release_id(release.ref)}
        helper = {key: value for key, value in (("cpe", release.cpe), ("purl", release.purl)) if value}
        if helper:
            product["product_identification_helper"] = helper
        return {"category": "product_version", "name": release.version, "product": product}

    def _hardware_branch(self, vendor: str, product: str, revision: str) -> dict[str, Any]:
        item = {"name": f"{vendor} {product} hardware {revision}", "product_id": _hardware_id(product, revision)}
        return {"category": "product_version", "name": revision, "product": item}

    def _installed_on(self, release: Release, revision: str) -> dict[str, Any]:
        return {
            "category": "installed_on",
            "full_product_name": {
                "name": f"{self.full_name(release)} on hardware {revision}",
                "product_id": f"{_release_id(release.ref)}:on:{_part(revision)}",
            },
            "product_reference": _release_id(release.ref),
            "relates_to_product_reference": _hardware_id(release.product, revision),
        }

    def _component_of(self, library: _Library, release: Release) -> dict[str, Any]:
        return {
            "category": "default_component_of",
            "full_product_name": {
                "name": f"{library.name} in {self.full_name(release)}",
                "product_id": self.product_id(release.ref, library.purl, "a library"),
            },
            "product_reference": _library_id(library.purl),
            "relates_to_product_reference": _release_id(release.ref),
        }
