"""The audit log pages and CSV export."""

from __future__ import annotations

import csv
import io

from flask import Flask
from sqlalchemy.orm import Session

from tests.factories import login, make_product, make_release, make_user, member


def test_product_log_shows_only_that_products_events(app: Flask, session: Session) -> None:
    mine, other = make_product(session, "Mine"), make_product(session, "Other")
    make_release(session, mine, "1.0")
    make_release(session, other, "9.9")
    member(session, mine, "auditor", email="auditor@example.com")
    session.commit()
    client = app.test_client()
    login(client, "auditor@example.com")
    page = client.get(f"/products/{mine.id}/audit").get_data(as_text=True)
    assert "products:release:create" in page and "1.0" in page and "9.9" not in page
    filtered = client.get(f"/products/{mine.id}/audit?action=products:product").get_data(as_text=True)
    assert "products:product:create" in filtered and "products:release:create" not in filtered
    response = client.get(f"/products/{mine.id}/audit.csv?action=products:release&product_id=2&_method=x")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["products:release:create"]
    assert rows[0]["product_id"] == str(mine.id) and len(rows[0]["hash"]) == 64


def test_global_log_filters_and_rejects_bad_dates(app: Flask, session: Session) -> None:
    make_user(session, "admin@example.com", admin=True)
    make_product(session, "P")
    session.commit()
    client = app.test_client()
    login(client, "admin@example.com")
    page = client.get("/audit?actor=cli:tests&target=product").get_data(as_text=True)
    assert "products:product:create" in page and "accounts:login:success" not in page
    signed_in = client.get("/audit?action=accounts:login").get_data(as_text=True)
    assert "accounts:login:success" in signed_in
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 422 and "Not a valid date value" in bad.get_data(as_text=True)
    future = client.get("/audit?since=2999-01-01").get_data(as_text=True)
    assert "No events match." in future
    assert client.get("/audit.csv?since=yesterday").status_code == 422  # never silently the whole log
    odd = client.get("/audit?product_id=2&_method=x&page=2")
    assert odd.status_code == 200  # unknown arguments are ignored, not a crash
    exported = client.get("/audit.csv").get_data(as_text=True)
    assert exported.splitlines()[0] == "seq,at,actor,origin,action,target,product_id,details,digest,hash"
    assert len(exported.splitlines()) > 3


def test_a_kept_log_page_shows_the_next_event_and_only_to_readers(app: Flask, session: Session) -> None:
    product = make_product(session, "Kept")
    member(session, product, "auditor", email="auditor@example.com")
    member(session, product, "developer", email="dev@example.com")
    for number in range(55):  # more than a page
        make_release(session, product, f"1.{number}")
    session.commit()
    client = app.test_client()
    login(client, "auditor@example.com")
    first = client.get(f"/products/{product.id}/audit").get_data(as_text=True)
    assert "page 1 of 2" in first and "1.54" in first and "1.2<" not in first
    assert "1.2<" in client.get(f"/products/{product.id}/audit?page=2").get_data(as_text=True)
    make_release(session, product, "2.0")  # a change moves the chain: the kept page is read afresh
    session.commit()
    again = client.get(f"/products/{product.id}/audit").get_data(as_text=True)
    assert ">2.0<" in again and "1.4<" not in again
    developer = app.test_client()
    login(developer, "dev@example.com")  # the same kept page is never shown to one who may not read the log
    assert developer.get(f"/products/{product.id}/audit").status_code in (403, 404)
