"""Is a CSAF 2.0 document valid? The OASIS JSON schema, then every mandatory test of section 6.1.

`check` returns every failure, each naming its test (`schema`, `6.1.N` or `6.1.27.N`), where it is (a JSON
pointer) and what is wrong in one line; an empty list means the document may be published. The schema and
the FIRST CVSS schemas it refers to are package data, registered under the URLs the CSAF schema names, so
nothing reaches the network. The tests run on any JSON, valid or not: a value of the wrong type is the
schema's failure and is skipped here. Scores are computed by the `cvss` library, CWE names come from the
packaged MITRE list, language tags from the IANA registry that `langcodes` ships, purls are parsed by the
purl project's own library. How each test reads the specification is in docs/csaf.md.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jsonschema_rs
import langcodes
from cvss import CVSS2, CVSS3, CVSSError, constants2, constants3
from packageurl import PackageURL

from ..psirt.vocabulary import cwe_name
from . import csaf_json as cj
from . import profiles, revisions

CVSS_SCHEMA_URL = "https://www.first.org/cvss/cvss-v{}.json"
CVSS_VERSIONS = ("2.0", "3.0", "3.1")
_STATUS_GROUPS = {  # 6.1.6: the contradicting groups of product status
    "affected": ("first_affected", "known_affected", "last_affected"),
    "not affected": ("known_not_affected",),
    "fixed": ("first_fixed", "fixed"),
    "under investigation": ("under_investigation",),
}
PRODUCT_STATUSES = (*(name for group in _STATUS_GROUPS.values() for name in group), "recommended")
# 6.1.31: a product version name with an operator, or with one of these as a word (lower-cased, split at
# whitespace), reads as a range. Words, not substrings: the TC's known issue #825 and its valid example
# `after-eight` (csaf_2.0/known_issues.md).
_RANGE_OPERATORS = ("<", ">")  # and so <= and >=
_RANGE_WORDS = frozenset({"after", "all", "before", "earlier", "later", "prior", "versions"})
# 6.1.33: the flag labels that are VEX justification codes (section 3.2.3.5); in CSAF 2.0, all of them.
VEX_JUSTIFICATIONS = frozenset(
    {
        "component_not_present",
        "inline_mitigations_already_exist",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_not_present",
    }
)
_FILE_NAME_REPLACED = re.compile(r"[^+\-a-z0-9]+")


@dataclass(frozen=True)
class Failure:
    """One failed test: its id (`schema`, `6.1.9`, `6.1.27.10`), where (a JSON pointer) and what, in one line."""

    test: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.test} at {self.path or '/'}: {self.message}"


def file_name(tracking_id: str) -> str:
    """The file name section 5.1 gives a document: its tracking id lower-cased, other runs `_`, then `.json`."""
    if not tracking_id.strip():
        raise ValueError("a CSAF document's tracking id is not empty")
    return _FILE_NAME_REPLACED.sub("_", tracking_id.lower()) + ".json"


def check(document: Mapping[str, Any]) -> list[Failure]:
    """Every failure of the document, the schema's first, then each test's in section order; [] if valid."""
    failures = schema_failures(document)
    for test_id, test in MANDATORY_TESTS.items():
        failures += [Failure(test_id, path, message) for path, message in test(document)]
    return list(dict.fromkeys(failures))  # each failure once, in the order found


def schema_failures(document: Mapping[str, Any]) -> list[Failure]:
    """The document's violations of the CSAF 2.0 JSON schema (formats included)."""
    return [
        Failure("schema", cj.pointer(error.instance_path), cj.one_line(error.message))
        for error in _validator("csaf").iter_errors(document)
    ]


# -- the schemas --------------------------------------------------------------------------------------


@functools.cache
def _validator(which: str) -> Any:
    """The compiled validator of the CSAF schema (`csaf`) or of one CVSS version's schema (`2.0`, `3.0`, `3.1`)."""
    if which != "csaf":
        return jsonschema_rs.validator_for(
            cj.schema(f"cvss-v{which}.json"), validate_formats=True, retriever=cj.offline
        )
    registry = jsonschema_rs.Registry(
        [(CVSS_SCHEMA_URL.format(version), cj.schema(f"cvss-v{version}.json")) for version in CVSS_VERSIONS]
    )
    return jsonschema_rs.validator_for(
        cj.schema("csaf_json_schema.json"), validate_formats=True, registry=registry, retriever=cj.offline
    )


# -- 6.1.1 to 6.1.7: product ids, groups and status ------------------------------------------------


def _product_references(document: Mapping[str, Any]) -> cj.Found:
    """Every reference to a product id (type product_id_t or products_t outside a full product name)."""
    tree = cj.product_tree(document)
    for where, group in cj.items(tree.get("product_groups"), "/product_tree/product_groups"):
        for at, product in cj.strings(cj.as_dict(group).get("product_ids"), f"{where}/product_ids"):
            yield at, product
    for where, relationship in cj.items(tree.get("relationships"), "/product_tree/relationships"):
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(cj.as_dict(relationship).get(key), str):
                yield f"{where}/{key}", cj.as_dict(relationship)[key]
    for where, vulnerability in cj.vulnerabilities(document):
        for name in PRODUCT_STATUSES:
            yield from cj.statuses(vulnerability, where, name)
        for key, field in (("remediations", "product_ids"), ("threats", "product_ids"), ("flags", "product_ids")):
            for at, item in cj.statements(vulnerability, where, key):
                yield from cj.strings(item.get(field), f"{at}/{field}")
        for at, score in cj.statements(vulnerability, where, "scores"):
            yield from cj.strings(score.get("products"), f"{at}/products")


def rule_6_1_1(document: Mapping[str, Any]) -> cj.Found:
    """Missing definition of product id."""
    defined = cj.defined_products(document)
    for where, product in _product_references(document):
        if product not in defined:
            yield where, f"product id {product} is not defined in the product tree"


def rule_6_1_2(document: Mapping[str, Any]) -> cj.Found:
    """Multiple definition of product id."""
    seen: set[str] = set()
    for where, item in cj.full_product_names(document):
        product = item.get("product_id")
        if isinstance(product, str):
            if product in seen:
                yield f"{where}/product_id", f"product id {product} is defined more than once"
            seen.add(product)


def rule_6_1_3(document: Mapping[str, Any]) -> cj.Found:
    """Circular definition of product id."""
    edges: dict[str, set[str]] = defaultdict(set)
    defined_at: list[tuple[str, str]] = []
    for where, relationship in cj.items(cj.product_tree(document).get("relationships"), "/product_tree/relationships"):
        relationship = cj.as_dict(relationship)
        product = cj.as_dict(relationship.get("full_product_name")).get("product_id")
        if isinstance(product, str):
            defined_at.append((f"{where}/full_product_name/product_id", product))
            for key in ("product_reference", "relates_to_product_reference"):
                if isinstance(relationship.get(key), str):
                    edges[product].add(relationship[key])
    for where, product in defined_at:
        reached: set[str] = set()
        frontier = set(edges[product])
        while frontier:
            reached |= frontier
            frontier = {after for before in frontier for after in edges.get(before, ())} - reached
        if product in reached:
            yield where, f"product id {product} is defined through itself (a circle of relationships)"


def rule_6_1_4(document: Mapping[str, Any]) -> cj.Found:
    """Missing definition of product group id."""
    groups = cj.product_groups(document)
    for where, vulnerability in cj.vulnerabilities(document):
        for key in ("remediations", "threats", "flags"):
            for at, item in cj.statements(vulnerability, where, key):
                for pointer, group in cj.strings(item.get("group_ids"), f"{at}/group_ids"):
                    if group not in groups:
                        yield pointer, f"product group id {group} is not defined in the product tree"


def rule_6_1_5(document: Mapping[str, Any]) -> cj.Found:
    """Multiple definition of product group id."""
    seen: set[str] = set()
    for where, group in cj.items(cj.product_tree(document).get("product_groups"), "/product_tree/product_groups"):
        group_id = cj.as_dict(group).get("group_id")
        if isinstance(group_id, str):
            if group_id in seen:
                yield f"{where}/group_id", f"product group id {group_id} is defined more than once"
            seen.add(group_id)


def rule_6_1_6(document: Mapping[str, Any]) -> cj.Found:
    """Contradicting product status."""
    for where, vulnerability in cj.vulnerabilities(document):
        first_group: dict[str, str] = {}
        for group, names in _STATUS_GROUPS.items():
            for name in names:
                for at, product in cj.statuses(vulnerability, where, name):
                    earlier = first_group.setdefault(product, group)
                    if earlier != group:
                        yield at, f"product {product} is both {earlier} and {group}"


def rule_6_1_7(document: Mapping[str, Any]) -> cj.Found:
    """Multiple scores with the same CVSS version per product."""
    for where, vulnerability in cj.vulnerabilities(document):
        seen: set[tuple[str, str]] = set()
        for at, score in cj.statements(vulnerability, where, "scores"):
            versions = [
                str(cj.as_dict(score.get(key)).get("version")) for key in ("cvss_v2", "cvss_v3") if key in score
            ]
            for pointer, product in cj.strings(score.get("products"), f"{at}/products"):
                for version in versions:
                    if (product, version) in seen:
                        yield pointer, f"product {product} has more than one CVSS {version} score"
                    seen.add((product, version))


# -- 6.1.8 to 6.1.10: CVSS ---------------------------------------------------------------------------


def _cvss_objects(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(pointer, `cvss_v2` or `cvss_v3`, object) of every CVSS object of every score."""
    for where, vulnerability in cj.vulnerabilities(document):
        for at, score in cj.statements(vulnerability, where, "scores"):
            for key in ("cvss_v2", "cvss_v3"):
                if isinstance(score.get(key), dict):
                    yield f"{at}/{key}", key, score[key]


def _cvss_version(key: str, cvss: Mapping[str, Any]) -> str | None:
    """The CVSS version an object claims, if it is one its key allows."""
    version = cvss.get("version")
    allowed = ("2.0",) if key == "cvss_v2" else ("3.0", "3.1")
    return version if version in allowed else None


def _scored(key: str, cvss: Mapping[str, Any]) -> CVSS2 | CVSS3 | None:
    """The `cvss` library's reading of the object's vector, if it is one of the version the object claims."""
    version, vector = _cvss_version(key, cvss), cvss.get("vectorString")
    if version is None or not isinstance(vector, str):
        return None
    try:
        scored = CVSS2(vector) if version == "2.0" else CVSS3(vector)
    except (CVSSError, ValueError, KeyError):
        return None
    if version != "2.0" and not vector.startswith(f"CVSS:{version}/"):
        return None
    return scored


def rule_6_1_8(document: Mapping[str, Any]) -> cj.Found:
    """Invalid CVSS: each object against the FIRST schema of the version it claims."""
    for where, key, cvss in _cvss_objects(document):
        version = _cvss_version(key, cvss)
        if version is None:
            allowed = "2.0" if key == "cvss_v2" else "3.0 or 3.1"
            yield f"{where}/version", f"{key} has no CVSS version it may take ({allowed})"
            continue
        for error in _validator(version).iter_errors(dict(cvss)):
            yield where + cj.pointer(error.instance_path), f"CVSS {version}: {cj.one_line(error.message)}"


_SCORES = {  # (score, severity) properties by metric group, in the order of the library's scores()
    "cvss_v2": (("baseScore", None), ("temporalScore", None), ("environmentalScore", None)),
    "cvss_v3": (
        ("baseScore", "baseSeverity"),
        ("temporalScore", "temporalSeverity"),
        ("environmentalScore", "environmentalSeverity"),
    ),
}


def rule_6_1_9(document: Mapping[str, Any]) -> cj.Found:
    """Invalid CVSS computation: every score and severity given is the one the vector computes to."""
    for where, key, cvss in _cvss_objects(document):
        scored = _scored(key, cvss)
        if scored is None:
            continue  # no vector the library reads: 6.1.8 names what is wrong
        scores = scored.scores()
        severities = scored.severities() if isinstance(scored, CVSS3) else (None, None, None)
        for (score_key, severity_key), score, severity in zip(_SCORES[key], scores, severities, strict=True):
            given = cvss.get(score_key)
            # The library leaves a v2 temporal or environmental score undefined when the vector has no such metric.
            if score is not None and isinstance(given, int | float) and float(given) != float(score):
                yield f"{where}/{score_key}", f"{score_key} is {given}; the vector computes to {score}"
            if severity_key and severity_key in cvss and cvss[severity_key] != severity.upper():
                computed = severity.upper()
                yield f"{where}/{severity_key}", f"{severity_key} is {cvss[severity_key]}; the vector gives {computed}"


def rule_6_1_10(document: Mapping[str, Any]) -> cj.Found:
    """Inconsistent CVSS: every metric property given says what the vector says."""
    for where, key, cvss in _cvss_objects(document):
        scored = _scored(key, cvss)
        if scored is None:
            continue
        names = (constants2 if key == "cvss_v2" else constants3).METRICS_ABBREVIATIONS_JSON
        expected = scored.as_json()
        given_metrics = scored.original_metrics if isinstance(scored, CVSS3) else scored.metrics  # v2 keeps only these
        for abbreviation, name in names.items():
            if name not in cvss or cvss[name] == expected.get(name):
                continue
            # A metric the vector leaves out (or gives as not defined) may be said NOT_DEFINED.
            if cvss[name] == "NOT_DEFINED" and given_metrics.get(abbreviation, "X") in ("X", "ND"):
                continue
            yield f"{where}/{name}", f"{name} is {cvss[name]}; the vector says {expected.get(name)}"


# -- 6.1.11 to 6.1.13: identifiers -------------------------------------------------------------------


def rule_6_1_11(document: Mapping[str, Any]) -> cj.Found:
    """CWE: the id exists in MITRE's list, and the name is the one MITRE gives it."""
    for where, vulnerability in cj.vulnerabilities(document):
        cwe = cj.as_dict(vulnerability.get("cwe"))
        cwe_id, name = cwe.get("id"), cwe.get("name")
        if not isinstance(cwe_id, str) or not re.fullmatch(r"CWE-[1-9][0-9]{0,6}", cwe_id):
            continue  # absent, or the schema's pattern fails
        listed = cwe_name(int(cwe_id.removeprefix("CWE-")))
        if listed is None:
            yield f"{where}/cwe/id", f"{cwe_id} is not in the CWE list"
        elif name != listed:
            yield f"{where}/cwe/name", f"{cwe_id} is named {listed!r}, not {name!r}"


def rule_6_1_12(document: Mapping[str, Any]) -> cj.Found:
    """Language: each language tag is valid and registered (IANA language subtag registry)."""
    for key in ("lang", "source_lang"):
        tag = cj.document_of(document).get(key)
        if isinstance(tag, str) and not langcodes.tag_is_valid(tag):
            yield f"/document/{key}", f"{tag} is not a valid, registered language tag (BCP 47)"


def _purls(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for where, item in cj.full_product_names(document):
        purl = cj.as_dict(item.get("product_identification_helper")).get("purl")
        if isinstance(purl, str):
            yield f"{where}/product_identification_helper/purl", purl


def rule_6_1_13(document: Mapping[str, Any]) -> cj.Found:
    """PURL: each purl parses by the purl specification."""
    for where, purl in _purls(document):
        try:
            PackageURL.from_string(purl)
        except ValueError as error:
            yield where, f"{purl} is not a valid purl: {cj.one_line(str(error))}"


# -- 6.1.14 to 6.1.22 and 6.1.30: tracking -------------------------------------------------------


def rule_6_1_15(document: Mapping[str, Any]) -> cj.Found:
    """Translator: a translator's document names its source language."""
    publisher = cj.as_dict(cj.document_of(document).get("publisher"))
    if publisher.get("category") == "translator" and "source_lang" not in cj.document_of(document):
        yield "/document/source_lang", "the publisher is a translator, but no source language is given"


def rule_6_1_23(document: Mapping[str, Any]) -> cj.Found:
    """Multiple use of the same CVE."""
    seen: set[str] = set()
    for where, vulnerability in cj.vulnerabilities(document):
        cve = vulnerability.get("cve")
        if isinstance(cve, str):
            if cve in seen:
                yield f"{where}/cve", f"{cve} is the CVE of more than one vulnerability"
            seen.add(cve)


def rule_6_1_24(document: Mapping[str, Any]) -> cj.Found:
    """Multiple definition in involvements: one party, one date, once."""
    for where, vulnerability in cj.vulnerabilities(document):
        seen: set[tuple[str, datetime]] = set()
        for at, involvement in cj.statements(vulnerability, where, "involvements"):
            party, when = involvement.get("party"), revisions.instant(involvement.get("date"))
            if isinstance(party, str) and when is not None:
                if (party, when) in seen:
                    yield at, f"party {party} is involved more than once at {involvement['date']}"
                seen.add((party, when))


def rule_6_1_25(document: Mapping[str, Any]) -> cj.Found:
    """Multiple use of the same hash algorithm in one item of hashes."""
    for where, item in cj.full_product_names(document):
        helper = cj.as_dict(item.get("product_identification_helper"))
        for at, hashes in cj.items(helper.get("hashes"), f"{where}/product_identification_helper/hashes"):
            counted = Counter(
                cj.as_dict(file_hash).get("algorithm")
                for _, file_hash in cj.items(cj.as_dict(hashes).get("file_hashes"), "")
            )
            for algorithm, count in sorted(counted.items(), key=str):
                if isinstance(algorithm, str) and count > 1:
                    yield f"{at}/file_hashes", f"hash algorithm {algorithm} is used {count} times"


def rule_6_1_28(document: Mapping[str, Any]) -> cj.Found:
    """Translation: the source language is not the document's language."""
    lang, source = cj.document_of(document).get("lang"), cj.document_of(document).get("source_lang")
    if isinstance(lang, str) and isinstance(source, str) and lang.lower() == source.lower():
        yield "/document/source_lang", f"the source language is the document's language, {lang}"


def _without_products(document: Mapping[str, Any], key: str) -> cj.Found:
    for where, vulnerability in cj.vulnerabilities(document):
        for at, item in cj.statements(vulnerability, where, key):
            if "product_ids" not in item and "group_ids" not in item:
                yield at, f"the {key.removesuffix('s')} names neither product_ids nor group_ids"


def rule_6_1_29(document: Mapping[str, Any]) -> cj.Found:
    """Remediation without product reference."""
    return _without_products(document, "remediations")


def rule_6_1_31(document: Mapping[str, Any]) -> cj.Found:
    """Version range in product version: a product_version branch names one version."""
    for where, branch in cj.all_branches(cj.product_tree(document).get("branches"), "/product_tree/branches"):
        name = branch.get("name")
        if branch.get("category") == "product_version" and isinstance(name, str):
            found = [op for op in _RANGE_OPERATORS if op in name] + sorted(_RANGE_WORDS & set(name.lower().split()))
            if found:
                yield f"{where}/name", f"product version {name!r} reads as a range ({', '.join(found)})"


def rule_6_1_32(document: Mapping[str, Any]) -> cj.Found:
    """Flag without product reference."""
    return _without_products(document, "flags")


def rule_6_1_33(document: Mapping[str, Any]) -> cj.Found:
    """Multiple flags with VEX justification codes per product (through product groups too)."""
    groups = cj.product_groups(document)
    for where, vulnerability in cj.vulnerabilities(document):
        flagged: set[str] = set()
        for at, flag in cj.statements(vulnerability, where, "flags"):
            if flag.get("label") not in VEX_JUSTIFICATIONS:
                continue
            products = cj.covered(flag, groups)
            for product in sorted(products & flagged):
                yield at, f"product {product} has more than one VEX justification flag"
            flagged |= products


MANDATORY_TESTS: Mapping[str, Callable[[Mapping[str, Any]], cj.Found]] = {
    "6.1.1": rule_6_1_1,
    "6.1.2": rule_6_1_2,
    "6.1.3": rule_6_1_3,
    "6.1.4": rule_6_1_4,
    "6.1.5": rule_6_1_5,
    "6.1.6": rule_6_1_6,
    "6.1.7": rule_6_1_7,
    "6.1.8": rule_6_1_8,
    "6.1.9": rule_6_1_9,
    "6.1.10": rule_6_1_10,
    "6.1.11": rule_6_1_11,
    "6.1.12": rule_6_1_12,
    "6.1.13": rule_6_1_13,
    "6.1.14": revisions.rule_6_1_14,
    "6.1.15": rule_6_1_15,
    "6.1.16": revisions.rule_6_1_16,
    "6.1.17": revisions.rule_6_1_17,
    "6.1.18": revisions.rule_6_1_18,
    "6.1.19": revisions.rule_6_1_19,
    "6.1.20": revisions.rule_6_1_20,
    "6.1.21": revisions.rule_6_1_21,
    "6.1.22": revisions.rule_6_1_22,
    "6.1.23": rule_6_1_23,
    "6.1.24": rule_6_1_24,
    "6.1.25": rule_6_1_25,
    "6.1.26": profiles.rule_6_1_26,
    "6.1.27.1": profiles.rule_6_1_27_1,
    "6.1.27.2": profiles.rule_6_1_27_2,
    "6.1.27.3": profiles.rule_6_1_27_3,
    "6.1.27.4": profiles.rule_6_1_27_4,
    "6.1.27.5": profiles.rule_6_1_27_5,
    "6.1.27.6": profiles.rule_6_1_27_6,
    "6.1.27.7": profiles.rule_6_1_27_7,
    "6.1.27.8": profiles.rule_6_1_27_8,
    "6.1.27.9": profiles.rule_6_1_27_9,
    "6.1.27.10": profiles.rule_6_1_27_10,
    "6.1.27.11": profiles.rule_6_1_27_11,
    "6.1.28": rule_6_1_28,
    "6.1.29": rule_6_1_29,
    "6.1.30": revisions.rule_6_1_30,
    "6.1.31": rule_6_1_31,
    "6.1.32": rule_6_1_32,
    "6.1.33": rule_6_1_33,
}
