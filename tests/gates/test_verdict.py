"""Signed gate verdicts: the statement, the DSSE envelope, every refusal, rotated keys, standard DSSE, and
`sdl-tracker gate verify` offline (no app, no database)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from sdl_tracker import cli as cli_module
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid
from sdl_tracker.gates.verdict import (
    MAX_ENVELOPE_BYTES,
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    VerdictRefused,
    sign_verdict,
    verdict_statement,
    verify_file,
    verify_verdict,
)
from sdl_tracker.keys import Keyring, key_id, public_pem

DIGEST = "3f" * 32


def _statement(**predicate: Any) -> dict[str, Any]:
    return verdict_statement(
        release="2.1.0", product="NW-PLC", snapshot_digest=DIGEST, predicate={"outcome": "pass", **predicate}
    )


def _envelope(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data)
    return document


def _sign_payload(payload: bytes, key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """A DSSE envelope of any payload, signed properly: for refusals of what is inside."""
    envelope = Envelope(payload, payload_type, {})
    envelope.sign(CryptoSigner(key, SSlibKey.from_crypto(key.public_key(), keyid=key_id(key.public_key()))))
    return json.dumps(envelope.to_dict()).encode()


def _refused(envelope: bytes, key: Ed25519PrivateKey, fragment: str) -> None:
    with pytest.raises(VerdictRefused) as caught:
        verify_verdict(envelope, [key.public_key()])
    message = caught.value.one_line()
    assert fragment in message and "\n" not in message, message


def test_the_statement_is_in_toto_v1_naming_the_release_and_the_snapshot() -> None:
    statement = _statement(rules=[{"id": "cra-i-2-a", "outcome": "pass"}])
    assert statement == {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": "NW-PLC@2.1.0",
                "digest": {"sha256": DIGEST},
                "annotations": {"product": "NW-PLC", "release": "2.1.0"},
            }
        ],
        "predicateType": "https://sdl-tracker.dev/gate-verdict/v1",
        "predicate": {"outcome": "pass", "rules": [{"id": "cra-i-2-a", "outcome": "pass"}]},
    }
    assert statement["predicateType"] == PREDICATE_TYPE


@pytest.mark.parametrize(
    ("digest", "predicate", "fragment"),
    [
        ("sha256:" + DIGEST, {"outcome": "pass"}, "64 lowercase hex"),
        (DIGEST.upper(), {"outcome": "pass"}, "64 lowercase hex"),
        (DIGEST, {"rules": []}, "no outcome"),
        (DIGEST, {"outcome": ""}, "no outcome"),
    ],
)
def test_a_statement_needs_a_sha256_snapshot_and_an_outcome(
    digest: str, predicate: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        verdict_statement(release="1", product="P", snapshot_digest=digest, predicate=predicate)
    with pytest.raises(ValueError):  # not JSON: NaN is refused rather than signed
        verdict_statement(
            release="1", product="P", snapshot_digest=DIGEST, predicate={"n": float("nan"), "outcome": "x"}
        )


def test_sign_and_verify_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    statement = _statement(reasons=["ünïcode kept", 12345678901234567890])
    envelope = sign_verdict(statement, key)
    document = _envelope(envelope)
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in document["signatures"]] == [key_id(key.public_key())]
    other = Ed25519PrivateKey.generate()
    verified = verify_verdict(envelope, [other.public_key(), key.public_key()])
    assert verified.statement == statement  # big integers and non-ASCII text survive exactly
    assert verified.key_id == key_id(key.public_key())
    assert (verified.product, verified.release, verified.outcome) == ("NW-PLC", "2.1.0", "pass")
    assert verified.snapshot_digest == DIGEST


def test_the_envelope_is_standard_dsse() -> None:
    """Checked without securesystemslib: the signature is Ed25519 over the PAE the DSSE specification defines."""
    key = Ed25519PrivateKey.generate()
    document = _envelope(sign_verdict(_statement(), key))
    payload = base64.b64decode(document["payload"], validate=True)
    payload_type = document["payloadType"].encode()
    # PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII decimals.
    pae = b" ".join([b"DSSEv1", str(len(payload_type)).encode(), payload_type, str(len(payload)).encode(), payload])
    (signature,) = document["signatures"]
    key.public_key().verify(base64.b64decode(signature["sig"], validate=True), pae)  # raises if not
    assert signature["keyid"] == key_id(key.public_key())
    assert json.loads(payload)["_type"] == "https://in-toto.io/Statement/v1"
    assert set(document) == {"payload", "payloadType", "signatures"}


@pytest.mark.parametrize(
    ("envelope", "fragment"),
    [
        (b"\xff\xfe not utf-8", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[" * 100_000, "not JSON"),
        (b"[]", "not a DSSE envelope"),
        (b'{"payload": "e30="}', "not a DSSE envelope"),
        (b'{"payload": 1, "payloadType": "application/vnd.in-toto+json", "signatures": []}', "not a DSSE envelope"),
        (
            b'{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AA=="}]}',
            "not a DSSE envelope",
        ),
        (
            b'{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": ["x"]}',
            "not a DSSE envelope",
        ),
        (b'{"payload": "!!", "payloadType": "application/vnd.in-toto+json", "signatures": []}', "not a DSSE envelope"),
        (b'{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []}', "no signature"),
    ],
)
def test_what_is_not_a_signed_envelope_is_refused(envelope: bytes, fragment: str) -> None:
    _refused(envelope, Ed25519PrivateKey.generate(), fragment)


def test_a_file_too_large_is_refused_before_it_is_parsed() -> None:
    _refused(b" " * (MAX_ENVELOPE_BYTES + 1), Ed25519PrivateKey.generate(), "larger than 5 MiB")


def test_a_wrong_payload_type_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = _sign_payload(json.dumps(_statement()).encode(), key, payload_type="application/json")
    _refused(envelope, key, "payload type is 'application/json'")


def test_a_verdict_signed_by_another_key_is_refused() -> None:
    signer, given = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    envelope = sign_verdict(_statement(), signer)
    _refused(envelope, given, f"not signed by the given key: signed by key {key_id(signer.public_key())}")
    with pytest.raises(VerdictRefused, match="not signed by the given keys"):
        verify_verdict(envelope, [])


def test_a_signature_naming_another_key_id_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    document = _envelope(sign_verdict(_statement(), key))
    document["signatures"][0]["keyid"] = "0123456789abcdef"
    names = f"signature by key {key_id(key.public_key())} names key 0123456789abcdef"
    _refused(json.dumps(document).encode(), key, names)


def test_a_tampered_payload_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    document = _envelope(sign_verdict(_statement(), key))
    statement = json.loads(base64.b64decode(document["payload"]))
    statement["predicate"]["outcome"] = "fail"  # or the other way round
    document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    _refused(json.dumps(document).encode(), key, "does not match the verdict's content: the verdict was altered")
    document = _envelope(sign_verdict(_statement(), key))
    document["payloadType"] = "application/vnd.in-toto+json "  # the type is signed too
    _refused(json.dumps(document).encode(), key, "payload type")


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"not json", "signed payload is not JSON"),
        (b"[]", "not an in-toto Statement v1"),
        (json.dumps({"_type": "https://in-toto.io/Statement/v0.1"}).encode(), "not an in-toto Statement v1"),
        (
            json.dumps({**_statement(), "predicateType": "https://slsa.dev/provenance/v1"}).encode(),
            "predicate type is 'https://slsa.dev/provenance/v1'",
        ),
        (json.dumps({**_statement(), "subject": []}).encode(), "exactly one subject"),
        (
            json.dumps({**_statement(), "subject": [{"name": "x", "digest": {"sha512": "00"}}]}).encode(),
            "no sha256 digest",
        ),
        (
            json.dumps({**_statement(), "subject": [{"name": "x", "digest": {"sha256": DIGEST}}]}).encode(),
            "does not name its product and release",
        ),
        (json.dumps({**_statement(), "predicate": {}}).encode(), "no outcome"),
    ],
)
def test_a_signed_payload_that_is_not_our_statement_is_refused(payload: bytes, fragment: str) -> None:
    key = Ed25519PrivateKey.generate()
    _refused(_sign_payload(payload, key), key, fragment)


def test_a_verdict_signed_before_a_rotation_verifies_with_its_keyring_key(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path)
    old = keyring.active()
    envelope = sign_verdict(_statement(), old.private)
    keyring.activate(keyring.prepare_rotation())
    assert keyring.active().key_id != old.key_id
    verdict_file = tmp_path / "verdict.intoto.json"
    verdict_file.write_bytes(envelope)
    verified = verify_file(verdict_file, keyring.keyring_dir / f"{old.key_id}.pem")
    assert verified.key_id == old.key_id
    with pytest.raises(VerdictRefused, match="not signed by the given key"):
        verify_file(verdict_file, keyring.keyring_dir / f"{keyring.active().key_id}.pem")


def test_verify_file_tells_unreadable_files_from_refusals(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_text(public_pem(key.public_key()))
    verdict_file = tmp_path / "verdict.json"
    verdict_file.write_bytes(sign_verdict(_statement(), key))
    for envelope_path, key_path in ((tmp_path / "missing.json", pem), (verdict_file, tmp_path / "missing.pem")):
        with pytest.raises(Invalid) as caught:
            verify_file(envelope_path, key_path)
        assert not isinstance(caught.value, VerdictRefused) and "No such file" in caught.value.one_line()
    for content in (b"not a key", key.private_bytes_raw()):
        pem.write_bytes(content)
        with pytest.raises(Invalid, match="not an Ed25519 public key") as caught:
            verify_file(verdict_file, pem)
        assert not isinstance(caught.value, VerdictRefused)


# --- `sdl-tracker gate verify` -------------------------------------------------------------------------------


@pytest.fixture
def no_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command must not build an app: it runs where there is no database or data directory."""

    def refuse() -> None:
        raise AssertionError("gate verify built an app")

    monkeypatch.setattr(cli_module, "create_app", refuse)


def _verify(*args: str) -> Result:
    return CliRunner().invoke(cli, ["gate", "verify", *args])


def _one_line(result: Result, code: int, fragment: str) -> None:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and fragment in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    verdict_file = tmp_path / "NW-PLC-2.1.0.verdict.json"
    verdict_file.write_bytes(sign_verdict(_statement(), key))
    pem = tmp_path / "signing-key.pem"
    pem.write_text(public_pem(key.public_key()))
    return verdict_file, pem, key


@pytest.mark.usefixtures("no_app")
def test_gate_verify_exits_0_and_says_what_was_signed(files: tuple[Path, Path, Ed25519PrivateKey]) -> None:
    verdict_file, pem, key = files
    kid = key_id(key.public_key())
    result = _verify(str(verdict_file), "--public-key", str(pem))
    _one_line(result, 0, f"verified: NW-PLC 2.1.0: pass (snapshot sha256:{DIGEST}, signed by key {kid})")
    data = json.loads(_verify(str(verdict_file), "--public-key", str(pem), "--json").output)
    assert (data["verified"], data["product"], data["release"], data["outcome"], data["key_id"]) == (
        True,
        "NW-PLC",
        "2.1.0",
        "pass",
        kid,
    )
    assert data["statement"]["predicateType"] == PREDICATE_TYPE


@pytest.mark.usefixtures("no_app")
def test_gate_verify_exits_1_when_verification_fails(
    files: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path
) -> None:
    verdict_file, pem, _key = files
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    _one_line(_verify(str(verdict_file), "--public-key", str(other)), 1, "error: verification failed: not signed by")
    document = _envelope(verdict_file.read_bytes())
    document["payload"] = base64.b64encode(b'{"_type": "forged"}').decode()
    verdict_file.write_text(json.dumps(document))
    _one_line(_verify(str(verdict_file), "--public-key", str(pem)), 1, "verdict was altered")
    verdict_file.write_text("<html>not a verdict</html>")
    _one_line(_verify(str(verdict_file), "--public-key", str(pem)), 1, "error: verification failed: not a gate verdict")


@pytest.mark.usefixtures("no_app")
def test_gate_verify_exits_2_when_a_file_cannot_be_read(
    files: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path
) -> None:
    verdict_file, pem, _key = files
    _one_line(_verify(str(tmp_path / "nope.json"), "--public-key", str(pem)), 2, "error: FILE: cannot read")
    _one_line(_verify(str(verdict_file), "--public-key", str(tmp_path / "nope.pem")), 2, "error: --public-key: cannot")
    _one_line(_verify(str(verdict_file), "--public-key", str(verdict_file)), 2, "not an Ed25519 public key in PEM")
    _one_line(_verify(str(verdict_file)), 2, "missing option '--public-key'")
