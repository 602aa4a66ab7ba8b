"""Stored text never drives the operator's terminal: every command shows control characters escaped.

A vendor, an evidence title, a commit subject or an SBOM's component name is written by others. The
commands print through one function (`commands.say`, `client.terminal.say`) that escapes them; a
test below holds every module to that, and the hostile values are printed by each command that shows
stored text, as text and as JSON.
"""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import ApiToken, User
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.audit.services import record
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.models import CatalogEdition
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.cli import cli
from sdl_tracker.client.terminal import escape_controls
from sdl_tracker.commands import fail, say, say_progress
from sdl_tracker.evidence.scoping import propose_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.products.models import Repository
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, make_product, make_release, make_user, member
from tests.sboms.builders import dumps, json_bom

PACKAGE = Path(__file__).resolve().parent.parent / "sdl_tracker"
# The only modules that write to the terminal: each escapes what it prints.
WRITERS = {PACKAGE / "commands.py", PACKAGE / "client" / "terminal.py"}

# Retitles the terminal, clears it, returns to the start of the line, forges a line, reverses the text
# that follows (U+202E) and opens a C1 control sequence (CSI, 0x9b).
HOSTILE = "T\x1b]0;pwned\x07\x1b[2J\rFORGED\nFORGED line \u202egnp.exe\x9b31m"
ESCAPED = "T\\x1b]0;pwned\\x07\\x1b[2J\\rFORGED\\nFORGED line \\u202egnp.exe\\x9b31m"
# What must never reach a terminal from stored text (a command's own newlines end its lines).
CONTROLS = {
    chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
} - {"\n"}


# --- the function ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\x00\x7f\x85\x9b\x9f", "\\x00\\x7f\\x85\\x9b\\x9f"),
        ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
        ("line\u2028separator\u2029", "line\\u2028separator\\u2029"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        # Printable text stays as it is: accents, scripts, emoji (ZWJ sequences too), no-break spaces,
        # backslashes.
        *[(text, text) for text in ["Müller GmbH · 東芝 · 👩\u200d🔧", "10\u00a0V · C:\\x1b"]],
    ],
)
def test_control_characters_are_shown_escaped(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown


def test_every_control_character_becomes_printable_ascii() -> None:
    for char in CONTROLS | {"\n", "\u2028", "\u2029", "\u061c", "\u200e", "\u200f"}:
        shown = escape_controls(char)
        assert shown.startswith("\\") and shown.isascii() and shown.isprintable(), repr(char)


def test_say_and_fail_print_one_escaped_line() -> None:
    @click.command()
    def speak() -> None:
        say(HOSTILE)
        fail(HOSTILE)

    result = CliRunner().invoke(speak)
    assert result.exit_code == 2
    assert result.stdout == ESCAPED + "\n"
    assert result.stderr == f"error: {ESCAPED}\n"


def test_the_progress_line_keeps_its_own_carriage_return_only() -> None:
    @click.command()
    def progress() -> None:
        say_progress(f"[###] 3/10 {HOSTILE}", 100)

    shown = CliRunner().invoke(progress).stderr
    assert shown == "\r" + f"[###] 3/10 {ESCAPED}"[:100].ljust(100)


# --- one way to print --------------------------------------------------------------------------------


def _writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every place a module prints other than through the escaping functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            yield node.lineno, "print()"
        elif isinstance(node, ast.Attribute) and node.attr in {
            "echo",
            "secho",
            "echo_via_pager",
            "get_text_stream",
            "get_binary_stream",
        }:
            yield node.lineno, f".{node.attr}"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
            and node.attr in {"stdout", "stderr", "__stdout__", "__stderr__"}
        ):
            yield node.lineno, f"sys.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "click":
            yield from ((node.lineno, f"from click import {a.name}") for a in node.names if "echo" in a.name)


def test_only_the_escaping_functions_write_to_the_terminal() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {what} (print through commands.say / echo_lines / emit)"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in WRITERS
        for line, what in _writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "click.echo(title)",
        "print(title)",
        "sys.stdout.write(title)",
        "from click import echo",
        "click.get_binary_stream('stdout')",
    ],
)
def test_the_check_finds_a_raw_write(source: str) -> None:
    assert list(_writes(ast.parse(source)))


# --- every command that prints stored text -----------------------------------------------------------

Setup = Callable[[Session], list[str]]


def _evidence(session: Session) -> int:
    product = make_product(session, "P")
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="other",
        data=EvidenceInput(
            title="clean", requirements=["SM-1"], files=[Upload("a.txt", "text/plain", io.BytesIO(b"evidence"))]
        ),
    )
    evidence.current.title = HOSTILE  # stored by an older version, or by a door that let it through
    return evidence.id


def _product(session: Session) -> list[str]:
    product = make_product(session, "P")
    product.vendor = product.security_contact = HOSTILE
    product.interfaces[0].protocol = HOSTILE
    return ["product", "show", "P"]


def _products(session: Session) -> list[str]:
    make_product(session, "P").vendor = HOSTILE
    return ["product", "list"]


def _releases(session: Session) -> list[str]:
    make_release(session, make_product(session, "P"), "1.0").git_ref = HOSTILE
    return ["release", "list", "P"]


def _repositories(session: Session) -> list[str]:
    product = make_product(session, "P")
    session.add(Repository(product_id=product.id, name=HOSTILE, location=HOSTILE))
    return ["repo", "list", "P"]


def _evidence_list(session: Session) -> list[str]:
    _evidence(session)
    return ["evidence", "list", "P"]


def _evidence_show(session: Session) -> list[str]:
    return ["evidence", "show", str(_evidence(session))]


def _scoping(session: Session) -> list[str]:
    product = make_product(session, "P")
    propose_scoping(session, OPERATOR, product.id, requirement="SM-1", justification="x").justification = HOSTILE
    return ["evidence", "scoping", "P"]


def _claims(session: Session) -> list[str]:
    release = make_release(session, make_product(session, "P"), "1.0")
    claim = set_claim(
        session, OPERATOR, release.id, "CR 1.1", ClaimInput("not_applicable", justification="x", override_reason="x")
    )
    claim.notes = claim.justification = claim.override_reason = HOSTILE
    return ["claims", "gap", "P"]


def _claims_list(session: Session) -> list[str]:
    _claims(session)
    return ["claims", "list", "P"]


def _sbom(session: Session) -> int:
    release = make_release(session, make_product(session, "P"), "1.0")
    bom = json_bom()
    bom["metadata"]["component"]["name"] = HOSTILE
    bom["components"][1]["name"] = HOSTILE
    bom["metadata"]["tools"] = {"components": [{"type": "application", "name": HOSTILE, "version": "1"}]}
    raw = dumps(bom)
    upload = Upload("bom.json", "application/json", io.BytesIO(raw))
    # A title taken from the document is made one line; one stored before titles were bounded is not.
    return import_sbom(session, OPERATOR, release.id, upload, title=HOSTILE).sbom.id


def _sbom_list(session: Session) -> list[str]:
    _sbom(session)
    return ["sbom", "list", "P"]


def _sbom_show(session: Session) -> list[str]:
    return ["sbom", "show", str(_sbom(session))]


def _sbom_components(session: Session) -> list[str]:
    return ["sbom", "components", str(_sbom(session))]


def _audit(session: Session) -> list[str]:
    record(session, Principal(label=HOSTILE, is_admin=True), "tests:hostile:write", target_type="x", target_id=HOSTILE)
    return ["audit", "log", "--limit", "1"]


def _users(session: Session) -> list[str]:
    make_user(session, "someone@example.com").email = HOSTILE
    return ["user", "list"]


def _members(session: Session) -> list[str]:
    member(session, make_product(session, "P"), "developer", email="dev@example.com")
    session.flush()
    session.query(User).filter_by(email="dev@example.com").one().email = HOSTILE
    return ["member", "list", "P"]


def _tokens(session: Session) -> list[str]:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    owner = session.query(User).filter_by(email="dev@example.com").one()
    create_token(session, OPERATOR, user_id=owner.id, name="ci", product_ids=[product.id])
    session.flush()
    session.query(ApiToken).filter_by(user_id=owner.id).one().name = HOSTILE
    return ["token", "list"]


def _job(session: Session) -> list[str]:
    job = Job(kind="tests", arguments={}, state=JobState.FAILED, created_by="cli:tests")
    job.progress_message = job.error = HOSTILE
    session.add(job)
    session.flush()
    return ["job", "show", str(job.id)]


def _catalog(session: Session) -> list[str]:
    session.query(CatalogEdition).first().title = HOSTILE  # type: ignore[union-attr]
    return ["catalog", "list"]


def _commits(session: Session) -> list[str]:
    product = make_product(session, "P")
    make_release(session, product, "1.0", git_ref="v1")
    sha = "a" * 40
    repository = Repository(product_id=product.id, name="r", location="/r", refs={"refs/tags/v1": sha})
    session.add(repository)
    session.flush()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    session.add(
        Commit(
            repository_id=repository.id,
            sha=sha,
            parents=[],
            author_name=HOSTILE,
            author_email="dev@example.com",
            authored_at=at,
            committer_name=HOSTILE,
            committer_email="dev@example.com",
            committed_at=at,
            subject=HOSTILE,
            trailers=[],
            paths=[],
        )
    )
    return ["release", "commits", "P", "1.0"]


def _vex_list(session: Session) -> list[str]:
    release = make_release(session, make_product(session, "P"), "1.0")
    decision = record_decision(session, OPERATOR, release.id, "CVE-2024-3094", DecisionInput("affected", action="x"))
    decision.component_purl = HOSTILE
    return ["vex", "list", "P", "1.0"]


COMMANDS: dict[str, Setup] = {
    "product show": _product,
    "product list": _products,
    "release list": _releases,
    "repo list": _repositories,
    "evidence list": _evidence_list,
    "evidence show": _evidence_show,
    "evidence scoping": _scoping,
    "claims gap": _claims,
    "claims list": _claims_list,
    "sbom list": _sbom_list,
    "sbom show": _sbom_show,
    "sbom components": _sbom_components,
    "audit log": _audit,
    "user list": _users,
    "member list": _members,
    "token list": _tokens,
    "job show": _job,
    "catalog list": _catalog,
    "release commits": _commits,
    "vex list": _vex_list,
}
# Commands whose text shows no stored free text (claims list: requirement, status, why not counting).
JSON_ONLY = {"claims list"}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.db
@pytest.mark.parametrize("command", list(COMMANDS))
def test_stored_control_characters_are_shown_escaped(app: Flask, session: Session, command: str) -> None:
    args = COMMANDS[command](session)
    session.commit()
    runner = app.test_cli_runner()
    text = runner.invoke(cli, args)
    assert text.exit_code in (0, 1), text.output  # job show of a failed job, or a gap: both print first
    assert command in JSON_ONLY or ESCAPED in text.output, text.output
    assert not CONTROLS & set(text.output), text.output
    assert not any(line.startswith("FORGED") for line in text.output.split("\n")), text.output

    as_json = runner.invoke(cli, [*args, "--json"])
    assert not CONTROLS & set(as_json.stdout), as_json.stdout
    document = json.loads(as_json.stdout)  # still valid JSON, holding the value as it was stored
    assert HOSTILE in set(_strings(document))
