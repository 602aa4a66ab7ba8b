"""Recording a release's build artifacts (idempotent per file) and listing them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..db import lock_row
from ..errors import Conflict, FieldError, Invalid
from ..products.models import Release
from ..products.services import get_release
from .models import BuildArtifact
from .rules import MAX_PER_REQUEST, digest_problem, name_problem, run_url_problem, size_problem


@dataclass(frozen=True)
class ArtifactInput:
    """One file a build produced, as a CI job reports it."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RecordedArtifact:
    """An artifact as recorded, and whether this request recorded it (False: it was already there)."""

    artifact: BuildArtifact
    created: bool


def authorize_record_artifacts(actor: Principal, release: Release) -> None:
    """Raise unless the actor may record the release's build artifacts (its developers and officers; CI tokens)."""
    authorize(actor, Permission.ARTIFACT_RECORD, release.product_id)


def _checked(artifacts: Sequence[ArtifactInput], ci_run_url: str) -> list[ArtifactInput]:
    """The artifacts with lower-case digests, one per name, or Invalid naming every field that is wrong."""
    errors: list[FieldError] = []
    if not artifacts:
        errors.append(FieldError("artifacts", "name at least one file"))
    if len(artifacts) > MAX_PER_REQUEST:
        errors.append(FieldError("artifacts", f"at most {MAX_PER_REQUEST} files per request"))
    problem = run_url_problem(ci_run_url)
    if problem:
        errors.append(FieldError("ci_run_url", problem))
    by_name: dict[str, ArtifactInput] = {}
    for index, given in enumerate(artifacts[:MAX_PER_REQUEST]):
        item = ArtifactInput(given.name, given.size, given.sha256.lower())
        for field, found in (
            ("name", name_problem(item.name)),
            ("size", size_problem(item.size)),
            ("sha256", digest_problem(item.sha256)),
        ):
            if found:
                errors.append(FieldError(f"artifacts[{index}].{field}", found))
        earlier = by_name.setdefault(item.name, item)
        if earlier != item:
            errors.append(FieldError(f"artifacts[{index}].name", f"{item.name} is named twice with different content"))
    if errors:
        raise Invalid(errors[0].message, errors=errors)
    return list(by_name.values())


def record_artifacts(
    session: Session, actor: Principal, release_id: int, artifacts: Sequence[ArtifactInput], *, ci_run_url: str = ""
) -> list[RecordedArtifact]:
    """Record the files a build of the release produced. Sending the same file again records nothing new; the
    same name with other bytes is refused (Conflict) and nothing of the request is kept."""
    release = get_release(session, actor, release_id)
    authorize_record_artifacts(actor, release)
    wanted = _checked(artifacts, ci_run_url)
    lock_row(session, Release.id, release.id)  # two CI jobs of one release record one at a time
    existing = {
        a.name: a
        for a in session.scalars(
            select(BuildArtifact).where(
                BuildArtifact.release_id == release.id, BuildArtifact.name.in_([w.name for w in wanted])
            )
        )
    }
    clashes = [
        w
        for w in wanted
        if w.name in existing and (existing[w.name].sha256, existing[w.name].size) != (w.sha256, w.size)
    ]
    if clashes:
        first = existing[clashes[0].name]
        raise Conflict(
            f"{first.name} of release {release.version} is recorded with SHA-256 {first.sha256} ({first.size} bytes); "
            "a release's artifacts do not change: build a new release"
        )
    results: list[RecordedArtifact] = []
    for item in wanted:
        if item.name in existing:
            results.append(RecordedArtifact(existing[item.name], created=False))
            continue
        artifact = BuildArtifact(
            release_id=release.id,
            name=item.name,
            size=item.size,
            sha256=item.sha256,
            ci_run_url=ci_run_url,
            recorded_by=actor.label[:400],
        )
        session.add(artifact)
        results.append(RecordedArtifact(artifact, created=True))
    created = [r.artifact for r in results if r.created]
    if created:
        session.flush()
        record(
            session,
            actor,
            "builds:artifact:record",
            target_type="release",
            target_id=release.id,
            product_id=release.product_id,
            details={
                "version": release.version,
                "ci_run_url": ci_run_url,
                "artifacts": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in created],
            },
        )
    return results


def list_artifacts(session: Session, actor: Principal, release_id: int) -> list[BuildArtifact]:
    """A release's build artifacts by name."""
    release = get_release(session, actor, release_id)
    query = select(BuildArtifact).where(BuildArtifact.release_id == release.id).order_by(BuildArtifact.name)
    return list(session.scalars(query))
