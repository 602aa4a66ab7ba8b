"""Release gates through their doors: the API (status, evaluations, waivers, sign-off, the verdict, the policy in
JSON and YAML; problems as problem+json), the pages (the gate page, its forms with CSRF, the policy page), and the
command line (show, check with its exit codes, evaluate, waive, signoff, policy, legacy-import, verify)."""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gates.models import GateEvaluation, GateSignoff, GateWaiver
from sdl_tracker.products.models import Product, Release, ReleaseStatus
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.gates.builders import lenient

pytestmark = pytest.mark.db

OFFICER, SECOND, DEVELOPER, AUDITOR = "so@example.com", "so2@example.com", "dev@example.com", "auditor@example.com"
STRANGER = "other@example.com"
PROBLEM = "application/problem+json"
CVE = "CVE-2024-3094"
SOON = date.today() + timedelta(days=60)  # a waiver's expiry within the year a waiver may run


@pytest.fixture
def plc(session: Session) -> Product:
    """PLC 1.0 with two officers, a developer and an auditor; Elsewhere 3.0 with an officer of its own."""
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    member(session, product, "security_officer", OFFICER)
    member(session, product, "security_officer", SECOND)
    member(session, product, "developer", DEVELOPER)
    member(session, product, "auditor", AUDITOR)
    elsewhere = make_product(session, "Elsewhere")
    make_release(session, elsewhere, "3.0")
    member(session, elsewhere, "security_officer", STRANGER)
    session.commit()
    return product


def release_of(session: Session, product: Product, version: str = "1.0") -> Release:
    return session.scalars(select(Release).where(Release.product_id == product.id, Release.version == version)).one()


def gate_events(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(AuditEvent.action.startswith("gates:"))) or 0


def set_lenient(api: ApiClient, product: Product, *enabled: str) -> None:
    response = api.call(
        "PUT", f"/api/v1/products/{product.id}/gate-policy", api.as_user(OFFICER), json=lenient(*enabled)
    )
    assert response.status_code == 200, response.get_data(as_text=True)


# --- the API ---------------------------------------------------------------------------------------------------


def test_a_release_goes_from_failing_to_signed_off_through_the_api(
    app: Flask, api: ApiClient, session: Session, plc: Product, tmp_path: Path
) -> None:
    release = release_of(session, plc)
    officer, reader = api.as_user(OFFICER), api.as_user(AUDITOR)
    gate = f"/api/v1/releases/{release.id}/gate"

    never = api.call("GET", gate, reader).get_json()
    assert (never["outcome"], never["current"], never["passed"], never["evaluation"]) == (None, False, False, None)

    # The default policy: an empty release fails, each failing rule with its reasons and where each is fixed.
    evaluated = api.call("POST", f"{gate}/evaluations", officer)
    assert evaluated.status_code == 201
    body = evaluated.get_json()
    assert body["outcome"] == "fail" and len(body["facts_digest"]) == 64
    failing = {r["rule"]: r for r in body["results"] if r["outcome"] == "fail"}
    assert "commits_reviewed" in failing and failing["commits_reviewed"]["reasons"][0]["fix"]["area"] == "commits"
    shown = api.call("GET", gate, reader).get_json()
    assert (shown["outcome"], shown["current"], shown["passed"]) == ("fail", True, False)

    # Failing: no sign-off.
    refused = api.call("POST", f"{gate}/signoff", officer, json={"note": "ship it"})
    assert refused.status_code in (409, 422) and refused.content_type == PROBLEM
    assert session.scalar(select(func.count()).select_from(GateSignoff)) == 0

    # A lenient policy: the old result is outdated at once (judged by another policy), never shown as current.
    policy = api.call("GET", f"/api/v1/products/{plc.id}/gate-policy", reader)
    assert policy.headers["X-Gate-Policy"] == "default"
    assert policy.get_json()["rules"]["no_known_exploitable"] == {"enabled": True, "waivable": False}
    set_lenient(api, plc)
    assert api.call("GET", f"/api/v1/products/{plc.id}/gate-policy", reader).headers["X-Gate-Policy"] == "product"
    stale = api.call("GET", gate, reader).get_json()
    assert stale["current"] is False and stale["passed"] is False and stale["outdated_because"]

    passed = api.call("POST", f"{gate}/evaluations", officer).get_json()
    assert passed["outcome"] == "pass"
    signed = api.call("POST", f"{gate}/signoff", officer, json={"note": "Reviewed with the team."})
    assert signed.status_code == 201, signed.get_data(as_text=True)
    signoff = signed.get_json()
    assert signoff["signed_by"].endswith(OFFICER) or OFFICER in signoff["signed_by"]
    assert signoff["has_verdict"] and signoff["key_id"] and not signoff["legacy"]
    status = api.call("GET", gate, reader).get_json()
    assert status["passed"] and status["signoff"]["id"] == signoff["id"] and status["signoff_current"]

    # The verdict: a DSSE envelope, as an attachment named after the release, that verifies offline.
    verdict = api.call("GET", f"/api/v1/gate/signoffs/{signoff['id']}/verdict", reader)
    assert verdict.status_code == 200 and verdict.mimetype == "application/json"
    assert "PLC-1.0-gate-verdict.dsse.json" in verdict.headers["Content-Disposition"]
    envelope = tmp_path / "verdict.json"
    envelope.write_bytes(verdict.get_data())
    assert json.loads(envelope.read_bytes())["payloadType"] == "application/vnd.in-toto+json"
    runner = app.test_cli_runner()
    key = tmp_path / "key.pem"
    assert runner.invoke(cli, ["keys", "public-key", signoff["key_id"], "-o", str(key)]).exit_code == 0
    verified = runner.invoke(cli, ["gate", "verify", str(envelope), "--public-key", str(key), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["outcome"] == "pass" and json.loads(verified.output)["release"] == "1.0"
    assert gate_events(session) >= 4  # policy set, evaluations, sign-off: every change audited


def test_a_change_after_sign_off_outdates_the_gate_and_it_is_never_reported_current(
    api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    set_lenient(api, plc)
    officer = api.as_user(OFFICER)
    gate = f"/api/v1/releases/{release.id}/gate"
    assert api.call("POST", f"{gate}/evaluations", officer).get_json()["outcome"] == "pass"
    assert api.call("POST", f"{gate}/signoff", officer, json={}).status_code == 201

    # The product is affected by a known vulnerability now: the facts changed, the result is outdated.
    record_decision(session, OPERATOR, release.id, CVE, DecisionInput("affected", action="Update to 5.6.2"))
    session.commit()
    status = api.call("GET", gate, officer).get_json()
    assert (status["current"], status["passed"], status["signoff_current"]) == (False, False, False)
    assert status["outdated_because"]
    evaluated = api.call("POST", f"{gate}/evaluations", officer).get_json()
    assert evaluated["outcome"] == "fail"
    exploitable = next(r for r in evaluated["results"] if r["rule"] == "no_known_exploitable")
    assert exploitable["outcome"] == "fail" and exploitable["reasons"][0]["fix"]["area"] == "vex"


def test_waivers_through_the_api_never_for_cra_2a(api: ApiClient, session: Session, plc: Product) -> None:
    release = release_of(session, plc)
    officer = api.as_user(OFFICER)
    gate = f"/api/v1/releases/{release.id}/gate"
    api.call("POST", f"{gate}/evaluations", officer)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    cra = api.call(
        "POST",
        f"{gate}/waivers",
        officer,
        json={"rule": "no_known_exploitable", "justification": "We accept it.", "expires_at": expires},
    )
    assert cra.status_code == 422 and cra.content_type == PROBLEM
    assert "Annex I Part I (2)(a)" in json.dumps(cra.get_json())
    naive = api.call(
        "POST",
        f"{gate}/waivers",
        officer,
        json={"rule": "commits_reviewed", "justification": "x", "expires_at": "2031-01-01T00:00:00"},
    )
    assert naive.status_code == 422 and naive.get_json()["errors"][0]["field"] == "expires_at"
    assert session.scalar(select(func.count()).select_from(GateWaiver)) == 0

    waived = api.call(
        "POST",
        f"{gate}/waivers",
        officer,
        json={"rule": "commits_reviewed", "justification": "The repository moves next week.", "expires_at": expires},
    )
    assert waived.status_code == 201, waived.get_data(as_text=True)
    waiver = waived.get_json()
    assert (waiver["rule"], waiver["state"]) == ("commits_reviewed", "active")
    developer = api.call("POST", f"/api/v1/gate/waivers/{waiver['id']}/revoke", api.as_user(DEVELOPER))
    assert developer.status_code == 403
    revoked = api.call("POST", f"/api/v1/gate/waivers/{waiver['id']}/revoke", officer)
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    listed = api.call("GET", gate, officer).get_json()["waivers"]
    assert [(w["id"], w["state"]) for w in listed] == [(waiver["id"], "revoked")]


def test_the_policy_in_yaml_and_its_errors_with_their_paths(api: ApiClient, session: Session, plc: Product) -> None:
    officer, path = api.as_user(OFFICER), f"/api/v1/products/{plc.id}/gate-policy"
    text = api.call("GET", f"{path}.yaml", officer)
    assert text.mimetype == "application/yaml" and "format: sdl-tracker/gate-policy" in text.get_data(as_text=True)
    document = yaml.safe_load(text.get_data(as_text=True))
    document["rules"]["commits_reviewed"]["minimum_percent"] = 150
    document["rules"]["fuzzing"]["speed"] = "fast"
    bad = api.call("PUT", path, officer, data=yaml.safe_dump(document), content_type="application/yaml")
    assert bad.status_code == 422 and bad.content_type == PROBLEM
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert {"rules.commits_reviewed.minimum_percent", "rules.fuzzing.speed"} <= fields
    broken = api.call("PUT", path, officer, data="rules: [unclosed", content_type="application/yaml")
    assert broken.status_code == 422 and "line" in broken.get_json()["errors"][0]["message"]
    off = copy.deepcopy(lenient())
    off["rules"]["no_known_exploitable"]["enabled"] = False
    refused = api.call("PUT", path, officer, json=off)
    assert refused.status_code == 422
    assert any(e["field"].startswith("rules.no_known_exploitable") for e in refused.get_json()["errors"])
    assert api.call("GET", path, officer).headers["X-Gate-Policy"] == "default"  # nothing written

    document["rules"]["commits_reviewed"]["minimum_percent"] = 95
    del document["rules"]["fuzzing"]["speed"]
    saved = api.call("PUT", path, officer, data=yaml.safe_dump(document), content_type="application/yaml")
    assert saved.status_code == 200 and saved.get_json()["rules"]["commits_reviewed"]["minimum_percent"] == 95
    assert api.call("DELETE", path, officer).status_code == 204
    assert api.call("GET", path, officer).headers["X-Gate-Policy"] == "default"


def test_who_may_do_what_through_the_api(api: ApiClient, session: Session, plc: Product) -> None:
    release = release_of(session, plc)
    gate, policy = f"/api/v1/releases/{release.id}/gate", f"/api/v1/products/{plc.id}/gate-policy"
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    waiver = {"rule": "threat_model", "justification": "x", "expires_at": expires}
    for email in (DEVELOPER, AUDITOR):
        token = api.as_user(email)
        assert api.call("GET", gate, token).status_code == 200
        assert api.call("PUT", policy, token, json=lenient()).status_code == 403
        assert api.call("DELETE", policy, token).status_code == 403
        assert api.call("POST", f"{gate}/waivers", token, json=waiver).status_code == 403
        assert api.call("POST", f"{gate}/signoff", token, json={}).status_code == 403
    stranger = api.as_user(STRANGER)
    for method, url in (("GET", gate), ("POST", f"{gate}/evaluations"), ("GET", policy), ("DELETE", policy)):
        assert api.call(method, url, stranger).status_code == 404, url
    assert api.call("POST", f"{gate}/signoff", stranger, json={}).status_code == 404
    assert api.call("GET", gate, None).status_code == 401
    assert gate_events(session) == 0


def test_the_submitter_of_evidence_a_rule_rests_on_cannot_sign_it_off(
    api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    officers = {email: member_of(session, plc, email) for email in (OFFICER, SECOND)}
    model = create_evidence(
        session,
        officers[OFFICER],
        product_id=plc.id,
        kind="threat-model",
        data=EvidenceInput(
            title="Threat model",
            requirements=["SR-2"],
            files=[Upload("model.json", "application/json", io.BytesIO(b'{"threats": []}'))],
            details={"threats_total": 3, "next_review_due": (date.today() + timedelta(days=180)).isoformat()},
        ),
    )
    review_evidence(session, officers[SECOND], model.id, accept=True)
    session.commit()
    set_lenient(api, plc, "threat_model")
    gate = f"/api/v1/releases/{release.id}/gate"
    evaluated = api.call("POST", f"{gate}/evaluations", api.as_user(OFFICER)).get_json()
    assert evaluated["outcome"] == "pass", evaluated
    rule = next(r for r in evaluated["results"] if r["rule"] == "threat_model")
    assert any(OFFICER in who for who in rule["submitters"])

    refused = api.call("POST", f"{gate}/signoff", api.as_user(OFFICER), json={})
    assert refused.status_code in (403, 422) and refused.content_type == PROBLEM
    assert "threat_model" in json.dumps(refused.get_json())
    assert session.scalar(select(func.count()).select_from(GateSignoff)) == 0
    assert api.call("POST", f"{gate}/signoff", api.as_user(SECOND), json={}).status_code == 201


def member_of(session: Session, product: Product, email: str) -> Principal:
    """The principal of a member already added."""
    user = find_user(session, email)
    assert user is not None
    return principal_for(session, user)


# --- the pages -------------------------------------------------------------------------------------------------


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_gate_page_evaluates_waives_and_signs_off(
    client: FlaskClient, api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    login(client, OFFICER)
    path = f"/releases/{release.id}/gate"
    assert "never been evaluated" in page(client, path)
    assert f'href="{path}"' in page(client, f"/products/releases/{release.id}")
    assert f"/products/{plc.id}/gate-policy" in page(client, f"/products/{plc.id}")

    token = csrf_token(client, path)
    evaluated = client.post(f"{path}/evaluate", data={"csrf_token": token})
    assert evaluated.status_code == 302 and evaluated.headers["Location"].endswith(path)
    html = page(client, path)
    assert "gate-fail" in html and "<b>current</b>" in html
    assert f'href="/releases/{release.id}/commits"' in html  # the reason links to where it is fixed
    assert 'action="/releases/' in html and 'name="rule" value="commits_reviewed"' in html
    assert 'name="rule" value="no_known_exploitable"' not in html  # CRA I(2)(a) passes here, and is never waivable
    assert "gates.sign_off" not in html and f"{path}/signoff" not in html  # failing: no sign-off form

    refused = client.post(
        f"{path}/waivers",
        data={"csrf_token": token, "rule": "no_known_exploitable", "justification": "x", "expires_on": "2031-01-01"},
    )
    assert refused.status_code == 422 and "Annex I Part I (2)(a)" in refused.get_data(as_text=True)
    waived = client.post(
        f"{path}/waivers",
        data={
            "csrf_token": token,
            "rule": "commits_reviewed",
            "justification": "Moves soon.",
            "expires_on": SOON.isoformat(),
        },
    )
    assert waived.status_code == 302
    waiver = session.scalars(select(GateWaiver)).one()
    assert waiver.expires_at == datetime.combine(SOON + timedelta(days=1), datetime.min.time(), UTC)  # through it
    assert "Moves soon." in page(client, path)
    assert client.post(f"/gate/waivers/{waiver.id}/revoke", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert session.get(GateWaiver, waiver.id).revoked_at is not None  # type: ignore[union-attr]

    set_lenient(api, plc)
    html = page(client, path)
    assert "outdated:" in html and "<b>current</b>" not in html  # never shown as current
    client.post(f"{path}/evaluate", data={"csrf_token": token})
    html = page(client, path)
    assert "gate-pass" in html and f"{path}/signoff" in html
    signed = client.post(f"{path}/signoff", data={"csrf_token": token, "note": "Fine."})
    assert signed.status_code == 302
    signoff = session.scalars(select(GateSignoff)).one()
    html = page(client, path)
    assert f"/gate/signoffs/{signoff.id}/verdict" in html
    download = client.get(f"/gate/signoffs/{signoff.id}/verdict")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "PLC-1.0-gate-verdict.dsse.json" in download.headers["Content-Disposition"]
    assert json.loads(download.get_data())["payloadType"] == "application/vnd.in-toto+json"
    readiness = page(client, f"/releases/{release.id}/readiness")
    assert 'id="gate"' in readiness and "Release gate" in readiness and "pass" in readiness


def test_the_policy_page_shows_yaml_and_its_errors_by_path(client: FlaskClient, session: Session, plc: Product) -> None:
    login(client, OFFICER)
    path = f"/products/{plc.id}/gate-policy"
    html = page(client, path)
    assert "default" in html and "format: sdl-tracker/gate-policy" in html
    token = csrf_token(client, path)
    bad = yaml.safe_dump({**lenient(), "rules": {**lenient()["rules"], "extra_rule": {}}})
    refused = client.post(path, data={"csrf_token": token, "document": bad})
    assert refused.status_code == 422 and "rules.extra_rule" in refused.get_data(as_text=True)
    broken = client.post(path, data={"csrf_token": token, "document": "rules: [unclosed"})
    assert broken.status_code == 422 and "line" in broken.get_data(as_text=True)
    saved = client.post(path, data={"csrf_token": token, "document": yaml.safe_dump(lenient())})
    assert saved.status_code == 302
    assert "the product's own" in page(client, path)
    download = client.get(f"/products/{plc.id}/gate-policy.yaml")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert yaml.safe_load(download.get_data(as_text=True)) == lenient()
    assert client.post(f"{path}/reset", data={"csrf_token": token}).status_code == 302
    assert yaml.safe_load(client.get(f"/products/{plc.id}/gate-policy.yaml").get_data(as_text=True)) != lenient()


def test_who_may_do_what_on_the_pages(app: Flask, session: Session, plc: Product) -> None:
    release = release_of(session, plc)
    for email in (DEVELOPER, AUDITOR):
        client = app.test_client()
        login(client, email)
        html = page(client, f"/releases/{release.id}/gate")
        assert 'name="rule"' not in html and "Sign off" not in html  # no waiver or sign-off form
        assert "<textarea" not in page(client, f"/products/{plc.id}/gate-policy")
        token = csrf_token(client, f"/releases/{release.id}/gate")
        assert client.post(f"/releases/{release.id}/gate/signoff", data={"csrf_token": token}).status_code == 403
        posted = client.post(f"/products/{plc.id}/gate-policy", data={"csrf_token": token, "document": "x"})
        assert posted.status_code == 403
    stranger = app.test_client()
    login(stranger, STRANGER)
    assert stranger.get(f"/releases/{release.id}/gate").status_code == 404
    assert stranger.get(f"/products/{plc.id}/gate-policy").status_code == 404


# --- the command line ------------------------------------------------------------------------------------------


def test_gate_commands_and_the_check_exit_codes(app: Flask, session: Session, plc: Product, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    failing = runner.invoke(cli, ["gate", "check", "PLC", "1.0"])
    assert failing.exit_code == 1, failing.output
    assert failing.output.startswith("PLC 1.0: fail (current")
    assert re.search(r"^  FAIL commits_reviewed: .+", failing.output, re.M)
    as_json = json.loads(runner.invoke(cli, ["gate", "show", "PLC", "1.0", "--json"]).output)
    assert as_json["outcome"] == "fail" and as_json["current"] is True and as_json["passed"] is False
    assert runner.invoke(cli, ["gate", "check", "PLC", "9.9"]).exit_code == 2
    assert runner.invoke(cli, ["gate", "check", "PLC", "1.0", "--as", STRANGER]).exit_code == 2

    policy_file = tmp_path / "policy.yaml"
    exported = runner.invoke(cli, ["gate", "policy", "PLC", "--export", "-o", str(policy_file)])
    assert exported.exit_code == 0 and "format: sdl-tracker/gate-policy" in policy_file.read_text()
    bad = yaml.safe_load(policy_file.read_text())
    bad["rules"]["threat_model"]["max_age_months"] = "12"
    policy_file.write_text(yaml.safe_dump(bad))
    refused = runner.invoke(cli, ["gate", "policy", "PLC", "--import", str(policy_file)])
    assert refused.exit_code == 2 and "rules.threat_model.max_age_months" in refused.output
    policy_file.write_text(yaml.safe_dump(lenient()))
    assert runner.invoke(cli, ["gate", "policy", "PLC", "--import", str(policy_file)]).exit_code == 0
    assert "the product policy" in runner.invoke(cli, ["gate", "policy", "PLC"]).output

    # The new policy outdates the failing result: check evaluates again instead of reporting it.
    outdated = runner.invoke(cli, ["gate", "show", "PLC", "1.0"])
    assert "outdated" in outdated.output and "(current" not in outdated.output
    passing = runner.invoke(cli, ["gate", "check", "PLC", "1.0", "--json"])
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.output)["passed"] is True

    assert runner.invoke(cli, ["gate", "evaluate", "PLC", "1.0"]).output.startswith("PLC 1.0: pass")
    unnamed = runner.invoke(cli, ["gate", "signoff", "PLC", "1.0"])
    assert unnamed.exit_code == 2 and "--as" in unnamed.output
    developer = runner.invoke(cli, ["gate", "signoff", "PLC", "1.0", "--as", DEVELOPER])
    assert developer.exit_code == 2
    signed = runner.invoke(cli, ["gate", "signoff", "PLC", "1.0", "--note", "ok", "--as", OFFICER, "--json"])
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.output)["has_verdict"] is True

    assert runner.invoke(cli, ["gate", "policy", "PLC", "--reset"]).exit_code == 0
    waive = [
        "gate",
        "waive",
        "PLC",
        "1.0",
        "commits_reviewed",
        "--justification",
        "Soon.",
        "--expires",
        SOON.isoformat(),
    ]
    runner.invoke(cli, ["gate", "evaluate", "PLC", "1.0"])
    assert runner.invoke(cli, [*waive, "--as", DEVELOPER]).exit_code == 2
    assert runner.invoke(cli, [*waive, "--as", OFFICER]).exit_code == 0
    cra = ["gate", "waive", "PLC", "1.0", "no_known_exploitable", "--justification", "x", "--expires", "2031-01-01"]
    assert runner.invoke(cli, cra).exit_code == 2
    assert runner.invoke(cli, ["gate", "waive", "PLC", "1.0", "commits_reviewed", "--justification", "x",
                               "--expires", "1.1.2031"]).exit_code == 2  # fmt: skip


def test_legacy_import_records_a_shipped_release_and_says_so(app: Flask, session: Session, plc: Product) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli, ["gate", "legacy-import", "PLC", "0.9", "--date", "2025-03-01", "--reason", "Shipped in 2025.", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["legacy"] is True
    session.expire_all()
    release = release_of(session, plc, "0.9")
    assert release.status is ReleaseStatus.RELEASED
    signoff = session.scalars(select(GateSignoff).where(GateSignoff.release_id == release.id)).one()
    assert signoff.legacy and "Shipped in 2025." in signoff.note
    assert runner.invoke(cli, ["gate", "show", "PLC", "0.9"]).exit_code == 0
    missing = runner.invoke(cli, ["gate", "legacy-import", "PLC", "0.8", "--date", "2025-03-01"])
    assert missing.exit_code == 2
    assert session.scalar(select(func.count()).select_from(GateEvaluation)) == 0
