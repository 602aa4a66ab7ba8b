"""The hooks deliver every commit once, whatever the tracker does: down, failing, hanging, redirecting,
refusing; a delivery killed midway, and commits in two clones at once, lose and duplicate nothing.

Real repositories, real `git commit` and `git push` running the installed hooks, and a real HTTP
server on loopback that speaks the commit intake (tests/client/fake_tracker.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.client.fake_tracker import FakeTracker
from tests.client.repos import SDL, SPOOL, TOKEN, HookedRepo, environment

pytestmark = pytest.mark.slow  # every test commits through the hooks: a few seconds each

Repository = Callable[..., HookedRepo]


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _raw(repo: HookedRepo, sha: str) -> bytes:
    return subprocess.run(["git", "cat-file", "commit", sha], cwd=repo.path, capture_output=True, check=True).stdout


def test_commits_made_while_the_tracker_is_down_are_each_delivered_once(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    tracker.stop()
    repo.install(tracker.url)
    shas = []
    for n in range(5):
        sha, said, took = repo.commit_hooked(f"change {n}")
        shas.append(sha)
        assert "Connection refused" in said and f"{n + 1} commit" in said and "sdl-tracker hook flush" in said
        assert said.count("\n") == 1 and took < 10
    assert repo.queued() == set(shas)

    tracker.start()
    flushed = repo.hook("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert flushed.stdout.startswith("delivered 5 commits; 0 queued; 0 refused")
    assert tracker.shas() == set(shas) and all(tracker.created[sha] == 1 for sha in shas)
    assert all(tracker.stored[("firmware", sha)] == _raw(repo, sha) for sha in shas)
    assert repo.queued() == set()
    posts = len(tracker.requests)
    again = repo.hook("flush", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["delivered"] == []
    assert len(tracker.requests) == posts  # nothing sent twice


def test_the_next_commit_after_the_pause_delivers_what_was_queued(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.stop()
    queued = {repo.commit_hooked(f"offline {n}")[0] for n in range(2)}
    tracker.start()
    repo.end_pause()
    sha, said, _took = repo.commit_hooked("online again")
    assert "delivered 3 commits, earlier ones queued among them" in said
    assert tracker.shas() == queued | {sha} and repo.queued() == set()


def test_while_the_tracker_is_away_commits_are_queued_without_starting_python(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    repo = repository()
    repo.install(tracker.url)
    starts = tmp_path / "python-starts"
    repo.count_python_starts(starts)
    tracker.stop()
    first, said, _took = repo.commit_hooked("refused, so Python finds the tracker away and pauses")
    assert "Connection refused" in said and "the hooks try again after" in said
    assert starts.read_text().count("started") == 1
    state = json.loads((repo.path / SPOOL / "state.json").read_text())
    assert state["failures"] == 1 and 55 < state["away_until"] - time.time() <= 60

    later = []
    for n in range(2):
        sha, said, _took = repo.commit_hooked(f"paused {n}")
        later.append(sha)
        assert "Connection refused" in said and f"{n + 2} commits queued" in said and "hook flush" in said
    assert starts.read_text().count("started") == 1  # the script queued them itself
    assert repo.queued() == {first, *later}
    assert all((repo.path / SPOOL / "queue" / sha).read_bytes() == _raw(repo, sha) for sha in later)
    assert not [p for p in (repo.path / SPOOL / "queue").iterdir() if p.name.startswith(".")]  # no remains

    repo.end_pause()  # still away when the pause ends: Python tries, and pauses twice as long
    again = repo.commit_hooked("refused again")[0]
    assert starts.read_text().count("started") == 2
    state = json.loads((repo.path / SPOOL / "state.json").read_text())
    assert state["failures"] == 2 and 115 < state["away_until"] - time.time() <= 120

    tracker.start()
    paused = repo.commit_hooked("the tracker is back, the pause is not over")[0]
    assert tracker.shas() == set() and starts.read_text().count("started") == 2
    repo.end_pause()
    last, said, _took = repo.commit_hooked("after the pause")
    assert "delivered 6 commits" in said and starts.read_text().count("started") == 3
    assert tracker.shas() == {first, *later, again, paused, last} and repo.queued() == set()
    assert not (repo.path / SPOOL / "away").exists()
    assert json.loads((repo.path / SPOOL / "state.json").read_text()) == {}
    assert all(tracker.stored[("firmware", sha)] == _raw(repo, sha) for sha in tracker.shas())


@pytest.mark.parametrize(
    "away", ["soon\nhello\n", "", "99999999999999999999\n", "1\n"], ids=["words", "empty", "huge", "past"]
)
def test_a_damaged_or_past_pause_lets_python_deliver(
    tracker: FakeTracker, repository: Repository, tmp_path: Path, away: str
) -> None:
    repo = repository()
    repo.install(tracker.url)
    starts = tmp_path / "python-starts"
    repo.count_python_starts(starts)
    (repo.path / SPOOL).mkdir(exist_ok=True)
    (repo.path / SPOOL / "away").write_text(away)
    sha = repo.commit_hooked("delivered")[0]
    assert starts.read_text().count("started") == 1 and tracker.shas() == {sha}


def test_a_hook_killed_mid_delivery_loses_nothing_and_stores_nothing_twice(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    repo.install(tracker.url, "--hook-timeout", "60")
    tracker.stop()
    first = repo.commit_hooked("queued while down")[0]
    (repo.path / "next.txt").write_text("next")
    repo.git("add", "next.txt")
    tracker.start()
    repo.end_pause()
    tracker.mode = "store-then-hang"  # the tracker stores the commit, then never acknowledges it
    # The commit and its hooks in a session of their own, so they can be killed together.
    committing = subprocess.Popen(
        ["git", "commit", "--quiet", "-m", "killed while delivering"],
        cwd=repo.path,
        env=repo.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: first in tracker.shas())
        os.killpg(committing.pid, signal.SIGKILL)
    finally:
        committing.wait(timeout=30)
    second = repo.git("rev-parse", "HEAD")
    assert second != first and repo.queued() == {first, second}  # nothing acknowledged: nothing taken off

    tracker.mode = "ok"
    tracker.release.set()
    flushed = repo.hook("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert tracker.shas() == {first, second} and tracker.created == {first: 1, second: 1}
    assert repo.queued() == set()


def test_a_flush_killed_mid_delivery_is_resumed_by_the_next(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.stop()
    shas = [repo.commit_hooked(f"change {n}")[0] for n in range(3)]
    tracker.start()
    tracker.mode = "store-then-hang"
    flushing = subprocess.Popen(
        [*SDL, "hook", "flush", "--repo", str(repo.path)], env=repo.env, stdout=subprocess.DEVNULL
    )
    try:
        _wait_for(lambda: len(tracker.shas()) == 1)
        flushing.kill()
    finally:
        flushing.wait(timeout=30)
    assert repo.queued() == set(shas)
    tracker.mode = "ok"
    tracker.release.set()
    assert repo.hook("flush").returncode == 0
    assert tracker.shas() == set(shas) and all(tracker.created[sha] == 1 for sha in shas)


def test_commits_in_two_clones_and_two_worktrees_at_once(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    origin = repository("origin")
    origin.commit("start")
    clones = []
    for name in ("alice", "bob"):
        subprocess.run(["git", "clone", "-q", str(origin.path), str(tmp_path / name)], check=True, env=environment())
        clone = HookedRepo.existing(tmp_path / name)
        clone.install(tracker.url)
        clones.append(clone)
    # A second worktree of Alice's clone shares her spool (and its lock) with the first.
    clones[0].git("worktree", "add", "-q", str(tmp_path / "alice-hotfix"))
    clones.append(HookedRepo.existing(tmp_path / "alice-hotfix"))

    made: list[str] = []
    lock = threading.Lock()

    def commit_in(repo: HookedRepo) -> None:
        for n in range(4):
            sha = repo.commit_hooked(f"{repo.path.name} {n}")[0]
            with lock:
                made.append(sha)

    workers = [threading.Thread(target=commit_in, args=(repo,)) for repo in clones]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert len(made) == 12
    for repo in clones[:2]:  # a hook that found the lock held left its commit to the next run
        assert repo.hook("flush").returncode == 0
    assert tracker.shas() == set(made) and all(tracker.created[sha] == 1 for sha in made)
    assert all(repo.queued() == set() for repo in clones)


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("fail", "answered 500: the database is gone; 1 commit queued"),
        ("unauthorized", "answered 401: the token is unknown, expired or revoked"),
        ("wrong-ack", "answered 201 without acknowledging commit"),
    ],
)
def test_a_failing_tracker_keeps_the_commit_queued(
    tracker: FakeTracker, repository: Repository, mode: str, said: str
) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.mode = mode
    sha, printed, _took = repo.commit_hooked("kept")
    assert said in printed and "1 commit queued" in printed, printed
    assert repo.queued() == {sha} and repo.rejected() == set()
    tracker.mode = "ok"
    assert repo.hook("flush").returncode == 0
    assert tracker.created[sha] == 1 and repo.queued() == set()


def test_a_tracker_that_never_answers_holds_a_commit_no_longer_than_the_hook_timeout(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    repo.install(tracker.url, "--hook-timeout", "2")
    tracker.mode = "hang"
    sha, said, took = repo.commit_hooked("slow tracker")
    assert took < 2 + 8, took  # the hook's 2 s, and starting Python and git on a busy machine
    assert "took too long to answer" in said and "the hooks try again after" in said
    asked = len(tracker.requests)
    # Paused: the next commits do not wait for it again (the pause doubles each time, up to 15 minutes).
    second, said, took = repo.commit_hooked("still slow")
    assert took < 8 and "the hooks try again after" in said and len(tracker.requests) == asked
    assert repo.queued() == {sha, second}
    tracker.mode = "ok"
    tracker.release.set()
    assert repo.hook("flush").returncode == 0  # a flush asked for does not wait for the pause
    assert tracker.shas() == {sha, second}
    state = json.loads((repo.path / SPOOL / "state.json").read_text())
    assert state == {}


def test_a_redirect_to_another_host_is_not_followed(tracker: FakeTracker, repository: Repository) -> None:
    thief = FakeTracker(TOKEN).start()
    try:
        repo = repository()
        repo.install(tracker.url)
        tracker.mode = "redirect"
        tracker.redirect_to = f"{thief.url}/api/v1/products/7/repositories/firmware/commits"
        sha, said, _took = repo.commit_hooked("redirected")
        assert "redirected (307)" in said and "not followed" in said and "1 commit queued" in said
        assert thief.requests == [] and repo.queued() == {sha}
    finally:
        thief.stop()


def test_a_refused_commit_is_set_aside_with_the_reason_and_sent_again_when_asked(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.mode = "refuse"
    sha, said, _took = repo.commit_hooked("refused")
    # The reason is the tracker's text: shown escaped, on the one line.
    assert f"the tracker refused commit {sha[:12]}: " in said and "commit refused:\\n\\x1b[31m bad encoding" in said
    assert "\x1b" not in said and said.count("\n") == 1
    assert repo.rejected() == {sha} and repo.queued() == set()
    status = json.loads(repo.hook("status", "--json").stdout)
    assert status["rejected"][0]["sha"] == sha and "bad encoding" in status["rejected"][0]["reason"]
    tracker.mode = "ok"
    plain = repo.hook("flush")
    assert plain.returncode == 0 and tracker.shas() == set()  # refused commits wait to be asked for
    retried = repo.hook("flush", "--retry-rejected")
    assert retried.returncode == 0 and tracker.created[sha] == 1 and repo.rejected() == set()


def test_a_rotated_token_delivers_what_the_old_one_could_not(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.token = "sdlt_9876543210_" + "N" * 43  # the old token was revoked on the tracker
    sha = repo.commit_hooked("after revocation")[0]
    assert repo.queued() == {sha}
    repo.env = environment(tracker.token)
    assert repo.hook("flush").returncode == 0 and tracker.created[sha] == 1


def test_without_a_token_commits_are_queued(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    repo.env = environment(None)
    sha, said, _took = repo.commit_hooked("no token")
    assert "no token: set SDL_TRACKER_TOKEN" in said and repo.queued() == {sha}
    flushed = repo.hook("flush")
    assert flushed.returncode == 2
    assert flushed.stderr == "error: no token: set SDL_TRACKER_TOKEN (an API token from the tracker)\n"


def test_a_damaged_spool_file_is_replaced_from_git(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    tracker.stop()
    sha = repo.commit_hooked("to be damaged")[0]
    (repo.path / SPOOL / "queue" / sha).write_bytes(b"tree 0000\n\nnot this commit")
    tracker.start()
    first = repo.hook("flush")
    assert first.returncode == 1 and repo.queued() == {sha} and repo.rejected() == set()
    assert repo.hook("flush").returncode == 0
    assert tracker.stored[("firmware", sha)] == _raw(repo, sha)


def test_hostile_messages_are_delivered_byte_for_byte(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    hostile = [
        "Title \x1b]0;pwned\x07\x1b[2J\n\nSecurity-Review: \x1b[31mx@example.com\u202e\nFixes-PSIRT: " + "P" * 100_000,
        "Body\n\nSecurity-Requirement: CR 3.4\nSecurity-Review: $(touch /tmp/pwned) `id` ; rm -rf ~\n",
    ]
    shas = [repo.commit_hooked(message)[0] for message in hostile]
    latin = "Grüße\n\nSecurity-Review: jürgen@example.com\n".encode("latin-1")
    repo.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-F", "-", input=latin)
    shas.append(repo.git("rev-parse", "HEAD"))
    assert repo.hook("flush").returncode == 0
    assert all(tracker.stored[("firmware", sha)] == _raw(repo, sha) for sha in shas)
    assert not Path("/tmp/pwned").exists()


def test_a_push_sends_the_commits_the_hooks_have_not_seen_once(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    repo = repository()
    before = [repo.commit(f"before the hooks {n}") for n in range(3)]  # post-commit never saw these
    repo.add_origin(tmp_path)
    repo.install(tracker.url)
    pushed = repo.run("push", "-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert tracker.shas() == set(before) and repo.queued() == set()
    after = repo.commit_hooked("with the hooks")[0]
    posts = len(tracker.requests)
    assert repo.run("push", "-q", "origin", "main").returncode == 0
    assert len(tracker.requests) == posts  # delivered by post-commit: the push sends it no more
    assert tracker.shas() == {*before, after}


def test_a_push_is_not_held_by_a_tracker_that_is_away(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    repo = repository()
    repo.add_origin(tmp_path)
    repo.install(tracker.url)
    tracker.stop()
    sha = repo.commit_hooked("offline")[0]
    pushed = repo.run("push", "-q", "origin", "main")
    assert pushed.returncode == 0 and "Connection refused" in pushed.stderr
    assert repo.queued() == {sha}
