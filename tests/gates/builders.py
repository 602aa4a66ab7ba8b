"""Plain-data builders for the gate tests: facts on which every rule passes, changed one fact at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sdl_tracker.catalog.rules import FOUNDATIONAL_REQUIREMENTS
from sdl_tracker.evidence.coverage import CoverageState
from sdl_tracker.evidence.vocabulary import TesterIndependence as Independence
from sdl_tracker.gates.policy import PRACTICES, Policy, policy_document
from sdl_tracker.gates.rules import (
    CommitFacts,
    CraFacts,
    EvidenceRef,
    FuzzCampaign,
    GateFacts,
    InterfaceFacts,
    LevelFacts,
    PatchFacts,
    PenTestFacts,
    RequirementFacts,
    ThreatModelFacts,
    VulnerabilityFacts,
)
from sdl_tracker.vex.rules import Status

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
RECORDS_STAND_UNTIL = date(2027, 6, 30)  # the earliest time-dependent fact of `passing_facts`


def ref(evidence_id: int, by: str = "dev", stands_until: date | None = None) -> EvidenceRef:
    """Accepted evidence."""
    return EvidenceRef(evidence_id, by, stands_until=stands_until)


def requirement(ref_id: str, practice: str, evidence_id: int, **changes: object) -> RequirementFacts:
    """A met requirement whose records stand until RECORDS_STAND_UNTIL."""
    values: dict[str, object] = {
        "ref": ref_id,
        "practice": practice,
        "scoped_out": False,
        "process": CoverageState.ACCEPTED,
        "records": CoverageState.ACCEPTED,
        "evidence": (ref(evidence_id, "writer", RECORDS_STAND_UNTIL),),
    }
    values.update(changes)
    return RequirementFacts(**values)  # type: ignore[arg-type]


def passing_facts() -> GateFacts:
    """A release on which every rule of the default `Policy()` passes at NOW."""
    return GateFacts(
        product_id=1,
        release_id=7,
        version="2.1.0",
        requirements=tuple(requirement(f"{p}-1", p, 10 + i) for i, p in enumerate(PRACTICES)),
        threat_model=ThreatModelFacts(ref(100, "alice"), date(2027, 1, 15)),
        commits=CommitFacts(10, 10, (ref(101, "bob"),)),
        interfaces=(
            InterfaceFacts("eth0", True, (FuzzCampaign(ref(102, "carol"), 48.0),)),
            InterfaceFacts("usb", False),
        ),
        pen_tests=(PenTestFacts(ref(103, "dave"), Independence.DEPARTMENT),),
        levels=tuple(LevelFacts(fr, 2, 2) for fr in FOUNDATIONAL_REQUIREMENTS),
        primary_sbom=ref(104, "erin"),
        vulnerabilities=(
            VulnerabilityFacts(
                "CVE-2026-0001",
                "pkg:pypi/a@1.0",
                Status.NOT_AFFECTED,
                datetime(2027, 2, 1, tzinfo=UTC),
                justification="vulnerable_code_not_present",
                decided_by="officer",
            ),
        ),
        patch=PatchFacts(False),
        cra=CraFacts(True, True, date(2032, 12, 31)),
    )


def lenient(*enabled: str) -> dict[str, Any]:
    """A policy document with every rule off but CRA I(2)(a) (never off) and `enabled`: a release with nothing
    matched passes it (the doors' and CI templates' tests)."""
    document = policy_document(Policy())
    for rule, entry in document["rules"].items():
        if rule != "no_known_exploitable":
            entry["enabled"] = rule in enabled
    return document
