"""The CI commands against a tracker that fails them: 500s (retried, then one line), HTML, garbage, an answer
that never comes, an import job that never finishes; each ends in one line and a non-zero exit, never a hang."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.client.local_servers import QuietHandler, listen, local_servers
from tests.client.repos import SDL, environment

Post = Callable[[BaseHTTPRequestHandler], None]
PRODUCTS = {"items": [{"id": 1, "name": "P"}], "total": 1, "page": 1, "per_page": 200}
RELEASES = {"items": [{"id": 5, "version": "1.0"}], "total": 1, "page": 1, "per_page": 200}
RUNNING_JOB = {"id": 9, "state": "running", "location": "/api/v1/jobs/9"}


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def tracker() -> Iterator[Callable[[Post], tuple[str, list[str]]]]:
    """A stand-in that lists product 1 with release 1.0 and answers every POST as told; it records the requests."""
    with local_servers() as servers:

        def start(post: Post) -> tuple[str, list[str]]:
            seen: list[str] = []

            class Handler(QuietHandler):
                def do_GET(self) -> None:
                    seen.append(f"GET {self.path}")
                    if self.path.startswith("/api/v1/jobs/"):
                        _send(self, 200, json.dumps(RUNNING_JOB).encode())
                        return
                    listed = RELEASES if "/releases" in self.path else PRODUCTS
                    _send(self, 200, json.dumps(listed).encode())

                def do_POST(self) -> None:
                    seen.append(f"POST {self.path}")
                    self.rfile.read(int(self.headers["Content-Length"]))
                    post(self)

            return listen(servers, Handler), seen

        yield start


def _run(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "report.xml"
    report.write_bytes(b"<testsuite/>")
    return subprocess.run(
        [*SDL, "client", "--server", url, *args, str(report)],
        capture_output=True, text=True, timeout=60, env=environment(),
    )  # fmt: skip


EVIDENCE = ["evidence-add", "--product", "P", "--kind", "other", "--title", "t", "--requirement", "SVV-1"]
SBOM = ["sbom-upload", "--product", "P", "--release", "1.0"]
ARTIFACT = ["artifact-add", "--product", "P", "--release", "1.0"]


@pytest.mark.parametrize("command", [EVIDENCE, SBOM, ARTIFACT], ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("post", "fragment"),
    [
        (lambda h: _send(h, 500, b'{"detail": "database away"}', "application/problem+json"), "answered 500"),
        (lambda h: _send(h, 200, b"<html>login</html>", "text/html"), "did not answer with JSON"),
        (lambda h: _send(h, 201, b"[1, 2]"), "not"),
        (lambda h: _send(h, 422, b"\x00\xff garbage", "application/problem+json"), "answered 422"),
    ],
    ids=["500", "html", "garbage-json", "garbage-problem"],
)
def test_a_failing_tracker_is_one_line(
    tracker: Callable[[Post], tuple[str, list[str]]], tmp_path: Path, command: list[str], post: Post, fragment: str
) -> None:
    url, seen = tracker(post)
    result = _run(url, tmp_path, "--retries", "1", *command)
    assert result.returncode in (1, 2) and result.stdout == "", (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr
    posts = [line for line in seen if line.startswith("POST")]
    assert len(posts) == (2 if "500" in fragment else 1)  # a 5xx is tried again, a refusal is not


def test_an_answer_that_never_comes_hits_the_timeout(
    tracker: Callable[[Post], tuple[str, list[str]]], tmp_path: Path
) -> None:
    url, _ = tracker(lambda h: threading.Event().wait(30))
    result = _run(url, tmp_path, "--retries", "0", "--timeout", "1", *ARTIFACT)
    assert result.returncode == 2 and "took too long to answer" in result.stderr and result.stderr.count("\n") == 1


def test_an_import_job_that_never_finishes_stops_at_the_wait(
    tracker: Callable[[Post], tuple[str, list[str]]], tmp_path: Path
) -> None:
    url, seen = tracker(lambda h: _send(h, 202, json.dumps(RUNNING_JOB).encode()))
    result = _run(url, tmp_path, *SBOM, "--wait", "1.5")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "the import job 9 did not finish within 1.5 s (still running)" in result.stderr
    polls = [line for line in seen if line.startswith("GET /api/v1/jobs/9")]
    assert 2 <= len(polls) <= 4  # backoff: 0.2, 0.4, 0.8 s


def test_a_missing_file_is_one_line_before_anything_is_sent(
    tracker: Callable[[Post], tuple[str, list[str]]], tmp_path: Path
) -> None:
    url, seen = tracker(lambda h: _send(h, 201, b"{}"))
    for command in (EVIDENCE, SBOM, ARTIFACT):
        result = subprocess.run(
            [*SDL, "client", "--server", url, *command, str(tmp_path / "nope.bin")],
            capture_output=True, text=True, timeout=60, env=environment(),
        )  # fmt: skip
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot read" in result.stderr
    assert not [line for line in seen if line.startswith("POST")]
