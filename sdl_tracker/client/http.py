"""A small HTTP client for the tracker's API: bearer token, JSON in and out, problem+json errors as one line.

The token is a CI credential, so the client never follows a redirect (urllib would carry the
`Authorization` header to whatever host the redirect names), reads at most MAX_BODY bytes, and
gives up after a total deadline however slowly a server drips its answer.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .terminal import escape_controls

API_PREFIX = "/api/v1"
USER_AGENT = "sdl-tracker-client"
MAX_BODY = 16 * 1024 * 1024  # no answer of the API is near this; a bigger one is not the tracker's
MAX_DETAIL = 300  # characters of a server's error text shown to a person
CHUNK = 64 * 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ClientError(Exception):
    """A request could not be made or was refused; the message is one line a person can act on."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: following one would hand the bearer token to another server."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise ClientError(
            f"{req.full_url} redirected ({code}) to {printable(newurl)}: not followed, the token would go along; "
            "pass the final URL as --server"
        )


_OPENER = urllib.request.build_opener(_NoRedirects())


def printable(text: str, limit: int = MAX_DETAIL) -> str:
    """Text from a server made safe to print on one line: cut at `limit` characters, its control
    characters (escape sequences, line breaks) shown escaped."""
    return escape_controls(text if len(text) <= limit else text[: limit - 1] + "…")


@dataclass(frozen=True)
class Server:
    """Where the tracker is and the token to present."""

    base_url: str
    token: str
    timeout: float = 30.0  # for the whole request: connect, send, and read the answer

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        """The absolute URL of an API path."""
        url = self.base_url.rstrip("/") + API_PREFIX + path
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """GET an API path and return its JSON body, or raise ClientError."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in parse_server
            self.url(path, query),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": USER_AGENT},
        )
        deadline = time.monotonic() + self.timeout
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                body = _read_bounded(response, deadline)
        except urllib.error.HTTPError as exc:
            raise ClientError(f"{self.base_url} answered {exc.code}: {_problem_detail(exc, deadline)}") from None
        except urllib.error.URLError as exc:
            raise ClientError(f"cannot reach {self.base_url}: {printable(str(exc.reason))}") from None
        except (http.client.HTTPException, OSError) as exc:
            reason = printable(str(exc)) or type(exc).__name__
            raise ClientError(f"{self.base_url} broke off the answer: {reason}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise ClientError(f"{self.base_url} did not answer with JSON: is it an sdl-tracker?") from None


def _read_bounded(response: Any, deadline: float) -> bytes:
    """The body, refused past MAX_BODY bytes or past the deadline (a server that drips one byte at a time)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise ClientError("the server took too long to answer (over the client's timeout)")
        # read1: at most one read from the socket, so the deadline is checked between trickles.
        chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
        if not chunk:
            if getattr(response, "length", None):  # the connection closed before Content-Length bytes came
                raise http.client.IncompleteRead(b"".join(chunks), response.length)
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise ClientError(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB: not the tracker's API")
        chunks.append(chunk)


def _problem_detail(error: urllib.error.HTTPError, deadline: float) -> str:
    """The detail of a problem+json answer, or the HTTP reason, printable on one line."""
    try:
        body = json.loads(_read_bounded(error, deadline) or b"{}")
    except (ValueError, ClientError, OSError, http.client.HTTPException):
        return printable(str(error.reason))
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return printable(body["detail"])
    return printable(str(error.reason))


def parse_server(url: str | None) -> str:
    """A tracker base URL from --server or SDL_TRACKER_SERVER: https, or http to this machine only."""
    if not url:
        raise ClientError("no server: pass --server URL or set SDL_TRACKER_SERVER")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ClientError(f"the server must be an https URL, got {printable(url)!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        # The token would cross the network in clear text; a test server on this machine is fine.
        raise ClientError(f"refusing plain http to {parts.hostname}: the token would travel unencrypted; use https")
    return url
