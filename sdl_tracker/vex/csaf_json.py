"""CSAF JSON: its bytes, the shipped schemas, and reading a document as any JSON: the parts the mandatory tests
look at, each with its JSON pointer.

A value of the wrong type reads as empty (an object as `{}`, an array as no items), so a test never fails on
a shape the schema already refuses; the schema names that fault.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

Found = Iterator[tuple[str, str]]  # (JSON pointer, message) of each failure of one test


def serialise(document: Mapping[str, Any]) -> bytes:
    """A document's bytes: UTF-8 JSON, keys sorted (section 5.3), two-space indent, a final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def schema(name: str) -> Any:
    """A JSON schema shipped as package data (`vex/data/`)."""
    return json.loads(resources.files("sdl_tracker.vex").joinpath("data", name).read_text(encoding="utf-8"))


def offline(uri: str) -> Any:
    """The schemas' retriever: every schema is package data, so a reference to anything else is refused."""
    raise ValueError(f"the CSAF schemas are package data; nothing is fetched ({uri})")


def pointer(steps: Any) -> str:
    """A JSON pointer from path steps (`["vulnerabilities", 0]` -> `/vulnerabilities/0`)."""
    return "".join(f"/{step}" for step in steps)


def one_line(text: str, limit: int = 300) -> str:
    """Text on one line, shortened to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_dict(value: Any) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(pointer, item) of a JSON array; nothing for what is not an array."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}/{index}", item


def strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(pointer, text) of the strings of a JSON array."""
    for where, item in items(value, path):
        if isinstance(item, str):
            yield where, item


def document_of(csaf: Mapping[str, Any]) -> Mapping[str, Any]:
    """`/document`."""
    return as_dict(csaf.get("document"))


def product_tree(csaf: Mapping[str, Any]) -> Mapping[str, Any]:
    """`/product_tree`."""
    return as_dict(csaf.get("product_tree"))


def vulnerabilities(csaf: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(pointer, item) of `/vulnerabilities`."""
    for where, item in items(csaf.get("vulnerabilities"), "/vulnerabilities"):
        yield where, as_dict(item)


def all_branches(branches: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(pointer, branch) of every branch of a branches array, depth first."""
    for where, branch in items(branches, path):
        yield where, as_dict(branch)
        yield from all_branches(as_dict(branch).get("branches"), f"{where}/branches")


def full_product_names(csaf: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(pointer, full product name) of every product the tree defines: in branches, listed, in relationships."""
    tree = product_tree(csaf)
    for where, branch in all_branches(tree.get("branches"), "/product_tree/branches"):
        if "product" in branch:
            yield f"{where}/product", as_dict(branch["product"])
    for where, item in items(tree.get("full_product_names"), "/product_tree/full_product_names"):
        yield where, as_dict(item)
    for where, item in items(tree.get("relationships"), "/product_tree/relationships"):
        if "full_product_name" in as_dict(item):
            yield f"{where}/full_product_name", as_dict(as_dict(item)["full_product_name"])


def defined_products(csaf: Mapping[str, Any]) -> set[str]:
    """The product ids the tree defines."""
    return {item["product_id"] for _, item in full_product_names(csaf) if isinstance(item.get("product_id"), str)}


def product_groups(csaf: Mapping[str, Any]) -> dict[str, set[str]]:
    """The product groups: {group id: its product ids}."""
    found: dict[str, set[str]] = defaultdict(set)
    for _, group in items(product_tree(csaf).get("product_groups"), ""):
        group_id = as_dict(group).get("group_id")
        if isinstance(group_id, str):
            found[group_id] |= {product for _, product in strings(as_dict(group).get("product_ids"), "")}
    return found


def statements(vulnerability: Mapping[str, Any], where: str, key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(pointer, item) of a vulnerability's flags, remediations, threats, scores or involvements."""
    for at, item in items(vulnerability.get(key), f"{where}/{key}"):
        yield at, as_dict(item)


def covered(statement: Mapping[str, Any], groups: Mapping[str, set[str]]) -> set[str]:
    """The product ids a flag, remediation or threat names, directly or through its product groups."""
    products = {product for _, product in strings(statement.get("product_ids"), "")}
    for _, group in strings(statement.get("group_ids"), ""):
        products |= groups.get(group, set())
    return products


def statuses(vulnerability: Mapping[str, Any], where: str, name: str) -> Iterator[tuple[str, str]]:
    """(pointer, product id) of one list of a vulnerability's product status (`known_affected`...)."""
    return strings(as_dict(vulnerability.get("product_status")).get(name), f"{where}/product_status/{name}")
