"""`sdl-tracker hook install` chains to the hooks already there and never overwrites them; `uninstall` puts
them back as they were; core.hooksPath is honoured, also when several repositories share it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.client.fake_tracker import FakeTracker
from tests.client.repos import CHECKOUT, HookedRepo, environment, sdl

pytestmark = pytest.mark.slow  # commits and pushes through the hooks

Repository = Callable[..., HookedRepo]

# A developer's own hooks: commit-msg refuses WIP commits, each records how it was called.
OWN_HOOKS = {
    "commit-msg": '#!/bin/sh\necho "commit-msg $1" >> "$(git rev-parse --git-dir)/own.log"\n'
    'if grep -q WIP "$1"; then echo "no WIP commits" >&2; exit 1; fi\n',
    "post-commit": '#!/bin/sh\necho "post-commit" >> "$(git rev-parse --git-dir)/own.log"\n',
    "pre-push": '#!/bin/sh\necho "pre-push $1 $2" >> "$(git rev-parse --git-dir)/own.log"\n'
    'cat >> "$(git rev-parse --git-dir)/own.log"\n',
}


def _own_hooks(hooks_dir: Path) -> dict[str, bytes]:
    hooks_dir.mkdir(parents=True, exist_ok=True)
    for name, text in OWN_HOOKS.items():
        (hooks_dir / name).write_text(text)
        (hooks_dir / name).chmod(0o750)
    return {name: (hooks_dir / name).read_bytes() for name in OWN_HOOKS}


def test_install_chains_to_existing_hooks_and_uninstall_restores_them(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    repo = repository()
    repo.add_origin(tmp_path)
    hooks = repo.path / ".git" / "hooks"
    before = _own_hooks(hooks)
    installed = repo.install(tracker.url)
    assert "commit-msg: installed; your hook runs first, kept as commit-msg.sdl-tracker-chained" in installed.stdout
    assert all((hooks / f"{name}.sdl-tracker-chained").read_bytes() == text for name, text in before.items())

    refused = repo.run("commit", "-q", "--allow-empty", "-m", "WIP: half done")
    assert refused.returncode == 1 and "no WIP commits" in refused.stderr  # your hook still decides
    assert tracker.shas() == set()
    sha, _said, _took = repo.commit_hooked("Finished\n\nSecurity-Reveiw: sofia@example.com\n")
    assert tracker.shas() == {sha}
    pushed = repo.run("push", "-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    log = (repo.path / ".git" / "own.log").read_text()
    assert "commit-msg .git/COMMIT_EDITMSG" in log and "post-commit" in log
    assert f"pre-push origin {tmp_path / 'origin.git'}\nrefs/heads/main {sha} refs/heads/main {'0' * 40}" in log

    again = repo.install(tracker.url)  # installing twice updates ours and keeps yours chained once
    assert "commit-msg: updated" in again.stdout
    assert (hooks / "commit-msg.sdl-tracker-chained").read_bytes() == before["commit-msg"]
    assert not (hooks / "commit-msg.sdl-tracker-chained.sdl-tracker-chained").exists()

    removed = repo.hook("uninstall")
    assert removed.returncode == 0 and "commit-msg: removed; your hook is back" in removed.stdout
    for name, text in before.items():
        assert (hooks / name).read_bytes() == text
        assert stat.S_IMODE((hooks / name).stat().st_mode) == 0o750
    assert not any(path.name.endswith(".sdl-tracker-chained") for path in hooks.iterdir())


def test_install_without_hooks_there_and_uninstall_leave_no_hook(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    hooks = repo.path / ".git" / "hooks"
    samples = sorted(path.name for path in hooks.iterdir())
    repo.install(tracker.url)
    assert all(os.access(hooks / name, os.X_OK) for name in ("commit-msg", "post-commit", "pre-push"))
    assert repo.hook("uninstall").returncode == 0
    assert sorted(path.name for path in hooks.iterdir()) == samples
    assert repo.commit_hooked("after uninstall")[1] == "" and tracker.shas() == set()


def test_a_relative_core_hooks_path_is_where_the_hooks_go(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.git("config", "core.hooksPath", "tools/githooks")
    before = _own_hooks(repo.path / "tools" / "githooks")
    repo.install(tracker.url)
    assert (repo.path / "tools" / "githooks" / "post-commit.sdl-tracker-chained").read_bytes() == before["post-commit"]
    assert not (repo.path / ".git" / "hooks" / "post-commit").exists()
    sha = repo.commit_hooked("through core.hooksPath")[0]
    assert tracker.shas() == {sha}
    assert "post-commit" in (repo.path / ".git" / "own.log").read_text()


def test_a_shared_hooks_path_acts_only_in_repositories_installed_for(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-hooks"
    installed, other = repository("installed"), repository("other")
    for repo in (installed, other):
        repo.git("config", "core.hooksPath", str(shared))
    installed.install(tracker.url)
    sha, _said, _took = other.commit_hooked("Not tracked\n\nSecurity-Reveiw: x\n")
    assert _said == "" and tracker.shas() == set() and not (other.path / ".git" / "sdl-tracker").exists()
    sha = installed.commit_hooked("tracked")[0]
    assert tracker.shas() == {sha}
    status = json.loads(installed.hook("status", "--json").stdout)
    assert status["hooks_dir"] == str(shared) and status["hooks"]["post-commit"] == "sdl-tracker"


def test_install_refuses_when_a_hook_and_a_chained_one_are_both_someone_elses(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    hooks = repo.path / ".git" / "hooks"
    _own_hooks(hooks)
    (hooks / "pre-push.sdl-tracker-chained").write_text("#!/bin/sh\nexit 0\n")
    result = sdl("hook", "install", "--repo", str(repo.path), "--server", tracker.url, "--product", "7")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "both exist and neither is sdl-tracker's" in result.stderr
    assert not (hooks / "commit-msg.sdl-tracker-chained").exists()  # refused before changing anything


def test_uninstall_leaves_a_hook_that_replaced_ours(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    hooks = repo.path / ".git" / "hooks"
    (hooks / "post-commit").write_text("#!/bin/sh\necho mine\n")
    result = repo.hook("uninstall")
    assert "post-commit: not sdl-tracker's, left as it is" in result.stdout
    assert (hooks / "post-commit").read_text() == "#!/bin/sh\necho mine\n"


def test_a_hook_whose_interpreter_is_gone_says_so_and_the_commit_goes_ahead(
    tracker: FakeTracker, repository: Repository, tmp_path: Path
) -> None:
    repo = repository()
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    subprocess.run(
        [str(python), "-m", "sdl_tracker", "hook", "install", "--repo", str(repo.path), "--server", tracker.url,
         "--product", "7"],
        check=True, cwd=CHECKOUT, env=environment(), capture_output=True,
    )  # fmt: skip
    python.unlink()
    sha, said, _took = repo.commit_hooked("interpreter removed")
    # commit-msg and post-commit each say it.
    assert said.splitlines() == [f"sdl-tracker: {python} is gone: run sdl-tracker hook install again"] * 2
    assert repo.git("rev-parse", "HEAD") == sha


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "http://tracker.example.com", "--product", "7"], "refusing plain http to tracker.example.com"),
        (["--server", "ftp://x", "--product", "7"], "must be an https URL"),
        (["--server", "https://user:pw@x", "--product", "7"], "a plain base URL (no user"),
        (["--server", "https://x", "--product", "7", "--ca-bundle", "/nonexistent.pem"], "no CA bundle at"),
        (["--server", "https://x", "--product", "7", "--hook-timeout", "0"], "between 0 and 600 seconds"),
        (["--server", "https://x"], "the following arguments are required: --product"),
        (["--server", "https://x", "--product", "7", "--repository", "a\x1b[2Jb"], "is no repository name"),
    ],
)
def test_bad_install_options_are_one_line_errors(repository: Repository, args: list[str], message: str) -> None:
    repo = repository()
    result = sdl("hook", "install", "--repo", str(repo.path), *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert (
        "\x1b" not in result.stderr
        and "pw" not in result.stderr
        and not (repo.path / ".git" / "hooks" / "post-commit").exists()
    )


def test_install_outside_a_repository_is_a_one_line_error(tmp_path: Path) -> None:
    result = sdl("hook", "install", "--repo", str(tmp_path), "--server", "https://x", "--product", "7")
    assert result.returncode == 2 and result.stderr.startswith("error: git rev-parse failed: fatal: not a git")


def test_install_finds_a_product_by_name(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    result = repo.install(tracker.url, "--product", "PLC", "--json")
    assert json.loads(result.stdout)["product"] == 7
    unknown = sdl("hook", "install", "--repo", str(repo.path), "--server", tracker.url, "--product", "HMI")
    assert unknown.returncode == 2 and "no product named 'HMI'" in unknown.stderr
