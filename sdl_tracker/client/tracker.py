"""The tracker's API as the hooks use it: the commit intake (one function), products and requirement ids."""

from __future__ import annotations

import base64

from .http import ClientError, Server, printable

TYPE_CHECKING = False  # typing costs a git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
MAX_PAGES = 50  # of 200 requirements each: far more than any catalog; a server paging forever is cut off


def submit_commit(server: Server, product_id: str, repository: str, sha: str, raw: bytes) -> int:
    """Send one commit's raw object to the tracker's intake; 201 (stored) or 200 (already known) once it
    acknowledged that very commit, else ClientError (`Answered` with the status when it refused)."""
    path = f"/products/{_segment(product_id)}/repositories/{_segment(repository)}/commits"
    status, answer = server.post_json(path, {"raw": base64.b64encode(raw).decode("ascii"), "sha": sha})
    acknowledged = answer.get("sha") if isinstance(answer, dict) else None
    if status not in (200, 201) or not isinstance(acknowledged, str) or acknowledged.lower() != sha:
        # Anything else is no acknowledgement: the commit stays queued.
        raise ClientError(f"{server.base_url} answered {status} without acknowledging commit {sha[:12]}")
    return status


def _segment(text: str) -> str:
    """`text` as one percent-encoded path segment (urllib.parse.quote with safe="", without loading
    urllib.parse and ipaddress into a hook whose tracker is away)."""
    return "".join(chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in text.encode())


def pages(server: Server, path: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paged API list (at most MAX_PAGES pages)."""
    items: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        answer = server.get_json(path, {**query, "page": page, "per_page": 200})
        found = answer.get("items") if isinstance(answer, dict) else None
        total = answer.get("total") if isinstance(answer, dict) else None
        if not isinstance(found, list) or not all(isinstance(i, dict) for i in found) or not isinstance(total, int):
            raise ClientError(f"{server.base_url} answered {path} with something that is not a page of items")
        items.extend(found)
        if not found or len(items) >= total:
            break
    return items


def requirement_ids(server: Server) -> list[str]:
    """The ids of every requirement of every catalog edition the tracker has loaded."""
    items = pages(server, "/catalog/export", {})
    return sorted({item["id"] for item in items if isinstance(item.get("id"), str)})


def reviewer_digests(server: Server) -> tuple[str, list[str]] | None:
    """The salt and the digests of the tracker's users' addresses (None from a tracker that offers none)."""
    try:
        answer = server.get_json("/reviewers")
    except ClientError:
        return None  # an older tracker: reviewers stay unchecked
    salt = answer.get("salt") if isinstance(answer, dict) else None
    digests = answer.get("digests") if isinstance(answer, dict) else None
    if answer.get("algorithm") != "sha256" or not isinstance(salt, str) or not isinstance(digests, list):
        return None
    return salt, [d for d in digests if isinstance(d, str)]


def product_id(server: Server, name_or_id: str) -> str:
    """A product's id from its id or its name (the name needs the tracker)."""
    if name_or_id.isascii() and name_or_id.isdigit():
        return str(int(name_or_id))
    for item in pages(server, "/products", {}):
        if item.get("name") == name_or_id and isinstance(item.get("id"), int):
            return str(item["id"])
    raise ClientError(f"the tracker shows this token no product named {printable(name_or_id, 120)!r}")
