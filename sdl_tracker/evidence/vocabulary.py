"""The evidence vocabulary (kinds, scopes, review states): plain enums that pure rules use without the ORM."""

from __future__ import annotations

import enum


class EvidenceKind(enum.StrEnum):
    """What activity the evidence records (lowercase hyphenated, as the CLI takes them)."""

    THREAT_MODEL = "threat-model"
    DESIGN_REVIEW = "design-review"
    CODE_REVIEW = "code-review"
    STATIC_ANALYSIS = "static-analysis"
    FUZZ_CAMPAIGN = "fuzz-campaign"
    VULNERABILITY_SCAN = "vulnerability-scan"
    PENETRATION_TEST = "penetration-test"
    REQUIREMENTS_TEST = "requirements-test"
    THREAT_MITIGATION_TEST = "threat-mitigation-test"
    SECURITY_TRAINING = "security-training"
    PROCESS_DOCUMENT = "process-document"
    GUIDELINE_DOCUMENT = "guideline-document"
    UPDATE_RECORD = "update-record"
    SBOM = "sbom"  # a software bill of materials (SM-9, SM-10, CRA Annex I Part II (1))
    OTHER = "other"


class EvidenceScope(enum.StrEnum):
    """What the evidence covers."""

    RELEASES = "releases"  # named releases of one product
    PRODUCT = "product"  # the whole product
    ORGANISATION = "organisation"  # every product inherits it (process documents such as SM-1)


class ReviewState(enum.StrEnum):
    """Where a revision stands in review."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
