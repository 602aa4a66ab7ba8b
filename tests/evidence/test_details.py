"""Per-kind details: each schema with good and bad facts at every door; Threat Dragon import."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.details import parse_detail_pairs, validate_details
from sdl_tracker.evidence.models import Evidence, EvidenceKind
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence, revise_evidence
from sdl_tracker.evidence.threat_dragon import parse_threat_dragon
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member

GOOD = {
    "threat-model": {"method": "STRIDE", "threats_total": 12, "threats_open": 2, "threats_mitigated": 9},
    "design-review": {"change": "ADR-7", "reviewer": "R. Viewer", "findings_total": 3, "findings_open": 1},
    "code-review": {"change": "a1b2c3..d4e5f6", "reviewer": "R. Viewer", "cwe_top25_checked": True},
    "fuzz-campaign": {
        "target_interface": "eth0",
        "protocol": "Modbus TCP",
        "tool": "boofuzz",
        "duration_hours": 24,
        "executions": 1000,
        "crashes_found": 2,
        "crashes_fixed": 1,
        "coverage_percent": 60,
    },
    "vulnerability-scan": {"tool": "OpenVAS", "findings": {"high": 1}},
    "penetration-test": {"tool": "Acme", "findings": {"critical": 0, "medium": 2}},
    "security-training": {"course": "Secure C", "attendees": 12, "held_on": "2026-03-01"},
    "update-record": {"update_id": "SA-2026-01", "qualification_result": "passed", "delivery_channel": "portal"},
}
BAD = [
    ("threat-model", {"threats_total": 2, "threats_open": 2, "threats_mitigated": 1}, "details"),
    ("threat-model", {"threats_total": -1}, "details.threats_total"),
    ("threat-model", {"threats_total": 1, "method": "astrology"}, "details.method"),
    ("code-review", {"change": "x", "reviewer": "y", "findings_total": 1, "findings_open": 5}, "details"),
    ("fuzz-campaign", {**GOOD["fuzz-campaign"], "crashes_fixed": 9}, "details"),
    ("fuzz-campaign", {**GOOD["fuzz-campaign"], "duration_hours": 0}, "details.duration_hours"),
    ("penetration-test", {"tool": "Acme", "findings": {"catastrophic": 1}}, "details.findings.catastrophic"),
    ("security-training", {"course": "x", "attendees": 0, "held_on": "2026-01-01"}, "details.attendees"),
    (
        "update-record",
        {"update_id": "x", "qualification_result": "maybe", "delivery_channel": "y"},
        "details.qualification_result",
    ),
    ("other", {"anything": 1}, "details"),
    ("code-review", {"change": "x", "reviewer": "y", "sneaky": True}, "details.sneaky"),
]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_details(kind: str) -> None:
    assert validate_details(EvidenceKind(kind), GOOD[kind])


@pytest.mark.parametrize(("kind", "details", "field"), BAD)
def test_bad_details_name_the_field(kind: str, details: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate_details(EvidenceKind(kind), details)
    assert field in {e.field for e in caught.value.errors}


def test_detail_pairs() -> None:
    assert parse_detail_pairs(["tool=Acme", "findings.high=2"]) == {"tool": "Acme", "findings": {"high": "2"}}
    with pytest.raises(Invalid):
        parse_detail_pairs(["no-equals-sign"])
    with pytest.raises(Invalid):
        parse_detail_pairs(["a=1", "a.b=2"])


def threat_dragon(version: int = 2) -> bytes:
    """A model in Threat Dragon's own formats: v2 keeps threats in cell data, v1 on the cells of diagramJson."""
    threats = [
        {"title": "Spoofed HMI", "type": "Spoofing", "status": "Open", "severity": "High", "mitigation": ""},
        {
            "title": "Tampered recipe",
            "type": "Tampering",
            "status": "Mitigated",
            "severity": "Medium",
            "mitigation": "Signed recipes",
        },
        {"title": "Telemetry leak", "type": "Information disclosure", "status": "NotApplicable", "severity": "Low"},
    ]
    if version == 2:
        cells = [
            {
                "shape": "process",
                "id": "p1",
                "data": {"type": "tm.Process", "name": "Recipe server", "threats": threats},
            },
            {"shape": "flow", "id": "f1", "data": {"type": "tm.Flow", "name": "HTTPS", "threats": []}},
        ]
        diagrams = [{"id": 0, "title": "Main", "diagramType": "STRIDE", "version": "2.4.0", "cells": cells}]
    else:
        cells = [{"type": "tm.Process", "id": "p1", "attrs": {"text": {"text": "Recipe server"}}, "threats": threats}]
        diagrams = [{"id": 0, "title": "Main", "diagramType": "STRIDE", "diagramJson": {"cells": cells}}]
    return json.dumps(
        {
            "version": f"{version}.0.0",
            "summary": {"title": "HMI recipes", "owner": "HMI team"},
            "detail": {"contributors": [], "diagrams": diagrams},
        }
    ).encode()


@pytest.mark.parametrize("version", [1, 2])
def test_threat_dragon_models_fill_the_counts(version: int) -> None:
    details = parse_threat_dragon(threat_dragon(version))
    assert (details["threats_total"], details["threats_open"], details["threats_mitigated"]) == (3, 1, 1)
    assert details["method"] == "STRIDE" and details["scope"] == "HMI recipes"
    assert details["threats"][1] == {
        "title": "Tampered recipe",
        "status": "Mitigated",
        "severity": "Medium",
        "category": "Tampering",
        "element": "Recipe server",
        "mitigation": "Signed recipes",
    }
    assert validate_details(EvidenceKind.THREAT_MODEL, details)["threats_total"] == 3


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "no summary"),
        (b'{"summary": {}, "detail": {}}', "no detail.diagrams"),
        (
            b'{"summary": {}, "detail": {"diagrams": [{"cells": [{"data": {"threats": [{"status": "Open"}]}}]}]}}',
            "no title",
        ),
        (b'{"summary": {}, "detail": {"diagrams": [{"cells": "x"}]}}', "not a list"),
    ],
)
def test_malformed_models_are_refused_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_threat_dragon(raw)
    assert reason in caught.value.one_line()


def _model_upload(raw: bytes | None = None) -> Upload:
    return Upload("model.json", "application/json", io.BytesIO(raw or threat_dragon()))


def test_import_through_the_service_keeps_the_model_and_its_threats(session: Session) -> None:
    product = make_product(session)
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="threat-model",
        data=EvidenceInput(
            title="Model", requirements=["SR-2"], threat_dragon=_model_upload(), details={"scope": "Recipe handling"}
        ),
    )
    current = evidence.current
    assert current.details["threats_total"] == 3 and current.details["scope"] == "Recipe handling"
    assert [a.filename for a in current.artifacts] == ["model.json"]  # the model is evidence too
    with pytest.raises(Invalid, match="not attached"):
        create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="code-review",
            data=EvidenceInput(title="x", requirements=["SI-1"], threat_dragon=_model_upload()),
        )
    with pytest.raises(Invalid) as caught:
        create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="threat-model",
            data=EvidenceInput(title="x", requirements=["SR-2"], threat_dragon=_model_upload(b"[1]")),
        )
    assert "threat_dragon" in {e.field for e in caught.value.errors}


def test_context_rules_interfaces_and_release_review(session: Session) -> None:
    product = make_product(session)  # interfaces: eth0
    with pytest.raises(Invalid) as caught:
        create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="fuzz-campaign",
            data=EvidenceInput(
                title="x",
                requirements=["SVV-3"],
                files=[_model_upload()],
                details={**GOOD["fuzz-campaign"], "target_interface": "wlan9"},
            ),
        )
    assert "details.target_interface" in {e.field for e in caught.value.errors}
    make_release(session, product, "1.0", status="released")
    model = {"threats_total": 1}
    with pytest.raises(Invalid, match="not attached") as caught:
        create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="threat-model",
            data=EvidenceInput(
                title="x",
                requirements=["SR-2"],
                files=[_model_upload()],
                details=model,
                effective_date=date(2026, 1, 10),
            ),
        )
    assert caught.value.errors[0].message.startswith("a released product's threat model needs")
    too_late = {**model, "next_review_due": "2027-01-11"}
    with pytest.raises(Invalid, match="not attached"):
        create_evidence(
            session,
            OPERATOR,
            product_id=product.id,
            kind="threat-model",
            data=EvidenceInput(
                title="x",
                requirements=["SR-2"],
                files=[_model_upload()],
                details=too_late,
                effective_date=date(2026, 1, 10),
            ),
        )
    ok = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="threat-model",
        data=EvidenceInput(
            title="x",
            requirements=["SR-2"],
            files=[_model_upload()],
            details={**model, "next_review_due": "2027-01-10"},
            effective_date=date(2026, 1, 10),
        ),
    )
    assert ok.current.review_due == date(2027, 1, 10)  # the model's next review is the evidence's review date
    revised = revise_evidence(session, OPERATOR, ok.id, data=EvidenceInput(details={"threats_open": 1}))
    assert revised.details["threats_total"] == 1 and revised.details["threats_open"] == 1  # merged, then validated


def test_details_through_the_api(api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    token = api.as_user("dev@example.com")
    path = f"/api/v1/products/{product.id}/evidence"
    meta = {
        "kind": "penetration-test",
        "title": "Pentest",
        "requirements": ["SVV-4"],
        "details": GOOD["penetration-test"],
    }
    ok = api.call(
        "POST",
        path,
        token,
        data={"metadata": json.dumps(meta), "file": [(io.BytesIO(b"r"), "r.pdf")]},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 201 and ok.get_json()["current"]["details"]["findings"]["medium"] == 2
    bad = {**meta, "details": {"tool": "Acme", "findings": {"high": -1}}}
    refused = api.call(
        "POST",
        path,
        token,
        data={"metadata": json.dumps(bad), "file": [(io.BytesIO(b"r"), "r.pdf")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "details.findings.high"
    model = {"kind": "threat-model", "title": "TD", "requirements": ["SR-2"]}
    imported = api.call(
        "POST",
        path,
        token,
        data={"metadata": json.dumps(model), "threat_dragon": (io.BytesIO(threat_dragon()), "td.json")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 201 and imported.get_json()["current"]["details"]["threats_total"] == 3


def test_details_through_the_cli(app: Flask, session: Session, tmp_path: Path) -> None:
    make_product(session, "P")
    report = tmp_path / "fuzz.txt"
    report.write_text("no crashes")
    details_file = tmp_path / "fuzz.json"
    details_file.write_text(json.dumps({k: v for k, v in GOOD["fuzz-campaign"].items() if k != "tool"}))
    runner = app.test_cli_runner()
    ok = runner.invoke(
        cli,
        [
            "evidence",
            "add",
            "P",
            "--kind",
            "fuzz-campaign",
            "--title",
            "Fuzz",
            "--requirement",
            "SVV-3",
            "--file",
            str(report),
            "--details",
            str(details_file),
            "--detail",
            "tool=AFL++",
        ],
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        cli,
        [
            "evidence",
            "add",
            "P",
            "--kind",
            "fuzz-campaign",
            "--title",
            "Fuzz",
            "--requirement",
            "SVV-3",
            "--file",
            str(report),
            "--details",
            str(details_file),
            "--detail",
            "executions=many",
        ],
    )
    assert bad.exit_code == 2 and "details.executions" in bad.output and "details.tool" in bad.output
    model = tmp_path / "model.json"
    model.write_bytes(threat_dragon(1))
    imported = runner.invoke(
        cli,
        [
            "evidence",
            "add",
            "P",
            "--kind",
            "threat-model",
            "--title",
            "TD",
            "--requirement",
            "SR-2",
            "--threat-dragon",
            str(model),
            "--json",
        ],
    )
    assert json.loads(imported.output)["current"]["details"]["threats_open"] == 1
    model.write_text("{}")
    refused = runner.invoke(
        cli,
        [
            "evidence",
            "add",
            "P",
            "--kind",
            "threat-model",
            "--title",
            "TD",
            "--requirement",
            "SR-2",
            "--threat-dragon",
            str(model),
        ],
    )
    assert refused.exit_code == 2 and "not a usable Threat Dragon model" in refused.output


def test_a_details_file_gets_the_rules_the_api_applies_to_details(app: Flask, session: Session, tmp_path: Path) -> None:
    make_product(session, "P")
    report = tmp_path / "fuzz.txt"
    report.write_text("no crashes")
    details_file = tmp_path / "fuzz.json"
    details_file.write_text(json.dumps({**GOOD["fuzz-campaign"], "tool": "AFL\u009b2J\u001b]0;owned\u0007"}))
    add = ["evidence", "add", "P", "--kind", "fuzz-campaign", "--title", "Fuzz", "--requirement", "SVV-3"]
    refused = app.test_cli_runner().invoke(cli, [*add, "--file", str(report), "--details", str(details_file)])
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith("error: ") and "--details" in refused.output and "U+009B" in refused.output
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_details_through_the_page(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    chooser = client.get(f"/products/{product.id}/evidence/new?requirements=SVV-4").get_data(as_text=True)
    assert "kind=penetration-test" in chooser and "requirements=SVV-4" in chooser
    path = f"/products/{product.id}/evidence/new?kind=penetration-test"
    form = client.get(path).get_data(as_text=True)
    assert 'name="details-findings__high"' in form
    base = {
        "kind": "penetration-test",
        "title": "Pentest",
        "requirements": "SVV-4",
        "details-tool": "Acme",
        "files": [(io.BytesIO(b"r"), "r.pdf")],
    }
    bad = client.post(
        path,
        data={**base, "details-findings__high": "-3", "csrf_token": csrf_token(client, path)},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 200 and "greater than or equal to 0" in bad.get_data(as_text=True)
    good = client.post(
        path,
        data={
            **base,
            "details-findings__high": "2",
            "files": [(io.BytesIO(b"r"), "r.pdf")],
            "csrf_token": csrf_token(client, path),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = good.get_data(as_text=True)
    assert "attached" in page and "high 2" in page


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"summary": {}, "detail": {"diagrams": [{"diagramJson": []}]}}', None),
        (b'{"summary": {}, "detail": {"diagrams": [{"cells": [{"attrs": "x", "threats": [{"title": "t"}]}]}]}}', None),
    ],
)
def test_hostile_models_never_crash(raw: bytes, reason: str | None) -> None:
    if reason is None:
        assert parse_threat_dragon(raw)["threats_total"] in (0, 1)
        return
    with pytest.raises(Invalid) as caught:
        parse_threat_dragon(raw)
    assert reason in caught.value.one_line()


def test_too_many_threats_are_refused_early() -> None:
    threats = [{"title": "t"}] * 5001
    raw = json.dumps({"summary": {}, "detail": {"diagrams": [{"cells": [{"data": {"threats": threats}}]}]}}).encode()
    with pytest.raises(Invalid, match="more than 5000 threats"):
        parse_threat_dragon(raw)


def test_organisation_evidence_and_edits_through_the_page(app: Flask, session: Session) -> None:
    from tests.factories import make_user

    make_user(session, "admin@example.com", admin=True)
    product = make_product(session, "P")
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="threat-model",
        data=EvidenceInput(title="TM", requirements=["SR-2"], details={"threats_total": 4}, files=[_model_upload()]),
    )
    session.commit()
    client = app.test_client()
    login(client, "admin@example.com")
    path = "/organisation/evidence/new?kind=process-document"
    created = client.post(
        path,
        data={
            "kind": "process-document",
            "title": "SDL handbook",
            "requirements": "SM-1",
            "files": [(io.BytesIO(b"handbook"), "sdl.pdf")],
            "csrf_token": csrf_token(client, path),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "attached" in created.get_data(as_text=True)
    edit = f"/evidence/{evidence.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'name="details-threats_total"' in form and 'value="4"' in form
    saved = client.post(
        edit,
        data={
            "kind": "threat-model",
            "title": "TM",
            "requirements": "SR-2",
            "details-threats_total": "6",
            "csrf_token": csrf_token(client, edit),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Saved as revision 2" in saved.get_data(as_text=True)
    session.refresh(evidence)
    assert evidence.current.details["threats_total"] == 6
