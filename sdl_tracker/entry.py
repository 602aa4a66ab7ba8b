"""The console script: client commands go to a standard-library-only entry before anything else loads.

`sdl-tracker hook ...` runs on every `git commit` and `sdl-tracker client ...` in every CI job, so they
must not pay for importing click, Flask, SQLAlchemy and every feature; the server commands do.
"""

from __future__ import annotations

import sys

# The client commands, and the git hooks' (which run on every commit).
CLIENT_COMMANDS = frozenset({"client", "hook"})


def main() -> None:
    """Dispatch on the first argument: client and hook commands, else the server's command group."""
    arguments = sys.argv[1:]
    if arguments and arguments[0] in CLIENT_COMMANDS:
        from .client.cli import main as client_main

        raise SystemExit(client_main(arguments))
    from .cli import main as server_main

    server_main()
