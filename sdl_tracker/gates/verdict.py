"""Pure: a gate verdict as an in-toto statement in a DSSE envelope, signed and verified with Ed25519 keys.

The verdict is an in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md):
its one subject names the product release (`PRODUCT@RELEASE`, with `product` and `release` annotations) and
carries the SHA-256 of the facts snapshot the gate judged; its predicate type is `PREDICATE_TYPE` and its
predicate the gate's result, with at least an `outcome`. The statement's JSON is the payload of a DSSE envelope
(https://github.com/secure-systems-lab/dsse) of type `application/vnd.in-toto+json`, signed with the
installation's Ed25519 key; the signature's `keyid` is `keys.key_id` of the public key. securesystemslib builds
and checks the envelope and its pre-authentication encoding: nothing of DSSE or Ed25519 is done by hand here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import Error as SslibError
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import CryptoSigner, Key, Signature, SSlibKey

from ..errors import Invalid
from ..keys import key_id, load_public_pem

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://sdl-tracker.dev/gate-verdict/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
# A verdict is a few kilobytes; anything near this is not one, and is refused before it is parsed.
MAX_ENVELOPE_BYTES = 5 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class VerdictRefused(Invalid):
    """The file is not a verdict signed by one of the given keys: a negative answer, not an error."""


@dataclass(frozen=True)
class VerifiedVerdict:
    """A statement whose signature checked out, and the id of the key that made it."""

    statement: dict[str, Any]
    key_id: str

    @property
    def subject(self) -> Mapping[str, Any]:
        """The one subject: the product release and the snapshot's digest."""
        subject: Mapping[str, Any] = self.statement["subject"][0]
        return subject

    @property
    def product(self) -> str:
        """The product's name."""
        return str(self.subject["annotations"]["product"])

    @property
    def release(self) -> str:
        """The release's version."""
        return str(self.subject["annotations"]["release"])

    @property
    def snapshot_digest(self) -> str:
        """The SHA-256 (hex) of the facts snapshot the gate judged."""
        return str(self.subject["digest"]["sha256"])

    @property
    def predicate(self) -> Mapping[str, Any]:
        """The gate's result as signed."""
        predicate: Mapping[str, Any] = self.statement["predicate"]
        return predicate

    @property
    def outcome(self) -> str:
        """The predicate's outcome (`pass`, `fail`...)."""
        return str(self.predicate["outcome"])


def verdict_statement(
    *, release: str, product: str, snapshot_digest: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """The in-toto Statement v1 of a gate verdict; ValueError for a digest that is not SHA-256 hex or a predicate
    without an outcome or not JSON."""
    if not _SHA256.fullmatch(snapshot_digest):
        raise ValueError("the snapshot digest must be 64 lowercase hex digits (SHA-256)")
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": f"{product}@{release}",
                "digest": {"sha256": snapshot_digest},
                "annotations": {"product": product, "release": release},
            }
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }
    problem = _statement_problem(json.loads(_serialise(statement)))
    if problem:
        raise ValueError(problem)
    return statement


def sign_verdict(statement: Mapping[str, Any], private_key: Ed25519PrivateKey) -> bytes:
    """The statement in a DSSE envelope signed with `private_key`, as JSON (UTF-8, one line and a newline)."""
    public = _sslib_key(private_key.public_key())
    envelope = Envelope(_serialise(statement), PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(private_key, public))
    return (json.dumps(envelope.to_dict()) + "\n").encode("ascii")


def verify_verdict(envelope: bytes, public_keys: Sequence[Ed25519PublicKey]) -> VerifiedVerdict:
    """The verdict in `envelope` once a signature by one of `public_keys` checks out; VerdictRefused saying why not."""
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise VerdictRefused(f"not a gate verdict: larger than {MAX_ENVELOPE_BYTES // (1024 * 1024)} MiB")
    parsed = _read_envelope(envelope)
    if parsed.payload_type != PAYLOAD_TYPE:
        raise VerdictRefused(f"not a gate verdict: the payload type is {parsed.payload_type!r}, not {PAYLOAD_TYPE}")
    if not parsed.signatures:
        raise VerdictRefused("the verdict carries no signature")
    keys: list[Key] = [_sslib_key(k) for k in public_keys]
    try:
        accepted = parsed.verify(keys, 1) if keys else {}
    except UnverifiedSignatureError:
        accepted = {}
    if not accepted:
        raise VerdictRefused(_why_unverified(parsed, keys))
    statement = _read_statement(parsed.payload)
    return VerifiedVerdict(statement, next(iter(accepted)))


def verify_file(path: Path, public_key_pem: Path) -> VerifiedVerdict:
    """`verify_verdict` on a file with the public key in a PEM file: Invalid (an error, not an answer) when either
    cannot be read, VerdictRefused when the file is not a verdict that key signed."""
    try:
        pem = public_key_pem.read_bytes()
    except OSError as exc:
        raise Invalid.field("--public-key", f"cannot read {public_key_pem}: {exc.strerror}") from None
    try:
        public_key = load_public_pem(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # not PEM, or a PEM of another kind of key
        raise Invalid.field("--public-key", f"{public_key_pem} is not an Ed25519 public key in PEM") from None
    try:
        with path.open("rb") as handle:
            envelope = handle.read(MAX_ENVELOPE_BYTES + 1)  # enough to know it is too large, never more
    except OSError as exc:
        raise Invalid.field("FILE", f"cannot read {path}: {exc.strerror}") from None
    return verify_verdict(envelope, [public_key])


def _serialise(statement: Mapping[str, Any]) -> bytes:
    """The statement's JSON as signed: sorted keys, no spaces, UTF-8, no NaN (not JSON)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _sslib_key(public_key: Ed25519PublicKey) -> SSlibKey:
    """The public key as securesystemslib's key, named by our key id (what the signature's `keyid` carries)."""
    return SSlibKey.from_crypto(public_key, keyid=key_id(public_key))


def _read_envelope(data: bytes) -> Envelope:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        raise VerdictRefused("not a gate verdict: the file is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("payload"), str):
        raise VerdictRefused("not a gate verdict: not a DSSE envelope") from None
    if not isinstance(document.get("payloadType"), str) or not isinstance(document.get("signatures"), list):
        raise VerdictRefused("not a gate verdict: not a DSSE envelope") from None
    try:
        return Envelope.from_dict(document)
    except (KeyError, TypeError, ValueError, AttributeError, SslibError):  # binascii.Error is a ValueError
        raise VerdictRefused("not a gate verdict: not a DSSE envelope") from None


def _why_unverified(envelope: Envelope, keys: Sequence[Key]) -> str:
    """Why no signature checked out: one names a key it was not made with, or the content changed, or no
    signature is by a given key."""
    pae = envelope.pae()
    given = {key.keyid for key in keys}
    for signature in envelope.signatures.values():
        for key in keys:
            if key.keyid == signature.keyid:
                continue
            try:  # made by this key, though it names another?
                key.verify_signature(Signature(key.keyid, signature.signature), pae)
            except UnverifiedSignatureError:
                continue
            return f"the signature by key {key.keyid} names key {signature.keyid}: the verdict was altered"
    if any(signature.keyid in given for signature in envelope.signatures.values()):
        return "the signature does not match the verdict's content: the verdict was altered"
    named = ", ".join(sorted(envelope.signatures))
    return f"not signed by the given key{'s' if len(given) != 1 else ''}: signed by key {named}"


def _read_statement(payload: bytes) -> dict[str, Any]:
    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise VerdictRefused("the signed payload is not JSON") from None
    problem = _statement_problem(statement)
    if problem:
        raise VerdictRefused(f"not a gate verdict: {problem}")
    assert isinstance(statement, dict)
    return statement


def _statement_problem(statement: Any) -> str | None:
    """Why `statement` is not an in-toto Statement v1 of our predicate type with its one subject, or None."""
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        return f"the payload is not an in-toto Statement v1 ({STATEMENT_TYPE})"
    if statement.get("predicateType") != PREDICATE_TYPE:
        return f"the predicate type is {_short(statement.get('predicateType'))}, not {PREDICATE_TYPE}"
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        return "the statement must have exactly one subject"
    subject = subjects[0]
    digest = subject.get("digest")
    if not isinstance(digest, dict) or not isinstance(digest.get("sha256"), str):
        return "the subject has no sha256 digest"
    if not _SHA256.fullmatch(digest["sha256"]):
        return "the subject's sha256 digest is not 64 lowercase hex digits"
    annotations = subject.get("annotations")
    if not isinstance(annotations, dict) or not all(
        isinstance(annotations.get(name), str) and annotations[name] for name in ("product", "release")
    ):
        return "the subject does not name its product and release"
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict) or not isinstance(predicate.get("outcome"), str) or not predicate["outcome"]:
        return "the predicate has no outcome"
    return None


def _short(value: Any) -> str:
    """A value from a refused document, short enough for one line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
