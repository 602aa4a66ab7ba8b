"""Submission packets as a pure decision: what each stage of each kind states, its checklist as facts are added,
the exercise label, the refusals, and Markdown that shows stored text as written."""

from __future__ import annotations

import dataclasses
import string
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from sdl_tracker.psirt.packets import (
    EXERCISE_LABEL,
    NOTICE,
    Packet,
    PacketError,
    PacketFacts,
    PacketRequest,
    PacketSubmission,
    build_packet,
    escape_inline,
    packet_json,
    packet_markdown,
)
from sdl_tracker.psirt.rules import IntermediateRequest, RecordKind, Submission, reporting_clocks

VULNERABILITY = RecordKind.VULNERABILITY
INCIDENT = RecordKind.INCIDENT
AWARE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = AWARE + timedelta(hours=30)
MEASURE = AWARE + timedelta(hours=20)
STAGES = ("early-warning", "notification", "final-report")
# Markdown as the places a packet is pasted into read it: CommonMark with GitHub's tables and strikethrough.
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def facts(kind: RecordKind = VULNERABILITY, **given: Any) -> PacketFacts:
    """A case with nothing beyond what every case holds, its clocks computed from what is given."""
    submissions = given.pop("submissions", ())
    requests = given.pop("requests", ())
    aware = given.pop("aware_at", AWARE)
    clocks = (
        ()
        if aware is None
        else reporting_clocks(
            kind,
            aware_at=aware,
            zone="Europe/Berlin",
            now=NOW,
            submissions=[Submission(s.submitted_at, frozenset(s.stages)) for s in submissions],
            measure_available_at=given.get("measure_available_at"),
            intermediate_requests=[IntermediateRequest(r.requested_at, r.due_at) for r in requests],
        )
    )
    title = given.pop("title", "Modbus frame overflow" if kind is VULNERABILITY else "Signing key exposed")
    return PacketFacts(
        reference="PSIRT-2026-0007",
        kind=kind,
        title=title,
        product="PLC",
        aware_at=aware,
        clocks=clocks,
        submissions=tuple(submissions),
        requests=tuple(requests),
        **given,
    )


# Everything the reports of each kind can state, so every point of every checklist is held.
FULL = {
    "csirt": "CERT-Bund",
    "member_states": ("AT", "DE"),
    "description": "A crafted Modbus frame overflows the parser.",
    "impact": "Remote code execution without authentication: critical.",
    "sensitivity": "High until the fix is deployed: share with the CSIRTs concerned only.",
    "remediation": "Firmware 1.2 bounds-checks the frame length.",
    "mitigation": "Block TCP 502 at the cell firewall.",
    "affected": ("1.0", "1.1"),
}
FULL_VULNERABILITY = {
    **FULL,
    "malicious_actor": "No actor identified; exploitation seen from two address ranges.",
    "measure_available_at": MEASURE,
    "fixed_in": ("1.2",),
}
FULL_INCIDENT = {**FULL, "malicious_suspected": True, "root_cause": "A build agent's token was phished."}


def keys(packet: Packet) -> list[str]:
    return [field.key for field in packet.fields]


def value(packet: Packet, key: str) -> Any:
    return next(field.value for field in packet.fields if field.key == key)


def undone(packet: Packet) -> list[str]:
    return [item.item for item in packet.checklist if not item.done]


@pytest.mark.parametrize(
    ("stage", "point", "wanted"),
    [
        ("early-warning", "Art. 14(2)(a)", {"member_states", "affected", "cve_ids"}),
        (
            "notification",
            "Art. 14(2)(b)",
            {"affected", "description", "remediation", "fixed_in", "mitigation", "sensitivity", "embargo_until"},
        ),
        (
            "final-report",
            "Art. 14(2)(c)",
            {"description", "cvss_v31", "cvss_v40", "impact", "malicious_actor", "fixed_in", "remediation"},
        ),
    ],
)
def test_each_stage_of_a_vulnerability_states_what_article_14_2_asks(stage: str, point: str, wanted: set[str]) -> None:
    packet = build_packet(facts(**FULL_VULNERABILITY), stage)
    assert (packet.stage, packet.point, packet.case) == (stage, point, "PSIRT-2026-0007")
    assert keys(packet)[:6] == ["case", "kind", "title", "manufacturer", "product", "csirt"]
    assert wanted <= set(keys(packet))
    assert packet.complete and undone(packet) == []
    assert all(point in item.why or item.item.startswith("CSIRT") for item in packet.checklist)


@pytest.mark.parametrize(
    ("stage", "point", "wanted"),
    [
        ("early-warning", "Art. 14(4)(a)", {"malicious_suspected", "member_states", "incident_criteria"}),
        ("notification", "Art. 14(4)(b)", {"description", "impact", "remediation", "mitigation", "sensitivity"}),
        ("final-report", "Art. 14(4)(c)", {"description", "impact", "root_cause", "remediation", "mitigation"}),
    ],
)
def test_each_stage_of_an_incident_states_what_article_14_4_asks(stage: str, point: str, wanted: set[str]) -> None:
    packet = build_packet(facts(INCIDENT, **FULL_INCIDENT), stage)
    assert (packet.stage, packet.point) == (stage, point)
    assert wanted <= set(keys(packet))
    assert "malicious_actor" not in keys(packet) and "cvss_v31" not in keys(packet)
    assert packet.complete


@pytest.mark.parametrize(
    ("kind", "stage", "missing"),
    [
        (
            VULNERABILITY,
            "early-warning",
            ["Member States where the product is made available", "CSIRT of the main establishment named"],
        ),
        (
            VULNERABILITY,
            "notification",
            [
                "General information about the product",
                "General nature of the exploit and of the vulnerability",
                "Corrective or mitigating measures taken",
                "Measures users can take",
                "How sensitive the information is",
                "CSIRT of the main establishment named",
            ],
        ),
        (
            VULNERABILITY,
            "final-report",
            [
                "Corrective or mitigating measure available",
                "Description of the vulnerability",
                "Its severity and impact",
                "Information on any malicious actor",
                "Details of the security update or other corrective measures",
                "CSIRT of the main establishment named",
            ],
        ),
        (
            INCIDENT,
            "early-warning",
            [
                "Whether unlawful or malicious acts are suspected",
                "Member States where the product is made available",
                "CSIRT of the main establishment named",
            ],
        ),
        (
            INCIDENT,
            "notification",
            [
                "General nature of the incident",
                "Initial assessment of the incident",
                "Corrective or mitigating measures taken",
                "Measures users can take",
                "How sensitive the information is",
                "CSIRT of the main establishment named",
            ],
        ),
        (
            INCIDENT,
            "final-report",
            [
                "Detailed description of the incident",
                "Its severity and impact",
                "Type of threat or root cause",
                "Applied and ongoing mitigation measures",
                "CSIRT of the main establishment named",
            ],
        ),
    ],
)
def test_the_checklist_fills_as_the_facts_are_recorded(kind: RecordKind, stage: str, missing: list[str]) -> None:
    bare = build_packet(facts(kind), stage)
    assert undone(bare) == missing and not bare.complete
    full = FULL_VULNERABILITY if kind is VULNERABILITY else FULL_INCIDENT
    given: dict[str, Any] = {}
    for name, fact in full.items():
        given[name] = fact
        packet = build_packet(facts(kind, **given), stage)
        assert set(undone(packet)) <= set(missing)
        assert len(packet.checklist) == len(missing)
    assert undone(packet) == [] and packet.complete


def test_a_point_where_the_law_says_where_available_is_done_only_once_something_is_said() -> None:
    without = build_packet(facts(**{**FULL_VULNERABILITY, "malicious_actor": ""}), "final-report")
    assert undone(without) == ["Information on any malicious actor"]
    said = build_packet(facts(**{**FULL_VULNERABILITY, "malicious_actor": "Nothing is known."}), "final-report")
    assert said.complete and value(said, "malicious_actor") == "Nothing is known."


def test_an_incident_says_whether_malicious_acts_are_suspected_even_when_they_are_not() -> None:
    packet = build_packet(facts(INCIDENT, **{**FULL_INCIDENT, "malicious_suspected": False}), "early-warning")
    assert value(packet, "malicious_suspected") is False and packet.complete
    assert "- **Suspected to be caused by unlawful or malicious acts**: no" in packet_markdown(packet)


def test_the_clock_and_earlier_submissions_are_stated() -> None:
    submitted = PacketSubmission(AWARE + timedelta(hours=2), ("early-warning", "notification"), "SRP-123")
    packet = build_packet(facts(INCIDENT, submissions=(submitted,)), "final-report")
    assert value(packet, "notification_submitted_at") == "2026-12-01T11:00:00Z"
    assert value(packet, "due_at") == "2027-01-01T11:00:00Z"  # a month from the notification's submission
    assert value(packet, "aware_at") == "2026-12-01T09:00:00Z"
    warning = build_packet(facts(INCIDENT, submissions=(submitted,)), "early-warning")
    assert value(warning, "submitted_at") == "2026-12-01T11:00:00Z"
    not_yet = build_packet(facts(), "final-report")
    assert value(not_yet, "due_at") == "not yet defined" and value(not_yet, "submitted_at") is None


def test_an_intermediate_report_updates_the_earlier_one_the_csirt_asked_about() -> None:
    request = PacketRequest(AWARE + timedelta(hours=5), AWARE + timedelta(days=3), "CSIRT-42")
    first = PacketSubmission(AWARE + timedelta(hours=2), ("early-warning",))
    bare = build_packet(facts(submissions=(first,), requests=(request,)), "intermediate-1")
    assert (bare.label, bare.point) == ("Intermediate report 1", "Art. 14(6)")
    assert value(bare, "request_reference") == "CSIRT-42"
    assert value(bare, "earlier_reports") == ("2026-12-01T11:00:00Z: early-warning",)
    assert undone(bare) == [
        "The earlier report it updates",
        "Progress of the corrective or mitigating measures",
        "CSIRT of the main establishment named",
    ]
    referenced = dataclasses.replace(first, reference="SRP-123")
    packet = build_packet(
        facts(submissions=(referenced,), requests=(request,), csirt="CERT-Bund", mitigation="Block TCP 502."),
        "intermediate-1",
    )
    assert packet.complete
    assert value(packet, "earlier_reports") == ("2026-12-01T11:00:00Z: early-warning (platform reference SRP-123)",)


@pytest.mark.parametrize(
    ("case", "stage", "message"),
    [
        (facts(aware_at=None), "early-warning", "active exploitation is not known"),
        (facts(), "summary", "unknown stage 'summary': one of early-warning, notification, final-report"),
        (facts(), "intermediate-1", "unknown stage 'intermediate-1'"),
        (facts(), "", "unknown stage ''"),
    ],
)
def test_a_stage_the_case_runs_no_clock_for_is_refused(case: PacketFacts, stage: str, message: str) -> None:
    with pytest.raises(PacketError, match=message):
        build_packet(case, stage)


def test_a_stage_is_read_as_the_commands_write_it() -> None:
    assert build_packet(facts(), " Final-Report ").stage == "final-report"


@pytest.mark.parametrize("kind", [VULNERABILITY, INCIDENT])
@pytest.mark.parametrize("stage", STAGES)
def test_an_exercise_is_labelled_at_the_top_of_every_rendering(kind: RecordKind, stage: str) -> None:
    packet = build_packet(facts(kind, exercise=True), stage)
    assert packet_markdown(packet).splitlines()[0] == f"**{EXERCISE_LABEL}**"
    data = packet_json(packet)
    assert next(iter(data)) == "exercise_label" and data["exercise_label"] == EXERCISE_LABEL and data["exercise"]
    real = build_packet(facts(kind), stage)
    assert packet_json(real)["exercise_label"] is None and EXERCISE_LABEL not in packet_markdown(real)


def test_every_rendering_says_the_tracker_submits_nothing() -> None:
    packet = build_packet(facts(), "early-warning")
    assert packet_json(packet)["notice"] == NOTICE and NOTICE in packet_markdown(packet)
    assert "no public submission interface" in NOTICE


def test_the_json_has_the_same_keys_for_every_stage_and_kind() -> None:
    shapes = {
        (tuple(data), tuple(tuple(f) for f in data["fields"]), tuple(tuple(c) for c in data["checklist"]))
        for kind in (VULNERABILITY, INCIDENT)
        for stage in STAGES
        for data in [
            packet_json(
                build_packet(facts(kind, **FULL_VULNERABILITY if kind is VULNERABILITY else FULL_INCIDENT), stage)
            )
        ]
    }
    assert {shape[0] for shape in shapes} == {
        (
            "exercise_label",
            "case",
            "stage",
            "label",
            "point",
            "kind",
            "exercise",
            "notice",
            "fields",
            "checklist",
            "complete",
        )
    }
    assert {key for shape in shapes for key in shape[1]} == {("key", "label", "value")}
    assert {key for shape in shapes for key in shape[2]} == {("item", "done", "why")}
    data = packet_json(build_packet(facts(**FULL_VULNERABILITY, embargo_until=date(2027, 1, 15)), "notification"))
    by_key = {f["key"]: f["value"] for f in data["fields"]}
    assert by_key["affected"] == ["1.0", "1.1"] and by_key["embargo_until"] == "2027-01-15"
    assert by_key["components"] is None and data["complete"] is True


def _blocks(markdown: str) -> list[tuple[str, str]]:
    return [(token.type, token.tag) for token in MARKDOWN.parse(markdown) if token.type != "inline"]


def _texts(markdown: str) -> list[str]:
    """The text of each paragraph, as a reader sees it (line breaks as \\n)."""
    return [
        "".join(child.content if child.type != "softbreak" else "\n" for child in token.children or [])
        for token in MARKDOWN.parse(markdown)
        if token.type == "inline"
    ]


def _shown(label: str, text: str) -> list[str]:
    """The paragraphs a field holding `text` should show: its lines as written, a blank line between paragraphs."""
    paragraphs = [[]]  # type: list[list[str]]
    for line in text.splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    shown = ["\n".join(lines) for lines in paragraphs if lines]
    return [f"{label}: {shown[0]}", *shown[1:]]


def _like(text: str) -> str:
    """Harmless text of the same shape: each line an x, blank lines kept."""
    return "\n".join("x" if line.strip() else "" for line in text.splitlines())


def _assert_shown_as_written(text: str) -> None:
    rendered = packet_markdown(build_packet(facts(title=text, description=text), "notification"))
    assert _blocks(rendered) == _blocks(
        packet_markdown(build_packet(facts(title=_like(text), description=_like(text)), "notification"))
    )
    texts = _texts(rendered)
    for label in ("Title", "General nature of the exploit and of the vulnerability"):
        shown = _shown(label, text)
        start = texts.index(shown[0])
        assert texts[start : start + len(shown)] == shown


HOSTILE = [
    "# x\n| y |",
    "intro\n# heading\n## sub",
    "| a | b |\n| --- | --- |\n| c | d |",
    "intro\n\n| a | b |\n| --- | --- |\n| c | d |",
    "Title\n===",
    "Title\n---",
    "<script>alert(1)</script> <b>bold</b> &amp; &#35;",
    "intro\n\n<div>\nhtml block\n</div>",
    "[link](https://attacker.example) ![img](x.png) <https://attacker.example>",
    "*em* **strong** _u_ `code` ~~gone~~ \\",
    "```\nfenced\n```",
    "intro\n\n    indented code\n\n\ttabbed code",
    "> quoted\n- item\n+ item\n* item\n1. one\n2) two\n***",
    "intro\n\n> quoted\n\n- item\n\n1. one",
    "intro\n\n7) seven\n\n8. eight",
    "- [x] Member States where the product is made available: done",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_stored_text_cannot_add_structure_to_the_markdown(text: str) -> None:
    _assert_shown_as_written(text)
    rendered = packet_markdown(build_packet(facts(title=text, description=text), "notification"))
    headings = [line for line in rendered.splitlines() if line.startswith("#")]
    assert headings == [
        "# PSIRT-2026-0007: Vulnerability notification (Art. 14(2)(b))",
        "## Information",
        "## Checklist (1 of 6)",
    ]


LINE = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=5).filter(lambda lines: lines[0].strip() != ""))
def test_any_text_shows_as_written_and_adds_no_structure(lines: list[str]) -> None:
    _assert_shown_as_written("\n".join(lines))


def test_inline_escaping_leaves_plain_text_alone() -> None:
    plain = string.ascii_letters + string.digits + " .,:;/@()-+=#!?'\""
    assert escape_inline(plain) == plain
    assert escape_inline("pkg:deb/debian/openssl@3.0.13") == "pkg:deb/debian/openssl@3.0.13"
