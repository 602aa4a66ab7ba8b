"""The server commands: output, --json, --as, and one-line errors with exit 2 that write nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import click
import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Membership, User
from sdl_tracker.accounts.services import _DUMMY_HASH
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.client.cli import main as client_main
from sdl_tracker.products.models import Product, Release, Repository
from sdl_tracker.sboms.models import Sbom
from tests.factories import PASSWORD, make_product, member
from tests.gitlink.repo import GitRepo


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(cli, list(args), input=input)


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output
    assert "Traceback" not in result.output


def test_product_create_list_show(app: Flask, session: Session) -> None:
    created = run(
        app,
        "product",
        "create",
        "NW-PLC",
        "--type",
        "edr",
        "--target-sl",
        "3",
        "--interface",
        "eth0:network:Modbus TCP:502",
        "--interface",
        "jtag:debug",
        "--support-end",
        "2031-12-31",
        "--json",
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    assert data["component_type"] == "EDR" and data["target_sl"] == {f"FR{i}": 3 for i in range(1, 8)}
    assert [(i["name"], i["port"]) for i in data["interfaces"]] == [("eth0", 502), ("jtag", None)]
    run(app, "product", "create", "NW-HMI", "--type", "SAR", "--target-sl", "FR1=2,FR2=2,FR3=1,FR4=1,FR5=1,FR6=2,FR7=1")
    listing = json.loads(run(app, "product", "list", "--json").output)
    assert [p["name"] for p in listing] == ["NW-HMI", "NW-PLC"]
    text = run(app, "product", "list").output
    # Each FR labelled and apart, never "13 23 33".
    assert "SL-C target FR1 IAC 2, FR2 UC 2, FR3 SI 1, FR4 DC 1, FR5 RDF 1, FR6 TRE 2, FR7 RA 1" in text
    assert "SL-C target FR1 IAC 3, FR2 UC 3" in text
    shown_text = run(app, "product", "show", "nw-plc").output
    assert "target SL-C:     FR1 IAC 3, FR2 UC 3, FR3 SI 3" in shown_text and "CRA default" in shown_text
    assert "interface        jtag (Debug" in shown_text
    shown = json.loads(run(app, "product", "show", "nw-plc", "--json").output)
    assert shown["name"] == "NW-PLC" and shown["releases"] == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "products:product:create")).first()
    assert event is not None and event.actor.startswith("cli:")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--type", "EDR", "--target-sl", "5"], "1-4"),
        (["--type", "EDR", "--target-sl", "FR1=3"], "FR2"),
        (["--type", "EDR", "--target-sl", "3", "--interface", "eth0"], "NAME:KIND"),
        (["--type", "EDR", "--target-sl", "3", "--interface", "eth0:laser"], "laser"),
        (["--type", "EDR", "--target-sl", "3", "--cvd-url", "ftp://x"], "cvd_policy_url"),
    ],
)
def test_bad_product_input_is_one_line_exit_2(app: Flask, session: Session, args: list[str], fragment: str) -> None:
    assert_one_line_error(run(app, "product", "create", "Bad", *args), fragment)
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_unknown_component_type_is_a_usage_error(app: Flask) -> None:
    result = run(app, "product", "create", "Bad", "--type", "PLC", "--target-sl", "3")
    assert result.exit_code == 2 and "PLC" in result.output


def test_duplicate_and_unknown_products(app: Flask, session: Session) -> None:
    make_product(session, "NW-PLC")
    assert_one_line_error(
        run(app, "product", "create", "nw-plc", "--type", "EDR", "--target-sl", "2"), "already exists"
    )
    assert_one_line_error(run(app, "product", "show", "Nope"), "no product named 'Nope'")
    assert_one_line_error(run(app, "release", "create", "Nope", "1.0"), "no product named 'Nope'")


def test_releases(app: Flask, session: Session) -> None:
    make_product(session, "NW-PLC")
    for version in ("1.10.0", "1.9.0"):
        assert run(app, "release", "create", "NW-PLC", version, "--tag", f"v{version}").exit_code == 0
    listed = json.loads(run(app, "release", "list", "NW-PLC", "--json").output)
    assert [(r["version"], r["git_ref"]) for r in listed] == [("1.9.0", "v1.9.0"), ("1.10.0", "v1.10.0")]
    assert_one_line_error(run(app, "release", "create", "NW-PLC", "1.9.0"), "already has a release")
    assert_one_line_error(run(app, "release", "create", "NW-PLC", "1 0"), "whitespace")
    assert_one_line_error(run(app, "release", "create", "NW-PLC", "2.0", "--tag", "-x"), "git_ref")
    assert session.scalar(select(func.count()).select_from(Release)) == 2


def test_as_user_applies_their_permissions(app: Flask, session: Session) -> None:
    mine, theirs = make_product(session, "Mine"), make_product(session, "Theirs")
    member(session, mine, "developer", email="dev@example.com")
    session.commit()
    assert [p["name"] for p in json.loads(run(app, "product", "list", "--json", "--as", "dev@example.com").output)] == [
        "Mine"
    ]
    assert_one_line_error(run(app, "product", "show", "Theirs", "--as", "dev@example.com"), "no product named")
    assert_one_line_error(run(app, "release", "create", "Mine", "1.0", "--as", "dev@example.com"), "developer may not")
    assert_one_line_error(
        run(app, "product", "create", "X", "--type", "SAR", "--target-sl", "1", "--as", "dev@example.com"),
        "administrator",
    )
    assert_one_line_error(run(app, "product", "list", "--as", "ghost@example.com"), "no active user")
    _ = theirs


def test_user_create_reads_the_password_from_stdin(app: Flask, session: Session) -> None:
    make_product(session, "NW-PLC")
    result = run(
        app,
        "user",
        "create",
        "New@Example.com",
        "--name",
        "New",
        "--role",
        "auditor",
        "--product",
        "NW-PLC",
        "--json",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User).where(User.email == "new@example.com")).one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert session.scalars(select(Membership.role).where(Membership.user_id == user.id)).one().value == "auditor"
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["bad-email"], PASSWORD, "not an email address"),
        (["x@example.com"], "short", "at least 12"),
        (["x@example.com"], "", "no password"),
        (["x@example.com", "--role", "auditor"], PASSWORD, "go together"),
        (["x@example.com", "--role", "auditor", "--product", "Nope"], PASSWORD, "no product named"),
    ],
)
def test_bad_user_input(app: Flask, session: Session, args: list[str], stdin: str, fragment: str) -> None:
    assert_one_line_error(run(app, "user", "create", *args, input=stdin + "\n" if stdin else ""), fragment)
    assert session.scalar(select(func.count()).select_from(User)) == 0  # nothing written, not even the user


def test_repositories(app: Flask, session: Session) -> None:
    make_product(session, "NW-PLC")
    added = run(app, "repo", "add", "NW-PLC", "https://git.example.com/nw/plc-firmware.git", "--json")
    assert added.exit_code == 0 and json.loads(added.output)["name"] == "plc-firmware"
    assert_one_line_error(run(app, "repo", "add", "NW-PLC", "ext::sh -c id"), "remote helpers")
    assert [r["name"] for r in json.loads(run(app, "repo", "list", "NW-PLC", "--json").output)] == ["plc-firmware"]
    assert session.scalar(select(func.count()).select_from(Repository)) == 1


def test_demo_loads_once(app: Flask, session: Session) -> None:
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    assert "login: admin@example.com  password: " in first.output
    counts = {
        m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (User, Product, Release, Membership)
    }
    assert counts["Product"] == 3 and counts["User"] == 5 and counts["Release"] >= 5
    second = run(app, "demo")
    assert "already loaded" in second.output
    assert second.output.splitlines()[-2] == first.output.splitlines()[-2]  # same login, same password
    assert {
        m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (User, Product, Release, Membership)
    } == counts
    plc = session.scalars(select(Product).where(Product.component_type == "EDR")).one()
    assert plc.target_sl == {f"FR{i}": 3 for i in range(1, 8)} and len(plc.interfaces) >= 3
    sboms = session.scalars(select(Sbom).order_by(Sbom.id)).all()
    assert [(s.release.version, s.format.value, s.component_count, s.warnings) for s in sboms] == [
        ("4.1.0", "json", 13, []),
        ("4.2.0", "json", 13, []),
        ("4.2.0", "xml", 3, []),
    ]
    assert all(s.product_id == plc.id and s.evidence_id for s in sboms)


def _console(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_TRACKER_DATA_DIR": str(tmp_path)}
    env.pop("SDL_TRACKER_DATABASE_URL", None)
    script = Path(sys.executable).with_name("sdl-tracker")
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, input=stdin, check=False)


@pytest.mark.slow
def test_the_installed_console_script(tmp_path: Path) -> None:
    """The real `sdl-tracker` executable: exit codes and one-line errors, on its own SQLite file."""
    info = _console(tmp_path, "info")
    assert info.returncode == 0 and f"data directory: {tmp_path}" in info.stdout and "sqlite:///" in info.stdout
    assert _console(tmp_path, "db", "upgrade").returncode == 0
    current = _console(tmp_path, "db", "current")
    assert "(head)" in current.stdout
    assert _console(tmp_path, "db", "check").returncode == 0
    created = _console(tmp_path, "product", "create", "P", "--type", "NDR", "--target-sl", "2")
    assert created.returncode == 0, created.stderr
    duplicate = _console(tmp_path, "product", "create", "P", "--type", "NDR", "--target-sl", "2")
    assert duplicate.returncode == 2 and duplicate.stderr.count("\n") == 1 and duplicate.stderr.startswith("error: ")
    # A server's process hashes with the production profile (the tests' own process uses a cheap one,
    # tests/conftest.py), and the hash an unknown email is checked against has the same parameters.
    assert _console(tmp_path, "user", "create", "a@example.com", "--password-stdin", stdin=PASSWORD).returncode == 0
    with closing(sqlite3.connect(tmp_path / "sdl-tracker.db")) as database:
        (stored,) = database.execute("SELECT password_hash FROM user_account").fetchone()
    assert stored.split("$")[:4] == ["", "argon2id", "v=19", "m=65536,t=3,p=4"]
    assert _DUMMY_HASH.split("$")[:4] == stored.split("$")[:4]
    bad_setting = subprocess.run(
        [str(Path(sys.executable).with_name("sdl-tracker")), "info"],
        capture_output=True,
        text=True,
        env={**os.environ, "SDL_TRACKER_DATA_DIR": str(tmp_path), "SDL_TRACKER_UPLOAD": "1"},
        check=False,
    )
    assert bad_setting.returncode == 2
    assert bad_setting.stderr.strip() == bad_setting.stderr.strip().splitlines()[0]
    assert "SDL_TRACKER_UPLOAD: unknown setting" in bad_setting.stderr


@pytest.mark.slow
def test_secret_password_url_is_hidden_by_info(tmp_path: Path) -> None:
    env_url = "postgresql+psycopg://user:s3cr3t@127.0.0.1:1/x"
    env = {**os.environ, "SDL_TRACKER_DATA_DIR": str(tmp_path), "SDL_TRACKER_DATABASE_URL": env_url}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("sdl-tracker")), "info"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0 and "s3cr3t" not in result.stdout and "***" in result.stdout


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every group and command under `group`, as the words that name it."""
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_a_usage_error_is_one_line_with_a_hint_for_every_command(app: Flask) -> None:
    paths = _command_paths(cli)
    assert ("repo", "scan") in paths and ("db", "upgrade") in paths and len(paths) > 50
    for path in paths:
        result = run(app, *path, "--no-such-option")
        hint = f"(try: sdl-tracker {' '.join(path)} --help)".replace("sdl-tracker  --help", "sdl-tracker --help")
        assert_one_line_error(result, "no such option '--no-such-option'")
        assert result.output.strip().endswith(hint), (path, result.output)
    for args, fragment in (
        (["bogus"], "no such command 'bogus'"),
        (["repo", "scan"], "missing argument 'PRODUCT' (try: sdl-tracker repo scan --help)"),
        (["member", "add", "P", "dev@example.com", "owner"], "'owner' is not one of"),
        (["release", "create", "P", "1.0", "--date"], "option '--date' requires an argument"),
    ):
        assert_one_line_error(run(app, *args), fragment)
    assert "Usage: sdl-tracker repo" in run(app, "repo").output  # a group alone still shows its help


def test_flasks_own_options_are_neither_offered_nor_read(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = run(app, "--help").output.split("Commands:")[0]
    assert "--env-file" not in shown and "--app" not in shown and "--debug" not in shown and "--version" in shown
    for option in (["-A", "other:app"], ["--app", "other:app"], ["-e", "/etc/hostname"], ["--debug"]):
        assert_one_line_error(run(app, *option, "info"), f"no such option '{option[0]}'")
    # FlaskGroup would read any option from FLASK_<COMMAND>_<OPTION>: here only what is typed counts.
    monkeypatch.setenv("FLASK_USER_LIST_AS_JSON", "1")
    listed = run(app, "user", "list")
    assert listed.exit_code == 0 and not listed.output.startswith("[")
    assert "--debug" in run(app, "run", "--help").output  # the development server keeps its own


def test_a_repository_is_scanned_by_product_and_name_or_by_id(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "PLC")
    make_product(session, "HMI")
    repo = GitRepo(tmp_path / "firmware")
    repo.commit("Init")
    added = json.loads(run(app, "repo", "add", "PLC", str(repo.path), "--json").output)
    by_name = run(app, "repo", "scan", "plc", "firmware", "--wait", "--json")
    assert by_name.exit_code == 0, by_name.output
    assert json.loads(by_name.output)["result"]["new_commits"] == 1
    by_id = run(app, "repo", "scan", str(added["id"]), "--wait", "--json")
    assert by_id.exit_code == 0 and json.loads(by_id.output)["result"]["repository"] == "firmware"
    for args, fragment in (
        (["PLC", "nope"], "PLC has no repository 'nope'"),
        (["HMI", "firmware"], "HMI has no repository 'firmware'"),
        (["Nope", "firmware"], "no product named 'Nope'"),
        (["PLC"], "NAME: missing"),
        (["١٢"], "NAME: missing"),  # other scripts' digits are no id
        (["9" * 40], "NAME: missing"),
        (["999999"], "repository not found"),
    ):
        assert_one_line_error(run(app, "repo", "scan", *args), fragment)
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    assert_one_line_error(run(app, "repo", "scan", "PLC", "firmware", "--as", "dev@example.com"), "developer may not")


def test_the_client_commands_print_usage_errors_as_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for args, fragment in (
        (["client"], "the following arguments are required: command (try: sdl-tracker client --help)"),
        (["client", "bogus"], "invalid choice: 'bogus'"),
        (["client", "check", "--x"], "unrecognized arguments: --x"),
    ):
        with pytest.raises(SystemExit) as exited:
            client_main(args)
        err = capsys.readouterr().err
        assert exited.value.code == 2 and err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err
