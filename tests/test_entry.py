"""The package root and the client entry load no third-party module; the console script dispatches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
print(json.dumps({{"third_party": third_party, "sdl_tracker": ours, "code": code}}))
"""


def _probe(statement: str, argv: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement, argv=argv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_importing_the_package_loads_no_third_party_module() -> None:
    report = _probe("import sdl_tracker; assert callable(sdl_tracker.create_app)", ["x"])
    assert report["third_party"] == []
    assert report["sdl_tracker"] == ["sdl_tracker"]


def test_the_client_entry_loads_no_third_party_module() -> None:
    # A real client command, run to its end (no token: it stops with its one-line error).
    report = _probe(
        "from sdl_tracker.entry import main; main()",
        ["sdl-tracker", "client", "--server", "http://127.0.0.1:9", "check"],
        env={"PATH": "/usr/bin:/bin"},
    )
    assert report["code"] == 2
    assert report["third_party"] == []
    assert all(
        m.startswith(("sdl_tracker.client", "sdl_tracker.entry")) or m == "sdl_tracker" for m in report["sdl_tracker"]
    ), report["sdl_tracker"]


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
