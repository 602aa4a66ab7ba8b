"""Submission packets: what one Article 14 report of a case states, and what it still lacks.

A pure decision over plain facts. Each stage needs what Art. 14(2) (a vulnerability) or 14(4) (an incident) lists
for it, and an intermediate report what the CSIRT asked for (14(6)); the packet gives those facts in order, for the
officer to enter on ENISA's Single Reporting Platform, with a checklist of each point and whether the case holds it.
The tracker submits nothing: the platform has no public submission interface, so people submit and then record
the submission (docs/psirt.md, "Submission packets").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .rules import EARLY_WARNING, FINAL_REPORT, INTERMEDIATE_PREFIX, NOTIFICATION, STAGES, Clock, RecordKind

EXERCISE_LABEL = "EXERCISE — not a real report"
NOTICE = (
    "The tracker does not submit this report: the Single Reporting Platform has no public submission interface. "
    "Enter it on the platform, which passes it to the CSIRT designated as coordinator and to ENISA together, then "
    "record the submission on the case with its time and the platform's reference."
)
KIND_LABELS = {
    RecordKind.VULNERABILITY: "Actively exploited vulnerability (Art. 14(1))",
    RecordKind.INCIDENT: "Severe incident having an impact on the security of the product (Art. 14(3))",
}
INTERMEDIATE_POINT = "Art. 14(6)"

Value = str | bool | tuple[str, ...] | None  # None: not recorded


class PacketError(ValueError):
    """A stage the case has no report for; the message is one line."""


@dataclass(frozen=True)
class PacketSubmission:
    """A recorded submission: when, the stages it covered, the platform's reference."""

    submitted_at: datetime
    stages: tuple[str, ...]
    reference: str = ""


@dataclass(frozen=True)
class PacketRequest:
    """The CSIRT's request for an intermediate report."""

    requested_at: datetime
    due_at: datetime
    reference: str = ""


@dataclass(frozen=True)
class PacketFacts:
    """What a packet may state about one case: its facts, its product's Article 14 settings, its clocks and
    submissions. The reporter's contact is not among them: no report carries it."""

    reference: str
    kind: RecordKind
    title: str
    product: str
    aware_at: datetime | None
    exercise: bool = False
    status: str = ""
    manufacturer: str = ""
    csirt: str = ""
    member_states: tuple[str, ...] = ()
    description: str = ""
    impact: str = ""
    sensitivity: str = ""
    malicious_actor: str = ""
    root_cause: str = ""
    remediation: str = ""
    mitigation: str = ""
    measure_available_at: datetime | None = None
    malicious_suspected: bool | None = None
    incident_criteria: tuple[str, ...] = ()  # as sentences
    cve_ids: tuple[str, ...] = ()
    cwe_ids: tuple[int, ...] = ()
    cvss_v31: str = ""
    cvss_v40: str = ""
    severity_score: float | None = None
    embargo_until: date | None = None
    affected: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    upstream_component: str = ""
    clocks: tuple[Clock, ...] = ()
    submissions: tuple[PacketSubmission, ...] = ()
    requests: tuple[PacketRequest, ...] = ()


@dataclass(frozen=True)
class PacketField:
    """One piece of information of the report."""

    key: str
    label: str
    value: Value


@dataclass(frozen=True)
class CheckItem:
    """One point the report must make, whether the case holds it, and why it matters."""

    item: str
    done: bool
    why: str


@dataclass(frozen=True)
class Packet:
    """One stage's report of one case: its information in order and its completeness checklist."""

    case: str
    stage: str
    label: str
    point: str
    kind: RecordKind
    exercise: bool
    fields: tuple[PacketField, ...]
    checklist: tuple[CheckItem, ...]

    @property
    def complete(self) -> bool:
        """Whether every point of the checklist is held by the case."""
        return all(item.done for item in self.checklist)


# Why each point of a checklist matters, with the point of Article 14 that asks for it.
WHY = {
    "CSIRT of the main establishment named": "the report goes through the end-point of the CSIRT designated as "
    "coordinator of the Member State of the manufacturer's main establishment ({point}); record it in the product's "
    "PSIRT settings",
    "Member States where the product is made available": "the early warning names, where applicable, the Member "
    "States where the manufacturer knows the product is made available ({point}); record them in the product's "
    "PSIRT settings",
    "Whether unlawful or malicious acts are suspected": "an incident's early warning states at least this ({point})",
    "General information about the product": "the notification gives, as available, general information about the "
    "product concerned ({point}): name the affected releases",
    "General nature of the exploit and of the vulnerability": "the notification describes them in general terms "
    "({point}): the case's description",
    "General nature of the incident": "the notification gives, where available, general information about it "
    "({point}): the case's description",
    "Initial assessment of the incident": "the notification gives an initial assessment ({point}): state its "
    "severity and impact",
    "Corrective or mitigating measures taken": "the notification lists any measures taken ({point}): the "
    "remediation, the releases that fix it or the measure",
    "Measures users can take": "the notification says what users can do themselves ({point}): the case's mitigation",
    "How sensitive the information is": "the notification says, where applicable, how sensitive the manufacturer "
    "considers it ({point}); the CSIRT weighs this before passing it on to other CSIRTs (recital 71)",
    "Corrective or mitigating measure available": "the final report is due 14 days after one is available and "
    "cannot come before it ({point})",
    "Description of the vulnerability": "the final report describes it ({point})",
    "Detailed description of the incident": "the final report describes it in detail ({point})",
    "Its severity and impact": "the final report states them ({point}): in words, beside any CVSS vector",
    "Information on any malicious actor": "where available ({point}): say what is known, or that nothing is",
    "Details of the security update or other corrective measures": "the final report gives those made available "
    "to remedy it ({point}): the releases that fix it or the remediation",
    "Type of threat or root cause": "the final report says what likely triggered the incident ({point})",
    "Applied and ongoing mitigation measures": "the final report lists them ({point}): the remediation and mitigation",
    "The earlier report it updates": "an intermediate report updates what was reported ({point}): record the "
    "platform's reference of the earlier submission",
    "Progress of the corrective or mitigating measures": "the relevant status updates the CSIRT asked for ({point})",
}


class _Draft:
    """The fields and checklist of a packet, in the order they are added."""

    def __init__(self) -> None:
        self.fields: list[PacketField] = []
        self.checklist: list[CheckItem] = []

    def add(self, key: str, label: str, value: Value) -> None:
        self.fields.append(PacketField(key, label, _recorded(value)))

    def check(self, item: str, held: object, point: str) -> None:
        self.checklist.append(CheckItem(item, bool(held), WHY[item].format(point=point)))


def _recorded(value: Value) -> Value:
    """Empty text or lists are "not recorded"."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, tuple):
        return value or None
    return value


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_packet(facts: PacketFacts, stage: str) -> Packet:
    """The packet of `stage` (early-warning, notification, final-report, intermediate-N) of the case; PacketError
    for a stage the case runs no clock for."""
    wanted = stage.strip().lower()
    clocks = {clock.stage: clock for clock in facts.clocks}
    if not clocks:
        raise PacketError("no report is due: active exploitation is not known (record when it became known first)")
    if wanted not in clocks:
        raise PacketError(f"unknown stage {stage.strip()[:40]!r}: one of {', '.join(clocks)}")
    clock = clocks[wanted]
    label, point = _label_and_point(facts.kind, wanted)
    draft = _Draft()
    _header(draft, facts, clock)
    if wanted == EARLY_WARNING:
        _early_warning(draft, facts, point)
    elif wanted == NOTIFICATION:
        _notification(draft, facts, point)
    elif wanted == FINAL_REPORT:
        _final_report(draft, facts, point)
    else:
        _intermediate(draft, facts, int(wanted.removeprefix(INTERMEDIATE_PREFIX)))
    draft.check("CSIRT of the main establishment named", facts.csirt, "Art. 14(7)")
    return Packet(
        facts.reference, wanted, label, point, facts.kind, facts.exercise, tuple(draft.fields), tuple(draft.checklist)
    )


def _label_and_point(kind: RecordKind, stage: str) -> tuple[str, str]:
    if stage.startswith(INTERMEDIATE_PREFIX):
        return f"Intermediate report {stage.removeprefix(INTERMEDIATE_PREFIX)}", INTERMEDIATE_POINT
    return STAGES[kind][(EARLY_WARNING, NOTIFICATION, FINAL_REPORT).index(stage)]


def _header(draft: _Draft, facts: PacketFacts, clock: Clock) -> None:
    """What every report starts with: the case, the product, the recipient, the clock."""
    what = "active exploitation" if facts.kind is RecordKind.VULNERABILITY else "the incident"
    draft.add("case", "Case", facts.reference)
    draft.add("kind", "Kind", KIND_LABELS[facts.kind])
    draft.add("title", "Title", facts.title)
    draft.add("manufacturer", "Manufacturer", facts.manufacturer)
    draft.add("product", "Product", facts.product)
    draft.add("csirt", "CSIRT designated as coordinator", facts.csirt)
    draft.add("aware_at", f"Became aware of {what}", _when(facts.aware_at))
    draft.add("due_at", "Due", _when(clock.due_at) or "not yet defined")
    draft.add("submitted_at", "Submitted", _when(clock.submitted_at))
    if facts.exercise:
        draft.add("exercise", "Exercise", True)


def _member_states(draft: _Draft, facts: PacketFacts) -> None:
    draft.add("member_states", "Member States where the product is made available", facts.member_states)


def _incident_assessment(draft: _Draft, facts: PacketFacts) -> None:
    draft.add("incident_criteria", "Why the incident is severe (Art. 14(5))", facts.incident_criteria)
    draft.add("malicious_suspected", "Suspected to be caused by unlawful or malicious acts", facts.malicious_suspected)


def _weakness(draft: _Draft, facts: PacketFacts) -> None:
    draft.add("cwe_ids", "CWE", tuple(f"CWE-{cwe}" for cwe in facts.cwe_ids))
    draft.add("cve_ids", "CVE", facts.cve_ids)


def _early_warning(draft: _Draft, facts: PacketFacts, point: str) -> None:
    """Art. 14(2)(a), 14(4)(a)."""
    draft.add("affected", "Affected releases", facts.affected)
    if facts.kind is RecordKind.VULNERABILITY:
        draft.add("cve_ids", "CVE", facts.cve_ids)
    else:
        _incident_assessment(draft, facts)
        draft.check("Whether unlawful or malicious acts are suspected", facts.malicious_suspected is not None, point)
    _member_states(draft, facts)
    draft.check("Member States where the product is made available", facts.member_states, point)


def _notification(draft: _Draft, facts: PacketFacts, point: str) -> None:
    """Art. 14(2)(b), 14(4)(b)."""
    draft.add("affected", "Affected releases", facts.affected)
    if facts.kind is RecordKind.VULNERABILITY:
        draft.add("components", "Affected components", facts.components)
        draft.add("upstream_component", "Third-party component", facts.upstream_component)
        draft.add("description", "General nature of the exploit and of the vulnerability", facts.description)
        _weakness(draft, facts)
        draft.check("General information about the product", facts.affected, point)
        draft.check("General nature of the exploit and of the vulnerability", facts.description, point)
    else:
        draft.add("description", "General nature of the incident", facts.description)
        _incident_assessment(draft, facts)
        draft.add("impact", "Initial assessment: severity and impact", facts.impact)
        draft.check("General nature of the incident", facts.description, point)
        draft.check("Initial assessment of the incident", facts.impact, point)
    _measures(draft, facts)
    draft.add("sensitivity", "How sensitive the information is", facts.sensitivity)
    draft.add("embargo_until", "Embargo until", facts.embargo_until.isoformat() if facts.embargo_until else None)
    _member_states(draft, facts)
    draft.check("Corrective or mitigating measures taken", _measures_taken(facts), point)
    draft.check("Measures users can take", facts.mitigation, point)
    draft.check("How sensitive the information is", facts.sensitivity, point)


def _measures(draft: _Draft, facts: PacketFacts, taken: str = "Corrective or mitigating measures taken") -> None:
    """The measures taken, the releases and the measure that fix a vulnerability, and what users can do."""
    draft.add("remediation", taken, facts.remediation)
    if facts.kind is RecordKind.VULNERABILITY:
        draft.add("fixed_in", "Releases that fix it", facts.fixed_in)
        draft.add(
            "measure_available_at", "Corrective or mitigating measure available", _when(facts.measure_available_at)
        )
    draft.add("mitigation", "Measures users can take", facts.mitigation)


def _measures_taken(facts: PacketFacts) -> bool:
    return bool(facts.remediation or facts.fixed_in or facts.measure_available_at)


def _final_report(draft: _Draft, facts: PacketFacts, point: str) -> None:
    """Art. 14(2)(c) and 14(4)(c); their points (i) to (iii)."""
    if facts.kind is RecordKind.VULNERABILITY:
        draft.add("description", "Description of the vulnerability", facts.description)
        _weakness(draft, facts)
        draft.add("cvss_v31", "CVSS v3.1", facts.cvss_v31)
        draft.add("cvss_v40", "CVSS v4.0", facts.cvss_v40)
        score = None if facts.severity_score is None else f"{facts.severity_score:.1f}"
        draft.add("severity_score", "Highest base score", score)
        draft.add("impact", "Severity and impact", facts.impact)
        draft.add("malicious_actor", "Malicious actor", facts.malicious_actor)
        draft.add("affected", "Affected releases", facts.affected)
        _measures(draft, facts, taken="Security update or other corrective measures")
        draft.check("Corrective or mitigating measure available", facts.measure_available_at, point)
        draft.check("Description of the vulnerability", facts.description, f"{point}(i)")
        draft.check("Its severity and impact", facts.impact, f"{point}(i)")
        draft.check("Information on any malicious actor", facts.malicious_actor, f"{point}(ii)")
        updates = facts.fixed_in or facts.remediation
        draft.check("Details of the security update or other corrective measures", updates, f"{point}(iii)")
        return
    notified = next((s.submitted_at for s in facts.submissions if NOTIFICATION in s.stages), None)
    draft.add("notification_submitted_at", "Incident notification submitted", _when(notified))
    draft.add("description", "Detailed description of the incident", facts.description)
    draft.add("incident_criteria", "Why the incident is severe (Art. 14(5))", facts.incident_criteria)
    draft.add("impact", "Severity and impact", facts.impact)
    draft.add("root_cause", "Type of threat or root cause", facts.root_cause)
    draft.add("remediation", "Mitigation measures applied", facts.remediation)
    draft.add("mitigation", "Mitigation measures ongoing, and what users can do", facts.mitigation)
    draft.add("affected", "Affected releases", facts.affected)
    _member_states(draft, facts)
    draft.check("Detailed description of the incident", facts.description, f"{point}(i)")
    draft.check("Its severity and impact", facts.impact, f"{point}(i)")
    draft.check("Type of threat or root cause", facts.root_cause, f"{point}(ii)")
    draft.check("Applied and ongoing mitigation measures", facts.remediation or facts.mitigation, f"{point}(iii)")


def _intermediate(draft: _Draft, facts: PacketFacts, number: int) -> None:
    """Art. 14(6): relevant status updates, as the CSIRT asked."""
    stage = f"{INTERMEDIATE_PREFIX}{number}"
    request = facts.requests[number - 1] if number <= len(facts.requests) else None
    if request is not None:
        draft.add("requested_at", "Requested by the CSIRT", _when(request.requested_at))
        draft.add("request_reference", "The CSIRT's reference", request.reference)
    earlier = [s for s in facts.submissions if stage not in s.stages]
    draft.add("earlier_reports", "Earlier reports", tuple(_submission_line(s) for s in earlier))
    draft.add("status", "Status of the handling", facts.status)
    draft.add("description", "Description", facts.description)
    draft.add("impact", "Severity and impact", facts.impact)
    _measures(draft, facts, taken="Corrective or mitigating measures")
    draft.check("The earlier report it updates", any(s.reference for s in earlier), INTERMEDIATE_POINT)
    progress = _measures_taken(facts) or facts.mitigation
    draft.check("Progress of the corrective or mitigating measures", progress, INTERMEDIATE_POINT)


def _submission_line(submission: PacketSubmission) -> str:
    reference = f" (platform reference {submission.reference})" if submission.reference else ""
    return f"{_when(submission.submitted_at)}: {', '.join(submission.stages)}{reference}"


# --- renderings ------------------------------------------------------------------------------------------------


def packet_json(packet: Packet) -> dict[str, Any]:
    """The packet for machines: the same keys for every stage, lists where a field holds several values."""
    return {
        "exercise_label": EXERCISE_LABEL if packet.exercise else None,
        "case": packet.case,
        "stage": packet.stage,
        "label": packet.label,
        "point": packet.point,
        "kind": packet.kind.value,
        "exercise": packet.exercise,
        "notice": NOTICE,
        "fields": [
            {"key": f.key, "label": f.label, "value": list(f.value) if isinstance(f.value, tuple) else f.value}
            for f in packet.fields
        ],
        "checklist": [{"item": c.item, "done": c.done, "why": c.why} for c in packet.checklist],
        "complete": packet.complete,
    }


def packet_markdown(packet: Packet) -> str:
    """The packet for people: headings, the fields as a list, the checklist; text from the case is escaped, so it
    shows as written and cannot add headings, tables, links or markup."""
    lines: list[str] = []
    if packet.exercise:
        lines += [f"**{EXERCISE_LABEL}**", ""]
    lines += [f"# {packet.case}: {packet.label} ({packet.point})", "", NOTICE, "", "## Information", ""]
    for field in packet.fields:
        lines += _field_lines(field)
    done = sum(item.done for item in packet.checklist)
    lines += ["", f"## Checklist ({done} of {len(packet.checklist)})", ""]
    lines += [f"- [{'x' if item.done else ' '}] {item.item}: {item.why}" for item in packet.checklist]
    lines += ["", "Complete." if packet.complete else "Not complete: the unchecked points are missing from the case."]
    return "\n".join(lines) + "\n"


def _field_lines(field: PacketField) -> list[str]:
    """One list item; text of several lines continues indented under it, where a line starts a block."""
    value = field.value
    if value is None:
        return [f"- **{field.label}**: *not recorded*"]
    if isinstance(value, bool):
        return [f"- **{field.label}**: {'yes' if value else 'no'}"]
    if isinstance(value, tuple):
        return [f"- **{field.label}**: {', '.join(escape_inline(item) for item in value)}"]
    first, *rest = value.splitlines() or [""]
    return [f"- **{field.label}**: {escape_inline(first)}", *(f"  {escape_line(line)}".rstrip() for line in rest)]


# Characters that start inline markup anywhere: emphasis, code spans and fences, links, HTML and entities, tables.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# What starts a block only at the beginning of a line: headings, list items, setext underlines, ordered lists.
_LINE_START = re.compile(r"^([-+=#])|^(\d{1,9})([.)])")


def escape_inline(text: str) -> str:
    """Stored text shown as written inside a line of Markdown: every character that could start inline markup is
    escaped; line breaks become spaces."""
    return _INLINE.sub(r"\\\1", " ".join(text.splitlines()).strip())


def escape_line(text: str) -> str:
    """Stored text shown as written as a line of its own: escaped as inside a line, and neither its first character
    nor leading spaces (an indented code block) can start a block."""
    line = escape_inline(text)
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", line)
