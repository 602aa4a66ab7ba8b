"""The CSAF 2.0 trusted provider's files (section 7): where each published document, its hashes and its signature
go, and the files that index them, as bytes built from plain data (the same input gives the same bytes).

The distribution is directory-based (requirements 11 to 14; ROLIE, 15 to 17, is the alternative the role allows):

    .well-known/csaf/provider-metadata.json        requirements 7 and 9, checked against the OASIS provider schema
    .well-known/csaf/openpgp/<FINGERPRINT>.asc     the public key (requirement 20)
    .well-known/csaf/<tlp>/index.txt               every document of that label (requirement 12)
    .well-known/csaf/<tlp>/changes.csv             the same with its current release date, newest first (13)
    .well-known/csaf/<tlp>/<YYYY>/<file>.json      one folder per year of initial release (11), file names as
    .well-known/csaf/<tlp>/<YYYY>/<file>.json.sha256 / .sha512 / .asc     section 5.1 gives them (2); 18 and 19

CSAF 2.0 names no folder per TLP label; `white`, `green`, `amber` and `red` are what the BSI and the TC's own
tooling serve, and CSAF 2.1's example. Only `white` (and the metadata and key) is public (requirement 4);
the others are for authenticated readers (requirement 5 asks it of AMBER and RED; we ask it of GREEN too).
docs/csaf-provider.md lists which requirements the tracker meets.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import jsonschema_rs

from .advisory import Tlp
from .csaf_json import offline, schema, serialise

WELL_KNOWN = ".well-known/csaf"
METADATA_PATH = f"{WELL_KNOWN}/provider-metadata.json"
KEY_FOLDER = f"{WELL_KNOWN}/openpgp"
# The CSAF 2.0 labels (TLP 1.0) and their folders; only WHITE is for anyone.
TLP_FOLDERS: Mapping[str, str] = {label.value: label.value.lower() for label in Tlp}
PUBLIC_TLPS = frozenset({"WHITE"})
HASHES = ("sha256", "sha512")  # requirement 18: "at least one"; aggregators ask for either
ROLE = "csaf_trusted_provider"
METADATA_VERSION = "2.0"
# Section 5.1's output alphabet: lower-case letters, digits, `+`, `-`, and `_` for every other run.
FILE_NAME = re.compile(r"[+\-a-z0-9_]+\.json")
FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")  # OpenPGP v4 and v5 keys
SIGNATURE_ARMOUR = b"-----BEGIN PGP SIGNATURE-----"
LOOPBACK_NAMES = frozenset({"localhost"})

# The CSAF schema (the provider schema's `publisher`) refers to FIRST's CVSS schemas by these URLs.
_SCHEMAS = {
    "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json": "csaf_json_schema.json",
    "https://www.first.org/cvss/cvss-v2.0.json": "cvss-v2.0.json",
    "https://www.first.org/cvss/cvss-v3.0.json": "cvss-v3.0.json",
    "https://www.first.org/cvss/cvss-v3.1.json": "cvss-v3.1.json",
}


class DirectoryError(ValueError):
    """A document or a provider setting the directory cannot carry; the message is one line."""


class PublisherFields(Protocol):
    """The publisher as CSAF documents name it (`advisory.Publisher` is one), so the metadata can match them."""

    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def contact_details(self) -> str: ...
    @property
    def issuing_authority(self) -> str: ...


@dataclass(frozen=True)
class Provider:
    """Who provides the directory, where it lives, and the key its documents are signed with.

    `base_url` is the origin (and path, if the tracker is not at the root) under which `.well-known/csaf/` lies;
    requirement 9 wants it at the root of the issuing party's main domain. The public key is served from the
    directory when `public_key` (armoured) is given; `key_url` names another place (a key server) instead.
    """

    publisher: PublisherFields
    base_url: str
    key_fingerprint: str
    public_key: bytes = b""
    key_url: str = ""
    tlps: tuple[str, ...] = ("WHITE", "GREEN", "AMBER", "RED")
    list_on_aggregators: bool = True
    mirror_on_aggregators: bool = True

    def __post_init__(self) -> None:
        _check_base_url(self.base_url)
        if not FINGERPRINT.fullmatch(self.fingerprint):
            raise DirectoryError(
                f"key fingerprint {self.key_fingerprint!r} is not an OpenPGP fingerprint (40 or 64 hex digits)"
            )
        if not self.public_key and not self.key_url:
            raise DirectoryError("the public key must be published (requirement 20): give the key or its URL")
        if self.public_key and not self.public_key.lstrip().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"):
            raise DirectoryError("the public key is not an armoured OpenPGP public key block")
        if not self.tlps:
            raise DirectoryError("the provider serves at least one TLP label")
        for tlp in self.tlps:
            _folder(tlp)
        if len(set(self.tlps)) != len(self.tlps):
            raise DirectoryError("a TLP label is named twice among the provider's distributions")

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint as the metadata gives it: upper-case hex, no spaces."""
        return self.key_fingerprint.replace(" ", "").upper()

    @property
    def key_path(self) -> str:
        """Where the directory serves the public key."""
        return f"{KEY_FOLDER}/{self.fingerprint}.asc"

    def url(self, path: str) -> str:
        """The absolute URL of a path of the directory."""
        return f"{self.base_url.rstrip('/')}/{path}"


@dataclass(frozen=True)
class PublishedDocument:
    """One published CSAF document as the directory serves it: its bytes exactly as signed, and its signature.

    `year` is that of `/document/tracking/initial_release_date` as written (requirement 11); `current_release_date`
    is the value of `/document/tracking/current_release_date` as written, which changes.csv repeats.
    """

    tracking_id: str
    tlp: str
    year: int
    file_name: str
    content: bytes
    current_release_date: str
    signature: bytes

    def __post_init__(self) -> None:
        where = self.tracking_id or self.file_name
        _folder(self.tlp, where)
        if not FILE_NAME.fullmatch(self.file_name):
            raise DirectoryError(f"{where}: file name {self.file_name!r} does not follow section 5.1")
        if not 1000 <= self.year <= 9999:
            raise DirectoryError(f"{where}: year {self.year} is not a four-digit year folder")
        _instant(self.current_release_date, f"{where}: current_release_date")
        if not self.signature.lstrip().startswith(SIGNATURE_ARMOUR):
            raise DirectoryError(f"{where}: the signature is not an armoured OpenPGP signature (requirement 19)")

    @classmethod
    def from_csaf(cls, content: bytes, file_name: str, signature: bytes) -> PublishedDocument:
        """The document as the directory serves it, its tracking id, label and dates read from its own bytes."""
        try:
            document = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DirectoryError(f"{file_name}: not a JSON document ({error})") from None
        head = _member(document, "document", file_name)
        tracking = _member(head, "tracking", file_name, "/document")
        tracking_id = tracking.get("id")
        if not isinstance(tracking_id, str) or not tracking_id.strip():
            raise DirectoryError(f"{file_name}: the document has no /document/tracking/id")
        dates = {}
        for key in ("initial_release_date", "current_release_date"):
            value = tracking.get(key)
            if not isinstance(value, str):
                raise DirectoryError(f"{tracking_id}: the document has no /document/tracking/{key}")
            dates[key] = value
        distribution = head.get("distribution")
        tlp = distribution.get("tlp") if isinstance(distribution, dict) else None
        label = tlp.get("label") if isinstance(tlp, dict) else None
        if not isinstance(label, str):
            raise DirectoryError(f"{tracking_id}: the document has no TLP label (/document/distribution/tlp/label)")
        initial = _instant(dates["initial_release_date"], f"{tracking_id}: initial_release_date")
        return cls(
            tracking_id=tracking_id,
            tlp=label,
            year=initial.year,
            file_name=file_name,
            content=content,
            current_release_date=dates["current_release_date"],
            signature=signature,
        )

    @property
    def listed(self) -> str:
        """The document's path within its TLP folder, as index.txt and changes.csv name it."""
        return f"{self.year:04d}/{self.file_name}"

    @property
    def path(self) -> str:
        """The document's path in the directory."""
        return f"{WELL_KNOWN}/{TLP_FOLDERS[self.tlp]}/{self.listed}"


def index_txt(documents: Iterable[PublishedDocument], tlp: str) -> bytes:
    """Requirement 12: every document of the label, one `YYYY/file.json` a line, in changes.csv's order."""
    return b"".join(f"{document.listed}\n".encode() for document in _newest_first(documents, tlp))


def changes_csv(documents: Iterable[PublishedDocument], tlp: str) -> bytes:
    """Requirement 13: each document of the label and its current release date, quoted, no heading, newest first."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for document in _newest_first(documents, tlp):
        writer.writerow([document.listed, document.current_release_date])
    return out.getvalue().encode()


def hash_file(document: PublishedDocument, algorithm: str) -> bytes:
    """Requirement 18: the digest in hex, two spaces and the file name, as `sha256sum` writes (and `-c` reads)."""
    if algorithm not in HASHES:
        raise DirectoryError(f"hash {algorithm!r} is not one the directory publishes ({', '.join(HASHES)})")
    return f"{hashlib.new(algorithm, document.content).hexdigest()}  {document.file_name}\n".encode()


def provider_metadata(provider: Provider, last_updated: datetime) -> bytes:
    """Requirement 7: the provider's metadata, valid under the OASIS provider schema, else DirectoryError."""
    metadata = {
        "canonical_url": provider.url(METADATA_PATH),
        "distributions": [{"directory_url": provider.url(f"{WELL_KNOWN}/{_folder(tlp)}/")} for tlp in provider.tlps],
        "last_updated": _timestamp(last_updated),
        "list_on_CSAF_aggregators": provider.list_on_aggregators,
        "metadata_version": METADATA_VERSION,
        "mirror_on_CSAF_aggregators": provider.mirror_on_aggregators,
        "public_openpgp_keys": [
            {"fingerprint": provider.fingerprint, "url": provider.key_url or provider.url(provider.key_path)}
        ],
        "publisher": _publisher(provider.publisher),
        "role": ROLE,
    }
    failures = metadata_failures(metadata)
    if failures:
        raise DirectoryError(f"provider-metadata.json would not be valid: {failures[0]}")
    return serialise(metadata)


def metadata_failures(metadata: Mapping[str, Any]) -> list[str]:
    """The violations of the CSAF 2.0 provider metadata schema (formats included), each as `pointer: message`."""
    return [
        f"/{'/'.join(str(step) for step in error.instance_path)}: {error.message}"
        for error in _metadata_validator().iter_errors(metadata)
    ]


def site_files(provider: Provider, documents: Iterable[PublishedDocument], last_updated: datetime) -> dict[str, bytes]:
    """Every file of the directory by its path under the site's root, sorted by path; refuses duplicate files and
    documents of a label the provider does not serve."""
    documents = list(documents)
    seen: dict[str, PublishedDocument] = {}
    for document in documents:
        if document.tlp not in provider.tlps:
            raise DirectoryError(f"{document.tracking_id}: the provider serves no TLP:{document.tlp} distribution")
        # One name per tracking id (section 5.1), whatever the label or year: two would be one advisory twice.
        if document.file_name in seen:
            raise DirectoryError(
                f"{document.tracking_id}: file name {document.file_name} is already taken by "
                f"{seen[document.file_name].tracking_id}"
            )
        seen[document.file_name] = document
    files = {METADATA_PATH: provider_metadata(provider, last_updated)}
    if provider.public_key:
        files[provider.key_path] = provider.public_key
    for tlp in provider.tlps:
        folder = f"{WELL_KNOWN}/{_folder(tlp)}"
        files[f"{folder}/index.txt"] = index_txt(documents, tlp)
        files[f"{folder}/changes.csv"] = changes_csv(documents, tlp)
    for document in documents:
        files[document.path] = document.content
        for algorithm in HASHES:
            files[f"{document.path}.{algorithm}"] = hash_file(document, algorithm)
        files[f"{document.path}.asc"] = document.signature
    return dict(sorted(files.items()))


def needs_authentication(path: str) -> bool:
    """Whether a path of the directory is only for authenticated readers: everything in a folder not TLP:WHITE."""
    parts = path.strip("/").split("/")
    if parts[:2] != WELL_KNOWN.split("/") or len(parts) < 3:
        return False
    public = {TLP_FOLDERS[tlp] for tlp in PUBLIC_TLPS}
    return parts[2] in set(TLP_FOLDERS.values()) - public


def listing(paths: Iterable[str], folder: str) -> list[str]:
    """A folder's entries for its directory listing (requirement 14): files, and folders with a trailing `/`."""
    prefix = folder.strip("/") + "/"
    entries = set()
    for path in paths:
        if path.startswith(prefix):
            child, _, rest = path[len(prefix) :].partition("/")
            entries.add(f"{child}/" if rest else child)
    return sorted(entries)


# -- helpers ---------------------------------------------------------------------------------------


def _folder(tlp: str, where: str = "") -> str:
    if tlp in TLP_FOLDERS:
        return TLP_FOLDERS[tlp]
    at = f"{where}: " if where else ""
    if tlp.upper().removeprefix("TLP:") == "CLEAR":
        raise DirectoryError(f"{at}TLP:CLEAR is not a CSAF 2.0 label (TLP 1.0's WHITE is)")
    raise DirectoryError(f"{at}TLP label {tlp!r} is not one of {', '.join(TLP_FOLDERS)}")


def _newest_first(documents: Iterable[PublishedDocument], tlp: str) -> list[PublishedDocument]:
    _folder(tlp)
    chosen = [document for document in documents if document.tlp == tlp]
    # Newest current release first (requirement 13); equal instants by path, so the order never depends on input.
    chosen.sort(key=lambda document: document.listed)
    chosen.sort(key=lambda document: _instant(document.current_release_date, document.tracking_id), reverse=True)
    return chosen


def _instant(value: str, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise DirectoryError(f"{what} {value!r} is not a date and time") from None
    if when.tzinfo is None:
        raise DirectoryError(f"{what} {value!r} has no time zone")
    return when


def _timestamp(when: datetime) -> str:
    if when.tzinfo is None:
        raise DirectoryError(f"last_updated {when.isoformat()} has no time zone")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _member(parent: Any, key: str, where: str, at: str = "") -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise DirectoryError(f"{where}: the document has no {at}/{key} object")
    return value


def _publisher(publisher: PublisherFields) -> dict[str, str]:
    result = {"category": str(publisher.category), "name": publisher.name, "namespace": publisher.namespace}
    if publisher.contact_details:
        result["contact_details"] = publisher.contact_details
    if publisher.issuing_authority:
        result["issuing_authority"] = publisher.issuing_authority
    return result


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise DirectoryError(f"base URL {url!r} is not a plain https://host[/path] URL")
    if parts.scheme == "https":
        return
    # Requirement 3 wants TLS; plain HTTP only where nothing leaves the machine (a test's server).
    if parts.scheme == "http" and _loopback(parts.hostname):
        return
    raise DirectoryError(f"base URL {url!r} is not https:// (requirement 3: documents travel over TLS)")


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.cache
def _metadata_validator() -> Any:
    registry = jsonschema_rs.Registry([(uri, schema(name)) for uri, name in _SCHEMAS.items()])
    return jsonschema_rs.validator_for(
        schema("provider_json_schema.json"), validate_formats=True, registry=registry, retriever=offline
    )
