"""Substantial-modification signals through the doors: read from real SBOMs, a real git history and the audit
log of the product's interfaces; decided by security officers (audited), kept when the signal goes (stale),
and refused whole when the input is bad."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.modifications.models import ModificationDecision
from sdl_tracker.modifications.services import release_modifications
from sdl_tracker.products.interfaces import InterfaceData
from sdl_tracker.products.models import Product, Release
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.products.services import update_product
from sdl_tracker.sboms.services import import_sbom
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.gitlink.repo import GitRepo
from tests.gitlink.test_scan import scan
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.db

MOSQUITTO = "network-facing:added:pkg:deb/debian/mosquitto"
OPENSSL = "crypto:major:pkg:deb/debian/openssl@1.1->3"
UNIT = "privileged-service:path:plc:systemd/historian.service"
OPC_UA = "network-facing:interface:opc ua"


def bom(*packages: tuple[str, str]) -> bytes:
    """A CycloneDX document listing these Debian packages (name, version)."""
    items = [
        {
            "type": "library",
            "bom-ref": name,
            "name": name,
            "version": version,
            "purl": f"pkg:deb/debian/{name}@{version}",
        }
        for name, version in packages
    ]
    document = json_bom(components=0, dependencies=[])
    document["components"] = items
    return dumps(document)


def add_sbom(session: Session, release: Release, document: bytes, *, primary: bool = False) -> None:
    import_sbom(session, OPERATOR, release.id, Upload("bom.json", "", io.BytesIO(document)), primary=primary)


def interfaces(*names: tuple[str, str, str, int | None]) -> list[InterfaceData]:
    return [InterfaceData(name, kind, protocol, port) for name, kind, protocol, port in names]


ETH0 = ("eth0", "network", "Modbus TCP", 502)


@pytest.fixture
def plc(app: Flask, session: Session, tmp_path: Path) -> tuple[Product, Release, Release]:
    """PLC 1.0 and 1.1: 1.1 moves OpenSSL to 3, adds Mosquitto and a systemd unit, and an OPC UA interface."""
    product = make_product(session, "PLC")
    member(session, product, "security_officer", "so@example.com")
    member(session, product, "developer", "dev@example.com")
    member(session, product, "auditor", "auditor@example.com")
    repo = GitRepo(tmp_path / "plc")
    repo.commit("Init", {"src/main.c": "int main;"})
    repo.git("tag", "v1.0")
    repo.commit("Add the historian", {"src/historian.c": "x", "systemd/historian.service": "[Service]"})
    repo.commit("Fix a typo", {"README": "typo"})
    repo.git("tag", "v1.1")
    repository = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path))
    first = make_release(session, product, "1.0", git_ref="v1.0")
    second = make_release(session, product, "1.1", git_ref="v1.1")
    add_sbom(session, first, bom(("zlib", "1.3.1"), ("openssl", "1.1.1w")))
    add_sbom(session, second, bom(("zlib", "1.3.1"), ("openssl", "3.0.13"), ("mosquitto", "2.0.18")))
    update_product(
        session, OPERATOR, product.id, changes={"interfaces": interfaces(ETH0, ("OPC UA", "network", "opc.tcp", 4840))}
    )
    session.commit()
    scan(app, session, repository.id)
    return product, first, second


def decisions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ModificationDecision)) or 0


def events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("sboms:modification:%"))))


def test_signals_come_from_the_sbom_the_commits_and_the_interfaces(api: ApiClient, session: Session, plc: Any) -> None:
    _product, _first, second = plc
    shown = api.call("GET", f"/api/v1/releases/{second.id}/modifications", api.as_user("auditor@example.com"))
    assert shown.status_code == 200, shown.json
    data = shown.json
    assert [s["key"] for s in data["signals"]] == [MOSQUITTO, OPC_UA, OPENSSL, UNIT]
    assert (data["previous"], data["undecided"], data["unread"], data["commits_read"]) == ("1.0", 4, [], 2)
    by_key = {s["key"]: s for s in data["signals"]}
    openssl = by_key[OPENSSL]["components"][0]
    assert (openssl["old_version"], openssl["new_version"]) == ("1.1.1w", "3.0.13")
    (commit,) = by_key[UNIT]["commits"]
    assert commit["subject"] == "Add the historian" and commit["paths"] == ["systemd/historian.service"]
    (change,) = by_key[OPC_UA]["interfaces"]
    assert change["interface"]["port"] == 4840 and change["before"] is None
    assert data["interfaces_to"] is None and data["from_sbom"] and data["to_sbom"]  # not shipped: up to now


def test_officers_confirm_and_dismiss_with_a_reason_audited(api: ApiClient, session: Session, plc: Any) -> None:
    _product, _first, second = plc
    url = f"/api/v1/releases/{second.id}/modifications/decisions"
    officer = api.as_user("so@example.com")
    confirmed = api.call("POST", url, officer, json={"key": MOSQUITTO, "verdict": "confirmed"})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["verdict"] == "confirmed" and confirmed.json["decided_by"].endswith(":so@example.com")
    ref = next(
        s["ref"]
        for s in api.call("GET", f"/api/v1/releases/{second.id}/modifications", officer).json["signals"]
        if s["key"] == OPENSSL
    )
    why = "OpenSSL 3 keeps the same ciphers and protocols; assessed in threat model rev 7."
    dismissed = api.call("POST", url, officer, json={"key": ref, "verdict": "dismissed", "reason": why})
    assert dismissed.status_code == 200 and dismissed.json["key"] == OPENSSL  # the short ref names it too
    assert [(e.action, e.details["key"], e.details["reason"]) for e in events(session)] == [
        ("sboms:modification:confirm", MOSQUITTO, ""),
        ("sboms:modification:dismiss", OPENSSL, why),
    ]
    # The same decision again changes nothing; a changed one replaces it, its predecessor audited.
    assert api.call("POST", url, officer, json={"key": MOSQUITTO, "verdict": "confirmed"}).status_code == 200
    assert len(events(session)) == 2
    again = api.call("POST", url, officer, json={"key": MOSQUITTO, "verdict": "dismissed", "reason": "a client only"})
    assert again.status_code == 200 and events(session)[-1].details["previous"] == {
        "verdict": "confirmed",
        "reason": "",
    }
    listed = api.call("GET", f"/api/v1/releases/{second.id}/modifications", officer).json
    assert {s["key"]: (s["decision"] or {}).get("verdict") for s in listed["signals"]} == {
        MOSQUITTO: "dismissed",
        OPC_UA: None,
        OPENSSL: "dismissed",
        UNIT: None,
    }
    assert listed["undecided"] == 2 and decisions(session) == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"key": OPENSSL, "verdict": "dismissed"}, 422, "reason"),
        ({"key": OPENSSL, "verdict": "dismissed", "reason": "   "}, 422, "reason"),
        ({"key": OPENSSL, "verdict": "maybe"}, 422, "verdict"),
        ({"key": OPENSSL, "verdict": "confirmed", "extra": 1}, 422, "extra"),
        ({"key": "crypto:added:pkg:deb/debian/nothing", "verdict": "confirmed"}, 404, None),
        ({"key": "0123456789ab", "verdict": "confirmed"}, 404, None),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_written(
    api: ApiClient, session: Session, plc: Any, body: dict[str, Any], status: int, field: str | None
) -> None:
    _product, _first, second = plc
    url = f"/api/v1/releases/{second.id}/modifications/decisions"
    response = api.call("POST", url, api.as_user("so@example.com"), json=body)
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    if field:
        assert field in {e["field"] for e in response.json["errors"]}
    assert decisions(session) == 0 and events(session) == []


def test_who_may_decide(api: ApiClient, session: Session, plc: Any) -> None:
    _product, _first, second = plc
    other = make_product(session, "Elsewhere")
    hidden = make_release(session, other, "1.0")
    session.commit()
    url = f"/api/v1/releases/{second.id}/modifications/decisions"
    body = {"key": MOSQUITTO, "verdict": "confirmed"}
    assert api.call("POST", url, api.as_user("dev@example.com"), json=body).status_code == 403
    assert api.call("POST", url, api.as_user("auditor@example.com"), json=body).status_code == 403
    reader = api.as_user("so@example.com", scopes=["product:read"])
    assert api.call("POST", url, reader, json=body).status_code == 403
    unseen = f"/api/v1/releases/{hidden.id}/modifications/decisions"
    assert api.call("POST", unseen, api.as_user("so@example.com"), json=body).status_code == 404
    assert decisions(session) == 0


def test_a_decision_whose_signal_went_is_stale_not_lost(api: ApiClient, session: Session, plc: Any) -> None:
    _product, _first, second = plc
    officer = api.as_user("so@example.com")
    url = f"/api/v1/releases/{second.id}/modifications"
    for key in (MOSQUITTO, OPENSSL):
        assert (
            api.call("POST", f"{url}/decisions", officer, json={"key": key, "verdict": "confirmed"}).status_code == 200
        )
    # A corrected SBOM without the broker, OpenSSL at another 3.x: the broker's signal goes, OpenSSL's key stays.
    add_sbom(session, second, bom(("zlib", "1.3.1"), ("openssl", "3.0.14")), primary=True)
    session.commit()
    data = api.call("GET", url, officer).json
    assert [s["key"] for s in data["signals"]] == [OPC_UA, OPENSSL, UNIT]
    openssl = data["signals"][1]
    assert openssl["decision"]["verdict"] == "confirmed" and openssl["changed_since_decision"] is True
    assert [(d["key"], d["verdict"]) for d in data["stale"]] == [(MOSQUITTO, "confirmed")]
    gone = api.call("POST", f"{url}/decisions", officer, json={"key": MOSQUITTO, "verdict": "dismissed", "reason": "x"})
    assert gone.status_code == 404  # a stale decision is kept as it was, not decided again


def test_an_unchanged_release_and_a_first_release(app: Flask, session: Session) -> None:
    product = make_product(session, "Switch")
    first = make_release(session, product, "2.0")
    second = make_release(session, product, "2.1")
    same = bom(("zlib", "1.3.1"), ("openssl", "3.0.13"))
    add_sbom(session, first, same)
    add_sbom(session, second, bom(("zlib", "1.3.1"), ("openssl", "3.0.15")))  # a security fix: no signal
    session.commit()
    report = release_modifications(session, OPERATOR, second.id)
    assert report.signals == [] and report.stale == []
    # No git ref named: the commits were not read, and the report says so rather than reading as "nothing".
    assert report.reading.unread == ("commits not read: the release names no git tag or commit",)
    opening = release_modifications(session, OPERATOR, first.id)
    assert opening.signals == [] and "first release" in opening.reading.unread[0]


def test_a_release_without_an_sbom_says_its_components_were_not_read(session: Session) -> None:
    product = make_product(session, "HMI")
    make_release(session, product, "1.0")
    later = make_release(session, product, "1.1")
    session.commit()
    report = release_modifications(session, OPERATOR, later.id)
    assert any(text.startswith("components not compared") and "has no SBOM" in text for text in report.reading.unread)


def test_interfaces_are_read_from_the_audit_log_between_the_release_days(session: Session) -> None:
    product = make_product(session, "RTU")
    first = make_release(session, product, "1.0", status="released", release_date=date(2020, 1, 1))
    second = make_release(session, product, "1.1", status="released", release_date=date(2020, 6, 1))
    update_product(
        session, OPERATOR, product.id, changes={"interfaces": interfaces(ETH0, ("Wi-Fi", "wireless", "", None))}
    )
    session.commit()
    # Both releases shipped before today's change: it is not theirs. The log begins after 1.0's day, which
    # the report says; the interfaces 1.0 had are read as those the product was created with.
    report = release_modifications(session, OPERATOR, second.id)
    assert report.signals == []
    assert any("interfaces are recorded from" in text for text in report.reading.unread)
    # A release not shipped yet reads the interfaces as they are now: the new wireless interface is its change.
    third = make_release(session, product, "1.2")
    session.commit()
    assert [s.signal.key for s in release_modifications(session, OPERATOR, third.id).signals] == [
        "network-facing:interface:wi-fi"
    ]
    assert first.id  # 1.0 is the product's first release


def test_the_page_shows_signals_and_takes_decisions(client: FlaskClient, session: Session, plc: Any) -> None:
    _product, _first, second = plc
    page_url = f"/releases/{second.id}/modifications"
    login(client, "so@example.com")
    page = client.get(page_url).get_data(as_text=True)
    assert "new network-facing component: mosquitto 2.0.18" in page and "openssl 1.1.1w → 3.0.13" in page
    assert "systemd/historian.service" in page and 'name="verdict"' in page
    token = csrf_token(client, page_url)
    refused = client.post(page_url, data={"csrf_token": token, "key": OPENSSL, "verdict": "dismissed", "reason": ""})
    assert refused.status_code == 200 and "say why this change is not a substantial modification" in refused.get_data(
        as_text=True
    )
    assert decisions(session) == 0
    no_token = client.post(page_url, data={"key": OPENSSL, "verdict": "confirmed"})
    assert no_token.status_code in (400, 403) and decisions(session) == 0
    unknown = client.post(page_url, data={"csrf_token": token, "key": "crypto:added:x", "verdict": "confirmed"})
    assert unknown.status_code == 404 and decisions(session) == 0
    done = client.post(
        page_url, data={"csrf_token": token, "key": OPENSSL, "verdict": "dismissed", "reason": "same ciphers"}
    )
    assert done.status_code == 302 and decisions(session) == 1
    after = client.get(page_url).get_data(as_text=True)
    assert "same ciphers" in after and "user:so@example.com" in after
    # The release page, its readiness page and the SBOM diff link here.
    for linking in (
        f"/products/releases/{second.id}",
        f"/releases/{second.id}/readiness",
        f"/products/{second.product_id}/sboms/diff?from=1.0&to=1.1",
    ):
        assert page_url in client.get(linking).get_data(as_text=True), linking


def test_the_page_offers_no_form_to_those_who_may_not_decide(client: FlaskClient, plc: Any) -> None:
    _product, _first, second = plc
    login(client, "dev@example.com")
    page = client.get(f"/releases/{second.id}/modifications").get_data(as_text=True)
    assert "mosquitto" in page and 'name="verdict"' not in page


def test_the_command_line_lists_and_decides(app: Flask, session: Session, plc: Any) -> None:
    runner = app.test_cli_runner()
    listed = runner.invoke(cli, ["release", "modifications", "PLC", "1.1", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [s["key"] for s in data["signals"]] == [MOSQUITTO, OPC_UA, OPENSSL, UNIT]
    text = runner.invoke(cli, ["release", "modifications", "PLC", "1.1"]).output
    ref = next(s["ref"] for s in data["signals"] if s["key"] == UNIT)
    assert re.search(rf"^{ref}  \[undecided\]  systemd unit added or changed", text, re.MULTILINE)
    refused = runner.invoke(cli, ["release", "modification-decide", "PLC", "1.1", ref, "--dismiss"])
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1 and "say why" in refused.output
    unknown = runner.invoke(cli, ["release", "modification-decide", "PLC", "1.1", "nope", "--confirm"])
    assert unknown.exit_code == 2 and "no signal" in unknown.output
    neither = runner.invoke(cli, ["release", "modification-decide", "PLC", "1.1", ref])
    assert neither.exit_code == 2 and "verdict" in neither.output
    assert decisions(session) == 0
    as_dev = runner.invoke(
        cli, ["release", "modification-decide", "PLC", "1.1", ref, "--confirm", "--as", "dev@example.com"]
    )
    assert as_dev.exit_code == 2 and decisions(session) == 0
    done = runner.invoke(
        cli,
        ["release", "modification-decide", "PLC", "1.1", ref, "--dismiss", "--reason", "a log rotation unit", "--json"],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["verdict"] == "dismissed" and decisions(session) == 1
    assert "[dismissed by cli:" in runner.invoke(cli, ["release", "modifications", "PLC", "1.1"]).output
