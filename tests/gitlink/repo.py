"""Real git repositories for tests, committed with the real `git commit`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitRepo:
    """A working repository in a temporary folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(
        self,
        *args: str,
        author: str = "Dana Developer <dev@example.com>",
        input: bytes | None = None,
        when: str | None = None,
    ) -> str:
        name, email = author.rsplit(" <", 1)
        env = {
            **os.environ,
            **({"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        result = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, input=input, check=True)
        return result.stdout.decode(errors="replace").strip()

    def commit(
        self,
        message: str | bytes,
        files: dict[str, str] | None = None,
        author: str = "Dana Developer <dev@example.com>",
        when: str | None = None,
    ) -> str:
        """Commit `files` (default: one file named after the message); `when` is the author date (ISO 8601)."""
        for name, content in (files or {f"file-{abs(hash(message)) % 10**8}.txt": str(message)}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            self.git("add", "--", name)
        raw = message if isinstance(message, bytes) else message.encode()
        self.git("commit", "--quiet", "--allow-empty", "-F", "-", author=author, input=raw, when=when)
        return self.git("rev-parse", "HEAD")
