"""Coverage as a pure function: both halves, record scopes, event-driven requirements, tester independence,
expiry on the judged date, scoping, maturity bounds; and properties that no evidence can inflate it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker.evidence.coverage import (
    CoverageState,
    EvidenceFact,
    Judgement,
    RequirementSpec,
    compute_coverage,
    summarise,
    supported_maturity,
)
from sdl_tracker.evidence.standing import ReleaseWindow

TODAY = date(2026, 11, 26)
RELEASE = 7
WINDOW = ReleaseWindow(RELEASE, date(2026, 1, 1), date(2026, 10, 1))
SPECS = [
    RequirementSpec("SM-4", "Security expertise", "SM", "organisation", ("security-training",)),
    RequirementSpec("SM-13", "Continuous improvement", "SM", "organisation", ("process-record",)),
    RequirementSpec("SD-1", "Secure design principles", "SD", "product", ("design-document",), records="the design"),
    RequirementSpec("SR-2", "Threat model", "SR", "release", ("threat-model", "threat-model-change")),
    RequirementSpec(
        "SVV-1", "Requirements testing", "SVV", "release", ("requirements-test",), False, "independent-person"
    ),
    RequirementSpec(
        "SVV-4", "Penetration testing", "SVV", "release", ("penetration-test",), False, "independent-department"
    ),
    RequirementSpec("SVV-5", "Independence of testers", "SVV", "release", ("requirements-test", "penetration-test")),
    RequirementSpec("DM-1", "Receiving notifications", "DM", "product", ("psirt-fix", "process-record"), True),
    RequirementSpec("DM-2", "Reviewing issues", "DM", "product", ("psirt-fix", "process-record"), True),
]
NAMES = {"SM": "Security management", "SD": "Design", "SR": "Requirements", "SVV": "Verification", "DM": "Issues"}


def fact(
    n: int,
    kind: str,
    refs: tuple[str, ...],
    *,
    state: str = "accepted",
    scope: str = "product",
    effective: date = date(2026, 6, 1),
    expires: date | None = None,
    releases: tuple[int, ...] = (),
    independence: str | None = None,
) -> EvidenceFact:
    return EvidenceFact(n, f"e{n}", kind, scope, state, effective, expires, refs, releases, independence)


def process(n: int, *refs: str, scope: str = "organisation", **kw: object) -> EvidenceFact:
    return fact(n, "process-document", refs, scope=scope, **kw)  # type: ignore[arg-type]


ALL_PROCESSES = process(100, *(s.ref for s in SPECS))


def cells(facts: list[EvidenceFact], judgement: Judgement | None = None, scoping: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return {c.ref: c for c in compute_coverage(SPECS, facts, judgement or Judgement(TODAY, WINDOW), scoping)}


def test_a_requirement_needs_both_halves() -> None:
    only_process = cells([ALL_PROCESSES])["SD-1"]
    assert only_process.process.state is CoverageState.ACCEPTED and only_process.records.state is CoverageState.NONE
    assert only_process.state is CoverageState.NONE and not only_process.met
    assert only_process.next_step == "Attach the design." and only_process.suggested_kind == "design-document"
    only_records = cells([fact(1, "design-document", ("SD-1",))])["SD-1"]
    assert only_records.state is CoverageState.NONE and only_records.suggested_kind == "process-document"
    assert "process document that defines SD-1" in only_records.next_step
    both = cells([ALL_PROCESSES, fact(1, "design-document", ("SD-1",))])["SD-1"]
    assert both.met and both.next_step == "" and both.process.deciding == 100 and both.records.deciding == 1


def test_an_organisation_wide_process_document_is_never_a_record() -> None:
    # The assessor's DM scenario, and its general form: a process document linked to everything.
    found = cells([ALL_PROCESSES, fact(2, "process-record", ("SD-1", "SR-2"), scope="organisation")])
    assert found["SD-1"].records.state is CoverageState.NONE  # organisation-wide records: not this product's
    assert found["SR-2"].records.state is CoverageState.NONE
    # Organisation scope (training) takes organisation-wide records.
    trained = cells([ALL_PROCESSES, fact(3, "security-training", ("SM-4",), scope="organisation")])["SM-4"]
    assert trained.met


def test_release_scope_needs_evidence_covering_the_release() -> None:
    other = fact(1, "threat-model", ("SR-2",), scope="releases", releases=(8,))
    assert cells([ALL_PROCESSES, other])["SR-2"].records.state is CoverageState.NONE
    named = fact(2, "threat-model", ("SR-2",), scope="releases", releases=(RELEASE,))
    assert cells([ALL_PROCESSES, named])["SR-2"].met
    stale = fact(3, "threat-model", ("SR-2",), effective=date(2025, 6, 1))  # product-wide, before the window
    assert cells([ALL_PROCESSES, stale])["SR-2"].records.state is CoverageState.NONE
    inside = fact(4, "threat-model", ("SR-2",), effective=date(2026, 5, 1))
    assert cells([ALL_PROCESSES, inside])["SR-2"].met
    # The product view takes any record of the product.
    assert cells([ALL_PROCESSES, other], Judgement(TODAY))["SR-2"].met


def test_event_driven_requirements_without_an_occasion_are_met_on_their_process() -> None:
    quiet = cells([process(1, "DM-1", "DM-2")])
    assert quiet["DM-1"].state is CoverageState.NOT_EXERCISED and quiet["DM-1"].met
    assert cells([])["DM-1"].state is CoverageState.NONE  # no process: nothing
    # An occasion (a PSIRT fix of the product) makes each of DM-1..DM-5 need its own records.
    fixed = cells([process(1, "DM-1", "DM-2"), fact(2, "psirt-fix", ("DM-2",))])
    assert fixed["DM-2"].met and fixed["DM-2"].state is CoverageState.ACCEPTED
    assert fixed["DM-1"].state is CoverageState.NONE and not fixed["DM-1"].met
    # A submitted record is an occasion too; an organisation-wide one is not the product's.
    assert cells([process(1, "DM-1"), fact(2, "process-record", ("DM-2",), state="submitted")])["DM-1"].state is (
        CoverageState.NONE
    )
    assert cells([process(1, "DM-1"), fact(2, "process-record", ("DM-2",), scope="organisation")])["DM-1"].met
    # A rejected record still says an issue happened: rejecting it does not turn DM green again.
    assert not cells([process(1, "DM-1"), fact(2, "psirt-fix", ("DM-2",), state="rejected")])["DM-1"].met


def test_tester_independence_per_table_3() -> None:
    def svv4(independence: str | None) -> CoverageState:
        test = fact(1, "penetration-test", ("SVV-4",), scope="releases", releases=(RELEASE,), independence=independence)
        return cells([ALL_PROCESSES, test])["SVV-4"].state

    assert svv4(None) is CoverageState.INSUFFICIENT
    assert svv4("independent-person") is CoverageState.INSUFFICIENT
    assert svv4("independent-department") is CoverageState.ACCEPTED
    assert svv4("independent-organisation") is CoverageState.ACCEPTED
    found = cells([ALL_PROCESSES, fact(1, "penetration-test", ("SVV-4",), independence="none")])["SVV-4"]
    assert "below the minimum" in found.records.notes[0] and "independent-department" in found.next_step


def test_svv5_is_met_by_the_verification_records_meeting_their_minimums() -> None:
    person = fact(1, "requirements-test", ("SVV-1",), independence="independent-person")
    department = fact(2, "penetration-test", ("SVV-4",), independence="independent-department")
    assert cells([ALL_PROCESSES, person, department])["SVV-5"].met
    weak = replace(department, tester_independence="independent-person")
    assert cells([ALL_PROCESSES, person, weak])["SVV-5"].state is CoverageState.INSUFFICIENT
    assert cells([ALL_PROCESSES, person])["SVV-5"].state is CoverageState.NONE
    # A scoped-out activity is not needed.
    assert cells([ALL_PROCESSES, person], scoping={"SVV-4": "accepted"})["SVV-5"].met


def test_expiry_and_the_judged_date() -> None:
    doc = process(1, "SD-1", expires=date(2026, 11, 25))
    record = fact(2, "design-document", ("SD-1",))
    assert cells([doc, record])["SD-1"].state is CoverageState.EXPIRED
    assert cells([doc, record], Judgement(date(2026, 11, 25), WINDOW))["SD-1"].met  # the due day still counts
    # Evidence done after the judged date did not exist then.
    assert not cells([doc, record], Judgement(date(2026, 5, 1), WINDOW))["SD-1"].met


def test_drafts_submitted_and_rejected() -> None:
    assert cells([ALL_PROCESSES, fact(1, "design-document", ("SD-1",), state="draft")])["SD-1"].state is (
        CoverageState.DRAFT
    )
    assert cells([ALL_PROCESSES, fact(1, "design-document", ("SD-1",), state="submitted")])["SD-1"].state is (
        CoverageState.SUBMITTED
    )
    rejected = cells([ALL_PROCESSES, fact(1, "design-document", ("SD-1",), state="rejected")])["SD-1"]
    assert rejected.state is CoverageState.NONE and rejected.evidence_ids == (100,)


def test_scoping_leaves_the_denominator_only_once_accepted() -> None:
    proposed = cells([], scoping={"SD-1": "proposed"})["SD-1"]
    assert proposed.state is CoverageState.NONE and proposed.scoping == "proposed"
    summary = {s.practice: s for s in summarise(list(cells([], scoping={"SD-1": "accepted"}).values()), NAMES)}
    assert summary["SD"].total == 0 and summary["SD"].scoped_out == 1
    summary = {s.practice: s for s in summarise(list(cells([], scoping={"SD-1": "proposed"}).values()), NAMES)}
    assert summary["SD"].total == 1 and summary["SD"].scoped_out == 0


def test_maturity_is_bounded_by_the_evidence() -> None:
    none = list(cells([]).values())
    assert supported_maturity("SD", [none], False).level == 1
    processes = list(cells([ALL_PROCESSES]).values())
    support = supported_maturity("SD", [processes], False)
    assert support.level == 2 and "SD-1" in support.missing[3][0]
    used = list(cells([ALL_PROCESSES, fact(1, "design-document", ("SD-1",))]).values())
    assert supported_maturity("SD", [processes, used], False).level == 3  # records on one product suffice
    assert supported_maturity("SD", [used], True).level == 4
    # Never-exercised event-driven requirements have no records: DM stops at ML2.
    quiet = supported_maturity("DM", [processes], True)
    assert quiet.level == 2 and "DM-1, DM-2" in quiet.missing[3][0]


# Properties: nothing an assessor would call inflation.

KINDS = ["process-document", "design-document", "threat-model", "penetration-test", "psirt-fix", "process-record"]
REFS = [s.ref for s in SPECS]
facts_strategy = st.lists(
    st.builds(
        EvidenceFact,
        evidence_id=st.integers(1, 40),
        title=st.just("e"),
        kind=st.sampled_from(KINDS),
        scope=st.sampled_from(["organisation", "product", "releases"]),
        state=st.sampled_from(["draft", "submitted", "accepted", "rejected"]),
        effective=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
        expires=st.none() | st.dates(date(2025, 6, 1), date(2027, 6, 1)),
        requirement_refs=st.lists(st.sampled_from(REFS), min_size=1, max_size=3, unique=True).map(tuple),
        release_ids=st.lists(st.sampled_from([RELEASE, 8, 9]), max_size=2, unique=True).map(tuple),
        tester_independence=st.none() | st.sampled_from(["none", "independent-person", "independent-department"]),
    ),
    max_size=12,
)


def _met(facts: list[EvidenceFact]) -> set[str]:
    return {c.ref for c in compute_coverage(SPECS, facts, Judgement(TODAY, WINDOW)) if c.met}


@settings(max_examples=300, deadline=None)
@given(facts_strategy, st.data())
def test_removing_a_record_of_use_never_raises_coverage(facts: list[EvidenceFact], data: st.DataObject) -> None:
    records = [i for i, f in enumerate(facts) if f.kind != "process-document"]
    if not records:
        return
    index = data.draw(st.sampled_from(records))
    removed, fewer = facts[index], facts[:index] + facts[index + 1 :]
    event_driven = {"DM-1", "DM-2"}
    # Every requirement but the event-driven ones: never better without the record.
    assert _met(fewer) - event_driven <= _met(facts) - event_driven
    # The event-driven ones too, unless the record was the product's last occasion: then DM-1..DM-5 go back
    # to "process in place, not exercised" (docs/assurance.md says why this is the stricter reading).
    if removed.scope == "organisation" or not (
        removed.kind == "psirt-fix" or set(removed.requirement_refs) & event_driven
    ):
        assert _met(fewer) <= _met(facts)


@settings(max_examples=300, deadline=None)
@given(facts_strategy)
def test_evidence_for_another_release_never_counts(facts: list[EvidenceFact]) -> None:
    other = [replace(f, scope="releases", release_ids=(8,)) for f in facts if f.kind != "process-document"]
    base = [f for f in facts if f.kind == "process-document"]
    release_scoped = {s.ref for s in SPECS if s.record_scope == "release"} - {"SVV-5"}
    found = {c.ref: c for c in compute_coverage(SPECS, base + other, Judgement(TODAY, WINDOW))}
    for ref in release_scoped:
        assert found[ref].records.state is CoverageState.NONE
    assert found["SVV-5"].records.state is CoverageState.NONE


@settings(max_examples=300, deadline=None)
@given(facts_strategy)
def test_an_organisation_wide_process_document_never_satisfies_a_records_half(facts: list[EvidenceFact]) -> None:
    everything = [replace(f, kind="process-document", scope="organisation", state="accepted") for f in facts]
    for cell in compute_coverage(SPECS, everything, Judgement(TODAY, WINDOW)):
        assert cell.records.state in (CoverageState.NONE, CoverageState.NOT_EXERCISED)
        assert cell.state is not CoverageState.ACCEPTED
