"""Build artifacts as the API and `--json` give them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .models import BuildArtifact
from .services import RecordedArtifact


class ArtifactOut(BaseModel):
    """One recorded build artifact."""

    id: int
    release_id: int
    name: str
    size: int
    sha256: str
    ci_run_url: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, artifact: BuildArtifact) -> ArtifactOut:
        """An artifact as returned."""
        return cls.model_validate(artifact, from_attributes=True)


class RecordedArtifactOut(ArtifactOut):
    """An artifact a request named, and whether that request recorded it (false: it was already recorded)."""

    created: bool

    @classmethod
    def of_recorded(cls, recorded: RecordedArtifact) -> RecordedArtifactOut:
        """What became of one named artifact."""
        return cls(**ArtifactOut.of(recorded.artifact).model_dump(), created=recorded.created)


class RecordedArtifactsOut(BaseModel):
    """What became of every artifact a request named."""

    items: list[RecordedArtifactOut]
