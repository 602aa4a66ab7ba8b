"""Real git repositories for tests, committed with the real `git commit`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any


class GitRepo:
    """A working repository in a temporary folder."""

    def __init__(self, path: Path, *, object_format: str = "sha1") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main", f"--object-format={object_format}")

    def git(self, *args: str, **options: Any) -> str:
        """What git printed, as text without its final newline (`raw`'s options)."""
        return self.raw(*args, **options).decode(errors="replace").strip()

    def raw(
        self,
        *args: str,
        author: str = "Dana Developer <dev@example.com>",
        input: bytes | None = None,
        when: str | None = None,
    ) -> bytes:
        """What git printed, as bytes."""
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
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, input=input, check=True, timeout=60
        )
        return result.stdout

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

    def commit_tree(self, message: bytes, *, parents: tuple[str, ...] = (), config: tuple[str, ...] = ()) -> str:
        """A commit of the empty tree whose message is exactly `message` (no clean-up, as `git commit` would do):
        what a script, a rebase tool or a hostile client can make. `config` is `-c key=value` settings."""
        tree = self.git("hash-object", "-t", "tree", "-w", "--stdin", input=b"")
        options = [arg for setting in config for arg in ("-c", setting)]
        return self.git(
            *options, "commit-tree", tree, *[a for p in parents for a in ("-p", p)], "-F", "-", input=message
        )

    def cat_file(self, sha: str) -> bytes:
        """The raw commit object, as a hook sends it."""
        return self.raw("cat-file", "commit", sha)

    def write_commit(self, raw: bytes) -> str:
        """Store `raw` as a commit object as it is (git would mend a message that is not UTF-8 while committing)."""
        return self.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=raw)
