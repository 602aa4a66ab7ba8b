"""Evidence triage: filters, search, sorting and pages of the lists (page and API), and bulk review."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.evidence.models import Evidence, ReviewState
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.scoping import set_review_interval
from sdl_tracker.evidence.services import EvidenceInput, Upload, revise_evidence
from sdl_tracker.evidence.triage import MAX_BULK, EvidenceFilter, search_evidence
from sdl_tracker.evidence.vocabulary import EvidenceKind
from tests.factories import (
    OPERATOR,
    ApiClient,
    attach,
    login,
    make_product,
    make_release,
    member,
    signed_in,
    statements,
)

TODAY = date.today()


def ids(found: object) -> list[str]:
    return [e.title for e in found.items]  # type: ignore[attr-defined]


def test_filters_search_sort_and_pages(session: Session) -> None:
    product = make_product(session, "Triage")
    make_release(session, product, "1.0")
    dev = member(session, product, "developer", email="dev@example.com")
    other = member(session, product, "developer", email="other@example.com")
    officer = member(session, product, "security_officer", email="so@example.com")
    attach(session, dev, product, "Threat model of the gateway", kind="process-record", requirements=("SR-2",))
    attach(session, dev, product, "100% coverage_report", description="Branch COVERAGE of the parser")
    attach(session, other, product, "1000 coverage report", draft=True)
    attach(
        session, dev, product, "Old policy", effective=TODAY - timedelta(days=30), review_due=TODAY - timedelta(days=3)
    )
    attach(session, dev, product, "Soon policy", review_due=TODAY + timedelta(days=10))
    attach(session, dev, product, "Later policy", review_due=TODAY + timedelta(days=90))
    # A process record expires 12 months after its effective date (no review date of its own).
    attach(session, dev, product, "Stale threat model", kind="process-record", effective=TODAY - timedelta(days=400))
    attach(session, dev, product, "Release notes", releases=("1.0",))
    session.flush()

    def find(page: int = 1, per_page: int = 50, **wanted: object) -> object:
        return search_evidence(session, officer, product.id, EvidenceFilter(**wanted), page=page, per_page=per_page)  # type: ignore[arg-type]

    assert len(ids(find())) == 8
    assert ids(find(kind=EvidenceKind.PROCESS_RECORD)) == [
        "Stale threat model",
        "Threat model of the gateway",
    ]
    assert ids(find(state=ReviewState.DRAFT)) == ["1000 coverage report"]
    assert ids(find(requirement="sr-2")) == ["Threat model of the gateway"]
    assert ids(find(submitter="other@example.com")) == ["1000 coverage report"]
    # Words are ANDed, case-insensitive, in titles or descriptions; % and _ are taken literally.
    assert ids(find(text="coverage PARSER")) == ["100% coverage_report"]
    assert ids(find(text="100%")) == ["100% coverage_report"]
    assert ids(find(text="coverage_")) == ["100% coverage_report"]
    assert ids(find(text="e_ort")) == []
    assert ids(find(expiry="expired")) == ["Stale threat model", "Old policy"]
    assert ids(find(expiry="due", days=30)) == ["Soon policy"]
    assert ids(find(expiry="due", days=120)) == ["Later policy", "Soon policy"]
    # Letters only: engines' collations order punctuation differently.
    by_title = [t for t in ids(find(sort="title", descending=False)) if t[0].isalpha()]
    assert by_title == sorted(by_title, key=str.lower)
    assert [t for t in ids(find(sort="title")) if t[0].isalpha()] == by_title[::-1]
    by_expiry = ids(find(sort="expiry", descending=False))
    assert by_expiry.index("Stale threat model") < by_expiry.index("Old policy") < by_expiry.index("Soon policy")
    first, second = find(page=1, per_page=3), find(page=2, per_page=3)
    assert first.total == 8 and first.pages == 3  # type: ignore[attr-defined]
    assert not set(ids(first)) & set(ids(second))
    assert ids(find(page=4, per_page=3)) == []


def test_the_expiry_order_follows_the_days_the_list_shows_month_ends_included(session: Session) -> None:
    """Sorted by expiry in SQL (each engine's date arithmetic), the order is that of the last standing days the
    lines show, which standing.add_months works out: a day the month lacks becomes the month's last."""
    product = make_product(session, "Month ends")
    dev = member(session, product, "developer", email="dev@example.com")
    officer = member(session, product, "security_officer", email="so@example.com")
    set_review_interval(session, OPERATOR, product.id, kind="process-record", months=1)
    set_review_interval(session, OPERATOR, product.id, kind="design-document", months=13)
    ends = [date(2024, 1, 31), date(2024, 2, 29), date(2023, 3, 31), date(2023, 12, 31), date(2024, 1, 30)]
    for n, effective in enumerate(ends):
        for kind in ("process-record", "design-document", "process-document", "other"):
            attach(session, dev, product, f"{kind} {n}", kind=kind, effective=effective)
    # Review dates of their own, on days the intervals also give (ties go by number).
    attach(session, dev, product, "Due with the leap day", effective=date(2023, 1, 2), review_due=date(2024, 2, 29))
    attach(session, dev, product, "Due at April's end", effective=date(2023, 1, 2), review_due=date(2023, 4, 30))
    session.flush()
    for descending in (False, True):
        wanted = EvidenceFilter(sort="expiry", descending=descending)
        lines = search_evidence(session, officer, product.id, wanted, page=1, per_page=50).items
        keys = [(line.expires is None, line.expires or date.max, line.id) for line in lines]
        assert len(keys) == 22 and keys == sorted(keys, reverse=descending)
        assert date(2024, 2, 29) in {line.expires for line in lines}  # 2024-01-31 plus a month
        pages = [search_evidence(session, officer, product.id, wanted, page=n, per_page=5).items for n in (1, 2, 3)]
        assert [line.id for page in pages for line in page] == [line.id for line in lines][:15]


def test_statements_per_page_do_not_grow_with_rows(app: Flask, session: Session) -> None:
    product = make_product(session, "Counted")
    make_release(session, product, "1.0")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    for n in range(3):
        attach(session, dev, product, f"Item {n}", requirements=("SM-2", "SR-2"), releases=("1.0",))
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    path = f"/products/{product.id}/evidence?sort=title&state=submitted&q=item"
    with statements(app) as few:
        assert client.get(path).status_code == 200
    for n in range(3, 40):
        attach(session, dev, product, f"Item {n}", requirements=("SM-2", "SR-2"), releases=("1.0",))
    session.commit()
    with statements(app) as many:
        page = client.get(path).get_data(as_text=True)
    assert "40 items" in page
    assert len(many) == len(few), (len(few), len(many))
    with statements(app) as by_expiry:
        assert client.get(path + "&sort=expiry").status_code == 200
    assert len(by_expiry) <= len(many)


def test_bad_filters_are_refused_on_the_page_and_the_api(app: Flask, session: Session) -> None:
    product = make_product(session, "Refusing")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    base = f"/products/{product.id}/evidence"
    for query in ("days=0", "days=x", "state=lost", "kind=poem", "sort=colour", "order=up", "expiry=soon"):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert "has-error" in response.get_data(as_text=True)
    assert client.get(f"{base}?page=0").status_code == 422
    assert client.get(f"{base}?release=9.9").status_code == 404
    assert client.get(f"{base}?q=" + "+".join(["w"] * 11)).status_code == 422
    api = ApiClient(app.test_client(), app)
    token = api.as_user("so@example.com")
    refused = api.call("GET", f"/api/v1{base}?days=-1&sort=colour", token)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"days", "sort"}


def test_the_api_list_filters_like_the_page(app: Flask, session: Session) -> None:
    product = make_product(session, "Listed")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    attach(session, dev, product, "Alpha report")
    attach(session, dev, product, "Beta report", draft=True)
    attach(session, dev, product, "Gamma plan")
    session.commit()
    api = ApiClient(app.test_client(), app)
    token = api.as_user("so@example.com")
    base = f"/api/v1/products/{product.id}/evidence"
    body = api.call("GET", f"{base}?q=report&state=submitted", token).get_json()
    assert body["total"] == 1 and body["items"][0]["current"]["title"] == "Alpha report"
    body = api.call("GET", f"{base}?sort=title&order=asc&per_page=2&page=2", token).get_json()
    assert body["total"] == 3 and [i["current"]["title"] for i in body["items"]] == ["Gamma plan"]


def test_a_kept_api_list_shows_the_next_change_and_only_to_members(app: Flask, session: Session) -> None:
    product = make_product(session, "Kept API")
    other = make_product(session, "Other API")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    member(session, other, "security_officer", email="stranger@example.com")
    first = attach(session, dev, product, "First")
    session.commit()
    api = ApiClient(app.test_client(), app)
    token, stranger = api.as_user("so@example.com"), api.as_user("stranger@example.com")
    path = f"/api/v1/products/{product.id}/evidence"

    def listed() -> list[tuple[str, str]]:
        items = api.call("GET", path, token).get_json()["items"]
        return [(i["current"]["title"], i["current"]["state"]) for i in items]

    assert listed() == listed() == [("First", "submitted")]  # the second read from what was kept
    assert api.call("GET", path, stranger).status_code == 404  # what was kept is read after access is checked
    revise_evidence(session, dev, first.id, data=EvidenceInput(title="First, revised"), submit=True)
    attach(session, dev, product, "Second")
    session.commit()
    assert listed() == [("Second", "submitted"), ("First, revised", "submitted")]


def test_lists_show_the_current_revision_as_the_item_itself_shows_it(app: Flask, session: Session) -> None:
    product = make_product(session, "Revised")
    make_release(session, product, "1.0")
    make_release(session, product, "2.0")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    revised = attach(session, dev, product, "First words", requirements=("SM-2", "SR-2"), releases=("1.0",))
    revise_evidence(
        session,
        dev,
        revised.id,
        data=EvidenceInput(
            title="Second words",
            requirements=["SR-2", "SD-1"],
            release_versions=["1.0", "2.0"],
            files=[Upload("b.txt", "text/plain", io.BytesIO(b"b")), Upload("a.txt", "text/plain", io.BytesIO(b"a"))],
        ),
        submit=True,
    )
    attach(session, dev, product, "Due soon", review_due=TODAY + timedelta(days=3))
    attach(session, dev, product, "A draft record", kind="process-record", draft=True)
    session.commit()
    api = ApiClient(app.test_client(), app)
    token = api.as_user("so@example.com")
    for query in ("", "?sort=expiry", "?sort=expiry&order=asc&per_page=2&page=2", "?sort=title", "?release=2.0"):
        listed = api.call("GET", f"/api/v1/products/{product.id}/evidence{query}", token).get_json()["items"]
        assert listed, query
        for item in listed:
            shown = api.call("GET", f"/api/v1/evidence/{item['id']}", token).get_json()
            assert item == {**shown, "revisions": None}, query
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}/evidence?sort=expiry&order=asc").get_data(as_text=True)
    assert "Second words" in page and "First words" not in page
    row = page[page.index(f'id="pick-{revised.id}"') :].split("</tr>")[0]
    assert f'value="{revised.id}:2"' in page
    session.refresh(revised)
    current = revised.current
    assert re.findall(r'<span class="pill">([^<]+)</span>', row) == [r.ref for r in current.requirements]
    assert re.findall(r'title="Preview ([^"]+)"', row) == [a.filename for a in current.artifacts][:3]
    assert "1.0, 2.0" in row


def test_the_submitter_filter_offers_a_new_submitter_on_the_next_request(app: Flask, session: Session) -> None:
    product = make_product(session, "Offered")
    dev = member(session, product, "developer", email="dev@example.com")
    other = member(session, product, "developer", email="other@example.com")
    member(session, product, "security_officer", email="so@example.com")
    attach(session, dev, product, "First")
    session.commit()
    client = app.test_client()
    login(client, "so@example.com")
    path = f"/products/{product.id}/evidence"

    def offered() -> list[str]:
        page = client.get(path).get_data(as_text=True)
        datalist = page.split('<datalist id="submitters">')[1].split("</datalist>")[0]
        return re.findall(r'<option value="([^"]+)">', datalist)

    assert offered() == ["user:dev@example.com"]
    assert offered() == ["user:dev@example.com"]  # kept: read again from what was kept
    attach(session, other, product, "Second")
    session.commit()
    assert offered() == ["user:dev@example.com", "user:other@example.com"]


def test_a_kept_list_shows_the_next_change_and_each_reader_their_own_ticks(app: Flask, session: Session) -> None:
    product = make_product(session, "Kept list")
    dev = member(session, product, "developer", email="dev@example.com")
    officer = member(session, product, "security_officer", email="so@example.com")
    member(session, product, "security_officer", email="so2@example.com")
    first = attach(session, dev, product, "First")
    mine = attach(session, officer, product, "Mine")
    session.commit()
    path = f"/products/{product.id}/evidence"

    def ticks(email: str, query: str = "") -> tuple[list[str], str]:
        client = app.test_client()
        login(client, email)
        page = client.get(path + query).get_data(as_text=True)
        return re.findall(r'name="items" value="(\d+):\d+"', page), page

    for _ in range(2):  # the second time read from what was kept
        assert ticks("so@example.com")[0] == [str(first.id)]  # never one's own submission
        assert ticks("so2@example.com")[0] == [str(mine.id), str(first.id)]
        assert ticks("dev@example.com")[0] == []  # developers review nothing
        assert ticks("so2@example.com", "?state=submitted&sort=title&order=asc")[0] == [str(first.id), str(mine.id)]
    review_evidence(session, officer, first.id, accept=True)
    session.commit()
    ticked, page = ticks("so2@example.com")
    assert ticked == [str(mine.id)] and "state-accepted" in page
    assert ticks("so2@example.com", "?state=submitted&sort=title&order=asc")[0] == [str(mine.id)]
    _, page = ticks("so2@example.com", "?state=accepted")
    assert ">First</a>" in page and ">Mine</a>" not in page


def test_the_release_filter_offers_a_new_release_on_the_next_request(app: Flask, session: Session) -> None:
    product = make_product(session, "Versions")
    make_release(session, product, "1.10")
    make_release(session, product, "1.9")
    member(session, product, "auditor", email="auditor@example.com")
    session.commit()
    client = signed_in(app, "auditor@example.com")

    def offered(path: str) -> list[str]:
        page = client.get(path).get_data(as_text=True)
        select = page.split('<select id="release" name="release">')[1].split("</select>")[0]
        return re.findall(r'<option value="([^"]*)"', select)

    for path in (f"/products/{product.id}/evidence", f"/products/{product.id}/coverage"):
        assert offered(path) == offered(path) == ["", "1.10", "1.9"]  # newest first by version; then kept
    make_release(session, product, "2.0")
    session.commit()
    for path in (f"/products/{product.id}/evidence", f"/products/{product.id}/coverage"):
        assert offered(path) == ["", "2.0", "1.10", "1.9"]


def audit_count(session: Session) -> int:
    actions = ("evidence:item:accept", "evidence:item:reject")
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(actions))) or 0


def test_bulk_review_gives_a_result_per_item(app: Flask, session: Session) -> None:
    product = make_product(session, "Bulk")
    elsewhere = make_product(session, "Elsewhere")
    dev = member(session, product, "developer", email="dev@example.com")
    officer = member(session, product, "security_officer", email="so@example.com")
    stranger = member(session, elsewhere, "developer", email="stranger@example.com")
    good = attach(session, dev, product, "Good one")
    second = attach(session, dev, product, "Second good one")
    own = attach(session, officer, product, "My own")
    draft = attach(session, dev, product, "A draft", draft=True)
    changed = attach(session, dev, product, "Changed meanwhile")
    hidden = attach(session, stranger, elsewhere, "Not mine to see")
    session.commit()
    before = audit_count(session)
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/products/{product.id}/evidence").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert f'value="{good.id}:1"' in page and f'value="{own.id}:1"' not in page  # no box for one's own
    revise_evidence(session, dev, changed.id, data=EvidenceInput(title="Changed meanwhile, v2"), submit=True)
    session.commit()
    items = [f"{e.id}:1" for e in (good, own, draft, changed, hidden, second)]
    response = client.post(
        "/evidence/bulk-review",
        data={"csrf_token": token, "items": items, "decision": "accept", "back": f"/products/{product.id}/evidence"},
    )
    shown = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 of 6 reviewed; 4 refused." in shown
    for outcome in ("refused: self-review", "refused: wrong state", "refused: stale", "refused: not permitted"):
        assert outcome in shown
    assert "Not mine to see" not in shown
    session.expire_all()
    states = {e.current.title: e.current.state for e in session.scalars(select(Evidence))}
    assert states["Good one"] is ReviewState.ACCEPTED and states["Second good one"] is ReviewState.ACCEPTED
    assert states["My own"] is ReviewState.SUBMITTED and states["Changed meanwhile, v2"] is ReviewState.SUBMITTED
    assert audit_count(session) == before + 2


def _one_to_review(session: Session) -> Evidence:
    """A developer's submission that so@example.com, an officer of its product, may review."""
    product = make_product(session, "Rejecting")
    dev = member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    item = attach(session, dev, product, "To reject")
    session.commit()
    return item


def test_bulk_rejection_needs_a_reason_and_bad_ticks_are_refused(app: Flask, session: Session) -> None:
    item = _one_to_review(session)
    client = app.test_client()
    login(client, "so@example.com")
    page = client.get(f"/products/{item.product_id}/evidence").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    before = audit_count(session)
    for data in (
        {"items": [f"{item.id}:1"], "decision": "reject"},
        {"items": ["x:1"], "decision": "accept"},
        {"items": [f"{item.id}:99999999999"], "decision": "accept"},
        {"decision": "accept"},
        {"items": [f"{item.id}:1"], "decision": "maybe"},
    ):
        response = client.post("/evidence/bulk-review", data={"csrf_token": token, **data})
        assert response.status_code == 422, data
    assert audit_count(session) == before
    done = client.post(
        "/evidence/bulk-review",
        data={"csrf_token": token, "items": [f"{item.id}:1"], "decision": "reject", "reason": "No signature"},
    )
    assert done.status_code == 200 and "1 of 1 reviewed" in done.get_data(as_text=True)
    for elsewhere in ("https://evil.example", "//evil.example", "/\\evil.example"):
        refused = client.post("/evidence/bulk-review", data={"csrf_token": token, "back": elsewhere})
        assert "evil.example" not in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Evidence, item.id).current.state is ReviewState.REJECTED  # type: ignore[union-attr]
    assert (
        client.post("/evidence/bulk-review", data={"items": [f"{item.id}:1"], "decision": "accept"}).status_code == 400
    )


def test_bulk_review_through_the_api_answers_per_item(api: ApiClient, session: Session) -> None:
    product, elsewhere = make_product(session, "Bulk"), make_product(session, "Elsewhere")
    dev = member(session, product, "developer", email="dev@example.com")
    officer = member(session, product, "security_officer", email="so@example.com")
    stranger = member(session, elsewhere, "developer", email="stranger@example.com")
    good, second = attach(session, dev, product, "Good one"), attach(session, dev, product, "Second good one")
    own = attach(session, officer, product, "My own")
    draft = attach(session, dev, product, "A draft", draft=True)
    changed = attach(session, dev, product, "Changed meanwhile")
    hidden = attach(session, stranger, elsewhere, "Not mine to see")
    revise_evidence(session, dev, changed.id, data=EvidenceInput(title="Changed meanwhile, v2"))
    session.commit()
    token = api.as_user("so@example.com")
    chosen = (good, own, draft, changed, hidden, second, good)  # a repeated item is reviewed once
    body = {"items": [{"evidence_id": e.id, "revision": 1} for e in chosen], "decision": "accept"}
    before = audit_count(session)
    response = api.call("POST", "/api/v1/evidence/bulk-review", token, json=body)
    assert response.status_code == 200
    results = {r["evidence_id"]: (r["outcome"], r["done"], r["title"]) for r in response.get_json()["items"]}
    assert results == {
        good.id: ("accepted", True, "Good one"),
        own.id: ("self-review", False, ""),
        draft.id: ("wrong state", False, ""),
        changed.id: ("stale", False, ""),
        hidden.id: ("not permitted", False, ""),  # as an unknown id: no title, no revision number
        second.id: ("accepted", True, "Second good one"),
    }
    assert audit_count(session) == before + 2
    session.expire_all()
    assert session.get(Evidence, own.id).current.state is ReviewState.SUBMITTED  # type: ignore[union-attr]


def test_bulk_review_through_the_api_refuses_bad_input_and_writes_nothing(api: ApiClient, session: Session) -> None:
    item = _one_to_review(session)
    token, path = api.as_user("so@example.com"), "/api/v1/evidence/bulk-review"
    one = [{"evidence_id": item.id, "revision": 1}]
    before = audit_count(session)
    for body in (
        {"items": one, "decision": "reject"},  # a rejection needs a reason
        {"items": one, "decision": "reject", "reason": "   "},
        {"items": [], "decision": "accept"},
        {"items": [{"evidence_id": item.id, "revision": 1}] * (MAX_BULK + 1), "decision": "accept"},
        {"items": [{"evidence_id": item.id, "revision": 0}], "decision": "accept"},
        {"items": [{"evidence_id": 2**31, "revision": 1}], "decision": "accept"},
        {"items": [{"evidence_id": "x", "revision": 1}], "decision": "accept"},
        {"items": [{"evidence_id": item.id}], "decision": "accept"},
        {"items": [{"evidence_id": item.id, "revision": 1, "state": "accepted"}], "decision": "accept"},
        {"items": one, "decision": "maybe"},
        {"items": one, "decision": "reject", "reason": "bad\x00reason"},
        {"items": one},
    ):
        answer = api.call("POST", path, token, json=body)
        assert answer.status_code == 422, body
        assert answer.mimetype == "application/problem+json"
    assert api.call("POST", path, token, data="{", content_type="application/json").status_code == 422
    assert api.call("POST", path, None, json={"items": one, "decision": "accept"}).status_code == 401
    developer = api.as_user("dev@example.com")  # a token that grants no evidence:review
    refused = api.call("POST", path, developer, json={"items": one, "decision": "accept"})
    assert refused.status_code == 403 and "evidence:review" in refused.get_json()["detail"]
    assert audit_count(session) == before
    done = api.call("POST", path, token, json={"items": one, "decision": "reject", "reason": "No signature"})
    assert [r["outcome"] for r in done.get_json()["items"]] == ["rejected"]
    session.expire_all()
    assert session.get(Evidence, item.id).current.state is ReviewState.REJECTED  # type: ignore[union-attr]


def test_the_page_takes_as_many_items_as_the_api_and_no_more(app: Flask, session: Session) -> None:
    product = make_product(session, "Many")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    client = signed_in(app, "so@example.com")
    page = client.get(f"/products/{product.id}/evidence").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    ticks = [f"{n}:1" for n in range(1, MAX_BULK + 2)]
    refused = client.post("/evidence/bulk-review", data={"csrf_token": token, "items": ticks, "decision": "accept"})
    assert refused.status_code == 422 and "at most 1,000 items at once" in refused.get_data(as_text=True)
    answered = client.post(
        "/evidence/bulk-review", data={"csrf_token": token, "items": ticks[:MAX_BULK], "decision": "accept"}
    )
    assert answered.status_code == 200 and f"0 of {MAX_BULK} reviewed" in answered.get_data(as_text=True)


def test_a_big_bulk_review_commits_in_short_batches_through_the_page(shared_app: Flask) -> None:
    """A thousand decisions must not hold SQLite's write lock for seconds: the page ends its own transaction
    and the decisions are committed BULK_BATCH at a time, each batch a write of its own."""
    from sqlalchemy import event

    from sdl_tracker.app_access import app_db
    from sdl_tracker.evidence.triage import BULK_BATCH

    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session)
        developer = member(session, product, "developer", "dev@example.com")
        member(session, product, "security_officer", "officer@example.com")
        chosen = [f"{attach(session, developer, product, f'item {n}').id}:1" for n in range(BULK_BATCH * 2 + 3)]
    commits: list[int] = []
    event.listen(database.engine, "commit", lambda _connection: commits.append(1))
    client = shared_app.test_client()
    login(client, "officer@example.com")
    page = client.get(f"/products/{product.id}/evidence").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    commits.clear()
    response = client.post("/evidence/bulk-review", data={"csrf_token": token, "items": chosen, "decision": "accept"})
    assert response.status_code == 200
    assert len(commits) >= 3  # three batches (and the request's own, empty, unit)
    with database.unit_of_work(read_only=True) as session:
        states = session.scalars(select(Evidence).where(Evidence.product_id == product.id))
        assert {e.current.state for e in states} == {ReviewState.ACCEPTED}
        decided = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "evidence:item:accept")
        )
        assert decided == len(chosen)
