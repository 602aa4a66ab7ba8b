"""The evidence form's pickers: requirements and releases as checkboxes with a filter box (no Ctrl-click
lists), the interface of a fuzzing campaign from the product's interfaces, and required fields marked."""

from __future__ import annotations

import io
import re

from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.evidence.models import Evidence
from tests.factories import csrf_token, make_product, make_release, member, signed_in


def test_the_form_offers_checkboxes_with_a_filter_and_marks_what_is_required(app: Flask, session: Session) -> None:
    product = make_product(session, "Picked")
    make_release(session, product, "1.0")
    make_release(session, product, "2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = signed_in(app, "dev@example.com")
    page = client.get(f"/products/{product.id}/evidence/new?kind=other&requirements=SR-2").get_data(as_text=True)
    assert "<select multiple" not in page and 'multiple name="requirements"' not in page
    assert re.search(r'<input type="checkbox" name="requirements" value="SR-2" checked>', page)
    assert 'value="SM-1"' in page and 'value="CR 3.4"' in page
    assert re.search(r'<input type="checkbox" name="releases" value="2.0"\s*>', page)
    assert "data-picker-filter hidden" in page  # shown by the script; without it the whole list is there
    assert '<script src="/static/picker.js" defer></script>' in page and "<script>" not in page
    assert 'aria-required="true"' in page and page.count('class="required-mark"') == 2
    script = client.get("/static/picker.js")
    assert script.status_code == 200
    script.close()


def test_ticked_boxes_and_typed_ids_both_attach(app: Flask, session: Session) -> None:
    product = make_product(session, "Ticked")
    make_release(session, product, "1.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = signed_in(app, "dev@example.com")
    path = f"/products/{product.id}/evidence/new?kind=other"
    data = {
        "csrf_token": csrf_token(client, path),
        "kind": "other",
        "title": "Ticked",
        "requirements": ["SR-2", "SM-1, SI-1"],
        "releases": ["1.0"],
    }
    response = client.post(path, data={**data, "files": (io.BytesIO(b"minutes"), "minutes.txt")})
    assert response.status_code == 302, re.findall(r'class="errors"[^>]*>(.*?)</ul>', response.get_data(as_text=True))
    evidence = session.get(Evidence, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert evidence is not None
    assert sorted(r.ref for r in evidence.current.requirements) == ["SI-1", "SM-1", "SR-2"]
    assert [r.version for r in evidence.current.releases] == ["1.0"]
    refused = client.post(path, data={**data, "requirements": [], "files": (io.BytesIO(b"m"), "m.txt")})
    assert refused.status_code == 200 and "Choose at least one requirement." in refused.get_data(as_text=True)
    unknown = client.post(path, data={**data, "requirements": ["NOPE-1"], "files": (io.BytesIO(b"m"), "m.txt")})
    assert "unknown requirement" in unknown.get_data(as_text=True)


def test_a_fuzzing_campaign_picks_one_of_the_product_interfaces(app: Flask, session: Session) -> None:
    product = make_product(session, "Fuzzed")  # with its interface eth0
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = signed_in(app, "dev@example.com")
    page = client.get(f"/products/{product.id}/evidence/new?kind=fuzz-campaign").get_data(as_text=True)
    assert 'list="details-target_interface-interfaces"' in page and '<option value="eth0">' in page
