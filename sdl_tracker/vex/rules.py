"""VEX decisions' vocabulary and the documented mapping between CSAF 2.0, CycloneDX 1.6 and OpenVEX.

One decision is stored per release, vulnerability and component: a `Status`, and for not affected a
`Justification` (the five labels CSAF 2.0 flags and OpenVEX share, word for word), optionally refined by
the CycloneDX justification the officer chose. The formats do not map one to one (docs/vex.md, "Mapping"):
- CycloneDX has nine justifications, CSAF and OpenVEX five. Each CycloneDX value falls under one of the five
  labels; each label has a default CycloneDX value for export when the officer gave none.
- CycloneDX has no "component not present": both `component_not_present` and `vulnerable_code_not_present`
  export as `code_not_present`, so our CycloneDX output also carries the label as a property
  (`JUSTIFICATION_PROPERTY`), which our import reads back first: a round trip loses nothing.
- CycloneDX's states are finer than the four statuses: `resolved_with_pedigree` imports as fixed,
  `false_positive` as not affected (the component is not vulnerable: `vulnerable_code_not_present`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Status(enum.StrEnum):
    """A release's standing against one vulnerability in one component (the four VEX statuses)."""

    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


class Justification(enum.StrEnum):
    """Why a component is not affected: CSAF 2.0 flag labels (section 3.2.3.5), identical in OpenVEX."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = "vulnerable_code_cannot_be_controlled_by_adversary"
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class CdxJustification(enum.StrEnum):
    """CycloneDX 1.6 `analysis.justification` values."""

    CODE_NOT_PRESENT = "code_not_present"
    CODE_NOT_REACHABLE = "code_not_reachable"
    REQUIRES_CONFIGURATION = "requires_configuration"
    REQUIRES_DEPENDENCY = "requires_dependency"
    REQUIRES_ENVIRONMENT = "requires_environment"
    PROTECTED_BY_COMPILER = "protected_by_compiler"
    PROTECTED_AT_RUNTIME = "protected_at_runtime"
    PROTECTED_AT_PERIMETER = "protected_at_perimeter"
    PROTECTED_BY_MITIGATING_CONTROL = "protected_by_mitigating_control"


class CdxState(enum.StrEnum):
    """CycloneDX 1.6 `analysis.state` values."""

    RESOLVED = "resolved"
    RESOLVED_WITH_PEDIGREE = "resolved_with_pedigree"
    EXPLOITABLE = "exploitable"
    IN_TRIAGE = "in_triage"
    FALSE_POSITIVE = "false_positive"
    NOT_AFFECTED = "not_affected"


# The property our CycloneDX VEX carries beside `analysis.justification`: the exact label, for a lossless import.
JUSTIFICATION_PROPERTY = "sdl-tracker:vex:justification"

# Which label each CycloneDX justification falls under (import), and the label's default CycloneDX value (export).
LABEL_OF_CDX: Mapping[CdxJustification, Justification] = {
    CdxJustification.CODE_NOT_PRESENT: Justification.VULNERABLE_CODE_NOT_PRESENT,
    CdxJustification.CODE_NOT_REACHABLE: Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
    CdxJustification.REQUIRES_CONFIGURATION: Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    CdxJustification.REQUIRES_DEPENDENCY: Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    CdxJustification.REQUIRES_ENVIRONMENT: Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    CdxJustification.PROTECTED_BY_COMPILER: Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    CdxJustification.PROTECTED_AT_RUNTIME: Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    CdxJustification.PROTECTED_AT_PERIMETER: Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    CdxJustification.PROTECTED_BY_MITIGATING_CONTROL: Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
}
DEFAULT_CDX_OF_LABEL: Mapping[Justification, CdxJustification] = {
    Justification.COMPONENT_NOT_PRESENT: CdxJustification.CODE_NOT_PRESENT,
    Justification.VULNERABLE_CODE_NOT_PRESENT: CdxJustification.CODE_NOT_PRESENT,
    Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH: CdxJustification.CODE_NOT_REACHABLE,
    Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY: CdxJustification.REQUIRES_ENVIRONMENT,
    Justification.INLINE_MITIGATIONS_ALREADY_EXIST: CdxJustification.PROTECTED_BY_MITIGATING_CONTROL,
}

# Status <-> CycloneDX state. Export is one to one; import folds the two finer states.
CDX_STATE_OF_STATUS: Mapping[Status, CdxState] = {
    Status.AFFECTED: CdxState.EXPLOITABLE,
    Status.NOT_AFFECTED: CdxState.NOT_AFFECTED,
    Status.FIXED: CdxState.RESOLVED,
    Status.UNDER_INVESTIGATION: CdxState.IN_TRIAGE,
}
STATUS_OF_CDX_STATE: Mapping[CdxState, Status] = {
    CdxState.EXPLOITABLE: Status.AFFECTED,
    CdxState.NOT_AFFECTED: Status.NOT_AFFECTED,
    CdxState.FALSE_POSITIVE: Status.NOT_AFFECTED,
    CdxState.RESOLVED: Status.FIXED,
    CdxState.RESOLVED_WITH_PEDIGREE: Status.FIXED,
    CdxState.IN_TRIAGE: Status.UNDER_INVESTIGATION,
}

# Status -> the CSAF 2.0 `product_status` list a product id goes in (section 3.2.3.9).
CSAF_PRODUCT_STATUS: Mapping[Status, str] = {
    Status.AFFECTED: "known_affected",
    Status.NOT_AFFECTED: "known_not_affected",
    Status.FIXED: "fixed",
    Status.UNDER_INVESTIGATION: "under_investigation",
}

STATEMENT_MAX = 4000  # characters of an impact or action statement


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message is one line and names the rule."""


def check_decision(
    status: Status,
    justification: Justification | None,
    cdx_justification: CdxJustification | None,
    impact: str,
    action: str,
) -> None:
    """Refuse a decision the VEX formats could not carry: the rules CSAF 6.1.27.9/10 and OpenVEX impose."""
    if status is Status.NOT_AFFECTED and justification is None:
        raise DecisionError("not affected needs a justification (one of the five VEX labels)")
    if status is not Status.NOT_AFFECTED and (justification is not None or cdx_justification is not None):
        raise DecisionError("only a not-affected decision takes a justification")
    if cdx_justification is not None and LABEL_OF_CDX[cdx_justification] is not justification:
        raise DecisionError(
            f"CycloneDX justification {cdx_justification.value} falls under "
            f"{LABEL_OF_CDX[cdx_justification].value}, not {justification.value if justification else 'none'}"
        )
    if status is Status.AFFECTED and not action.strip():
        raise DecisionError("affected needs an action statement (what users should do)")
    for name, text in (("impact", impact), ("action", action)):
        if len(text) > STATEMENT_MAX:
            raise DecisionError(f"the {name} statement is longer than {STATEMENT_MAX} characters")
