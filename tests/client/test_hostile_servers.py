"""The client against servers that misbehave: it never leaks the token, never hangs, never crashes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from sdl_tracker.client.http import ClientError, Server, printable
from tests.client.local_servers import QuietHandler, listen, local_servers

CHECKOUT = Path(__file__).resolve().parents[2]
TOKEN = "sdlt_abcdefghij_SECRETSECRETSECRET"

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], tuple[str, list[dict[str, str]]]]]:
    """Start local servers that answer as told; each records the headers it received."""
    with local_servers() as servers:

        def start(behaviour: Behaviour) -> tuple[str, list[dict[str, str]]]:
            seen: list[dict[str, str]] = []

            class Handler(QuietHandler):
                def do_GET(self) -> None:
                    seen.append(dict(self.headers))
                    behaviour(self)

            return listen(servers, Handler), seen

        yield start


def _answer(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> Behaviour:
    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


def _client(url: str, *options: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "client", "--server", url, "check", *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "SDL_TRACKER_TOKEN": TOKEN},
        cwd=CHECKOUT,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_a_redirect_is_not_followed_so_the_token_stays_home(serve: Callable[..., tuple[str, list]]) -> None:
    thief, stolen = serve(_answer(200, b'{"items": [], "total": 0}'))
    tracker, _seen = serve(_answer(302, b"", Location=f"{thief}/steal"))
    result = _client(tracker)
    _one_line_error(result, "redirected (302)")
    assert stolen == [], "the redirect target must never be asked, let alone with the token"


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (_answer(200, b"[1, 2]"), "not a page of products"),
        (_answer(200, b'{"items": [null], "total": 1}'), "not a page of products"),
        (_answer(200, b"<html>hello</html>", "text/html"), "did not answer with JSON"),
        (
            _answer(401, json.dumps({"detail": "bad\n\x1b[2J\x1b[31mFAKE: token accepted"}).encode()),
            "answered 401: bad\\n\\x1b[2J\\x1b[31mFAKE: token accepted",
        ),
    ],
)
def test_odd_answers_are_one_line_errors(
    serve: Callable[..., tuple[str, list]], behaviour: Behaviour, message: str
) -> None:
    url, _seen = serve(behaviour)
    result = _client(url)
    _one_line_error(result, message)
    assert "\x1b" not in result.stderr


def test_a_broken_answer_is_one_line(serve: Callable[..., tuple[str, list]]) -> None:
    def short(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b'{"items":')
        handler.wfile.flush()
        handler.close_connection = True

    url, _seen = serve(short)
    _one_line_error(_client(url), "broke off the answer")


def test_a_dripping_server_hits_the_total_deadline(serve: Callable[..., tuple[str, list]]) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(200):
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    url, _seen = serve(drip)
    server = Server(url, TOKEN, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ClientError, match="took too long"):
        server.get_json("/products")
    assert time.monotonic() - started < 5


def test_a_huge_answer_is_refused(serve: Callable[..., tuple[str, list]]) -> None:
    body = b'{"items": [], "pad": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    url, _seen = serve(_answer(200, body))
    with pytest.raises(ClientError, match="larger than 16 MiB"):
        Server(url, TOKEN).get_json("/products")


def test_printable_keeps_one_short_line() -> None:
    assert printable("a\r\nb\tc\x1b[0m") == "a\\r\\nb\\tc\\x1b[0m"
    assert len(printable("x" * 1000)) == 300


# Retitles and clears the terminal, returns to the line's start, forges a line, reverses what follows.
HOSTILE_NAME = "P\x1b]0;pwned\x07\x1b[2J\rFORGED\nFORGED \u202egnp.exe\x9b31m"


def test_stored_names_are_shown_escaped_and_kept_in_json(serve: Callable[..., tuple[str, list]]) -> None:
    page = json.dumps({"items": [{"name": HOSTILE_NAME}], "total": 1}).encode()
    url, _seen = serve(_answer(200, page))
    text = _client(url)
    assert text.returncode == 0, text.stderr
    assert text.stdout.endswith("P\\x1b]0;pwned\\x07\\x1b[2J\\rFORGED\\nFORGED \\u202egnp.exe\\x9b31m\n")
    assert text.stdout.count("\n") == 1 and not any(c in text.stdout for c in "\x1b\x07\r\u202e\x9b")
    as_json = _client(url, "--json")
    assert json.loads(as_json.stdout)["products"] == [HOSTILE_NAME]
    assert as_json.stdout.isascii() and as_json.stdout.count("\n") == 1
