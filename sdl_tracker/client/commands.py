"""`sdl-tracker client ...` and `sdl-tracker hook ...`: the grammar (argparse) and the commands a person runs.

Exit 0 success, 1 a negative answer (commits still queued or refused), 2 an error with one line on
stderr, as the server's commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from . import vocabulary
from .ci import (
    GATE_WAIT,
    EvidenceFields,
    add_evidence,
    check_gate,
    ci_run_url,
    failing_rules,
    locate,
    parse_details,
    record_artifacts,
    upload_sbom,
)
from .git import Repository, open_repository, top_level
from .hooks import (
    DEFAULT_TOKEN_ENV,
    GIT_HOOKS,
    HOOK_TIMEOUT,
    Settings,
    configured,
    deliver,
    refresh_vocabulary,
    report,
    run_git_hook,
)
from .http import (
    CONNECT_TIMEOUT,
    RETRIES,
    TIMEOUT,
    Answered,
    ClientError,
    Server,
    parse_server,
    printable,
    with_retries,
)
from .install import check_python, install, installed, uninstall
from .spool import Spool
from .terminal import counted, say, say_json
from .tracker import product_id

UPLOAD_TIMEOUT = 300.0  # seconds for one upload request: an SBOM of megabytes over a slow link


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line and exit 2, as the server commands print theirs."""

    def error(self, message: str) -> NoReturn:
        """`error: the following arguments are required: command (try: sdl-tracker client --help)`."""
        say(f"error: {message} (try: {self.prog} --help)", err=True)
        raise SystemExit(2)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("between 0 and 600 seconds")
    return value


def _wait_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("between 0 and 3600 seconds")
    return value


def _connection_options(parser: argparse.ArgumentParser) -> None:
    """--server, --token-env, --ca-bundle and --connect-timeout, shared by the commands that reach a tracker."""
    parser.add_argument(
        "--server", default=os.environ.get("SDL_TRACKER_SERVER"), help="The tracker's base URL (SDL_TRACKER_SERVER)."
    )
    parser.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        metavar="NAME",
        help=f"The environment variable holding the API token (default {DEFAULT_TOKEN_ENV}).",
    )
    parser.add_argument(
        "--ca-bundle",
        default=os.environ.get("SDL_TRACKER_CA_BUNDLE"),
        metavar="FILE",
        help="CA certificates (PEM) to verify the tracker's TLS certificate with (SDL_TRACKER_CA_BUNDLE).",
    )
    parser.add_argument(
        "--connect-timeout",
        type=_seconds,
        default=CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"How long to wait for the tracker to accept a connection (default {CONNECT_TIMEOUT:g}).",
    )


def _day(text: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _where(parser: argparse.ArgumentParser, *, release: bool) -> None:
    """--product (SDL_TRACKER_PRODUCT) and --release, which the CI commands share."""
    product = os.environ.get("SDL_TRACKER_PRODUCT")
    parser.add_argument(
        "--product", default=product, required=not product, help="The product: its id or name (SDL_TRACKER_PRODUCT)."
    )
    if release:
        parser.add_argument("--release", required=True, metavar="VERSION", help="The release version, such as 4.2.0.")


def _ci_commands(commands: Any) -> None:
    """The commands a CI job runs: evidence-add, sbom-upload, artifact-add, gate-check."""
    evidence = commands.add_parser("evidence-add", help="Attach files as evidence (again: the item they already are).")
    _where(evidence, release=False)
    evidence.add_argument("--kind", required=True, help="The evidence kind, such as requirements-test.")
    evidence.add_argument("--title", required=True)
    evidence.add_argument("--requirement", dest="requirements", action="append", required=True, metavar="ID",
                          help="A requirement the evidence shows, such as SVV-1 (repeatable).")  # fmt: skip
    evidence.add_argument("--release", dest="releases", action="append", default=[], metavar="VERSION",
                          help="A release it covers (repeatable; none: the whole product).")  # fmt: skip
    evidence.add_argument("--effective-date", type=_day, metavar="YYYY-MM-DD",
                          help="When the activity happened (default: the upload's day).")  # fmt: skip
    evidence.add_argument("--description", default="", help="Markdown.")
    evidence.add_argument("--author", default="")
    evidence.add_argument("--detail", dest="details", action="append", default=[], metavar="KEY=VALUE",
                          help="A fact of the kind (findings.high=2); repeatable.")  # fmt: skip
    evidence.add_argument("--draft", action="store_true", help="Keep it a draft (not submitted for review).")
    evidence.add_argument("files", nargs="+", metavar="FILE")
    sbom = commands.add_parser(
        "sbom-upload", help="Import a CycloneDX or SPDX SBOM into a release; wait for its verdict."
    )
    _where(sbom, release=True)
    sbom.add_argument("file", metavar="FILE")
    sbom.add_argument("--title", default="")
    sbom.add_argument("--primary", action="store_true", help="Make it the release's primary SBOM.")
    sbom.add_argument("--strict", action="store_true", help="Refuse it for format-only violations too.")
    sbom.add_argument("--wait", type=_seconds, default=600.0, metavar="SECONDS",
                      help="How long to follow an import job (default 600).")  # fmt: skip
    artifacts = commands.add_parser("artifact-add", help="Record the name, size and SHA-256 of a build's files.")
    _where(artifacts, release=True)
    artifacts.add_argument("files", nargs="+", metavar="FILE")
    artifacts.add_argument("--ci-run-url", default=ci_run_url(dict(os.environ)), metavar="URL",
                           help="The CI run (default: from GITHUB_* or CI_PIPELINE_URL).")  # fmt: skip
    gate = commands.add_parser(
        "gate-check",
        help="Whether the release's gate passes on current facts: exit 0 pass, 1 fail (or still outdated), 2 error.",
    )
    gate.add_argument("product", metavar="PRODUCT", help="The product: its id or name.")
    gate.add_argument("version", metavar="VERSION", help="The release version, such as 4.2.0.")
    gate.add_argument("--timeout", dest="wait", type=_wait_seconds, default=GATE_WAIT, metavar="SECONDS",
                      help=f"How long to wait for a current result (default {GATE_WAIT:g}).")  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sdl-tracker", description="sdl-tracker client commands.")
    groups = parser.add_subparsers(dest="group", required=True)
    client = groups.add_parser("client", help="Talk to a tracker over HTTP with an API token.")
    _connection_options(client)
    client.add_argument(
        "--retries",
        type=int,
        choices=range(6),
        default=RETRIES,
        metavar="N",
        help="Retries after a failure that may pass (default 2).",
    )
    client.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"How long one request may take (default {TIMEOUT:g}; uploads {UPLOAD_TIMEOUT:g}).",
    )
    commands = client.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="Check the server answers and the token is accepted; list its products.")
    _ci_commands(commands)
    for sub in (check, *(commands.choices[name] for name in CI_COMMANDS)):
        sub.add_argument("--json", action="store_true", help="Print JSON.")

    hook = groups.add_parser("hook", help="The git hooks: install them, deliver queued commits.")
    hooks = hook.add_subparsers(dest="command", required=True)
    setup = hooks.add_parser("install", help="Install the hooks in a repository (chained to the hooks there).")
    _connection_options(setup)
    setup.add_argument("--product", required=True, help="The tracker's product: its id, or its name.")
    setup.add_argument("--repository", help="The repository's name on the tracker (default: the directory's name).")
    setup.add_argument(
        "--hook-timeout",
        type=_seconds,
        default=HOOK_TIMEOUT,
        metavar="SECONDS",
        help=f"How long a hook may spend delivering commits (default {HOOK_TIMEOUT:g}).",
    )
    hooks.add_parser("uninstall", help="Remove the hooks and put back the ones they chained to.")
    flush = hooks.add_parser("flush", help="Deliver the queued commits now.")
    flush.add_argument("--retry-rejected", action="store_true", help="Send the commits the tracker refused again too.")
    hooks.add_parser("status", help="Settings, installed hooks, queued and refused commits.")
    hooks.add_parser("refresh", help="Fetch the requirement ids the commit-msg hook checks against.")
    for name in ("install", "uninstall", "flush", "status", "refresh"):
        sub = hooks.choices[name]
        sub.add_argument("--repo", default=".", metavar="PATH", help="The repository (default: here).")
        sub.add_argument("--json", action="store_true", help="Print JSON.")
    hooks.add_parser("commit-msg", help="What git runs: warn about the message.").add_argument("message_file")
    hooks.add_parser("post-commit", help="What git runs: queue the commit, deliver the queue.")
    pre_push = hooks.add_parser("pre-push", help="What git runs: queue the pushed commits, deliver the queue.")
    pre_push.add_argument("remote")
    pre_push.add_argument("url")
    return parser


def _token(name: str) -> str:
    token = os.environ.get(name, "").strip()
    if not token:
        raise ClientError(f"no token: set {name} (an API token from the tracker)")
    return token


def _server(arguments: argparse.Namespace, timeout: float | None = None) -> Server:
    return Server(
        parse_server(arguments.server),
        _token(arguments.token_env),
        connect_timeout=arguments.connect_timeout,
        ca_bundle=arguments.ca_bundle,
        **({} if timeout is None else {"timeout": timeout}),
    )


def check(server: Server, as_json: bool, retries: int) -> int:
    """Say whether the token works and which products it sees."""
    page = with_retries(lambda: server.get_json("/products", {"per_page": 200}), retries)
    items = page.get("items") if isinstance(page, dict) else None
    total = page.get("total") if isinstance(page, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items) or not isinstance(total, int):
        raise ClientError(f"{server.base_url} answered with something that is not a page of products")
    names = [str(item.get("name", "?")) for item in items]
    if as_json:
        say_json({"server": server.base_url, "products": names, "total": total})
    else:
        listed = ", ".join(printable(name, 120) for name in names) if names else "none"
        say(f"{server.base_url}: token accepted; products it sees ({total}): {listed}")
    return 0


def evidence_add(server: Server, arguments: argparse.Namespace) -> int:
    """Attach files as evidence; say which item they are."""
    where = locate(server, arguments.product, None, arguments.retries)
    fields = EvidenceFields(
        kind=arguments.kind,
        title=arguments.title,
        requirements=arguments.requirements,
        releases=arguments.releases,
        effective_date=arguments.effective_date,
        description=arguments.description,
        author=arguments.author,
        details=parse_details(arguments.details),
        draft=arguments.draft,
    )
    item = add_evidence(server, where, fields, arguments.files, arguments.retries)
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise ClientError(f"{server.base_url} answered with something that is not evidence")
    if arguments.json:
        say_json(item)
    elif item.get("created") is False:
        say(f"already attached as #{item['id']}")
    else:
        say(f"evidence #{item['id']} attached ({counted(len(arguments.files), 'file')})")
    return 0


def sbom_upload(server: Server, arguments: argparse.Namespace) -> int:
    """Import an SBOM; print the verdict and its warnings; exit 1 when the tracker refused it."""
    where = locate(server, arguments.product, arguments.release, arguments.retries)
    options = {"title": arguments.title, "primary": arguments.primary, "strict": arguments.strict}
    options = {key: value for key, value in options.items() if value}
    try:
        verdict = upload_sbom(server, where, arguments.file, options, arguments.retries, arguments.wait)
    except Answered as exc:
        if exc.status != 422:
            raise
        verdict_json = {"verdict": "refused", "error": str(exc)}
        say_json(verdict_json) if arguments.json else say(f"refused: {exc}", err=True)
        return 1
    if verdict.sbom is None:
        if arguments.json:
            say_json({"verdict": "failed", "job": verdict.job, "error": verdict.error})
        else:
            say(f"the import failed (job {verdict.job}): {verdict.error}", err=True)
        return 1
    sbom = verdict.sbom
    warnings = [w for w in sbom.get("warnings") or [] if isinstance(w, dict)]
    if arguments.json:
        say_json({"verdict": "imported" if verdict.created else "already-imported", "job": verdict.job, "sbom": sbom})
        return 0
    if verdict.created:
        components = counted(int(sbom.get("components") or 0), "component")
        say(f"SBOM #{sbom['id']} imported into release {arguments.release}: {components}, "
            f"{counted(len(warnings), 'warning')}")  # fmt: skip
    else:
        say(f"SBOM #{sbom['id']}: these bytes were already imported; {counted(len(warnings), 'warning')}")
    for warning in warnings:
        say(f"  warning: {printable(str(warning.get('path', '')))}: {printable(str(warning.get('message', '')))}")
    return 0


def artifact_add(server: Server, arguments: argparse.Namespace) -> int:
    """Record a build's files on the release."""
    where = locate(server, arguments.product, arguments.release, arguments.retries)
    recorded = record_artifacts(server, where, arguments.files, arguments.ci_run_url, arguments.retries)
    if arguments.json:
        say_json({"release": arguments.release, "items": recorded})
        return 0
    new = sum(1 for item in recorded if item.get("created"))
    say(f"release {arguments.release}: {counted(new, 'artifact')} recorded, {len(recorded) - new} already there")
    for item in recorded:
        say(f"  {printable(str(item.get('name')))}  {item.get('size')} bytes  sha256 {item.get('sha256')}")
    return 0


def gate_check(server: Server, arguments: argparse.Namespace) -> int:
    """Say whether the release's gate passes on current facts (waiting, with progress, while it is outdated)."""
    where = locate(server, arguments.product, arguments.version, arguments.retries)
    verdict = check_gate(server, where, arguments.wait, arguments.retries, lambda line: say(line, err=True))
    name = f"{printable(arguments.product, 120)} {printable(arguments.version, 64)}"
    if arguments.json:
        say_json({"verdict": verdict.verdict, "product": arguments.product, "release": arguments.version,
                  "gate": verdict.status})  # fmt: skip
        return verdict.exit_code
    if verdict.verdict == "outdated":
        why = printable(str(verdict.status.get("outdated_because") or "not evaluated"))
        say(f"{name}: gate still outdated after {arguments.wait:g} s ({why}): not a pass")
        return 1
    say(f"{name}: {verdict.verdict} (current)")
    for rule, reason in failing_rules(verdict.status):
        say(f"  FAIL {rule}: {reason}")
    return verdict.exit_code


CI_COMMANDS = {
    "evidence-add": evidence_add,
    "sbom-upload": sbom_upload,
    "artifact-add": artifact_add,
    "gate-check": gate_check,
}


def _installed_settings(path: str) -> tuple[Repository, Spool, Settings]:
    repository = open_repository(path)
    spool = Spool(repository.common_dir)
    settings = configured(spool)
    if settings is None:
        raise ClientError(f"the hooks are not installed for {repository.path}: run `sdl-tracker hook install`")
    return repository, spool, settings


def hook_install(arguments: argparse.Namespace) -> int:
    """Record where commits go, install the hooks, and cache the requirement ids if the tracker answers."""
    repository = open_repository(arguments.repo)
    server_url = parse_server(arguments.server)
    ca_bundle = None
    if arguments.ca_bundle:
        ca_bundle = os.path.abspath(arguments.ca_bundle)
        if not os.path.isfile(ca_bundle):
            raise ClientError(f"no CA bundle at {ca_bundle}")
    product = arguments.product.strip()
    if not (product.isascii() and product.isdigit()):
        server = _server(arguments, timeout=10.0)
        product = with_retries(lambda: product_id(server, arguments.product))
    name = arguments.repository or os.path.basename(top_level(repository) or os.path.dirname(repository.common_dir))
    if not name or len(name) > 200 or printable(name) != name:
        raise ClientError(f"pass --repository NAME: {printable(name)!r} is no repository name")
    check_python(sys.executable)
    spool = Spool(repository.common_dir)
    settings = {
        "server": server_url,
        "product": str(int(product)),
        "repository": name,
        "token_env": arguments.token_env,
        "ca_bundle": ca_bundle,
        "connect_timeout": arguments.connect_timeout,
        "hook_timeout": arguments.hook_timeout,
    }
    spool.write("settings", Settings(settings).as_data())
    lines = install(repository)
    try:
        cached: int | str = refresh_vocabulary(spool, _server(arguments, timeout=10.0))
    except ClientError as exc:
        cached = str(exc)
    if arguments.json:
        say_json({"hooks_dir": repository.hooks_dir, "hooks": installed(repository), "server": server_url,
                  "product": int(product), "repository": name, "requirements": cached})  # fmt: skip
        return 0
    say(f"hooks in {repository.hooks_dir}: commits go to {server_url}, product {int(product)}, repository {name}")
    for line in lines:
        say(f"  {line}")
    if isinstance(cached, int):
        say(f"  {cached} requirement ids cached for the commit-msg check")
    else:
        say(f"  requirement ids not cached ({cached}); `sdl-tracker hook refresh` fetches them later")
    return 0


def hook_uninstall(arguments: argparse.Namespace) -> int:
    """Remove the hooks; say what is still queued."""
    repository = open_repository(arguments.repo)
    lines = uninstall(repository)
    spool = Spool(repository.common_dir)
    waiting = len(spool.queued())
    if arguments.json:
        say_json({"hooks_dir": repository.hooks_dir, "done": lines, "queued": waiting})
        return 0
    for line in lines:
        say(line)
    if waiting:
        say(f"{counted(waiting, 'commit')} still queued in {spool.queue_dir}: `sdl-tracker hook flush` delivers them")
    return 0


def hook_flush(arguments: argparse.Namespace) -> int:
    """Deliver the queued commits now; exit 1 if some are still queued or were refused."""
    repository, spool, settings = _installed_settings(arguments.repo)
    _token(settings.token_env)
    requeued = spool.requeue_rejected() if arguments.retry_rejected else 0
    outcome = deliver(repository, spool, settings, budget=None, retries=RETRIES, patient=False)
    waiting = spool.queued()
    if arguments.json:
        say_json({
            "delivered": outcome.delivered, "requeued": requeued, "queued": waiting,
            "rejected": [{"sha": sha, "reason": reason} for sha, reason in outcome.rejected],
            "stopped": outcome.stopped,
        })  # fmt: skip
    else:
        delivered = counted(len(outcome.delivered), "commit")
        say(f"delivered {delivered}; {len(waiting)} queued; {len(outcome.rejected)} refused")
        for line in report(outcome, spool):
            say(line)
    return 1 if waiting or outcome.rejected else 0


def hook_status(arguments: argparse.Namespace) -> int:
    """Where commits go, which hooks are installed, what is queued or was refused."""
    repository, spool, settings = _installed_settings(arguments.repo)
    queued = spool.queued()
    rejected = spool.rejected()
    state = spool.read("state") or {}
    known = vocabulary.from_data(spool.read("vocabulary"))
    hooks = installed(repository)
    status = {
        "server": settings.server,
        "product": settings.product,
        "repository": settings.repository,
        "token_env": settings.token_env,
        "token_set": bool(os.environ.get(settings.token_env, "").strip()),
        "ca_bundle": settings.ca_bundle,
        "hooks_dir": repository.hooks_dir,
        "hooks": hooks,
        "queued": queued,
        "rejected": [{"sha": sha, "reason": reason} for sha, reason in rejected],
        "paused_until": state.get("away_until") if float(state.get("away_until", 0)) > time.time() else None,
        "requirements": None if known.requirements is None else len(known.requirements),
        "requirements_fetched_at": known.fetched_at or None,
    }
    if arguments.json:
        say_json(status)
        return 0
    say(f"commits go to {settings.server}, product {settings.product}, repository {settings.repository}")
    say(f"token: {settings.token_env} is {'set' if status['token_set'] else 'not set'}")
    say("hooks: " + ", ".join(f"{hook} ({state})" for hook, state in hooks.items()))
    say(f"queued: {len(queued)}; refused: {len(rejected)}")
    for sha, reason in rejected:
        say(f"  refused {sha[:12]}: {reason}")
    if status["paused_until"]:
        until = time.strftime("%H:%M:%S", time.localtime(float(state["away_until"])))
        say(f"the hooks leave the tracker alone until {until}: {state.get('reason', '')}")
    if known.requirements is None:
        say("requirement ids: none cached (`sdl-tracker hook refresh`)")
    else:
        fetched = time.strftime("%Y-%m-%d %H:%M", time.localtime(known.fetched_at))
        say(f"requirement ids: {len(known.requirements)}, fetched {fetched}")
    return 0


def hook_refresh(arguments: argparse.Namespace) -> int:
    """Fetch the tracker's requirement ids into the cache the commit-msg hook reads."""
    _repository, spool, settings = _installed_settings(arguments.repo)
    server = settings.server_for(_token(settings.token_env), 30.0)
    count = with_retries(lambda: refresh_vocabulary(spool, server))
    if arguments.json:
        say_json({"requirements": count, "server": settings.server})
    else:
        say(f"{count} requirement ids cached from {settings.server}")
    return 0


HOOK_COMMANDS = {
    "install": hook_install,
    "uninstall": hook_uninstall,
    "flush": hook_flush,
    "status": hook_status,
    "refresh": hook_refresh,
}


def run(argv: Sequence[str]) -> int:
    """Parse and run one command; a ClientError is one line on stderr and exit 2."""
    arguments = _parser().parse_args(list(argv))
    try:
        if arguments.group == "client":
            if arguments.command in CI_COMMANDS:
                server = _server(arguments, timeout=arguments.timeout or UPLOAD_TIMEOUT)
                return CI_COMMANDS[arguments.command](server, arguments)
            return check(_server(arguments, timeout=arguments.timeout), arguments.json, arguments.retries)
        if arguments.command in GIT_HOOKS:
            if arguments.command == "pre-push":
                return run_git_hook("pre-push", [arguments.remote, arguments.url], sys.stdin.read())
            return run_git_hook(
                arguments.command, [arguments.message_file] if arguments.command == "commit-msg" else []
            )
        return HOOK_COMMANDS[arguments.command](arguments)
    except ClientError as exc:
        say(f"error: {exc}", err=True)
        return 2
