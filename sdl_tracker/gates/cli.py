"""`sdl-tracker gate` commands: a release's gate (show, check for CI, evaluate, waive, sign off), a product's gate
policy as YAML, the legacy import of a release shipped before gates, and verifying a signed verdict offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import DAY, TEXT, echo_lines, emit, fail, json_option, say, server_command, write_document
from ..db import utcnow
from ..errors import DomainError, Invalid
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from .evaluations import evaluate_release, gate_status, product_policy, reset_policy, set_policy
from .forms import expiry_instant
from .policy import MAX_YAML_BYTES, RuleId, policy_from_yaml, policy_to_yaml
from .rules import Outcome
from .schemas import EvaluationOut, GateStatusOut, SignoffOut, WaiverOut
from .signoff import add_waiver, import_legacy_release, sign_off_release
from .verdict import VerdictRefused, verify_file

gate = AppGroup("gate", help="Release gates: status, CI check, waivers, sign-off, policy, signed verdicts.")
MAX_WAIT = 3600  # seconds `gate check --wait` may wait for a current result


def _release(session: Session, actor: Principal, product_name: str, version: str) -> Release:
    product = get_product_by_name(session, actor, product_name)
    return get_release_by_version(session, actor, product.id, version)


def _summary(release: Release, out: GateStatusOut) -> list[str]:
    """One line for the gate, then one per failing rule with its first reason."""
    name = f"{release.product.name} {release.version}"
    evaluation = out.evaluation
    if evaluation is None:
        return [f"{name}: not evaluated"]
    if not out.current:
        head = f"{name}: outdated: {out.outdated_because or 'the facts changed'} (last result {evaluation.outcome})"
    else:
        waived = [r.rule.value for r in evaluation.results if r.outcome is Outcome.WAIVED]
        head = f"{name}: {evaluation.outcome} (current, evaluated {evaluation.evaluated_at:%Y-%m-%d %H:%M} UTC"
        head += f"; waived: {', '.join(waived)})" if waived else ")"
    lines = [head]
    for result in evaluation.results:
        if result.outcome is Outcome.FAIL:
            first = result.reasons[0].message if result.reasons else "fails"
            more = f" (and {len(result.reasons) - 1} more)" if len(result.reasons) > 1 else ""
            lines.append(f"  FAIL {result.rule.value}: {first}{more}")
    if out.signoff is not None:
        state = "current" if out.signoff_current else "on an earlier result"
        lines.append(f"  signed off by {out.signoff.signed_by} on {out.signoff.signed_at:%Y-%m-%d} ({state})")
    return lines


def _emit_status(release: Release, out: GateStatusOut, as_json: bool) -> None:
    data = {"product": release.product.name, "version": release.version, **out.model_dump(mode="json")}
    emit(data, as_json, echo_lines(_summary(release, out), ""))


@gate.command("show")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def gate_show(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """Show VERSION's gate: the newest result, whether it is current, failing rules, sign-off (evaluates nothing)."""
    release = _release(session, actor, product_name, version)
    now = utcnow()
    _emit_status(release, GateStatusOut.of(gate_status(session, actor, release.id, now=now), now), as_json)


def _check(session: Session, actor: Principal, product_name: str, version: str, as_json: bool, wait: float) -> int:
    """Evaluate when the newest result is not current; 0 a current pass, 1 a fail or still outdated."""
    release = _release(session, actor, product_name, version)
    deadline = time.monotonic() + wait
    status = gate_status(session, actor, release.id, now=utcnow())
    while not status.current:
        evaluate_release(session, actor, release.id, now=utcnow())
        status = gate_status(session, actor, release.id, now=utcnow())
        if status.current or time.monotonic() >= deadline:
            break
        say(f"outdated: {status.outdated_because}; evaluating again", err=True)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    out = GateStatusOut.of(status, utcnow())
    _emit_status(release, out, as_json)
    return 0 if out.passed else 1


_checked: Callable[..., int] = server_command()(_check)


@gate.command("check")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@click.option(
    "--wait",
    type=click.IntRange(0, MAX_WAIT),
    default=0,
    metavar="SECONDS",
    help="While the facts keep changing under the evaluation, evaluate again for up to this long.",
)
@click.option("--as", "as_email", metavar="EMAIL", help="Act as this user, with their permissions.")
def gate_check(product_name: str, version: str, as_json: bool, wait: int, as_email: str | None) -> None:
    """Exit 0 when VERSION's gate passes on current facts, 1 when it fails (one line per failing rule) or stays
    outdated, 2 on an error. An outdated result is evaluated again first; it never counts as a pass."""
    code = _checked(product_name, version, as_json, float(wait), as_email=as_email)
    raise click.exceptions.Exit(code)


@gate.command("evaluate")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command()
def gate_evaluate(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """Evaluate VERSION's gate now and print the result, rule by rule."""
    release = _release(session, actor, product_name, version)
    out = EvaluationOut.of(evaluate_release(session, actor, release.id))
    lines = [f"{release.product.name} {release.version}: {out.outcome} (evaluation #{out.id})"]
    for result in out.results:
        first = f": {result.reasons[0].message}" if result.outcome is Outcome.FAIL and result.reasons else ""
        lines.append(f"  {result.outcome.value:<6} {result.rule.value}{first}")
    emit(out.model_dump(mode="json"), as_json, echo_lines(lines, ""))


@gate.command("waive")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("rule", type=click.Choice([r.value for r in RuleId]))
@click.option("--justification", type=TEXT, required=True, help="Why the release may ship with the rule failing.")
@click.option("--expires", type=DAY, required=True, help="The last day the waiver holds (YYYY-MM-DD, UTC).")
@json_option
@server_command()
def gate_waive(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    rule: str,
    justification: str,
    expires: date,
    as_json: bool,
) -> None:
    """Waive VERSION's failing RULE until a day (security officers; never no_known_exploitable)."""
    release = _release(session, actor, product_name, version)
    out = WaiverOut.of(add_waiver(session, actor, release.id, rule, justification, expiry_instant(expires)))
    emit(
        out.model_dump(mode="json"),
        as_json,
        lambda: say(
            f"{release.version}: {out.rule.value} waived until {out.expires_at:%Y-%m-%d %H:%M} UTC (#{out.id})"
        ),
    )


@gate.command("signoff")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--note", type=TEXT, default="", help="The officer's words, kept with the sign-off.")
@json_option
@server_command()
def gate_signoff(session: Session, actor: Principal, product_name: str, version: str, note: str, as_json: bool) -> None:
    """Sign off VERSION's current, passing gate as the user named by --as (separation of duties needs a person)."""
    if actor.user_id is None:
        raise Invalid.field("as", "a sign-off is a person's: give --as EMAIL (a security officer of the product)")
    release = _release(session, actor, product_name, version)
    out = SignoffOut.of(sign_off_release(session, actor, release.id, note))
    emit(
        out.model_dump(mode="json"),
        as_json,
        lambda: say(f"{release.version}: signed off by {out.signed_by} (verdict signed with key {out.key_id})"),
    )


def _read_policy(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise Invalid.field("import", f"{path} is larger than {MAX_YAML_BYTES} bytes")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid.field("import", f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


@gate.command("policy")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--import", "import_file", type=click.Path(path_type=Path, dir_okay=False), help="Set it from YAML.")
@click.option("--export", "export", is_flag=True, help="Write it as YAML (to standard output, or -o FILE).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="With --export: the file.")
@click.option("--reset", is_flag=True, help="Go back to the default for the product's type and target SL-C.")
@server_command()
def gate_policy(
    session: Session,
    actor: Principal,
    product_name: str,
    import_file: Path | None,
    export: bool,
    output: Path | None,
    reset: bool,
) -> None:
    """Show PRODUCT's gate policy (and whether it is the default), import it from YAML, export or reset it."""
    if sum([import_file is not None, export, reset]) > 1:
        raise Invalid("give one of --import, --export and --reset")
    if output is not None and not export:
        raise Invalid.field("output", "-o goes with --export")
    product = get_product_by_name(session, actor, product_name)
    if import_file is not None:
        problems: list[str] = []
        try:
            set_policy(session, actor, product.id, policy_from_yaml(_read_policy(import_file)))
        except Invalid as exc:
            problems = [f"{e.field}: {e.message}" for e in exc.errors] or [exc.message]
            for line in problems[1:]:
                say(f"  {line}", err=True)
            more = f" (and {len(problems) - 1} more)" if problems[1:] else ""
            raise Invalid(f"{import_file}: {problems[0]}{more}") from None
        say(f"{product.name}: gate policy set from {import_file}")
        return
    if reset:
        reset_policy(session, actor, product.id)
        say(f"{product.name}: gate policy reset to the default")
        return
    policy, is_default = product_policy(session, actor, product.id)
    text = policy_to_yaml(policy)
    if export:
        write_document(text.encode("utf-8"), output)
        return
    say(f"# {product.name}: {'the default policy' if is_default else 'the product policy'}")
    for line in text.splitlines():
        say(line)


@gate.command("legacy-import")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--date", "release_date", type=DAY, required=True, help="When it shipped (YYYY-MM-DD).")
@click.option("--reason", type=TEXT, required=True, help="Why it is recorded without a gate.")
@click.option("--git-ref", default="", help="Its git tag or commit.")
@json_option
@server_command()
def gate_legacy_import(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    release_date: date,
    reason: str,
    git_ref: str,
    as_json: bool,
) -> None:
    """Record VERSION as released before release gates existed (audited, and marked legacy everywhere)."""
    product = get_product_by_name(session, actor, product_name)
    release = import_legacy_release(
        session, actor, product.id, version, release_date=release_date, reason=reason, git_ref=git_ref
    )
    data: dict[str, Any] = {
        "product": product.name,
        "version": release.version,
        "release_id": release.id,
        "status": release.status.value,
        "release_date": release.release_date.isoformat() if release.release_date else None,
        "legacy": True,
    }
    emit(data, as_json, lambda: say(f"{product.name} {release.version}: recorded as released (legacy, no gate)"))


# No app context: verifying a downloaded verdict needs neither the database nor the installation, so it runs on
# any machine with the tracker installed and the public key at hand.
@gate.command("verify", with_appcontext=False)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The signing key's public half in PEM (`sdl-tracker keys public-key KEY_ID -o FILE`).",
)
@json_option
def gate_verify(file: Path, public_key: Path, as_json: bool) -> None:
    """Check FILE's signature with the public key and print what it says; exit 1 when it is not a gate verdict
    signed with that key, 2 when a file cannot be read."""
    try:
        verdict = verify_file(file, public_key)
    except VerdictRefused as exc:
        fail(f"verification failed: {exc.one_line()}", code=1)
        return
    except DomainError as exc:
        fail(exc.one_line())
        return
    data = {
        "verified": True,
        "product": verdict.product,
        "release": verdict.release,
        "outcome": verdict.outcome,
        "snapshot_sha256": verdict.snapshot_digest,
        "key_id": verdict.key_id,
        "statement": verdict.statement,
    }
    emit(
        data,
        as_json,
        lambda: say(
            f"verified: {verdict.product} {verdict.release}: {verdict.outcome} "
            f"(snapshot sha256:{verdict.snapshot_digest}, signed by key {verdict.key_id})"
        ),
    )
