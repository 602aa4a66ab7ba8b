"""A PSIRT case published as CSAF 2.0: documents valid by construction, frozen versions with their revision
history, DM-5 records, signatures, refusals that name the rule with nothing published, the case's CSAF page,
and the trusted provider's directory fetched over HTTP with every hash and signature checked."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid, NotFound
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case, update_case
from sdl_tracker.vex.advisory import TrackingStatus
from sdl_tracker.vex.models import CsafProfile, CsafPublication
from sdl_tracker.vex.publishing import csaf_document, publication_bytes, publish_csaf, signature_bytes
from sdl_tracker.vex.services import DecisionInput
from sdl_tracker.vex.validity import check
from tests.factories import ApiClient, make_product, make_release, member, signed_in

from .cases import CVE, V31, decide
from .openpgp_keys import Keys, ThrowawayKey, gpg_verifies

pytestmark = pytest.mark.db

FINAL = TrackingStatus.FINAL


@pytest.fixture(scope="module")
def key() -> Iterator[ThrowawayKey]:
    with Keys() as keys:
        yield keys.make()


@pytest.fixture
def app_config(key: ThrowawayKey) -> dict[str, object]:
    return {"CSAF_GNUPGHOME": str(key.home), "CSAF_KEY_FINGERPRINT": key.fingerprint}


def published(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CsafPublication)) or 0


@pytest.mark.parametrize("profile", list(CsafProfile))
def test_a_case_with_confirmed_decisions_builds_a_valid_document(
    session: Session, officer: Principal, case: PsirtCase, profile: CsafProfile
) -> None:
    document = csaf_document(session, officer, case.id, profile=profile)
    assert document.failures == () and document.refusals == () and document.left_out == 0
    parsed = json.loads(document.content)
    assert check(parsed) == []
    assert parsed["document"]["category"] == profile.value
    assert parsed["document"]["publisher"]["namespace"] == "https://psirt.example.com"
    (vulnerability,) = parsed["vulnerabilities"]
    assert vulnerability["cve"] == CVE and vulnerability["cwe"]["id"] == "CWE-787"
    status = vulnerability["product_status"]
    assert set(status) == {"known_affected", "fixed", "known_not_affected"}
    # The same data gives the same bytes.
    assert csaf_document(session, officer, case.id, profile=profile).content == document.content


def test_publishing_freezes_signed_versions_with_their_revision_history_and_a_dm5_record(
    session: Session, officer: Principal, case: PsirtCase, key: ThrowawayKey, tmp_path: Path
) -> None:
    first = publish_csaf(
        session, officer, case.id, profile=CsafProfile.ADVISORY, status=FINAL, tlp="WHITE", summary="First."
    )
    assert (first.tracking_id, first.version, first.file_name) == (case.reference, 1, f"{case.reference.lower()}.json")
    content = publication_bytes(session, first)
    assert hashlib.sha256(content).hexdigest() == first.sha256
    signature = signature_bytes(session, first)
    assert signature is not None
    (tmp_path / "doc.json").write_bytes(content)
    (tmp_path / "doc.json.asc").write_bytes(signature)
    assert gpg_verifies(key.public, tmp_path / "doc.json", tmp_path / "doc.json.asc")
    evidence = session.get(Evidence, first.evidence_id)
    assert evidence is not None and evidence.product_id == case.product_id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "vex:csaf:publish")).one()
    assert event.details["tracking_id"] == case.reference and event.details["signed"] is True

    update_case(session, officer, case.id, {"title": "Modbus frame overflow in the gateway"})
    second = publish_csaf(
        session, officer, case.id, profile=CsafProfile.ADVISORY, status=FINAL, tlp="WHITE", summary="Title."
    )
    document = json.loads(publication_bytes(session, second))
    tracking = document["document"]["tracking"]
    assert tracking["version"] == "2" and [r["summary"] for r in tracking["revision_history"]] == ["First.", "Title."]
    assert tracking["initial_release_date"] == json.loads(content)["document"]["tracking"]["initial_release_date"]
    assert check(document) == []
    # The first version is unchanged.
    assert publication_bytes(session, first) == content


def refused(session: Session, actor: Principal, case: PsirtCase, message: str, **given: Any) -> None:
    """Publishing is refused naming `message`, and nothing is published."""
    before = published(session)
    values: dict[str, Any] = {"profile": CsafProfile.ADVISORY, "status": FINAL, "tlp": "WHITE", "summary": "x"}
    with pytest.raises(Invalid, match=message), session.begin_nested():
        publish_csaf(session, actor, case.id, **(values | given))
    assert published(session) == before


def test_an_unconfirmed_decision_keeps_the_case_from_being_published(
    session: Session, officer: Principal, plc: Product, case: PsirtCase
) -> None:
    later = make_release(session, plc, "2.1")  # carries the decisions forward, unconfirmed
    assert later.id
    refused(session, officer, case, "awaiting an officer's confirmation in 2.1")


def test_an_embargoed_case_is_not_published_to_everyone(session: Session, officer: Principal, case: PsirtCase) -> None:
    update_case(session, officer, case.id, {"embargo_until": (date.today() + timedelta(days=30)).isoformat()})
    refused(session, officer, case, "under embargo", tlp="WHITE")
    refused(session, officer, case, "under embargo", tlp="GREEN")
    assert publish_csaf(session, officer, case.id, profile=CsafProfile.VEX, status=FINAL, tlp="AMBER", summary="x")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"tlp": "CLEAR"}, "CLEAR"),
        ({"status": TrackingStatus.DRAFT}, "interim or final"),
        ({"summary": "two\nlines"}, "one line"),
    ],
)
def test_what_csaf_cannot_carry_is_refused(
    session: Session, officer: Principal, case: PsirtCase, given: dict[str, Any], message: str
) -> None:
    refused(session, officer, case, message, **given)


def test_a_case_without_decisions_or_with_only_a_v40_score_is_refused(
    session: Session, officer: Principal, plc: Product
) -> None:
    bare = create_case(
        session,
        officer,
        plc.id,
        kind="vulnerability",
        title="Weak default",
        source="internal",
        received_at=datetime.now(UTC) - timedelta(days=1),
        facts={"cvss_v40": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
    )
    refused(session, officer, bare, "no decision states a product status")
    decide(session, officer, plc, bare, "1.0", DecisionInput("affected", action="Update to 1.1."))
    refused(session, officer, bare, "v4.0")
    update_case(session, officer, bare.id, {"cvss_v40": "", "cvss_v31": V31})
    refused(session, officer, bare, "no description")
    update_case(session, officer, bare.id, {"description": "The default password is the serial number."})
    assert publish_csaf(session, officer, bare.id, profile=CsafProfile.VEX, status=FINAL, tlp="WHITE", summary="x")


def test_a_developer_may_read_but_not_publish_and_another_product_sees_nothing(
    session: Session, plc: Product, case: PsirtCase
) -> None:
    developer = member(session, plc, "developer")
    assert csaf_document(session, developer, case.id, profile=CsafProfile.ADVISORY).failures == ()
    with pytest.raises(Exception, match=r"permission|not allowed|may not"), session.begin_nested():
        publish_csaf(session, developer, case.id, profile=CsafProfile.ADVISORY, status=FINAL, tlp="WHITE", summary="x")
    stranger = member(session, make_product(session, "Elsewhere"), "security_officer")
    with pytest.raises(NotFound):
        csaf_document(session, stranger, case.id, profile=CsafProfile.ADVISORY)


def test_the_case_page_checks_previews_and_publishes(
    app: Flask, session: Session, case: PsirtCase, officer: Principal
) -> None:
    session.commit()
    client = signed_in(app, "officer@plc.example")
    page = client.get(f"/psirt/cases/{case.id}/csaf")
    assert page.status_code == 200 and "passes the schema and every mandatory test" in page.get_data(as_text=True)
    preview = client.get(f"/psirt/cases/{case.id}/csaf/csaf_vex.json")
    assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("attachment")
    assert check(json.loads(preview.data)) == []
    form = {"profile": "csaf_vex", "status": "final", "tlp": "", "summary": "First."}
    missing = client.post(f"/psirt/cases/{case.id}/csaf", data=form)  # no CSRF token, no TLP
    assert missing.status_code in (400, 422)
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    done = client.post(f"/psirt/cases/{case.id}/csaf", data=form | {"tlp": "WHITE", "csrf_token": token})
    assert done.status_code == 302
    listed = client.get(f"/psirt/cases/{case.id}/csaf").get_data(as_text=True)
    assert f"{case.reference}-VEX" in listed and "Signature" in listed


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real HTTP server on the loopback (one request at a time: its sessions share a connection)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def fetch(url: str, token: str = "") -> bytes:
    assert url.startswith("http://127.0.0.1:")  # the loopback test server only
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return bytes(response.read())


def test_the_provider_directory_is_fetched_over_http_with_every_hash_and_signature_checked(
    app: Flask, session: Session, officer: Principal, case: PsirtCase, served: str, tmp_path: Path
) -> None:
    for profile, tlp in ((CsafProfile.ADVISORY, "WHITE"), (CsafProfile.VEX, "AMBER")):
        publish_csaf(session, officer, case.id, profile=profile, status=FINAL, tlp=tlp, summary="First.")
    session.commit()
    metadata = json.loads(fetch(f"{served}/.well-known/csaf/provider-metadata.json"))
    assert metadata["role"] == "csaf_trusted_provider"
    assert metadata["publisher"]["namespace"] == "https://psirt.example.com"
    (key,) = metadata["public_openpgp_keys"]
    public = fetch(key["url"])
    fetched = 0
    for distribution in metadata["distributions"]:
        folder = distribution["directory_url"].rstrip("/")
        token = ""
        if not folder.endswith("/white"):
            with pytest.raises(urllib.error.HTTPError) as anonymous:
                fetch(f"{folder}/index.txt")
            assert anonymous.value.code == 401
            anonymous.value.close()
            token = ApiClient(app.test_client(), app).as_user("officer@plc.example")
        for line in fetch(f"{folder}/index.txt", token).decode().splitlines():
            content = fetch(f"{folder}/{line}", token)
            assert check(json.loads(content)) == []
            for algorithm in ("sha256", "sha512"):
                digest, name = fetch(f"{folder}/{line}.{algorithm}", token).decode().split()
                assert digest == hashlib.new(algorithm, content).hexdigest() and name == line.split("/")[-1]
            (tmp_path / "doc.json").write_bytes(content)
            (tmp_path / "doc.json.asc").write_bytes(fetch(f"{folder}/{line}.asc", token))
            assert gpg_verifies(public, tmp_path / "doc.json", tmp_path / "doc.json.asc")
            fetched += 1
    assert fetched == 2


def test_the_api_previews_publishes_and_lists(app: Flask, session: Session, case: PsirtCase, plc: Product) -> None:
    session.commit()
    api = ApiClient(app.test_client(), app)
    officer = api.as_user("officer@plc.example")
    developer = member(session, plc, "developer", "dev@plc.example")
    assert developer
    session.commit()
    preview = api.call("GET", f"/api/v1/psirt/cases/{case.id}/csaf?profile=csaf_vex", officer)
    assert preview.status_code == 200 and preview.json["publishable"] is True
    assert check(preview.json["document"]) == []
    body = {"profile": "csaf_vex", "status": "final", "tlp": "CLEAR", "summary": "First."}
    bad = api.call("POST", f"/api/v1/psirt/cases/{case.id}/csaf/publications", officer, json=body)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    refused_dev = api.call(
        "POST", f"/api/v1/psirt/cases/{case.id}/csaf/publications", api.as_user("dev@plc.example"), json=body
    )
    assert refused_dev.status_code in (403, 422)
    done = api.call("POST", f"/api/v1/psirt/cases/{case.id}/csaf/publications", officer, json=body | {"tlp": "GREEN"})
    assert done.status_code == 201 and done.json["version"] == 1 and done.json["signed"] is True
    listed = api.call("GET", f"/api/v1/psirt/cases/{case.id}/csaf/publications", officer)
    assert [p["tracking_id"] for p in listed.json["items"]] == [f"{case.reference}-VEX"]


def test_the_command_line_checks_writes_and_publishes(
    app: Flask, session: Session, case: PsirtCase, plc: Product, tmp_path: Path
) -> None:
    session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "advisory.json"
    checked = runner.invoke(cli, ["psirt", "csaf", case.reference, "-o", str(out)])
    assert checked.exit_code == 0, checked.output
    assert check(json.loads(out.read_bytes())) == [] and "valid" in checked.output
    make_release(session, plc, "2.1")  # an unconfirmed decision: not publishable
    session.commit()
    waiting = runner.invoke(cli, ["psirt", "csaf", case.reference, "--profile", "vex", "-o", str(out)])
    assert waiting.exit_code == 1 and "awaiting an officer's confirmation in 2.1" in waiting.output
    publish = ["psirt", "csaf", case.reference, "--publish", "--tlp", "WHITE", "--summary", "First.", "-o", str(out)]
    refused_publish = runner.invoke(cli, [*publish, "--as", "officer@plc.example"])
    assert refused_publish.exit_code == 2 and "awaiting" in refused_publish.output
    assert len(refused_publish.output.strip().splitlines()) == 1
    unknown = runner.invoke(cli, ["psirt", "csaf", "PSIRT-1999-0001"])
    assert unknown.exit_code == 2
    unwritable = runner.invoke(cli, ["psirt", "csaf", case.reference, "-o", str(tmp_path / "missing" / "a.json")])
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output
    assert len(unwritable.output.strip().splitlines()) == 1


def test_an_actively_exploited_case_says_so_in_its_document(
    session: Session, officer: Principal, case: PsirtCase
) -> None:
    before = json.loads(csaf_document(session, officer, case.id, profile=CsafProfile.ADVISORY).content)
    assert all(t["category"] != "exploit_status" for t in before["vulnerabilities"][0].get("threats", []))
    update_case(session, officer, case.id, {"aware_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    document = json.loads(csaf_document(session, officer, case.id, profile=CsafProfile.ADVISORY).content)
    assert any(t["category"] == "exploit_status" for t in document["vulnerabilities"][0]["threats"])
    assert check(document) == []
