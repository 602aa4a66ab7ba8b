"""The trusted provider's directory: layout, index.txt and changes.csv, hashes and signatures checked by the tools
people use (`sha256sum -c`, gpg), provider metadata valid under the OASIS schema, the same bytes every time, and a
one-line refusal for what it cannot carry."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.vex.directory import (
    DirectoryError,
    Provider,
    PublishedDocument,
    changes_csv,
    hash_file,
    index_txt,
    listing,
    metadata_failures,
    needs_authentication,
    provider_metadata,
    site_files,
)
from sdl_tracker.vex.openpgp import SigningKey, sign_detached, signing_key

from .openpgp_keys import Keys, ThrowawayKey, gpg_verifies

LAST_UPDATED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BASE = "https://psirt.example.com"


@dataclass(frozen=True)
class Publisher:
    """A publisher as the CSAF builder's is: any object with these fields will do."""

    name: str = "Example Industrial PSIRT"
    namespace: str = "https://www.example.com"
    category: str = "vendor"
    contact_details: str = "psirt@example.com"
    issuing_authority: str = ""


def csaf(tracking_id: str, tlp: str | None, initial: str | None, current: str | None) -> bytes:
    """The parts of a CSAF document the directory reads (the rest is the builder's and validity's business)."""
    tracking: dict[str, Any] = {"id": tracking_id, "version": "1"}
    if initial is not None:
        tracking["initial_release_date"] = initial
    if current is not None:
        tracking["current_release_date"] = current
    document: dict[str, Any] = {"csaf_version": "2.0", "title": f"Advisory {tracking_id}", "tracking": tracking}
    if tlp is not None:
        document["distribution"] = {"tlp": {"label": tlp}}
    return (json.dumps({"document": document}, indent=2, sort_keys=True) + "\n").encode()


# tracking id, TLP, initial release, current release
ADVISORIES = [
    ("EXI-2023-0007", "WHITE", "2023-06-01T10:00:00.000Z", "2025-02-03T09:00:00.000Z"),
    ("EXI-2024-0001", "WHITE", "2024-01-15T08:30:00.000Z", "2024-01-15T08:30:00.000Z"),
    # Initial release written in New York's evening of 31 December: its folder is 2024, the year as written.
    ("EXI-2024-0042", "WHITE", "2024-12-31T21:00:00-05:00", "2026-01-10T12:00:00.000Z"),
    ("EXI-2025-0003", "WHITE", "2025-03-01T00:00:00.000Z", "2025-02-03T09:00:00.000Z"),
    ("EXI-2025-0010", "GREEN", "2025-05-05T05:05:05.000Z", "2025-05-06T00:00:00.000Z"),
    ("EXI-2026-0001", "AMBER", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"),
    ("EXI-2022-0009", "RED", "2022-09-09T09:09:09.000Z", "2023-01-01T00:00:00.000Z"),
]


def file_name(tracking_id: str) -> str:
    """Section 5.1's name for these ids (lower case; they hold no other character to replace)."""
    return tracking_id.lower() + ".json"


@pytest.fixture(scope="module")
def key() -> Iterator[ThrowawayKey]:
    with Keys() as keys:
        yield keys.make()


@pytest.fixture(scope="module")
def signer(key: ThrowawayKey) -> SigningKey:
    return signing_key(key.home, key.fingerprint)


@pytest.fixture(scope="module")
def documents(signer: SigningKey) -> list[PublishedDocument]:
    published = []
    for tracking_id, tlp, initial, current in ADVISORIES:
        content = csaf(tracking_id, tlp, initial, current)
        published.append(PublishedDocument.from_csaf(content, file_name(tracking_id), sign_detached(signer, content)))
    return published


@pytest.fixture(scope="module")
def provider(key: ThrowawayKey) -> Provider:
    return Provider(publisher=Publisher(), base_url=BASE, key_fingerprint=key.fingerprint, public_key=key.public)


def write(files: dict[str, bytes], root: Path) -> None:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)


def test_the_layout_is_one_folder_per_label_and_year(provider: Provider, documents: list[PublishedDocument]) -> None:
    files = site_files(provider, documents, LAST_UPDATED)
    fingerprint = provider.fingerprint
    expected = {
        ".well-known/csaf/provider-metadata.json",
        f".well-known/csaf/openpgp/{fingerprint}.asc",
        *(
            f".well-known/csaf/{tlp}/{name}"
            for tlp in ("white", "green", "amber", "red")
            for name in ("index.txt", "changes.csv")
        ),
    }
    folders = {
        "EXI-2023-0007": "white/2023",
        "EXI-2024-0001": "white/2024",
        "EXI-2024-0042": "white/2024",
        "EXI-2025-0003": "white/2025",
        "EXI-2025-0010": "green/2025",
        "EXI-2026-0001": "amber/2026",
        "EXI-2022-0009": "red/2022",
    }
    for tracking_id, folder in folders.items():
        document = f".well-known/csaf/{folder}/{file_name(tracking_id)}"
        expected |= {document, f"{document}.sha256", f"{document}.sha512", f"{document}.asc"}
    assert set(files) == expected
    assert list(files) == sorted(files)
    assert files[f".well-known/csaf/openpgp/{fingerprint}.asc"] == provider.public_key


def test_index_and_changes_list_each_label_newest_first(documents: list[PublishedDocument]) -> None:
    # Equal current release dates fall back to the path, so the order never depends on the input's.
    assert index_txt(documents, "WHITE") == (
        b"2024/exi-2024-0042.json\n2023/exi-2023-0007.json\n2025/exi-2025-0003.json\n2024/exi-2024-0001.json\n"
    )
    assert changes_csv(documents, "WHITE") == (
        b'"2024/exi-2024-0042.json","2026-01-10T12:00:00.000Z"\n'
        b'"2023/exi-2023-0007.json","2025-02-03T09:00:00.000Z"\n'
        b'"2025/exi-2025-0003.json","2025-02-03T09:00:00.000Z"\n'
        b'"2024/exi-2024-0001.json","2024-01-15T08:30:00.000Z"\n'
    )
    assert index_txt(documents, "RED") == b"2022/exi-2022-0009.json\n"
    rows = list(csv.reader(io.StringIO(changes_csv(documents, "GREEN").decode())))
    assert rows == [["2025/exi-2025-0010.json", "2025-05-06T00:00:00.000Z"]]
    assert index_txt([], "AMBER") == changes_csv([], "AMBER") == b""


def test_every_hash_matches_hashlib_and_sha256sum_checks_it(
    provider: Provider, documents: list[PublishedDocument], tmp_path: Path
) -> None:
    files = site_files(provider, documents, LAST_UPDATED)
    write(files, tmp_path)
    for document in documents:
        for algorithm in ("sha256", "sha512"):
            digest = hashlib.new(algorithm, (tmp_path / document.path).read_bytes()).hexdigest()
            assert files[f"{document.path}.{algorithm}"] == f"{digest}  {document.file_name}\n".encode()
            checked = subprocess.run(
                [f"{algorithm}sum", "-c", f"{document.file_name}.{algorithm}"],
                cwd=(tmp_path / document.path).parent,
                capture_output=True,
                check=False,
            )
            assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_signature_verifies_with_gpg_and_the_published_key(
    provider: Provider, documents: list[PublishedDocument], tmp_path: Path
) -> None:
    files = site_files(provider, documents, LAST_UPDATED)
    write(files, tmp_path)
    public = (tmp_path / provider.key_path).read_bytes()
    for document in documents:
        assert gpg_verifies(public, tmp_path / document.path, tmp_path / f"{document.path}.asc"), document.path
    # A document changed after signing fails.
    tampered = tmp_path / documents[0].path
    tampered.write_bytes(tampered.read_bytes().replace(b"Advisory", b"Advisorx"))
    assert not gpg_verifies(public, tampered, tmp_path / f"{documents[0].path}.asc")


def test_provider_metadata_is_valid_and_names_every_distribution(provider: Provider) -> None:
    metadata = json.loads(provider_metadata(provider, LAST_UPDATED))
    assert metadata_failures(metadata) == []
    assert metadata == {
        "canonical_url": f"{BASE}/.well-known/csaf/provider-metadata.json",
        "distributions": [
            {"directory_url": f"{BASE}/.well-known/csaf/{tlp}/"} for tlp in ("white", "green", "amber", "red")
        ],
        "last_updated": "2026-03-02T08:00:00.000Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [
            {
                "fingerprint": provider.fingerprint,
                "url": f"{BASE}/.well-known/csaf/openpgp/{provider.fingerprint}.asc",
            }
        ],
        "publisher": {
            "category": "vendor",
            "contact_details": "psirt@example.com",
            "name": "Example Industrial PSIRT",
            "namespace": "https://www.example.com",
        },
        "role": "csaf_trusted_provider",
    }
    # A key kept elsewhere (a key server) is named by its URL.
    elsewhere = replace(provider, public_key=b"", key_url="https://keys.example.net/vks/v1/by-fingerprint/X")
    assert json.loads(provider_metadata(elsewhere, LAST_UPDATED))["public_openpgp_keys"][0]["url"].endswith("/X")
    assert metadata_failures({**metadata, "metadata_version": "2.1"}) == [
        '/metadata_version: "2.1" is not one of "2.0"'
    ]


def test_the_schema_refuses_metadata_the_provider_cannot_publish(provider: Provider) -> None:
    bad = replace(provider, publisher=Publisher(category="manufacturer"))
    with pytest.raises(DirectoryError, match=r"would not be valid: /publisher/category: .*manufacturer"):
        provider_metadata(bad, LAST_UPDATED)
    with pytest.raises(DirectoryError, match="would not be valid: /publisher/name"):
        provider_metadata(replace(provider, publisher=Publisher(name="")), LAST_UPDATED)


def test_the_same_documents_give_the_same_bytes_in_any_order(
    provider: Provider, documents: list[PublishedDocument]
) -> None:
    first = site_files(provider, documents, LAST_UPDATED)
    shuffled = list(documents)
    random.Random(7).shuffle(shuffled)
    assert site_files(provider, shuffled, LAST_UPDATED) == first
    # The same instant in another zone is the same last_updated.
    assert site_files(provider, documents, LAST_UPDATED.astimezone(timezone(timedelta(hours=2)))) == first


def test_only_white_and_the_provider_files_are_public() -> None:
    assert not needs_authentication(".well-known/csaf/provider-metadata.json")
    assert not needs_authentication("/.well-known/csaf/openpgp/ABC.asc")
    assert not needs_authentication(".well-known/csaf/white/2024/exi-2024-0001.json.asc")
    assert not needs_authentication(".well-known/csaf/")
    for tlp in ("green", "amber", "red"):
        assert needs_authentication(f".well-known/csaf/{tlp}/index.txt")
        assert needs_authentication(f"/.well-known/csaf/{tlp}/")


def test_a_folder_lists_its_files_and_folders(provider: Provider, documents: list[PublishedDocument]) -> None:
    files = site_files(provider, documents, LAST_UPDATED)
    assert listing(files, ".well-known/csaf") == [
        "amber/",
        "green/",
        "openpgp/",
        "provider-metadata.json",
        "red/",
        "white/",
    ]
    assert listing(files, ".well-known/csaf/white/") == ["2023/", "2024/", "2025/", "changes.csv", "index.txt"]
    assert listing(files, ".well-known/csaf/red/2022") == [
        "exi-2022-0009.json",
        "exi-2022-0009.json.asc",
        "exi-2022-0009.json.sha256",
        "exi-2022-0009.json.sha512",
    ]


def test_a_document_without_what_the_directory_needs_is_refused(signer: SigningKey) -> None:
    signature = sign_detached(signer, b"x")
    cases = [
        (csaf("EXI-1", "WHITE", None, "2025-01-01T00:00:00Z"), "has no /document/tracking/initial_release_date"),
        (csaf("EXI-1", "WHITE", "2025-01-01T00:00:00Z", None), "has no /document/tracking/current_release_date"),
        (csaf("EXI-1", None, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), "has no TLP label"),
        (csaf("EXI-1", "CLEAR", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), "TLP:CLEAR is not a CSAF 2.0"),
        (csaf("EXI-1", "PURPLE", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), "'PURPLE' is not one of WHITE"),
        (csaf("EXI-1", "WHITE", "yesterday", "2025-01-01T00:00:00Z"), "initial_release_date 'yesterday' is not"),
        (csaf("EXI-1", "WHITE", "2025-01-01T00:00:00", "2025-01-01T00:00:00Z"), "has no time zone"),
        (csaf("", "WHITE", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), "has no /document/tracking/id"),
        (b'{"document": []}', "has no /document object"),
        (b"\xff not json", "not a JSON document"),
    ]
    for content, message in cases:
        with pytest.raises(DirectoryError, match=message) as refused:
            PublishedDocument.from_csaf(content, "exi-1.json", signature)
        assert "\n" not in str(refused.value)
    good = csaf("EXI-1", "WHITE", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
    with pytest.raises(DirectoryError, match=r"does not follow section 5\.1"):
        PublishedDocument.from_csaf(good, "EXI-1.json", signature)
    with pytest.raises(DirectoryError, match="not an armoured OpenPGP signature"):
        PublishedDocument.from_csaf(good, "exi-1.json", b"")


def test_duplicates_and_labels_the_provider_does_not_serve_are_refused(
    provider: Provider, documents: list[PublishedDocument]
) -> None:
    white = documents[0]
    # The same file name under another label (or year) is the same advisory twice.
    twin = replace(white, tlp="GREEN", tracking_id="EXI-2023-0007 (again)")
    with pytest.raises(DirectoryError, match=r"file name exi-2023-0007\.json is already taken by EXI-2023-0007$"):
        site_files(provider, [white, twin], LAST_UPDATED)
    white_only = replace(provider, tlps=("WHITE",))
    with pytest.raises(DirectoryError, match="EXI-2025-0010: the provider serves no TLP:GREEN distribution"):
        site_files(white_only, documents, LAST_UPDATED)
    assert [path for path in site_files(white_only, documents[:2], LAST_UPDATED) if path.endswith(".txt")] == [
        ".well-known/csaf/white/index.txt"
    ]
    with pytest.raises(DirectoryError, match="'PURPLE' is not one of"):
        index_txt(documents, "PURPLE")
    with pytest.raises(DirectoryError, match="hash 'md5' is not one the directory publishes"):
        hash_file(white, "md5")


def test_provider_settings_are_checked(provider: Provider) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"base_url": "http://psirt.example.com"}, r"is not https:// \(requirement 3"),
        ({"base_url": "https://psirt.example.com/?x=1"}, "is not a plain https://host"),
        ({"base_url": "psirt.example.com"}, "is not a plain https://host"),
        ({"key_fingerprint": "ABCD"}, "is not an OpenPGP fingerprint"),
        ({"public_key": b"", "key_url": ""}, "must be published"),
        ({"public_key": b"-----BEGIN PGP PRIVATE KEY BLOCK-----"}, "not an armoured OpenPGP public key"),
        ({"tlps": ()}, "at least one TLP label"),
        ({"tlps": ("WHITE", "WHITE")}, "named twice"),
        ({"tlps": ("WHITE", "CLEAR")}, "TLP:CLEAR is not a CSAF 2.0 label"),
    ]
    for change, message in cases:
        with pytest.raises(DirectoryError, match=message):
            replace(provider, **change)
    # Plain HTTP only on the loopback interface, where a test's server runs.
    for local in ("http://127.0.0.1:8123", "http://localhost:5000/tracker", "http://[::1]:80"):
        assert replace(provider, base_url=local).url("x") == f"{local}/x"
    with pytest.raises(DirectoryError, match="has no time zone"):
        provider_metadata(provider, datetime(2026, 1, 1))
