"""The package root and the client entry load no third-party module; the console script dispatches."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.client.install import PACKAGE_ROOT

CHECKOUT = Path(__file__).parent.parent

# Prints the top-level modules a statement loaded beyond what the bare interpreter had.
PROBE = """
import json, sys
before = set(sys.modules)
sys.argv = {argv!r}
code = 0
try:
    exec({statement!r})
except SystemExit as exit:
    code = exit.code
loaded = sorted({{m.split(".")[0] for m in set(sys.modules) - before}})
third_party = [m for m in loaded if m not in sys.stdlib_module_names and m not in ("sdl_tracker", "__main__")]
ours = sorted(m for m in sys.modules if m.startswith("sdl_tracker"))
print(json.dumps({{"third_party": third_party, "sdl_tracker": ours, "code": code, "loaded": loaded}}))
"""


def _probe(
    statement: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path = CHECKOUT, flags: Sequence[str] = ()
) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, *flags, "-c", PROBE.format(statement=statement, argv=argv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_importing_the_package_loads_no_third_party_module() -> None:
    report = _probe("import sdl_tracker; assert callable(sdl_tracker.create_app)", ["x"])
    assert report["third_party"] == []
    assert report["sdl_tracker"] == ["sdl_tracker"]


@pytest.mark.parametrize(
    "command",
    [["check"], ["sbom-upload", "--product", "P", "--release", "1.0", "/dev/null"], ["gate-check", "P", "1.0"]],
    ids=["check", "sbom-upload", "gate-check"],
)  # fmt: skip
def test_the_client_entry_loads_no_third_party_module(command: list[str]) -> None:
    # A real client command, run to its end (no token: it stops with its one-line error).
    report = _probe(
        "from sdl_tracker.entry import main; main()",
        ["sdl-tracker", "client", "--server", "http://127.0.0.1:9", *command],
        env={"PATH": "/usr/bin:/bin"},
    )
    assert report["code"] == 2
    assert report["third_party"] == []
    assert all(
        m.startswith(("sdl_tracker.client", "sdl_tracker.entry")) or m == "sdl_tracker" for m in report["sdl_tracker"]
    ), report["sdl_tracker"]


@pytest.mark.parametrize("command", [["hook", "status"], ["hook", "flush", "--repo", "/"]])
def test_the_hook_commands_load_no_third_party_module(command: list[str]) -> None:
    report = _probe(
        "from sdl_tracker.entry import main; main()", ["sdl-tracker", *command], env={"PATH": "/usr/bin:/bin"}
    )
    assert report["code"] == 2  # not a repository the hooks are installed for
    assert report["third_party"] == []
    assert all(
        m.startswith(("sdl_tracker.client", "sdl_tracker.entry")) or m == "sdl_tracker" for m in report["sdl_tracker"]
    )


def test_the_git_hooks_load_neither_argparse_nor_http_until_they_deliver(tmp_path: Path) -> None:
    # As the installed scripts start them (-I -S, the package's folder on the path), the tracker away.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "SDL_TRACKER_TOKEN": "t"}
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=env)
    subprocess.run(["git", *identity, "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True, env=env)
    installed = subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "hook", "install", "--repo", str(tmp_path), "--server",
         "http://127.0.0.1:9", "--product", "7"],
        cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    (tmp_path / "MESSAGE").write_text("Fix\n\nSecurity-Review: sofia@example.com\n")
    start = (
        f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); from sdl_tracker.client.cli import main; main(sys.argv[1:])"
    )
    for hook, absent in [
        (["commit-msg", "MESSAGE"], {"argparse", "socket", "http", "email", "urllib", "ssl"}),
        # The connection refused: nothing more.
        (["post-commit"], {"argparse", "http", "email", "ssl", "urllib", "ipaddress", "hashlib"}),
    ]:
        report = _probe(start, ["-c", "hook", *hook], env=env, cwd=tmp_path, flags=["-I", "-S"])
        assert report["code"] == 0 and report["third_party"] == []
        assert absent.isdisjoint(report["loaded"]), sorted(absent & set(report["loaded"]))
    assert len(list((tmp_path / ".git" / "sdl-tracker" / "queue").iterdir())) == 1


@pytest.mark.slow
def test_server_commands_still_load_the_application() -> None:
    report = _probe("from sdl_tracker.entry import main; main()", ["sdl-tracker", "--version"])
    assert report["code"] == 0
    assert "flask" in report["third_party"] and "sqlalchemy" in report["third_party"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["client", "check"], {}, "no server: pass --server URL or set SDL_TRACKER_SERVER"),
        (["client", "--server", "ftp://example.com", "check"], {"SDL_TRACKER_TOKEN": "t"}, "must be an https URL"),
        (["client", "--server", "http://127.0.0.1:9", "check"], {}, "no token: set SDL_TRACKER_TOKEN"),
        (["client", "--server", "http://127.0.0.1:9", "check"], {"SDL_TRACKER_TOKEN": "t"}, "cannot reach"),
        (["client", "--server", "http://tracker.example.com", "check"], {"SDL_TRACKER_TOKEN": "t"}, "use https"),
    ],
)
def test_client_errors_are_one_line(args: list[str], env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sdl_tracker", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr
