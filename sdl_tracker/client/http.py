"""A small HTTP client for the tracker's API: bearer token, JSON in and out, problem+json errors as one line."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/api/v1"
USER_AGENT = "sdl-tracker-client"


class ClientError(Exception):
    """A request could not be made or was refused; the message is one line a person can act on."""


@dataclass(frozen=True)
class Server:
    """Where the tracker is and the token to present."""

    base_url: str
    token: str
    timeout: float = 30.0

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
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - see above
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ClientError(f"{self.base_url} answered {exc.code}: {_problem_detail(exc)}") from None
        except urllib.error.URLError as exc:
            raise ClientError(f"cannot reach {self.base_url}: {exc.reason}") from None
        except (TimeoutError, OSError) as exc:
            raise ClientError(f"cannot reach {self.base_url}: {exc}") from None
        except ValueError:
            raise ClientError(f"{self.base_url} did not answer with JSON: is it an sdl-tracker?") from None


def _problem_detail(error: urllib.error.HTTPError) -> str:
    """The detail of a problem+json answer, or the HTTP reason."""
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return str(error.reason)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return str(error.reason)


def parse_server(url: str | None) -> str:
    """A tracker base URL from --server or SDL_TRACKER_SERVER: http(s) only, else ClientError."""
    if not url:
        raise ClientError("no server: pass --server URL or set SDL_TRACKER_SERVER")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ClientError(f"the server must be an http(s) URL, got {url!r}")
    return url
