"""The git commands the client runs: where a repository keeps things, its settings, commits and trailers.

Arguments go to git as a list, never through a shell, and what reaches a git command line from
outside (a pushed object id) is checked to be hexadecimal first.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence

from .errors import ClientError

SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a full object id, SHA-1 or SHA-256


class Repository:
    """A git repository as the client sees it: where to run git, its own git directory, and the one its
    worktrees share (the spool and the settings live there)."""

    __slots__ = ("_hooks_dir", "common_dir", "git_dir", "path")

    def __init__(self, path: str, git_dir: str, common_dir: str) -> None:
        self.path = path
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._hooks_dir: str | None = None

    @property
    def hooks_dir(self) -> str:
        """The directory git runs hooks from (core.hooksPath honoured)."""
        if self._hooks_dir is None:
            shown = git(self.path, "rev-parse", "--git-path", "hooks").decode().strip()
            self._hooks_dir = os.path.abspath(os.path.join(self.path, shown))
        return self._hooks_dir


def git(path: str, *args: str, stdin: bytes | None = None, ok: Sequence[int] = (0,)) -> bytes:
    """What `git args...` run in `path` prints; ClientError with git's first line of complaint otherwise."""
    try:
        done = subprocess.run(["git", *args], cwd=path, input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise ClientError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode not in ok:
        complaint = done.stderr.decode(errors="replace").strip().splitlines()
        raise ClientError(f"git {args[0]} failed: {complaint[0] if complaint else f'exit {done.returncode}'}")
    return done.stdout


def open_repository(path: str) -> Repository:
    """The repository at or above `path`, or ClientError when there is none."""
    if not os.path.isdir(path):
        raise ClientError(f"{path} is not a directory")
    lines = git(path, "rev-parse", "--absolute-git-dir", "--git-common-dir").decode().splitlines()
    git_dir, common_dir = (os.path.abspath(os.path.join(path, line)) for line in lines)
    return Repository(os.path.abspath(path), git_dir, common_dir)


def hook_repository() -> Repository:
    """The repository a hook runs in. git starts hooks at the top of the working tree, so its plain layout
    (`.git` a directory, or a file naming one, as in a linked worktree) is read without a git process, to
    start the hook sooner; git is asked when anything else is the case (GIT_DIR set, a bare repository)."""
    here = os.getcwd()
    dot_git = os.path.join(here, ".git")
    git_dir = None
    if "GIT_DIR" in os.environ or "GIT_COMMON_DIR" in os.environ:
        pass
    elif os.path.isdir(dot_git):
        git_dir = dot_git
    elif os.path.isfile(dot_git):
        with open(dot_git, encoding="utf-8", errors="replace") as file:
            line = file.readline().rstrip("\r\n")
        if line.startswith("gitdir: "):
            git_dir = os.path.join(here, line.removeprefix("gitdir: "))
    if git_dir is None or not os.path.isfile(os.path.join(git_dir, "HEAD")):
        return open_repository(here)
    common_dir = git_dir
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8", errors="replace") as file:
            common_dir = os.path.join(git_dir, file.readline().rstrip("\r\n"))
    except FileNotFoundError:
        pass  # the main worktree, or a submodule: its git directory is the shared one
    return Repository(here, os.path.abspath(git_dir), os.path.abspath(common_dir))


def top_level(repository: Repository) -> str | None:
    """The working tree's top directory, or None for a bare repository."""
    shown = git(repository.path, "rev-parse", "--show-toplevel", ok=(0, 128)).decode().strip()
    return shown or None


def read_commits(repository: Repository, names: Iterable[str]) -> list[tuple[str, bytes]]:
    """(object id, the raw bytes `git cat-file commit` prints) of each named commit, in order; one git call."""
    wanted = list(names)
    if not wanted:
        return []
    output = git(repository.path, "cat-file", "--batch", stdin="".join(f"{name}\n" for name in wanted).encode())
    found = []
    at = 0
    for name in wanted:
        end = output.index(b"\n", at)
        header = output[at:end].decode(errors="replace").split()
        if len(header) != 3 or header[1] != "commit":
            raise ClientError(f"{name} is not a commit here ({' '.join(header[1:]) or 'missing'})")
        size = int(header[2])
        found.append((header[0], output[end + 1 : end + 1 + size]))
        at = end + 1 + size + 1  # the object, then a newline
    return found


def new_commits(repository: Repository, tips: Sequence[str], known: Sequence[str], limit: int) -> list[str]:
    """Commits reachable from `tips` but from no remote-tracking branch and none of `known`, oldest first,
    at most the `limit` newest of them."""
    for sha in (*tips, *known):
        if not SHA.fullmatch(sha):
            raise ClientError(f"not an object id: {sha[:80]!r}")
    if not tips:
        return []
    # --ignore-missing: a remote's tip we have never fetched excludes nothing, rather than failing.
    output = git(
        repository.path,
        "rev-list", "--ignore-missing", "--reverse", f"--max-count={limit}", *tips, "--not", "--remotes", *known,
    )  # fmt: skip
    return output.decode().split()


def message_trailers(repository: Repository, message_file: str) -> list[tuple[str, str]]:
    """The trailers of a commit message file as git reads them (`git interpret-trailers --parse`)."""
    output = git(repository.path, "interpret-trailers", "--parse", "--no-divider", message_file)
    trailers = []
    for line in output.decode(errors="replace").splitlines():
        key, separator, value = line.partition(":")
        if separator:
            trailers.append((key.strip(), value.strip()))
    return trailers
