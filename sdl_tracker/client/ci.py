"""What a CI job sends a tracker (evidence files, an SBOM following its import job, a build's artifact digests) and
asks it (whether the release's gate passes on current facts).

Every upload is idempotent on the tracker (keyed on the files' SHA-256), so a retried request or a
re-run job never records anything twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .http import Answered, ClientError, Part, Server, printable, with_retries
from .tracker import pages, product_id

MAX_ARTIFACTS = 200  # what the tracker takes in one request; more go in several
JOB_POLL_FIRST = 0.2  # seconds before the first look at an import job; doubled up to JOB_POLL_MAX
JOB_POLL_MAX = 5.0
FINISHED = ("succeeded", "failed")


@dataclass(frozen=True)
class Where:
    """The product (and release) a CI job reports on, by the ids the tracker gave them."""

    product: int
    release: int | None = None


@dataclass
class EvidenceFields:
    """What `client evidence-add` sends besides its files (the API's `metadata` part)."""

    kind: str
    title: str
    requirements: list[str]
    releases: list[str] = field(default_factory=list)
    effective_date: str | None = None
    description: str = ""
    author: str = ""
    details: dict[str, Any] | None = None
    draft: bool = False


def read_file(path: str) -> bytes:
    """A file's bytes, or one line saying why not."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ClientError(f"cannot read {printable(path)}: {printable(exc.strerror or str(exc))}") from None


def file_digest(path: str) -> tuple[int, str]:
    """A file's size and SHA-256, read in chunks (a firmware image need not fit in memory)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise ClientError(f"cannot read {printable(path)}: {printable(exc.strerror or str(exc))}") from None
    return size, digest.hexdigest()


def locate(server: Server, product: str, version: str | None, retries: int) -> Where:
    """The ids of a product (its id or name) and one of its release versions."""
    found = int(with_retries(lambda: product_id(server, product), retries))
    if version is None:
        return Where(found)
    releases = with_retries(lambda: pages(server, f"/products/{found}/releases", {}), retries)
    for release in releases:
        if release.get("version") == version and isinstance(release.get("id"), int):
            return Where(found, release["id"])
    raise ClientError(f"product {found} has no release {printable(version, 120)!r} (create it on the tracker first)")


def parse_details(pairs: Sequence[str]) -> dict[str, Any] | None:
    """`KEY=VALUE` pairs as the kind's facts; a dotted key nests (findings.high=2)."""
    details: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        *parents, leaf = key.strip().split(".")
        if not sep or not all([*parents, leaf]):
            raise ClientError(f"--detail takes KEY=VALUE, got {printable(pair, 120)!r}")
        node = details
        for parent in parents:
            node = node.setdefault(parent, {})
            if not isinstance(node, dict):
                raise ClientError(f"--detail {printable(key, 120)!r} mixes a value and nested keys")
        node[leaf] = value
    return details or None


def add_evidence(server: Server, where: Where, fields: EvidenceFields, paths: Sequence[str], retries: int) -> Any:
    """Attach files as evidence; the tracker's item (with `created`: false when the files already were one)."""
    import json

    metadata = {key: value for key, value in vars(fields).items() if value not in (None, "")}
    parts = [Part("metadata", json.dumps(metadata).encode(), content_type="application/json")]
    parts += [Part("file", read_file(path), filename=os.path.basename(path)) for path in paths]
    return with_retries(lambda: server.post_multipart(f"/products/{where.product}/evidence", parts)[1], retries)


@dataclass(frozen=True)
class SbomVerdict:
    """What became of an uploaded SBOM: the tracker's SBOM (imported, or already there), or why it failed."""

    sbom: dict[str, Any] | None
    created: bool
    job: int | None = None
    error: str = ""


def upload_sbom(
    server: Server,
    where: Where,
    path: str,
    options: dict[str, Any],
    retries: int,
    wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> SbomVerdict:
    """Upload an SBOM (CycloneDX or SPDX); a big one is imported by a job, followed until it ends or `wait` passes."""
    import json

    parts = [Part("file", read_file(path), filename=os.path.basename(path))]
    if options:
        parts.insert(0, Part("metadata", json.dumps(options).encode(), content_type="application/json"))
    status, answer = with_retries(lambda: server.post_multipart(f"/releases/{where.release}/sboms", parts), retries)
    if status != 202:
        return SbomVerdict(_object(server, answer, "an SBOM"), bool(answer.get("created")))
    job = _object(server, answer, "a job")
    deadline = time.monotonic() + wait
    pause = JOB_POLL_FIRST
    while job.get("state") not in FINISHED:
        if time.monotonic() + pause > deadline:
            state = printable(str(job.get("state")))
            raise ClientError(
                f"the import job {job.get('id')} did not finish within {wait:g} s (still {state}); "
                f"follow it at {server.base_url}/jobs/{job.get('id')}"
            )
        sleep(pause)
        pause = min(pause * 2, JOB_POLL_MAX)
        location = f"/jobs/{int(job['id'])}"
        job = _object(server, with_retries(lambda: server.get_json(location), retries), "a job")  # noqa: B023 - called at once
    if job["state"] == "failed":
        return SbomVerdict(None, False, job["id"], printable(str(job.get("error") or "the import failed")))
    result = job.get("result")
    result = result if isinstance(result, dict) else {}
    sbom_id = result.get("sbom_id")
    if not isinstance(sbom_id, int):
        raise ClientError(f"the import job {job['id']} succeeded but names no SBOM")
    sbom = with_retries(lambda: server.get_json(f"/sboms/{sbom_id}"), retries)
    return SbomVerdict(_object(server, sbom, "an SBOM"), bool(result.get("created")), job["id"])


def _object(server: Server, answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
        raise ClientError(f"{server.base_url} answered with something that is not {what}")
    return answer


def ci_run_url(environ: dict[str, str]) -> str:
    """The URL of the CI run this job belongs to, from the variables GitHub Actions and GitLab CI set."""
    github = [environ.get(name, "") for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if all(github):
        return f"{github[0].rstrip('/')}/{github[1]}/actions/runs/{github[2]}"
    return environ.get("CI_PIPELINE_URL", "") or environ.get("CI_JOB_URL", "")


def record_artifacts(server: Server, where: Where, paths: Sequence[str], run_url: str, retries: int) -> list[Any]:
    """Record each file's name, size and SHA-256 on the release; the tracker's records (`created` per file)."""
    artifacts = []
    for path in paths:
        size, sha256 = file_digest(path)
        artifacts.append({"name": os.path.basename(path), "size": size, "sha256": sha256})
    recorded: list[Any] = []
    for start in range(0, len(artifacts), MAX_ARTIFACTS):
        body = {"artifacts": artifacts[start : start + MAX_ARTIFACTS], "ci_run_url": run_url}
        answer = with_retries(lambda: server.post_json(f"/releases/{where.release}/artifacts", body)[1], retries)  # noqa: B023 - called at once
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ClientError(f"{server.base_url} answered with something that is not a list of recorded artifacts")
        recorded += items
    return recorded


GATE_WAIT = 300.0  # seconds `gate-check` waits for a current result by default
GATE_POLL_FIRST = 0.5  # seconds before looking again after asking for an evaluation; doubled up to GATE_POLL_MAX
GATE_POLL_MAX = 5.0


@dataclass(frozen=True)
class GateVerdict:
    """What `gate-check` found: pass (current), fail (current), or outdated after waiting; the tracker's status."""

    verdict: str  # "pass", "fail" or "outdated"
    status: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 a current pass; 1 a fail, or a result still outdated when the wait ran out."""
        return 0 if self.verdict == "pass" else 1


def _gate(server: Server, answer: Any) -> dict[str, Any]:
    """A gate status as the tracker gives it, checked enough to judge (never a pass by default)."""
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("current"), bool)
        or answer.get("outcome") not in ("pass", "fail", None)
    ):
        raise ClientError(f"{server.base_url} answered with something that is not a release's gate")
    return answer


def _current(gate: dict[str, Any]) -> bool:
    return gate["current"] is True and gate.get("outcome") in ("pass", "fail")


def check_gate(
    server: Server,
    where: Where,
    wait: float,
    retries: int,
    progress: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> GateVerdict:
    """Read the release's gate; while it is outdated, ask the tracker once to evaluate and read it again, for at
    most `wait` seconds. An outdated result is never a pass."""
    path = f"/releases/{where.release}/gate"
    deadline = clock() + wait
    gate = _gate(server, with_retries(lambda: server.get_json(path), retries))
    asked = False
    pause = GATE_POLL_FIRST
    while not _current(gate):
        left = deadline - clock()
        why = printable(str(gate.get("outdated_because") or ("not evaluated" if gate.get("outcome") is None else "")))
        if left <= 0:
            break
        if not asked:
            asked = True
            progress(f"gate outdated ({why or 'the facts changed'}): asking the tracker to evaluate it")
            try:
                with_retries(lambda: server.post_json(f"{path}/evaluations", {}), retries)
            except Answered as exc:
                if exc.status != 403:
                    raise
                # This token may only read: a running evaluation (a job on the tracker) is waited for instead.
                progress(f"this token may not ask for an evaluation ({exc}); waiting for the tracker's own")
        else:
            progress(f"still outdated ({why or 'the facts changed'}); looking again ({left:.0f} s left)")
            sleep(min(pause, max(left, 0.0)))
            pause = min(pause * 2, GATE_POLL_MAX)
        gate = _gate(server, with_retries(lambda: server.get_json(path), retries))
    if not _current(gate):
        return GateVerdict("outdated", gate)
    return GateVerdict("pass" if gate["outcome"] == "pass" else "fail", gate)


def failing_rules(gate: dict[str, Any]) -> list[tuple[str, str]]:
    """Each failing rule of the gate's evaluation with its first reason."""
    evaluation = gate.get("evaluation")
    results = evaluation.get("results") if isinstance(evaluation, dict) else None
    failing = []
    for result in results if isinstance(results, list) else []:
        if isinstance(result, dict) and result.get("outcome") == "fail":
            reasons = result.get("reasons") if isinstance(result.get("reasons"), list) else []
            first = reasons[0].get("message", "") if reasons and isinstance(reasons[0], dict) else ""
            failing.append((printable(str(result.get("rule", "?")), 60), printable(str(first) or "fails")))
    return failing
