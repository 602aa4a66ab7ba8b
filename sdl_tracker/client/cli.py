"""`sdl-tracker client ...`: the CI and developer-machine commands (argparse, standard library only)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import NoReturn

from .http import ClientError, Server, parse_server, printable
from .terminal import say, say_json

DEFAULT_TOKEN_ENV = "SDL_TRACKER_TOKEN"  # noqa: S105 - the name of a variable, not a token


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line and exit 2, as the server commands print theirs."""

    def error(self, message: str) -> NoReturn:
        """`error: the following arguments are required: command (try: sdl-tracker client --help)`."""
        say(f"error: {message} (try: {self.prog} --help)", err=True)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sdl-tracker", description="sdl-tracker client commands.")
    groups = parser.add_subparsers(dest="group", required=True)
    client = groups.add_parser("client", help="Talk to a tracker over HTTP with an API token.")
    client.add_argument("--server", default=os.environ.get("SDL_TRACKER_SERVER"), help="The tracker's base URL.")
    client.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        metavar="NAME",
        help=f"The environment variable holding the API token (default {DEFAULT_TOKEN_ENV}).",
    )
    commands = client.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="Check the server answers and the token is accepted; list its products.")
    check.add_argument("--json", action="store_true", help="Print JSON.")
    return parser


def _server(arguments: argparse.Namespace) -> Server:
    base_url = parse_server(arguments.server)
    token = os.environ.get(arguments.token_env, "").strip()
    if not token:
        raise ClientError(f"no token: set {arguments.token_env} (an API token from the tracker)")
    return Server(base_url, token)


def check(server: Server, as_json: bool) -> int:
    """Say whether the token works and which products it sees."""
    page = server.get_json("/products", {"per_page": 200})
    items = page.get("items") if isinstance(page, dict) else None
    total = page.get("total") if isinstance(page, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items) or not isinstance(total, int):
        raise ClientError(f"{server.base_url} answered with something that is not a page of products")
    names = [str(item.get("name", "?")) for item in items]
    if as_json:
        say_json({"server": server.base_url, "products": names, "total": total})
    else:
        listed = ", ".join(printable(name, 120) for name in names) if names else "none"
        say(f"{server.base_url}: token accepted; products it sees ({total}): {listed}")
    return 0


def main(argv: Sequence[str]) -> int:
    """Run one client command; exit 0 success, 1 a negative answer, 2 an error (one line on stderr)."""
    arguments = _parser().parse_args(list(argv))
    try:
        server = _server(arguments)
        if arguments.command == "check":
            return check(server, arguments.json)
    except ClientError as exc:
        say(f"error: {exc}", err=True)
        return 2
    return 2  # argparse refuses unknown commands before this
