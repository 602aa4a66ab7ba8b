"""Real counterparts for the outbox: an SMTP server and a webhook receiver on localhost, started by the tests.

The receiver checks each request's signature as the operations guide tells receivers to (its own HMAC over
the timestamp, a dot and the body, compared in constant time), so a test that passes proves a receiver
following the guide accepts what the tracker sends.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

SENDER = "tracker@example.com"


def free_port() -> int:
    """A port nothing listens on (for a moment): a receiver that is down, or one that starts later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received: each e-mail's envelope recipients and the parsed message."""

    received: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


@dataclass
class SmtpServer:
    """The running SMTP server's port and inbox."""

    port: int
    inbox: Inbox


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on localhost for the whole run (aiosmtpd); each test empties its inbox first."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    """The SMTP server's inbox, empty."""
    smtp_server.inbox.received.clear()
    return smtp_server.inbox


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, object]:
    """E-mail through the test's SMTP server; webhooks allowed to plain http on loopback (the receivers)."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_SECURITY": "none",
        "SMTP_FROM": SENDER,
        "WEBHOOK_HTTP_LOOPBACK": True,
    }


@dataclass
class Delivery:
    """One request the receiver got, and whether its signature checked out."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool


class Receiver:
    """A webhook receiver on localhost: answers each request with the next of `answers` (then 200), records it,
    and checks its signature with `secret`."""

    def __init__(self, port: int = 0) -> None:
        self.secret = ""
        self.answers: list[int] = []
        self.deliveries: list[Delivery] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.deliveries.append(Delivery(self.path, headers, body, receiver.verify(headers, body)))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read `deliveries`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.port}{path}"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """A receiver's check, as the guide writes it: a fresh timestamp and the HMAC of `timestamp.body`."""
        timestamp = headers.get("x-sdl-tracker-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", headers.get("x-sdl-tracker-signature", ""))

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver of the test's own."""
    running = Receiver()
    try:
        yield running
    finally:
        running.close()
