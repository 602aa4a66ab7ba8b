"""The git hooks' work: `commit-msg` checks a message, `post-commit` and `pre-push` queue commits and
deliver the queue, `flush` delivers it when asked.

A hook never fails a commit or a push and never loses a commit: what it cannot deliver within its
time (the tracker away, failing or refusing the token) stays queued in the spool for the next run.
The settings are `<git common dir>/sdl-tracker/settings.json`, written by `sdl-tracker hook install`;
in a repository without them (a hooks directory shared through core.hooksPath) the hooks do nothing.
"""

from __future__ import annotations

import os
import time
from contextlib import suppress
from functools import partial

from . import vocabulary
from .errors import ClientError
from .git import SHA, Repository, hook_repository, message_trailers, new_commits, read_commits
from .spool import Spool, object_id
from .terminal import counted, say

TYPE_CHECKING = False  # typing costs a git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .http import Server

GIT_HOOKS = ("commit-msg", "post-commit", "pre-push")
CONNECT_TIMEOUT = 2.0  # seconds (http.CONNECT_TIMEOUT, not imported: a hook loads http only to deliver)
DEFAULT_TOKEN_ENV = "SDL_TRACKER_TOKEN"  # noqa: S105 - the name of a variable, not a token
HOOK_TIMEOUT = 5.0  # seconds a hook may spend delivering, all commits together
# Seconds the hooks leave a tracker alone after it was away (refused the connection or did not answer in
# time); doubled each time it is away again. While paused, post-commit queues in the shell without starting
# Python (install.py): a commit costs the developer a few ms instead of an interpreter start.
PAUSE_FIRST = 60.0
PAUSE_CAP = 900.0
MAX_PUSH_COMMITS = 1000  # new commits one push queues; a longer history is the repository scan's work
# Refusals that are about the token, the setup or the moment, not about the commit: it stays queued.
KEEP_QUEUED = frozenset({401, 403, 404, 405, 407, 408, 421, 425, 429})
ZERO = frozenset({"0" * 40, "0" * 64})


class Settings:
    """Where a repository's commits go, and how long to wait for the tracker (settings.json)."""

    __slots__ = ("ca_bundle", "connect_timeout", "hook_timeout", "product", "repository", "server", "token_env")

    def __init__(self, data: dict[str, object]) -> None:
        self.server = _text(data.get("server"))
        self.product = _text(data.get("product"))
        self.repository = _text(data.get("repository"))
        self.token_env = _text(data.get("token_env")) or DEFAULT_TOKEN_ENV
        self.ca_bundle = _text(data.get("ca_bundle")) or None
        self.connect_timeout = _seconds(data.get("connect_timeout"), CONNECT_TIMEOUT)
        self.hook_timeout = _seconds(data.get("hook_timeout"), HOOK_TIMEOUT)

    def as_data(self) -> dict[str, object]:
        """The settings as settings.json holds them."""
        return {name: getattr(self, name) for name in self.__slots__}

    def problem(self) -> str | None:
        """What makes these settings unusable, if anything."""
        from .http import check_base

        if not (self.server and self.repository and self.product.isascii() and self.product.isdigit()):
            return "this repository's sdl-tracker settings are incomplete: run `sdl-tracker hook install` again"
        try:
            check_base(self.server)
        except ClientError as exc:
            return str(exc)
        return None

    def server_for(self, token: str, timeout: float) -> Server:
        """The tracker with the token, and at most `timeout` seconds for one request."""
        from .http import Server

        return Server(
            self.server, token, timeout=timeout, connect_timeout=min(self.connect_timeout, timeout),
            ca_bundle=self.ca_bundle,
        )  # fmt: skip


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _seconds(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) and 0 < value <= 600 else default


def configured(spool: Spool) -> Settings | None:
    """The repository's settings, or None where the hooks were never installed for it."""
    data = spool.read("settings")
    return None if data is None else Settings(data)


class Delivery:
    """What one delivery run did: delivered and refused commits, and why it stopped early, if it did."""

    __slots__ = ("busy", "delivered", "rejected", "stopped")

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.stopped: str | None = None
        self.busy = False  # another process holds the delivery lock; it or the next run delivers


def deliver(
    repository: Repository, spool: Spool, config: Settings, *, budget: float | None, retries: int = 0, patient: bool
) -> Delivery:
    """Send the queued commits, oldest first, until done, out of time (`budget` seconds, None: no limit)
    or stopped by the tracker. `patient` (the hooks): leave a tracker that recently did not answer alone
    for a while, and leave the delivery to another process that is at it; else (`flush`) wait for it."""
    outcome = Delivery()
    token = os.environ.get(config.token_env, "").strip()
    with spool.delivering(wait=not patient) as held:
        if not held:
            outcome.busy = True
            return outcome
        spool.tidy()
        state = spool.read("state") or {}
        away_until = _number(state.get("away_until"))
        if patient and away_until > time.time():
            outcome.stopped = _paused(str(state.get("reason", "the tracker did not answer")), away_until)
        elif not token:
            outcome.stopped = f"no token: set {config.token_env} (an API token from the tracker)"
        elif (problem := config.problem()) is not None:
            outcome.stopped = problem
        else:
            _send_queue(repository, spool, config, token, outcome, budget, retries)
    return outcome


def _send_queue(
    repository: Repository,
    spool: Spool,
    config: Settings,
    token: str,
    outcome: Delivery,
    budget: float | None,
    retries: int,
) -> None:
    from .http import TIMEOUT, Answered, Unreachable, with_retries
    from .tracker import submit_commit

    deadline = None if budget is None else time.monotonic() + budget
    tried: set[str] = set()
    while batch := [sha for sha in spool.queued() if sha not in tried]:  # again: others may have queued meanwhile
        for sha in batch:
            tried.add(sha)
            left = TIMEOUT if deadline is None else deadline - time.monotonic()
            if left < 0.05:
                outcome.stopped = "out of time for this run"
                return
            raw = spool.commit(sha)
            if raw is None:
                continue  # delivered by another process meanwhile
            server = config.server_for(token, left)
            try:
                with_retries(partial(submit_commit, server, config.product, config.repository, sha, raw), retries)
            except Answered as exc:
                if exc.status >= 500 or exc.status in KEEP_QUEUED:
                    outcome.stopped = str(exc)
                    return
                if _damaged(repository, spool, sha, raw):
                    continue  # a fresh copy from git goes next time, rather than the refusal of a damaged one
                spool.reject(sha, str(exc))
                outcome.rejected.append((sha, str(exc)))
            except ClientError as exc:
                outcome.stopped = _pause(spool, str(exc)) if isinstance(exc, Unreachable) else str(exc)
                return
            else:
                if not outcome.delivered and spool.read("state"):
                    spool.resume()  # the tracker answers again: no more pause
                spool.done(sha)
                outcome.delivered.append(sha)


def _damaged(repository: Repository, spool: Spool, sha: str, raw: bytes) -> bool:
    """Whether the spooled copy of a refused commit is not that commit; if so and git still has the
    commit, the copy is replaced (checked only on refusal: hashing costs a hook its start-up time)."""
    if object_id(raw, sha) == sha:
        return False
    try:
        found = read_commits(repository, [sha])
    except ClientError:
        return False  # git no longer has it: the refusal stands
    spool.put(sha, found[0][1])
    return True


def _pause(spool: Spool, reason: str) -> str:
    """The tracker is away: the hooks leave it alone for a while, longer each time; what to say."""
    failures = int(_number((spool.read("state") or {}).get("failures"))) + 1
    until = time.time() + min(PAUSE_FIRST * 2 ** (failures - 1), PAUSE_CAP)
    spool.pause({"away_until": until, "failures": failures, "reason": reason}, until, _paused(reason, until))
    return _paused(reason, until)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _paused(reason: str, until: float) -> str:
    return f"{reason}; the hooks try again after {time.strftime('%H:%M:%S', time.localtime(until))}"


def refresh_vocabulary(spool: Spool, server: Server) -> int:
    """Fetch the tracker's requirement ids (and its users' address digests) into the cache the commit-msg hook
    reads; how many ids."""
    from .tracker import requirement_ids, reviewer_digests

    ids = requirement_ids(server)
    spool.write("vocabulary", vocabulary.to_data(ids, server.base_url, reviewer_digests(server)))
    return len(ids)


# --- the hooks git runs ------------------------------------------------------------------------------


def run_git_hook(name: str, args: Sequence[str], stdin: str = "") -> int:
    """Run one hook as git calls it; always exit 0: a hook warns and queues, never blocks."""
    try:
        repository = hook_repository()
        spool = Spool(repository.common_dir)
        config = configured(spool)
        if config is None:
            return 0  # hooks shared through core.hooksPath, in a repository not installed for
        if name == "commit-msg":
            commit_msg(repository, spool, args[0])
        elif name == "post-commit":
            queue_and_deliver(repository, spool, config, [sha for sha, _ in _queue(repository, spool, ["HEAD"])])
        elif name == "pre-push":
            queue_and_deliver(repository, spool, config, pushed(repository, spool, stdin))
    except Exception as exc:  # whatever failed, the commit or push goes ahead
        say(f"sdl-tracker: {name}: {exc} (the commit is not affected)", err=True)
    return 0


def commit_msg(repository: Repository, spool: Spool, message_file: str) -> None:
    """Warn about the message's trailers: unknown keys, misplaced trailers, unknown requirements."""
    with open(message_file, "rb") as file:
        message = file.read().decode(errors="replace")
    trailers = message_trailers(repository, message_file)
    warnings = vocabulary.check(trailers, message, vocabulary.from_data(spool.read("vocabulary")))
    for warning in warnings:
        say(f"sdl-tracker: warning: {warning}", err=True)
    if warnings:
        say("sdl-tracker: the commit goes ahead; `git commit --amend` corrects its message", err=True)


def _queue(repository: Repository, spool: Spool, names: Sequence[str]) -> list[tuple[str, bytes]]:
    commits = read_commits(repository, names)
    for sha, raw in commits:
        spool.put(sha, raw)
    return commits


def pushed(repository: Repository, spool: Spool, stdin: str) -> list[str]:
    """Queue the commits a push sends that the tracker has not acknowledged: the ids queued."""
    tips, known = [], []
    for line in stdin.splitlines():
        fields = line.split()
        if len(fields) != 4:
            continue
        local, remote = fields[1], fields[3]
        if SHA.fullmatch(local) and local not in ZERO:
            tips.append(local)
        if SHA.fullmatch(remote) and remote not in ZERO:
            known.append(remote)
    found = new_commits(repository, tips, known, MAX_PUSH_COMMITS + 1)
    if len(found) > MAX_PUSH_COMMITS:
        say(
            f"sdl-tracker: this push has more than {MAX_PUSH_COMMITS:,} new commits; the newest {MAX_PUSH_COMMITS:,} "
            "are queued, the tracker's repository scan finds the rest",
            err=True,
        )
        found = found[1:]
    skip = spool.delivered() | set(spool.queued()) | {sha for sha, _ in spool.rejected()}
    return [sha for sha, _ in _queue(repository, spool, [sha for sha in found if sha not in skip])]


def queue_and_deliver(repository: Repository, spool: Spool, config: Settings, queued: Sequence[str]) -> None:
    """Deliver the spool within the hook's time and say what a developer should know, on stderr."""
    started = time.monotonic()
    outcome = deliver(repository, spool, config, budget=config.hook_timeout, patient=True)
    if len(outcome.delivered) > len(queued):
        say(f"sdl-tracker: delivered {len(outcome.delivered)} commits, earlier ones queued among them", err=True)
    for line in report(outcome, spool):
        say(f"sdl-tracker: {line}", err=True)
    left = config.hook_timeout - (time.monotonic() - started)
    if outcome.stopped is None and not outcome.busy and left > 0.5:
        _refresh_if_stale(spool, config, left)


def _refresh_if_stale(spool: Spool, config: Settings, left: float) -> None:
    """Once a week, when the tracker answered, fetch its requirement ids for the commit-msg hook (within
    the `left` seconds of the hook's time)."""
    if not vocabulary.from_data(spool.read("vocabulary")).stale(time.time()):
        return
    token = os.environ.get(config.token_env, "").strip()
    # On failure the next run tries again; commit-msg says the ids are not checked meanwhile.
    with suppress(ClientError):
        refresh_vocabulary(spool, config.server_for(token, left))


def report(outcome: Delivery, spool: Spool) -> list[str]:
    """The lines a developer reads after a delivery: refused commits, and why others are still queued."""
    lines = [
        f"the tracker refused commit {sha[:12]}: {reason}; it is kept in {spool.rejected_dir} "
        "(`sdl-tracker hook status`; `sdl-tracker hook flush --retry-rejected` sends it again)"
        for sha, reason in outcome.rejected
    ]
    waiting = len(spool.queued())
    if outcome.stopped is not None and waiting:
        lines.append(
            f"{outcome.stopped}; {counted(waiting, 'commit')} queued, delivered on the next commit "
            "or push, or by `sdl-tracker hook flush`"
        )
    return lines
