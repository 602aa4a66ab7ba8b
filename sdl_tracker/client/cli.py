"""`sdl-tracker client ...` and `sdl-tracker hook ...`: the entry of the client commands.

git runs `hook commit-msg FILE`, `hook post-commit` and `hook pre-push REMOTE URL` on every commit and
push, so those go straight to the hooks, before argparse loads; everything else is parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .hooks import run_git_hook

# The hooks as git calls them: how many arguments each takes.
GIT_HOOK_ARGUMENTS = {"commit-msg": 1, "post-commit": 0, "pre-push": 2}


def main(argv: Sequence[str]) -> int:
    """Run one client command; exit 0 success, 1 a negative answer, 2 an error (one line on stderr)."""
    if (
        len(argv) >= 2
        and argv[0] == "hook"
        and GIT_HOOK_ARGUMENTS.get(argv[1]) == len(argv) - 2
        and not any(argument.startswith("-") for argument in argv[2:])  # else argparse answers `--help`
    ):
        return run_git_hook(argv[1], argv[2:], sys.stdin.read() if argv[1] == "pre-push" else "")
    from .commands import run

    return run(argv)
