"""The outbox's decisions (pure): what a webhook URL, an event name, a dedupe key and an address may be, when a
failed delivery is tried again, and how a webhook request is signed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import urlsplit

# A message is tried at most this often; after the last failure it stays failed with its error, for people to see.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
# A webhook receiver has this long to answer (connecting included), then the attempt failed.
WEBHOOK_TIMEOUT_SECONDS = 5.0
MAX_URL = 2000
MAX_KEY = 200
MAX_ADDRESS = 254  # the longest address a mail path carries (RFC 5321)
MAX_SUBJECT = 200
MAX_BODY = 64 * 1024
MAX_ERROR = 300
MAX_ENDPOINTS = 10  # per product: one event never fans out to more requests than this

EVENT_HEADER = "X-SDL-Tracker-Event"
DELIVERY_HEADER = "X-SDL-Tracker-Delivery"
TIMESTAMP_HEADER = "X-SDL-Tracker-Timestamp"
SIGNATURE_HEADER = "X-SDL-Tracker-Signature"
TEST_EVENT = "webhook.test"

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._/@+=-]*")
_EVENT = re.compile(r"[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*")
MAX_EVENT = 80


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a message whose `attempts`-th attempt failed is tried again: a minute after the first failure,
    twice as long after each further one, at most an hour apart; None once MAX_ATTEMPTS have failed."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256, keyed by the endpoint's secret, of the timestamp, a dot and the body."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_headers(*, event: str, delivery_id: str, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one webhook request: what happened, which delivery (the same on a resend), when it was
    signed, and the signature a receiver checks."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "sdl-tracker-webhook",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, *, http_loopback: bool) -> str | None:
    """Why a webhook endpoint may not be `url`: https with a host, no credentials or fragment in it; plain http
    only to this host's loopback, and only where the installation allows it (tests, development)."""
    if not url or len(url) > MAX_URL:
        return f"a URL of 1-{MAX_URL} characters is required"
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in url):
        return "a URL may not contain spaces or control characters"
    if not url.isascii():
        return "a URL is ASCII: percent-encode other characters, and write the host name in punycode (xn--)"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return "the URL's port is not a number from 1 to 65535"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        return "an https:// URL with a host is required"
    if parts.username is not None or parts.password is not None:
        return "a URL may not carry a user name or password (the endpoint's secret signs each request)"
    if parts.fragment:
        return "a URL may not have a #fragment"
    if scheme == "http" and not (http_loopback and _is_loopback(parts.hostname)):
        if http_loopback:
            return "plain http is allowed to this host's loopback only (localhost, 127.0.0.1, ::1); use https"
        return "an https:// URL is required"
    return None


def key_problem(key: str) -> str | None:
    """Why `key` cannot name an event for deduplication: 1-200 letters, digits and `:._/@+=-`, the first a letter
    or digit."""
    if len(key) > MAX_KEY or not _KEY.fullmatch(key):
        return f"a key of 1-{MAX_KEY} letters, digits and :._/@+=- starting with a letter or digit is required"
    return None


def event_problem(event: str) -> str | None:
    """Why `event` cannot name a webhook event: lower-case words joined by `.`, `_` or `-` (`psirt.clock.due-soon`)."""
    if len(event) > MAX_EVENT or not _EVENT.fullmatch(event):
        return f"an event name of at most {MAX_EVENT} lower-case letters and digits joined by . _ or - is required"
    return None


def address_problem(address: str) -> str | None:
    """Why `address` cannot receive e-mail from the tracker: one address, no display name, spaces or controls."""
    local, _, domain = address.rpartition("@")
    if (
        len(address) > MAX_ADDRESS
        or not local
        or not domain
        or any(c.isspace() or unicodedata.category(c).startswith("C") or c in '<>,;"' for c in address)
    ):
        return "one e-mail address such as officer@example.com is required"
    return None


def dedupe_key(channel: str, target: str, key: str) -> str:
    """The stored key: the same event (`key`) is queued at most once for each recipient or endpoint."""
    return f"{channel}:{target.lower()}:{key}"


def short_error(text: str) -> str:
    """An error as one short line, as a message keeps it."""
    line = " ".join(text.split())
    return (line[: MAX_ERROR - 1] + "…") if len(line) > MAX_ERROR else (line or "failed")
