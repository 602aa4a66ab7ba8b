"""Running git for a repository: through GitPython's command wrapper, with no user string as an option.

Refs and SHAs are validated before use and passed after `--end-of-options` or on standard input;
remote locations go after `--`; remote transports are limited by git's own protocol allow-list.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from git.cmd import Git
from git.exc import GitCommandError

from ..config import DEFAULT_GIT_SCHEMES
from ..errors import Invalid
from .objects import HEX_LENGTHS, object_id

SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")  # SHA-1, or SHA-256 (object-format=sha256)
REF = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]{1,255}(?<!\.lock)(?<![./])$")
CHUNK = 256 * 1024


def _env(allow_file: bool, schemes: frozenset[str] = DEFAULT_GIT_SCHEMES) -> dict[str, str]:
    # git's own allow-list: never ext::, and file:// only where an administrator registered it.
    allowed = sorted(schemes | ({"file"} if allow_file else set()))
    return {
        **os.environ,
        "GIT_ALLOW_PROTOCOL": ":".join(allowed),
        "GIT_TERMINAL_PROMPT": "0",
        # refs/replace/* would show another commit's author, message and signature under a commit's id: anybody
        # who may push a ref could dress a commit as someone else's signed one. History is read as written.
        "GIT_NO_REPLACE_OBJECTS": "1",
    }


def _run(
    path: Path,
    *args: str,
    allow_file: bool = False,
    schemes: frozenset[str] = DEFAULT_GIT_SCHEMES,
    stdin: BinaryIO | None = None,
) -> str:
    try:
        return str(Git(str(path)).execute(["git", *args], env=_env(allow_file, schemes), istream=stdin))
    except GitCommandError as exc:
        raise Invalid.field(
            "repository", f"git {args[0]} failed: {str(exc.stderr).strip().splitlines()[-1:] or exc}"
        ) from None


def is_remote(location: str) -> bool:
    """Whether the location is a URL to mirror rather than a local repository."""
    if "://" in location:
        return True  # https, ssh, and file:// (an administrator's) are all mirrored
    return bool(re.match(r"^[\w.-]+@[\w.-]+:", location))


def sync_mirror(location: str, mirror: Path, *, allow_file: bool, schemes: frozenset[str]) -> Path:
    """Clone the remote as a bare mirror once, then fetch it; returns the mirror's path."""
    if not (mirror / "HEAD").exists():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        _run(
            mirror.parent,
            "clone",
            "--mirror",
            "--quiet",
            "--",
            location,
            str(mirror),
            allow_file=allow_file,
            schemes=schemes,
        )
    else:
        _run(mirror, "remote", "update", "--prune", allow_file=allow_file, schemes=schemes)
    return mirror


def refs(path: Path, patterns: list[str]) -> dict[str, str]:
    """The refs matching the repository's patterns with the commit each points at (annotated tags
    peeled; never hosting refs such as refs/pull/*, which would double a GitHub mirror's history)."""
    fmt = "--format=%(refname)%00%(objectname)%00%(*objectname)"
    # The patterns were validated when the repository was registered: all begin with "refs/".
    lines = _run(path, "for-each-ref", fmt, *[p for p in patterns if p.startswith("refs/")])
    found = {}
    for line in lines.splitlines():
        name, obj, peeled = [*line.split("\0"), "", ""][:3]
        commit = peeled or obj
        if SHA.match(commit) and not name.startswith("refs/pull/"):
            found[name] = commit
    return found


def reachable(path: Path, tips: list[str]) -> set[str]:
    """Every commit reachable from the given tips (SHAs, on standard input)."""
    tips = [t for t in tips if SHA.match(t)]
    if not tips:
        return set()
    with tempfile.TemporaryFile() as stdin:
        stdin.write(("\n".join(tips) + "\n").encode())
        stdin.seek(0)
        return set(_run(path, "rev-list", "--stdin", stdin=stdin).split())


def count(path: Path, include: list[str], exclude: list[str]) -> int:
    """How many commits `stream_log` will list (cheap: no commit messages are read)."""
    revisions = [s for s in include if SHA.match(s)] + [f"^{s}" for s in exclude if SHA.match(s)]
    if not [s for s in include if SHA.match(s)]:
        return 0
    with tempfile.TemporaryFile() as stdin:
        stdin.write(("\n".join(revisions) + "\n").encode())
        stdin.seek(0)
        return int(_run(path, "rev-list", "--count", "--stdin", stdin=stdin).strip() or 0)


def stream_log(path: Path, include: list[str], exclude: list[str], log_args: Sequence[str]) -> Iterator[bytes]:
    """`git log` (with `log_args`, a LogFormat's) of the commits reachable from `include` but not from `exclude`,
    as raw chunks."""
    revisions = [s for s in include if SHA.match(s)] + [f"^{s}" for s in exclude if SHA.match(s)]
    if not [s for s in include if SHA.match(s)]:
        return
    with tempfile.TemporaryFile() as stdin:
        # Revisions on standard input: any number of them, and none can be read as an option.
        stdin.write(("\n".join(revisions) + "\n").encode())
        stdin.seek(0)
        process = Git(str(path)).execute(["git", *log_args, "--stdin"], istream=stdin, as_process=True, env=_env(False))
        assert process.proc is not None and process.proc.stdout is not None
        stdout = process.proc.stdout
        while chunk := stdout.read(CHUNK):
            yield chunk
        process.wait()


def resolve(path: Path, ref: str) -> str | None:
    """The commit a tag, branch or SHA names, or None."""
    if not REF.match(ref):
        raise Invalid.field("git_ref", f"not a valid ref: {ref!r}")
    try:
        return (
            Git(str(path))
            .execute(
                ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], env=_env(False)
            )
            .strip()
            or None
        )
    except GitCommandError:
        return None


def between(path: Path, tip: str, base: str | None) -> list[str]:
    """The commits reachable from `tip` but not from `base` (SHAs, validated), newest first."""
    if not SHA.match(tip) or (base is not None and not SHA.match(base)):
        raise ValueError("between() takes SHAs")
    args = ["rev-list", "--end-of-options", tip] + ([f"^{base}"] if base else [])
    return _run(path, *args).split()


def commit_objects(path: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """The raw objects of these commits (`git cat-file --batch`: one process for all, SHAs on standard input);
    a SHA the repository does not hold as a commit is left out."""
    wanted = [s for s in shas if SHA.match(s)]
    if not wanted:
        return {}
    with tempfile.TemporaryFile() as stdin:
        stdin.write(("\n".join(wanted) + "\n").encode())
        stdin.seek(0)
        process = Git(str(path)).execute(
            ["git", "cat-file", "--batch"], istream=stdin, as_process=True, env=_env(False)
        )
        assert process.proc is not None and process.proc.stdout is not None
        stdout = process.proc.stdout
        found: dict[str, bytes] = {}
        for _ in wanted:
            header = stdout.readline().decode("ascii", errors="replace").split()
            if len(header) != 3:
                continue  # "<sha> missing": nothing follows it
            sha, kind, size = header
            data = stdout.read(int(size))
            stdout.read(1)  # the newline after each object
            # The bytes must be the object the id names (as the intake checks): nothing git substituted.
            if kind == "commit" and object_id(data, HEX_LENGTHS[len(sha)]) == sha:
                found[sha] = data
        process.wait()
    return found
