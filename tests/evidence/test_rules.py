"""Pure evidence rules."""

from __future__ import annotations

from datetime import date

import pytest

from sdl_tracker.evidence.models import ReviewState
from sdl_tracker.evidence.rules import (
    clean_filename,
    download_media_type,
    effective_date_problem,
    render_markdown,
    state_after_edit,
)


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("<img src=x onerror=alert(1)>", "<img"),
        ('<a href="https://x" onclick="steal()">x</a>', "<a "),  # raw HTML is shown as text, never as a tag
        ("![pixel](https://tracker.example/p.png)", "<img"),
    ],
)
def test_markdown_cannot_carry_script(source: str, absent: str) -> None:
    assert absent not in str(render_markdown(source))


def test_markdown_keeps_what_people_write() -> None:
    html = str(render_markdown("## Scope\n\n- PLC web server\n- **Modbus** `TCP/502`\n\n[CWE](https://cwe.mitre.org)"))
    assert "<h2>Scope</h2>" in html and "<strong>Modbus</strong>" in html and "<code>TCP/502</code>" in html
    assert 'href="https://cwe.mitre.org"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_effective_dates() -> None:
    assert effective_date_problem(date(2026, 11, 26), date(2026, 11, 26)) is None
    assert "future" in (effective_date_problem(date(2026, 11, 27), date(2026, 11, 26)) or "")


@pytest.mark.parametrize(
    ("name", "declared", "served"),
    [
        ("report.pdf", "application/pdf", "application/pdf"),
        ("page.html", "text/html", "application/octet-stream"),
        ("image.svg", "image/svg+xml", "application/octet-stream"),
        ("model.json", "", "application/json"),
        ("x.bin", "application/x-evil", "application/octet-stream"),
    ],
)
def test_download_types_are_safe(name: str, declared: str, served: str) -> None:
    assert download_media_type(name, declared) == served


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\\\reports\\\\tm.pdf", "tm.pdf"),
        ("a\\x00b.txt", "ab.txt"),
        ("", "artifact"),
        ("..", "artifact"),
    ],
)
def test_file_names_lose_their_paths(raw: str, clean: str) -> None:
    assert clean_filename(raw.encode().decode("unicode_escape")) == clean


def test_edits_return_reviewed_evidence_to_review() -> None:
    assert state_after_edit(ReviewState.ACCEPTED, submit=False) is ReviewState.SUBMITTED
    assert state_after_edit(ReviewState.REJECTED, submit=True) is ReviewState.SUBMITTED
    assert state_after_edit(ReviewState.DRAFT, submit=False) is ReviewState.DRAFT
    assert state_after_edit(ReviewState.DRAFT, submit=True) is ReviewState.SUBMITTED
