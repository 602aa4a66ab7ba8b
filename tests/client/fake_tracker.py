"""A real HTTP server on loopback that speaks the tracker's commit intake, for the hooks' tests and bench.

`POST /api/v1/products/{id}/repositories/{name}/commits` with `{"raw": base64, "sha": hex}` and a
bearer token: the sha is recomputed from the raw bytes as git does (a mismatch is 422), a new commit
answers 201 and a known one 200, as the tracker's intake does. It also lists products and the catalog
(`/api/v1/products`, `/api/v1/catalog/export`), and it can be told to misbehave: answer 500, never
answer, redirect elsewhere, refuse with 422 or 401, or store a commit and then never answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import socket
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INTAKE = re.compile(r"^/api/v1/products/(\d+)/repositories/([^/?]+)/commits$")
REQUIREMENTS = ["SI-1", "SR-2", "DM-4", "CR 3.4", "CR 1.1 RE(1)", "CR 2.1"]


def free_port() -> int:
    """A loopback port nothing listens on (until something does)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def git_object_id(raw: bytes, sha: str) -> str:
    """git's id of a commit object, in the hash the given id uses."""
    digest = hashlib.sha1 if len(sha) == 40 else hashlib.sha256
    return digest(b"commit %d\0" % len(raw) + raw).hexdigest()


class FakeTracker:
    """The intake contract over real HTTP; `stored` holds each commit once, `created` counts 201 answers."""

    def __init__(
        self,
        token: str,
        *,
        port: int | None = None,
        product_id: int = 7,
        product: str = "PLC",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.token = token
        self.tls = tls
        self.port = port or free_port()
        self.product_id = product_id
        self.products = [{"id": product_id, "name": product}]
        self.mode = "ok"
        self.fail_next: list[int] = []  # statuses to answer the next requests with, before behaving
        self.redirect_to = "http://127.0.0.1:9/elsewhere"
        self.stored: dict[tuple[str, str], bytes] = {}  # (repository, sha) -> raw
        self.created: Counter[str] = Counter()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.release = threading.Event()  # lets handlers that hang go
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL: https with a TLS context, else http (loopback)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FakeTracker:
        """Listen on the port (again, after `stop`)."""
        self.release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused from now on."""
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def shas(self, repository: str = "firmware") -> set[str]:
        """The commits stored for a repository."""
        return {sha for name, sha in self.stored if name == repository}

    def intake(self, product: str, repository: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The contract: check the body, store the commit once; (status, JSON answer)."""
        if int(product) != self.product_id:
            return 404, {"title": "Not Found", "detail": "product not found"}
        try:
            data = json.loads(body)
            raw = base64.b64decode(data["raw"], validate=True)
            sha = str(data["sha"]).lower()
        except (ValueError, KeyError, TypeError, binascii.Error):
            return 400, {"title": "Bad Request", "detail": "the body is not {raw, sha}"}
        if git_object_id(raw, sha) != sha:
            return 422, {"title": "Unprocessable", "detail": f"the raw bytes are not commit {sha[:12]}"}
        with self.lock:
            known = (repository, sha) in self.stored
            self.stored[(repository, sha)] = raw
            if not known:
                self.created[sha] += 1
        return (200 if known else 201), {"sha": sha, "state": "delivered"}


def _handler(tracker: FakeTracker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, data: Any, **headers: str) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            with tracker.lock:
                tracker.requests.append((self.command, self.path, status))

        def _failing(self) -> bool:
            with tracker.lock:
                status = tracker.fail_next.pop(0) if tracker.fail_next else None
            if status is not None:
                self._answer(status, {"title": "Failing", "detail": f"told to answer {status}"})
            return status is not None

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {tracker.token}" or tracker.mode == "unauthorized":
                self._answer(401, {"title": "Unauthorized", "detail": "the token is unknown, expired or revoked"})
                return False
            return True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            match = INTAKE.match(self.path)
            if match is None:
                self._answer(404, {"title": "Not Found", "detail": "no such path"})
                return
            mode = tracker.mode
            if self._failing():
                return
            if mode == "hang":
                tracker.release.wait(60)
                return
            if mode == "redirect":
                self._answer(307, {}, Location=tracker.redirect_to)
                return
            if not self._authorized():
                return
            if mode == "fail":
                self._answer(500, {"title": "Internal Server Error", "detail": "the database is gone"})
                return
            if mode == "refuse":
                self._answer(422, {"title": "Unprocessable", "detail": "commit refused:\n\x1b[31m bad encoding"})
                return
            status, answer = tracker.intake(match.group(1), match.group(2), body)
            if mode == "store-then-hang":
                tracker.release.wait(60)
                return
            if mode == "wrong-ack":
                answer = {"sha": "0" * 40}
            self._answer(status, answer)

        def do_GET(self) -> None:
            if self._failing() or not self._authorized():
                return
            path, _, query = self.path.partition("?")
            page = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("page", "1"))
            if path == "/api/v1/products":
                items: list[Any] = tracker.products
            elif path == "/api/v1/catalog/export":
                items = [{"id": ref, "standard": "x"} for ref in REQUIREMENTS]
            else:
                self._answer(404, {"title": "Not Found", "detail": "no such path"})
                return
            self._answer(200, {"items": items if page == 1 else [], "total": len(items), "page": page})

        def log_message(self, *_args: object) -> None:
            pass

    return Handler
