"""How an audit event's details read: rows of field, old value and new value, never a Python repr."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.audit.rules import MAX_ROWS, DetailRow, detail_lines, detail_rows
from sdl_tracker.cli import cli
from sdl_tracker.products.services import update_release
from tests.factories import OPERATOR, login, make_product, make_release, make_user


def test_a_whole_record_before_and_after_reads_field_by_field() -> None:
    details = {
        "release": "4.2.0",
        "requirement": "CR 7.3",
        "old": {"status": "implemented", "verification": "supplier_test", "notes": "", "evidence": [42]},
        "new": {"status": "not_applicable", "verification": None, "notes": "", "evidence": []},
    }
    assert detail_rows(details) == [
        DetailRow("Release", None, "4.2.0"),
        DetailRow("Requirement", None, "CR 7.3"),
        DetailRow("Status", "Implemented", "Not applicable"),
        DetailRow("Verification", "Supplier test", "—"),
        DetailRow("Evidence", "42", "—"),
    ]  # the unchanged notes are not part of the change


def test_a_record_created_lists_what_it_was_created_with() -> None:
    rows = detail_rows({"old": None, "new": {"status": "implemented", "justification": "", "evidence": [45, 46]}})
    assert rows == [DetailRow("Status", "—", "Implemented"), DetailRow("Evidence", "—", "45, 46")]


def test_changes_per_field_open_nested_values_into_paths() -> None:
    details = {
        "status": {"old": "planned", "new": "released"},
        "target_sl": {"old": {"FR1": 1, "FR2": 2}, "new": {"FR1": 3, "FR2": 2}},
        "interfaces": {"old": [], "new": [{"name": "eth0", "kind": "usb", "protocol": None, "port": 80}]},
    }
    assert detail_lines(details) == [
        "Status: Planned → Released",
        "Target SL-C / FR1: 1 → 3",
        "Interfaces / 1 / Name: — → eth0",
        "Interfaces / 1 / Kind: — → USB",
        "Interfaces / 1 / Port: — → 80",
    ]


def test_a_value_beside_what_it_replaced_is_one_change() -> None:
    assert detail_lines({"email": "a@example.com", "role": "security_officer", "old_role": "auditor"}) == [
        "Email: a@example.com",
        "Role: Auditor → Security officer",
    ]
    assert detail_lines({"kind": "sbom", "months": 12, "before": None}) == ["Kind: SBOM", "Months: — → 12"]


def test_facts_are_formatted_and_odd_shapes_read_as_json() -> None:
    lines = detail_lines(
        {
            "is_admin": False,
            "expires_at": "2027-01-31T23:59:59+00:00",
            "at": "2026-12-05 03:00:00.123456+00:00",
            "kind": "psirt-fix",
            "nested": [1, [2, {"a": None}]],
            "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}},
        }
    )
    assert lines == [
        "Administrator: no",
        "Expires at: 2027-01-31 23:59 UTC",
        "At: 2026-12-05 03:00 UTC",
        "Kind: PSIRT fix",
        'Nested: [1, [2, {"a": null}]]',
        'Deep / A / B / C / D: {"e": 1}',
    ]
    assert all("{'" not in line and "None" not in line for line in lines)
    assert detail_rows({}) == [] and detail_rows(["odd", 1]) == [DetailRow("Details", None, "odd, 1")]


def test_very_many_rows_are_cut_with_a_pointer_to_the_export() -> None:
    rows = detail_rows({f"k{n}": n for n in range(200)})
    assert len(rows) == MAX_ROWS and rows[-1].new.startswith("141 more")


def test_the_log_page_and_the_command_show_details_as_changes(app: Flask, session: Session) -> None:
    make_user(session, "admin@example.com", admin=True)
    product = make_product(session, "P", vendor="<b>V</b>")
    release = make_release(session, product, "1.0")
    session.commit()
    update_release(session, OPERATOR, release.id, status="candidate", release_date=None, git_ref="v1")
    session.commit()
    client = app.test_client()
    login(client, "admin@example.com")
    page = client.get("/audit?action=products:").get_data(as_text=True)
    assert '<table class="changes">' in page and '<th scope="col">Old value</th>' in page
    assert '<th scope="row">Status</th><td class="old">Planned</td><td class="new">Candidate</td>' in page
    assert '<th scope="row">Git ref</th><td class="old">—</td><td class="new">v1</td>' in page
    assert "&lt;b&gt;V&lt;/b&gt;" in page and "<b>V</b>" not in page  # escaped as before
    assert "{&#39;old&#39;" not in page and "{'old'" not in page
    output = app.test_cli_runner().invoke(cli, ["audit", "log", "--action", "products:release:update"]).output
    assert "        Status: Planned → Candidate" in output
