"""Installing the hooks: a small shell script per hook, chained to the hook that was there before.

A hook already in place is never overwritten: it is renamed `<hook>.sdl-tracker-chained`, and our
script runs it first, with the same arguments and input, and stops where it fails (so a check of
yours still blocks a commit). `uninstall` removes our scripts and renames the chained hooks back.
The hooks directory is git's (`core.hooksPath` honoured); a shared one serves every repository that
uses it, and the hooks act only in those installed for (which have `.git/sdl-tracker/settings.json`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from .errors import ClientError
from .git import Repository
from .hooks import GIT_HOOKS

MARKER = "# sdl-tracker hook:"
CHAINED = ".sdl-tracker-chained"

# The directory that holds the `sdl_tracker` package (site-packages, or a checkout).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The scripts start the client's entry directly, in isolated mode without site (-I -S): the
# repository's files never shadow a module, no .pth file is read, and start-up is a few ms shorter.
START = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from sdl_tracker.client.cli import main; sys.exit(main(sys.argv[1:]))"
)

# The pushed refs come on standard input; both the chained hook and ours read them.
_READ_INPUT = {"pre-push": 'input=$(cat)\nfeed() { if [ -n "$input" ]; then printf \'%s\\n\' "$input"; fi; }\n'}
_FEED = {"pre-push": "feed | "}
# Where a hook's work needs no Python, the script does it itself: starting the interpreter is most of a
# hook's cost. A message with no line like `Key: value` has no trailer to check. A commit made while the
# hooks leave an away tracker alone (the spool's `away` file, written by hooks._pause) is queued as
# Spool.put queues it: whole under a temporary name, then renamed. Not fsynced, as git does not fsync the
# commit object itself by default; a damaged copy is replaced from git when the tracker refuses it.
_SHORTCUT = {
    "commit-msg": "elif ! grep -Eq '^[A-Za-z0-9-]+[[:blank:]]*:' \"$1\" 2>/dev/null; then\n  : # no trailer\n",
    "post-commit": "elif queue_while_away; then\n  : # queued without starting Python\n",
}
_FUNCTIONS = {
    "post-commit": """queue_while_away() {
  found=$(git rev-parse --git-common-dir HEAD 2>/dev/null) || return 1
  nl='
'
  sha=${found##*"$nl"}
  spool=${found%"$nl"*}/sdl-tracker
  [ -r "$spool/away" ] && { read -r until && read -r note; } < "$spool/away" || return 1
  case $until in ''|*[!0-9]*) return 1 ;; esac
  [ "$(date +%s)" -lt "$until" ] || return 1
  case $sha in *[!0-9a-f]*) return 1 ;; esac
  [ ${#sha} -eq 40 ] || [ ${#sha} -eq 64 ] || return 1
  [ -d "$spool/queue" ] || mkdir -p "$spool/queue" || return 1
  part="$spool/queue/.$sha.$$.tmp"
  if git cat-file commit "$sha" > "$part" && mv -f "$part" "$spool/queue/$sha"; then
    set -- "$spool/queue"/*
    if [ $# -eq 1 ]; then queued="1 commit"; else queued="$# commits"; fi
    after='delivered on the next commit or push after that, or by `sdl-tracker hook flush`'
    printf 'sdl-tracker: %s; %s queued, %s\\n' "$note" "$queued" "$after" >&2
  else
    rm -f "$part"
    return 1
  fi
}
""",
}

SCRIPT = """#!/bin/sh
{marker} installed by `sdl-tracker hook install`; `sdl-tracker hook uninstall` puts back what was here.
# It runs the hook that was here before ({hook}{chained}) first and stops where that fails; then
# sdl-tracker, which never fails the {what}: it warns, and queues what it cannot deliver.
{read_input}{functions}chained="$0{chained}"
if [ -x "$chained" ]; then
  {feed}"$chained" "$@" || exit $?
fi
python={python}
if [ ! -x "$python" ]; then
  echo "sdl-tracker: $python is gone: run sdl-tracker hook install again" >&2
{shortcut}else
  {feed}"$python" -I -S -c {start} {root} hook {hook} "$@"
fi
exit 0
"""


def script(hook: str, python: str) -> str:
    """Our script for one hook, starting sdl-tracker with `python`."""
    return SCRIPT.format(
        marker=MARKER,
        hook=hook,
        chained=CHAINED,
        what="push" if hook == "pre-push" else "commit",
        read_input=_READ_INPUT.get(hook, ""),
        feed=_FEED.get(hook, ""),
        functions=_FUNCTIONS.get(hook, ""),
        shortcut=_SHORTCUT.get(hook, ""),
        python=shlex.quote(python),
        start=shlex.quote(START),
        root=shlex.quote(PACKAGE_ROOT),
    )


def ours(path: str) -> bool:
    """Whether the hook at `path` is one of our scripts."""
    try:
        with open(path, "rb") as file:
            return MARKER.encode() in file.read(512)
    except OSError:
        return False


def _present(path: str) -> bool:
    return os.path.lexists(path)  # a dangling symbolic link is a hook someone put there too


def check_python(python: str) -> None:
    """The interpreter the scripts will start must find the client the way they start it."""
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import sdl_tracker.client.cli"
    done = subprocess.run([python, "-I", "-S", "-c", probe, PACKAGE_ROOT], capture_output=True, check=False, timeout=60)
    if done.returncode:
        raise ClientError(f"{python} cannot import sdl_tracker from {PACKAGE_ROOT}: install sdl-tracker for it")


def install(repository: Repository, python: str = sys.executable) -> list[str]:
    """Put our scripts in the hooks directory, chaining to the hooks there; what was done, one line each."""
    for hook in GIT_HOOKS:  # refuse before changing anything
        path = os.path.join(repository.hooks_dir, hook)
        if _present(path) and not ours(path) and _present(path + CHAINED):
            raise ClientError(
                f"{path} and {path}{CHAINED} both exist and neither is sdl-tracker's: "
                f"merge them into {path} by hand, then install again"
            )
    os.makedirs(repository.hooks_dir, exist_ok=True)
    done = []
    for hook in GIT_HOOKS:
        path = os.path.join(repository.hooks_dir, hook)
        if ours(path):
            done.append(f"{hook}: updated")
        elif _present(path):
            os.rename(path, path + CHAINED)
            done.append(f"{hook}: installed; your hook runs first, kept as {hook}{CHAINED}")
        else:
            done.append(f"{hook}: installed")
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8", newline="\n") as file:
            file.write(script(hook, python))
        os.chmod(temporary, 0o755)  # noqa: S103 - a hook must be executable, and readable like git's own
        os.replace(temporary, path)
    return done


def uninstall(repository: Repository) -> list[str]:
    """Remove our scripts and put the chained hooks back; what was done, one line each."""
    done = []
    for hook in GIT_HOOKS:
        path = os.path.join(repository.hooks_dir, hook)
        chained = path + CHAINED
        if _present(path) and not ours(path):
            kept = f"; {hook}{CHAINED} left beside it" if _present(chained) else ""
            done.append(f"{hook}: not sdl-tracker's, left as it is{kept}")
            continue
        if not _present(path) and not _present(chained):
            done.append(f"{hook}: not installed")
            continue
        if _present(path):
            os.unlink(path)
        if _present(chained):
            os.rename(chained, path)
            done.append(f"{hook}: removed; your hook is back")
        else:
            done.append(f"{hook}: removed")
    return done


def installed(repository: Repository) -> dict[str, str]:
    """Each hook's state: `sdl-tracker`, `sdl-tracker, chained` (yours runs first), `other` or `none`."""
    states = {}
    for hook in GIT_HOOKS:
        path = os.path.join(repository.hooks_dir, hook)
        if ours(path):
            states[hook] = "sdl-tracker, chained" if _present(path + CHAINED) else "sdl-tracker"
        else:
            states[hook] = "other" if _present(path) else "none"
    return states
