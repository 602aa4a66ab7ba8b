"""The evidence vocabulary (kinds, scopes, review states): plain enums that pure rules use without the ORM."""

from __future__ import annotations

import enum

from ..errors import Invalid


class EvidenceKind(enum.StrEnum):
    """What activity the evidence records (lowercase hyphenated, as the CLI takes them)."""

    THREAT_MODEL = "threat-model"
    THREAT_MODEL_CHANGE = "threat-model-change"  # a commit that changed the threat model (Threat-Model trailer)
    REQUIREMENTS_SPECIFICATION = "requirements-specification"  # SR-1, SR-3, SR-4: states the target SL-C
    DESIGN_DOCUMENT = "design-document"  # SD-1, SD-2, SD-4; a 4-2 capability's design description
    DESIGN_REVIEW = "design-review"
    CODE_REVIEW = "code-review"
    STATIC_ANALYSIS = "static-analysis"
    FUZZ_CAMPAIGN = "fuzz-campaign"
    FUZZ_RUN = "fuzz-run"  # one fuzzer run on a commit (Fuzzed-by trailer)
    VULNERABILITY_SCAN = "vulnerability-scan"
    PENETRATION_TEST = "penetration-test"
    REQUIREMENTS_TEST = "requirements-test"
    THREAT_MITIGATION_TEST = "threat-mitigation-test"
    SECURITY_TRAINING = "security-training"
    PROCESS_DOCUMENT = "process-document"  # defines a practice: the process half of 4-1 coverage
    PROCESS_RECORD = "process-record"  # a record of a process step carried out (an audit, a role assignment)
    GUIDELINE_DOCUMENT = "guideline-document"
    UPDATE_RECORD = "update-record"
    PSIRT_FIX = "psirt-fix"  # a commit that addresses a security-related issue (Fixes-PSIRT trailer)
    SBOM = "sbom"  # a software bill of materials (SM-9, CRA Annex I Part II (1))
    OTHER = "other"


def parse_kind(value: str) -> EvidenceKind:
    """An evidence kind by its name, else Invalid on `kind` listing the kinds."""
    try:
        return EvidenceKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in EvidenceKind)
        raise Invalid.field("kind", f"unknown kind {value!r} (one of: {kinds})") from None


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


# Test activities: the evidence that carries a tester independence (IEC 62443-4-1 SVV-5, Table 3).
TEST_KINDS = frozenset(
    {
        EvidenceKind.REQUIREMENTS_TEST,
        EvidenceKind.THREAT_MITIGATION_TEST,
        EvidenceKind.FUZZ_CAMPAIGN,
        EvidenceKind.FUZZ_RUN,
        EvidenceKind.VULNERABILITY_SCAN,
        EvidenceKind.PENETRATION_TEST,
    }
)


class TesterIndependence(enum.StrEnum):
    """How independent the tester is of the developers (IEC 62443-4-1 Table 3), least first."""

    NONE = "none"
    PERSON = "independent-person"
    DEPARTMENT = "independent-department"
    ORGANISATION = "independent-organisation"

    @property
    def rank(self) -> int:
        """0 (none) to 3 (independent organisation): a level meets every level of lower rank."""
        return list(TesterIndependence).index(self)

    def meets(self, minimum: TesterIndependence) -> bool:
        """Whether this independence satisfies `minimum`."""
        return self.rank >= minimum.rank
