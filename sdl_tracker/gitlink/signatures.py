"""Pure rules of signed commits: what a signature signs, which format it is, and what a verdict says.

The signed payload is the commit object without its signature headers, cut as git cuts it
(`parse_buffer_signed_by_header`): every header line starting `gpgsig` (the SHA-1 and the SHA-256
signature) and its continuation lines are left out; everything else, the message included, is signed.
A verdict is about the git author: "verified" only when a valid signature was made by a key registered
to the user whose account e-mail is the commit's author e-mail (docs/assurance.md, "Signed commits").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SIGNATURE_PREFIX = b"gpgsig"


class SignatureFormat(enum.StrEnum):
    """What kind of signature a commit carries (git's `gpg.format`)."""

    OPENPGP = "openpgp"
    SSH = "ssh"
    X509 = "x509"  # gpgsm; the tracker registers no X.509 certificates, so such commits stay unverified
    UNKNOWN = "unknown"


class KeyKind(enum.StrEnum):
    """The kinds of public key a user registers to sign commits with."""

    OPENPGP = "openpgp"
    SSH = "ssh"


class SignatureStatus(enum.StrEnum):
    """A commit's signature verdict, as stored and shown."""

    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    UNSIGNED = "unsigned"


@dataclass(frozen=True)
class SignedPayload:
    """A signed commit object split as git splits it for verification."""

    payload: bytes  # what was signed
    signature: bytes  # the armoured signature, one line per line
    format: SignatureFormat


ARMOUR = {
    b"-----BEGIN PGP SIGNATURE-----": SignatureFormat.OPENPGP,
    b"-----BEGIN PGP MESSAGE-----": SignatureFormat.OPENPGP,
    b"-----BEGIN SSH SIGNATURE-----": SignatureFormat.SSH,
    b"-----BEGIN SIGNED MESSAGE-----": SignatureFormat.X509,
}


def signature_format(signature: bytes) -> SignatureFormat:
    """The format an armoured signature is in, by its first line (as git picks the program to verify with)."""
    first = signature.lstrip().split(b"\n", 1)[0].strip()
    return ARMOUR.get(first, SignatureFormat.UNKNOWN)


def split_signed(raw: bytes, header: str = "gpgsig") -> SignedPayload | None:
    """The payload and the `header` signature of a raw commit object; None when it carries no such signature.

    `header` is the one of the object's hash algorithm ("gpgsig" for SHA-1, "gpgsig-sha256" for SHA-256);
    other `gpgsig*` headers are left out of the payload as git leaves them out, and are not verified."""
    head, separator, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    payload: list[bytes] = []
    signature: list[bytes] = []
    wanted = header.encode("ascii") + b" "
    in_signature = other_signature = False
    for line in lines:
        if (in_signature or other_signature) and line.startswith(b" "):
            if in_signature:
                signature.append(line[1:])
            continue
        in_signature = other_signature = False
        if line.startswith(wanted):
            signature.append(line[len(wanted) :])
            in_signature = True
        elif line.startswith(SIGNATURE_PREFIX):
            other_signature = True
        else:
            payload.append(line)
    if not signature:
        return None
    text = b"\n".join(payload) + (separator + body if separator else b"")
    armour = b"\n".join(signature) + b"\n"
    return SignedPayload(text, armour, signature_format(armour))


def header_for(sha: str) -> str:
    """The signature header of a commit with this id: SHA-256 repositories sign under `gpgsig-sha256`."""
    return "gpgsig-sha256" if len(sha) == 64 else "gpgsig"


@dataclass(frozen=True)
class Verdict:
    """What the tracker concluded about one commit's signature, and why."""

    status: SignatureStatus
    reason: str  # one sentence: who verified it, or why it is not verified
    key_id: int | None = None  # the registered key that verified it
    signer: str = ""  # the signing key's fingerprint, when the tool told it

    def row(self) -> dict[str, object]:
        """The commit columns this verdict fills (without the time it was reached)."""
        return {
            "signature_status": self.status.value,
            "signature_reason": self.reason[:300],
            "signature_key_id": self.key_id,
            "signature_signer": self.signer[:100] or None,
        }


UNSIGNED = Verdict(SignatureStatus.UNSIGNED, "the commit carries no signature")


def unverified(reason: str, signer: str = "") -> Verdict:
    """A signature the tracker could not tie to the commit's author."""
    return Verdict(SignatureStatus.UNVERIFIED, reason, signer=signer)
