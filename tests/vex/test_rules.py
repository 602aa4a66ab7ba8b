"""The VEX vocabulary: what a decision must carry, and the mapping between CSAF, CycloneDX and OpenVEX."""

from __future__ import annotations

import pytest

from sdl_tracker.vex.rules import (
    CDX_STATE_OF_STATUS,
    DEFAULT_CDX_OF_LABEL,
    LABEL_OF_CDX,
    STATUS_OF_CDX_STATE,
    CdxJustification,
    CdxState,
    DecisionError,
    Justification,
    Status,
    check_decision,
)


def test_every_cyclonedx_justification_falls_under_one_label_and_every_label_exports() -> None:
    assert set(LABEL_OF_CDX) == set(CdxJustification)
    assert set(DEFAULT_CDX_OF_LABEL) == set(Justification)
    for label, cdx in DEFAULT_CDX_OF_LABEL.items():
        # The default export of a label imports back to the same label, except the one CycloneDX lacks.
        if label is not Justification.COMPONENT_NOT_PRESENT:
            assert LABEL_OF_CDX[cdx] is label


def test_states_round_trip_through_cyclonedx() -> None:
    assert set(STATUS_OF_CDX_STATE) == set(CdxState)
    for status in Status:
        assert STATUS_OF_CDX_STATE[CDX_STATE_OF_STATUS[status]] is status


@pytest.mark.parametrize(
    ("status", "justification", "cdx", "impact", "action", "message"),
    [
        (Status.NOT_AFFECTED, None, None, "not reachable", "", "needs a justification"),
        (Status.AFFECTED, None, None, "", " ", "needs an action statement"),
        (Status.FIXED, Justification.COMPONENT_NOT_PRESENT, None, "", "", "only a not-affected"),
        (Status.UNDER_INVESTIGATION, None, CdxJustification.CODE_NOT_PRESENT, "", "", "only a not-affected"),
        (
            Status.NOT_AFFECTED,
            Justification.COMPONENT_NOT_PRESENT,
            CdxJustification.PROTECTED_AT_RUNTIME,
            "",
            "",
            "falls under inline_mitigations_already_exist",
        ),
        (Status.NOT_AFFECTED, Justification.COMPONENT_NOT_PRESENT, None, "x" * 4001, "", "longer than 4000"),
    ],
)
def test_decisions_the_formats_cannot_carry_are_refused(
    status: Status,
    justification: Justification | None,
    cdx: CdxJustification | None,
    impact: str,
    action: str,
    message: str,
) -> None:
    with pytest.raises(DecisionError, match=message):
        check_decision(status, justification, cdx, impact, action)


def test_decisions_the_formats_carry_pass() -> None:
    check_decision(Status.AFFECTED, None, None, "", "Update to 2.1.")
    check_decision(Status.FIXED, None, None, "", "")
    check_decision(Status.UNDER_INVESTIGATION, None, None, "", "")
    check_decision(
        Status.NOT_AFFECTED,
        Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
        CdxJustification.REQUIRES_CONFIGURATION,
        "Only reachable with the debug port enabled.",
        "",
    )
