"""The outbox's pure decisions: retry pauses, the signature scheme, what a webhook URL and a key may be; and
the webhook transport's deadline against a receiver that never answers."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest

from sdl_tracker.outbox.rules import (
    MAX_ATTEMPTS,
    address_problem,
    event_problem,
    key_problem,
    retry_at,
    signature,
    url_problem,
    webhook_headers,
)
from sdl_tracker.outbox.transport import post_webhook

NOW = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)


def test_retries_wait_a_minute_doubling_to_an_hour_then_give_up() -> None:
    pauses = [retry_at(attempt, NOW) for attempt in range(1, MAX_ATTEMPTS + 1)]
    minutes = [(at - NOW) / timedelta(minutes=1) for at in pauses if at is not None]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert pauses[-1] is None  # the last attempt failed: given up


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    body = b'{"event":"webhook.test"}'
    expected = hmac.new(b"whsec_k", b"1764939600." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1764939600, body) == f"sha256={expected}"
    headers = webhook_headers(
        event="webhook.test", delivery_id="d-1", secret="whsec_k", timestamp=1764939600, body=body
    )
    assert headers["X-SDL-Tracker-Signature"] == f"sha256={expected}"
    assert (headers["X-SDL-Tracker-Timestamp"], headers["X-SDL-Tracker-Delivery"]) == ("1764939600", "d-1")
    assert "whsec_k" not in "".join(headers.values())


@pytest.mark.parametrize(
    ("url", "loopback", "refused"),
    [
        ("https://hooks.example.com/sdl", False, None),
        ("https://hooks.example.com:8443/a?b=c", False, None),
        ("http://hooks.example.com/sdl", True, "loopback only"),
        ("http://127.0.0.1:9000/hook", False, "https:// URL is required"),
        ("http://127.0.0.1:9000/hook", True, None),
        ("http://[::1]:9000/hook", True, None),
        ("http://localhost/hook", True, None),
        ("ftp://hooks.example.com/", False, "https:// URL"),
        ("https://user:pw@hooks.example.com/", False, "user name or password"),
        ("https://hooks.example.com/#x", False, "fragment"),
        ("https://hooks.example.com:99999/", False, "port"),
        ("https://hooks.exämple.com/", False, "ASCII"),
        ("https:///nohost", False, "with a host"),
        ("https://hooks.example.com/a b", False, "spaces"),
        ("", False, "1-2000"),
    ],
)
def test_what_a_webhook_url_may_be(url: str, loopback: bool, refused: str | None) -> None:
    problem = url_problem(url, http_loopback=loopback)
    assert (problem is None) if refused is None else (problem is not None and refused in problem)


def test_keys_events_and_addresses() -> None:
    assert key_problem("psirt:42:notification:due-soon") is None
    assert key_problem("") and key_problem("has space") and key_problem("x" * 201) and key_problem(":leading")
    assert event_problem("psirt.clock.due-soon") is None and event_problem("webhook.test") is None
    assert event_problem("Psirt.Clock") and event_problem("a..b") and event_problem("")
    assert address_problem("officer@example.com") is None
    assert address_problem("Officer <o@example.com>") and address_problem("o@x.com\nBcc: e@x.com")
    assert address_problem("nobody") and address_problem("a@b@")


def test_a_receiver_that_accepts_but_never_answers_is_given_up_at_the_deadline() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    taker = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
    taker.start()
    try:
        port = silent.getsockname()[1]
        assert post_webhook(f"http://127.0.0.1:{port}/", {}, b"{}", timeout=0.3) == "no answer within 0.3 s"
    finally:
        taker.join(1)
        for connection in accepted:
            connection.close()
        silent.close()
