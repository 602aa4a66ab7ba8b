"""Repositories with the hooks installed, committed to with the real `git commit`, and the client run as
a developer runs it (a fresh process, only the environment given)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.gitlink.repo import GitRepo

CHECKOUT = Path(__file__).resolve().parents[2]
TOKEN = "sdlt_0123456789_" + "S" * 43
SPOOL = Path(".git") / "sdl-tracker"
SDL = [sys.executable, "-m", "sdl_tracker"]


def environment(token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    """A developer's environment: git's identity, no global or system git config, the token if given."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dana Developer",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dana Developer",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        **({"SDL_TRACKER_TOKEN": token} if token is not None else {}),
        **extra,
    }


def sdl(*args: str, cwd: Path = CHECKOUT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`sdl-tracker args...` in a fresh interpreter."""
    return subprocess.run(
        [*SDL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env if env is not None else environment(),
    )


class HookedRepo(GitRepo):
    """A repository whose commits run the installed hooks in the environment `env`."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(path)
        self.env = env if env is not None else environment()

    @classmethod
    def existing(cls, path: Path, env: dict[str, str] | None = None) -> HookedRepo:
        """A repository that is already there (a clone, a worktree)."""
        repo = cls.__new__(cls)
        repo.path, repo.env = path, env if env is not None else environment()
        return repo

    def install(self, server: str, *options: str) -> subprocess.CompletedProcess[str]:
        """`sdl-tracker hook install` for this repository (product 7, repository `firmware` unless told)."""
        defaults = [] if "--product" in options else ["--product", "7"]
        defaults += [] if "--repository" in options else ["--repository", "firmware"]
        result = sdl("hook", "install", "--repo", str(self.path), "--server", server, *defaults, *options, env=self.env)
        assert result.returncode == 0, result.stderr
        return result

    def add_origin(self, folder: Path) -> Path:
        """A bare repository in `folder`, added as the remote `origin`."""
        origin = folder / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True, env=self.env)
        self.git("remote", "add", "origin", str(origin))
        return origin

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`git args...` with the hooks, its output and exit status as they are."""
        return subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True, input=input, timeout=timeout
        )

    def commit_hooked(self, message: str, name: str | None = None) -> tuple[str, str, float]:
        """Change a file and `git commit` it with the hooks: (its id, what the hooks printed, seconds taken)."""
        target = self.path / (name or f"file-{time.monotonic_ns()}.txt")
        target.write_text(message)
        self.git("add", "--", target.name)
        started = time.monotonic()
        result = self.run("commit", "--quiet", "-F", "-", input=message)
        took = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        return self.git("rev-parse", "HEAD"), result.stderr, took

    def hook(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`sdl-tracker hook args... --repo this` in the repository's environment."""
        return sdl("hook", *args, "--repo", str(self.path), env=self.env)

    def queued(self) -> set[str]:
        """The commits waiting in the spool."""
        queue = self.path / SPOOL / "queue"
        return {p.name for p in queue.iterdir() if not p.name.startswith(".")} if queue.exists() else set()

    def rejected(self) -> set[str]:
        """The commits the tracker refused, set aside."""
        folder = self.path / SPOOL / "rejected"
        return {p.name for p in folder.iterdir() if "." not in p.name} if folder.exists() else set()

    def end_pause(self) -> None:
        """As if the pause the hooks keep after the tracker was away had passed."""
        away, state = self.path / SPOOL / "away", self.path / SPOOL / "state.json"
        note = away.read_text().splitlines()[1]
        away.write_text(f"{int(time.time()) - 1}\n{note}\n")
        state.write_text(json.dumps({**json.loads(state.read_text()), "away_until": time.time() - 1}))

    def count_python_starts(self, log: Path) -> None:
        """Make the installed hooks note each start of Python in `log` (a line per start), then start it."""
        wrapper = log.with_suffix(".sh")
        wrapper.write_text(f'#!/bin/sh\necho started >> "{log}"\nexec "{sys.executable}" "$@"\n')
        wrapper.chmod(0o755)
        for hook in ("commit-msg", "post-commit", "pre-push"):
            script = self.path / ".git" / "hooks" / hook
            lines = script.read_text().splitlines(keepends=True)
            script.write_text("".join(f"python={wrapper}\n" if line.startswith("python=") else line for line in lines))
