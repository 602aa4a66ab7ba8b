"""Pure rules of signed commits: what a signature signs, which format it is, and what a verdict says.

The signed payload is the commit object without its signature headers, cut as git cuts it
(`parse_buffer_signed_by_header`): every header line starting `gpgsig` (the SHA-1 and the SHA-256
signature) and its continuation lines are left out; everything else, the message included, is signed.
A verdict is about the git author: "verified" only when a valid signature was made by a key registered
to the user whose account e-mail is the commit's author e-mail (docs/assurance.md, "Signed commits").
"""

from __future__ import annotations

import base64
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

    status: SignatureStatus | None  # None: not checked (a tool failed or was cut off); the next scan tries again
    reason: str  # one sentence: who verified it, or why it is not verified
    key_id: int | None = None  # the registered key that verified it
    signer: str = ""  # the signing key's fingerprint, when the tool told it

    def row(self) -> dict[str, object]:
        """The commit columns this verdict fills (without the time it was reached)."""
        return {
            "signature_status": self.status.value if self.status else None,
            "signature_reason": self.reason[:300],
            "signature_key_id": self.key_id,
            "signature_signer": self.signer[:100] or None,
        }


UNSIGNED = Verdict(SignatureStatus.UNSIGNED, "the commit carries no signature")


def not_checked(reason: str) -> Verdict:
    """No verdict yet: the check could not run to its end; the repository's next scan tries again."""
    return Verdict(None, f"not checked: {reason}")


def unverified(reason: str, signer: str = "") -> Verdict:
    """A signature the tracker could not tie to the commit's author."""
    return Verdict(SignatureStatus.UNVERIFIED, reason, signer=signer)


# A detached signature is a few hundred bytes (an RSA-4096 one about 900): anything much larger is no signature
# a person's tool made, and is not handed to gpg.
MAX_SIGNATURE_BYTES = 16 * 1024
SIGNATURE_PACKET = 2  # OpenPGP packet tag of a signature (RFC 9580, section 5.2)


def openpgp_packet_tags(armour: bytes) -> list[int] | None:
    """The tags of the packets an armoured OpenPGP block holds, in order; None when it is not well-formed.

    Read before gpg sees the block: a detached signature holds signature packets only, while a compressed
    packet of a few kilobytes can expand to gigabytes inside gpg. Only the packet framing is read (RFC 9580,
    section 4.2), nothing of their contents."""
    lines = armour.strip().split(b"\n")
    try:
        blank = next(i for i, line in enumerate(lines) if not line.strip())
    except StopIteration:
        blank = 0  # no armour headers: the data begins after the first line
    body = [line.strip() for line in lines[blank + 1 : -1] if line.strip() and not line.startswith(b"=")]
    try:
        data = base64.b64decode(b"".join(body), validate=True)
    except ValueError:
        return None
    tags: list[int] = []
    at = 0
    while at < len(data):
        first = data[at]
        if not first & 0x80:
            return None
        if first & 0x40:  # the current packet format
            tag, at = first & 0x3F, at + 1
            if at >= len(data):
                return None
            octet = data[at]
            if octet < 192:
                length, at = octet, at + 1
            elif octet < 224:
                if at + 1 >= len(data):
                    return None
                length, at = ((octet - 192) << 8) + data[at + 1] + 192, at + 2
            elif octet == 255:
                length, at = int.from_bytes(data[at + 1 : at + 5], "big"), at + 5
            else:
                return None  # a partial length: only data packets use them, never a signature
        else:  # the legacy packet format
            tag, kind, at = (first >> 2) & 0x0F, first & 0x03, at + 1
            if kind == 3:
                return None  # an indeterminate length: never a signature
            size = 1 << kind
            length, at = int.from_bytes(data[at : at + size], "big"), at + size
        if at + length > len(data):
            return None
        tags.append(tag)
        at += length
    return tags
