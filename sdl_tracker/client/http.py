"""A small HTTP client for the tracker's API: bearer token, JSON in and out, problem+json errors as one line.

The token is a CI credential, so the client never follows a redirect (it would carry the
`Authorization` header to whatever host the redirect names), reads at most MAX_BODY bytes, and
gives up after a total deadline however slowly a server drips its answer. A git hook must not hold
a commit: the connection has its own short timeout, and a tracker that refuses it or does not
answer in time is `Unreachable` ("away"), which the hooks answer by queueing.

The connection is opened before `http.client` (and `email`, which it loads) is imported, and
without `urllib.parse` (and `ipaddress`, which it loads), so a tracker that is away costs a hook
only the socket module.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from contextlib import suppress

from .errors import ClientError
from .terminal import escape_controls

TYPE_CHECKING = False  # typing costs a git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

API_PREFIX = "/api/v1"
USER_AGENT = "sdl-tracker-client"
MAX_BODY = 16 * 1024 * 1024  # no answer of the API is near this; a bigger one is not the tracker's
MAX_DETAIL = 300  # characters of a server's error text shown to a person
CHUNK = 64 * 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CONNECT_TIMEOUT = 2.0  # seconds; a tracker that takes longer to accept a connection counts as away
TIMEOUT = 30.0  # seconds for a whole request of a client command: connect, send, and read the answer
RETRIES = 2  # further attempts of a client command after a failure that may pass (away, 5xx, 429)
RETRY_PAUSE = 0.5  # seconds before the first retry; doubled before each next one


class Unreachable(ClientError):
    """The tracker is away: the connection was refused, or it did not answer within the timeout."""


class TooSlow(Unreachable):
    """The tracker accepted nothing, or answered nothing, within the timeout (rather than refusing at once)."""


class Answered(ClientError):
    """The tracker answered with an error status (the message holds its problem detail)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def printable(text: str, limit: int = MAX_DETAIL) -> str:
    """Text from a server made safe to print on one line: cut at `limit` characters, its control
    characters (escape sequences, line breaks) shown escaped."""
    return escape_controls(text if len(text) <= limit else text[: limit - 1] + "…")


class Server:
    """Where the tracker is, the token to present, and how long to wait for it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        ca_bundle: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.ca_bundle = ca_bundle
        self._tls: Any = None  # the TLS context, made on the first https request (it reads the CA files)

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        """The absolute URL of an API path."""
        url = self.base_url.rstrip("/") + API_PREFIX + path
        if not query:
            return url
        from urllib.parse import urlencode

        return f"{url}?{urlencode(query)}"

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """GET an API path and return its JSON body, or raise ClientError."""
        return self.request("GET", path, query=query)[1]

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """POST a JSON body to an API path; the status (2xx) and the JSON answer, or raise ClientError."""
        return self.request("POST", path, body=json.dumps(body).encode())

    def post_multipart(self, path: str, parts: list[Part]) -> tuple[int, Any]:
        """POST a multipart/form-data body; the status (2xx) and the JSON answer, or raise ClientError."""
        content_type, body = multipart(parts)
        return self.request("POST", path, body=body, content_type=content_type)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        """One request within the timeout: the status and JSON of a 2xx answer, else ClientError."""
        deadline = time.monotonic() + self.timeout
        status, data = self._exchange(method, self.url(path, query), body, deadline, content_type)
        try:
            return status, json.loads(data)
        except ValueError:
            raise ClientError(f"{self.base_url} did not answer with JSON: is it an sdl-tracker?") from None

    def _connect(self, scheme: str, host: str, port: int, deadline: float) -> socket.socket:
        """An open connection (TLS verified for https), or Unreachable."""
        wait = max(0.01, min(self.connect_timeout, deadline - time.monotonic()))
        # An ASCII name as bytes: as text, socket would load the IDNA codec (and unicodedata) to encode it.
        address = host.encode("ascii") if host.isascii() else host
        try:
            sock = socket.create_connection((address, port), timeout=wait)  # type: ignore[arg-type]
        except TimeoutError:
            raise TooSlow(f"{self.base_url} did not accept a connection within {wait:g} s") from None
        except OSError as exc:
            raise Unreachable(f"cannot reach {self.base_url}: {printable(exc.strerror or str(exc))}") from None
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        if scheme != "https":
            return sock
        import ssl  # only for https: it costs a hook's start-up time

        try:
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=self.ca_bundle)
            return self._tls.wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            hint = "" if self.ca_bundle else "; pass --ca-bundle FILE if the tracker's certificate is from a private CA"
            raise ClientError(
                f"{self.base_url}: certificate not trusted ({printable(str(exc.verify_message))}){hint}"
            ) from None
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError; a bad bundle file a ValueError too
            sock.close()
            if isinstance(exc, TimeoutError):
                raise TooSlow(f"{self.base_url} took too long to answer (the TLS handshake)") from None
            raise ClientError(f"{self.base_url}: TLS failed: {printable(str(exc))}") from None

    def _exchange(
        self, method: str, url: str, body: bytes | None, deadline: float, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """Send one request and read its answer before the deadline: (status, body) of a 2xx answer."""
        scheme, netloc, target = _split(url)
        host, port = _host_port(netloc, 443 if scheme == "https" else 80)
        sock = self._connect(scheme, host, port, deadline)
        import http.client  # loads `email`: only once the tracker accepted the connection
        import threading

        # A watchdog closes the connection at the deadline, however the server drips its answer.
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        connection.sock = sock  # already connected (and wrapped in TLS for https)
        headers = {
            "Host": netloc,
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            if 300 <= response.status < 400:
                location = response.getheader("Location") or "?"
                raise ClientError(
                    f"{url} redirected ({response.status}) to {printable(location)}: not followed, the token "
                    "would go along; pass the final URL as --server"
                )
            data = _read_bounded(response, deadline)
        except (http.client.HTTPException, OSError, ValueError) as exc:
            if time.monotonic() >= deadline or isinstance(exc, TimeoutError):
                raise TooSlow(
                    f"{self.base_url} took too long to answer (no answer within {self.timeout:.3g} s)"
                ) from None
            reason = printable(str(exc)) or type(exc).__name__
            raise ClientError(f"{self.base_url} broke off the answer: {reason}") from None
        finally:
            watchdog.cancel()
            connection.close()
        if response.status >= 400:
            raise Answered(
                f"{self.base_url} answered {response.status}: {_problem_detail(data, response.reason)}", response.status
            )
        return response.status, data


class Part:
    """One part of a multipart/form-data body: a form field, or a file when it has a file name."""

    def __init__(self, name: str, data: bytes, *, filename: str = "", content_type: str = "") -> None:
        self.name = name
        self.data = data
        self.filename = filename
        self.content_type = content_type or ("application/octet-stream" if filename else "")


def _quoted(text: str) -> str:
    """A name for a Content-Disposition parameter: quotes, backslashes and line breaks cannot end it early."""
    return "".join("%22" if c == '"' else "%5C" if c == "\\" else " " if c in "\r\n" else c for c in text)


def multipart(parts: list[Part]) -> tuple[str, bytes]:
    """The Content-Type (with its boundary) and the bytes of a multipart/form-data body (RFC 7578)."""
    while True:  # a boundary that occurs in no part: 32 random hex digits practically never do
        boundary = "sdl-tracker-" + os.urandom(16).hex()
        if not any(boundary.encode() in part.data for part in parts):
            break
    chunks: list[bytes] = []
    for part in parts:
        disposition = f'form-data; name="{_quoted(part.name)}"'
        if part.filename:
            disposition += f'; filename="{_quoted(part.filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type:
            head += f"Content-Type: {part.content_type}\r\n"
        chunks += [head.encode(), b"\r\n", part.data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks)


def _split(url: str) -> tuple[str, str, str]:
    """(scheme, host[:port], the rest from its first slash) of a URL whose base parse_server accepted."""
    scheme, _, rest = url.partition("://")
    netloc, slash, target = rest.partition("/")
    return scheme, netloc, slash + target or "/"


def _host_port(netloc: str, default_port: int) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` as (host, port)."""
    if netloc.startswith("["):
        host, _, port = netloc[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = netloc.partition(":")
    return host, int(port) if port.isdigit() else default_port


def _shut(sock: socket.socket) -> None:
    """Wake a read blocked on the socket: the deadline has passed."""
    # The plain socket's shutdown, also under TLS: the reader sees the end of the stream at once.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _read_bounded(response: Any, deadline: float) -> bytes:
    """The body, refused past MAX_BODY bytes or past the deadline (a server that drips one byte at a time)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        # read1: at most one read from the socket, so the deadline is checked between trickles.
        chunk = response.read1(CHUNK)
        if not chunk:
            if response.length:  # the connection closed before Content-Length bytes came
                import http.client

                raise http.client.IncompleteRead(b"".join(chunks), response.length)
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise ClientError(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB: not the tracker's API")
        chunks.append(chunk)


def _problem_detail(body: bytes, reason: str) -> str:
    """The detail of a problem+json answer, or the HTTP reason, printable on one line."""
    try:
        problem = json.loads(body or b"{}")
    except ValueError:
        return printable(reason)
    if not isinstance(problem, dict) or not isinstance(problem.get("detail"), str):
        return printable(reason)
    errors = problem.get("errors")
    # A refused input names each wrong field: the one line says which, so a CI log shows what to fix.
    fields = [
        f"{e.get('field')}: {e.get('message')}" for e in (errors if isinstance(errors, list) else [])[:3]
        if isinstance(e, dict) and e.get("message") != problem["detail"]
    ]  # fmt: skip
    if not fields:
        return printable(problem["detail"])
    return printable(f"{problem['detail']} ({'; '.join(fields)})")


def may_pass(error: ClientError) -> bool:
    """Whether trying again later may succeed: the tracker away, failing (5xx) or asking to slow down (429)."""
    if isinstance(error, Answered):
        return error.status >= 500 or error.status == 429
    return isinstance(error, Unreachable)


def with_retries(call: Callable[[], T], retries: int = RETRIES, pause: float = RETRY_PAUSE) -> T:
    """`call()`, tried again after failures that may pass, with pauses doubling (and a little jitter)."""
    attempt = 0
    while True:
        try:
            return call()
        except ClientError as exc:
            if attempt >= retries or not may_pass(exc):
                raise
        # Jitter, so clients that failed together do not come back together.
        time.sleep(pause * 2**attempt * (1 + int.from_bytes(os.urandom(1), "big") / 512))
        attempt += 1


def parse_server(url: str | None) -> str:
    """A tracker base URL from --server or SDL_TRACKER_SERVER: https, or http to this machine only."""
    import urllib.parse  # a command's start, not a hook's: hooks read the URL this accepted at install

    if not url:
        raise ClientError("no server: pass --server URL or set SDL_TRACKER_SERVER")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ClientError(f"the server must be an https URL, got {printable(url)!r}")
    if parts.username is not None or parts.query or parts.fragment:
        # Not echoed: a password in it would land in a terminal or a CI log.
        raise ClientError("the server URL must be a plain base URL (no user, query or fragment)")
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here, not in the middle of a hook
    except ValueError:
        raise ClientError(f"the server URL has a bad port: {printable(url)!r}") from None
    base = parts.scheme + url[len(parts.scheme) :]  # the scheme as `_split` expects it: lower case
    check_base(base)
    return base


def check_base(url: str) -> None:
    """Refuse a base URL the client must not send a token to: not http(s), or plain http to another machine."""
    scheme, netloc, _ = _split(url)
    host, _ = _host_port(netloc, 0)
    if scheme not in {"https", "http"} or not host:
        raise ClientError(f"the server must be an https URL, got {printable(url)!r}")
    if scheme == "http" and host.lower() not in LOOPBACK_HOSTS:
        # The token would cross the network in clear text; a test server on this machine is fine.
        raise ClientError(f"refusing plain http to {printable(host)}: the token would travel unencrypted; use https")
