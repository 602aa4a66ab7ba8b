"""HTTP servers on loopback ports that answer as a test tells them, stopped when the test ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test's output free of access-log lines."""

    def log_message(self, *_args: object) -> None:
        """Log nothing."""


@contextmanager
def local_servers() -> Iterator[list[ThreadingHTTPServer]]:
    """A list to start servers into (with `listen`); every one is stopped at the end."""
    servers: list[ThreadingHTTPServer] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def listen(servers: list[ThreadingHTTPServer], handler: type[BaseHTTPRequestHandler]) -> str:
    """Serve `handler` on a free loopback port in a thread; the server's URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return f"http://127.0.0.1:{server.server_port}"
