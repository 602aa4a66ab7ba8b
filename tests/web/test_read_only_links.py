"""A reader is not offered links to what they may not do (an auditor meets no 403 behind a link)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from tests.factories import login, make_product, make_release, member


def test_an_auditor_sees_the_gaps_without_links_to_fill_them(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    release = make_release(session, product, "1.0")
    member(session, product, "auditor", email="auditor@example.com")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    pages = (f"/products/{product.id}/coverage?release=1.0", f"/releases/{release.id}/claims")
    auditor = app.test_client()
    login(auditor, "auditor@example.com")
    for page in pages:
        body = auditor.get(page).get_data(as_text=True)
        assert "SVV-3" in body or "CR 1.1" in body  # the gaps are shown...
        assert "/evidence/new" not in body and f"/releases/{release.id}/claims/CR" not in body  # ...not offered
    officer = app.test_client()
    login(officer, "so@example.com")
    assert "/evidence/new" in officer.get(pages[0]).get_data(as_text=True)
    assert f"/releases/{release.id}/claims/CR" in officer.get(pages[1]).get_data(as_text=True)
