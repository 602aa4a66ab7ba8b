"""Evidence triage tried as an attacker would: what bulk review and the lists give away, and where they lead."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.evidence.services import EvidenceInput, revise_evidence
from sdl_tracker.evidence.triage import EvidenceFilter, search_evidence
from tests.factories import attach, login, make_product, member


def _token(client: object, path: str) -> str:
    page = client.get(path).get_data(as_text=True)  # type: ignore[attr-defined]
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _outcome(shown: str) -> str:
    """The result row's text, without the evidence id (which the reviewer typed in)."""
    row = re.search(r"<tbody>(.*?)</tbody>", shown, re.S)
    assert row is not None, shown
    return re.sub(r"\s+", " ", re.sub(r"\d+", "N", row.group(1)))


def test_bulk_review_of_another_products_item_reads_as_an_unknown_id(app: Flask, session: Session) -> None:
    mine = make_product(session, "Mine")
    theirs = make_product(session, "Theirs")
    member(session, mine, "security_officer", email="so@example.com")
    stranger = member(session, theirs, "developer", email="stranger@example.com")
    hidden = attach(session, stranger, theirs, "Hidden one")
    for number in range(2, 4):
        revise_evidence(session, stranger, hidden.id, data=EvidenceInput(title=f"Hidden v{number}"), submit=True)
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    token = _token(client, f"/products/{mine.id}/evidence")
    shown = {}
    for name, tick in (("stale", f"{hidden.id}:1"), ("current", f"{hidden.id}:3"), ("unknown", "99999:1")):
        response = client.post(
            "/evidence/bulk-review", data={"csrf_token": token, "items": [tick], "decision": "accept"}
        )
        assert response.status_code == 200
        shown[name] = _outcome(response.get_data(as_text=True))
    # The current revision's number, or that the item exists at all, is not the reviewer's to learn.
    assert "revision" not in shown["stale"]
    assert shown["stale"] == shown["current"] == shown["unknown"]


def test_the_way_back_never_leaves_the_site(app: Flask, session: Session) -> None:
    product = make_product(session, "Back")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    token = _token(client, f"/products/{product.id}/evidence")
    # Browsers drop tabs and newlines from a URL: "/\t/evil.example" is "//evil.example", another site.
    for elsewhere in ("/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\x7f/evil.example"):
        refused = client.post("/evidence/bulk-review", data={"csrf_token": token, "back": elsewhere})
        assert "evil.example" not in refused.get_data(as_text=True), repr(elsewhere)


def test_search_folds_case_beyond_ascii_on_both_engines(session: Session) -> None:
    product = make_product(session, "Unicode")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    attach(session, dev, product, "Évaluation des risques", description="Prüfung der ÜBERSETZUNG")
    attach(session, dev, product, "Plain title")
    officer = member(session, product, "auditor", email="aud@example.com")
    # SQLite's own lower() folds ASCII only: a title's own word, typed as written, found nothing.
    for text in ("Évaluation", "évaluation", "ÉVALUATION", "übersetzung", "Übersetzung", "prüfung"):
        found = search_evidence(session, officer, product.id, EvidenceFilter(text=text), page=1, per_page=10)
        assert [e.title for e in found.items] == ["Évaluation des risques"], text
