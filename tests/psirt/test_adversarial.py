"""What an attacker or an assessor tries against the PSIRT core, each with the least it needs: deadlines read
later than the earliest legal reading, breaches cleared or avoided, cases of other products told apart, hostile
or impossible input, an incomplete timeline, DM records made twice. Each test states the behaviour that holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.errors import Invalid, NotFound
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.products.models import Product
from sdl_tracker.psirt import services
from sdl_tracker.psirt.models import PsirtCase
from tests.concurrency import at_once
from tests.factories import make_product, make_release, member
from tests.psirt.test_cases import ago, counts, officer, vulnerability

pytestmark = pytest.mark.db

JUSTIFIED = "Log review dated it differently."


@pytest.fixture
def plc(session: Session) -> Product:
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    return product


def breached_stages(session: Session, product: Product) -> set[str]:
    """The stages `psirt clocks` lists as breached (overdue, or submitted late) for the product's officer."""
    return {
        d.clock.stage
        for d in services.due_clocks(session, officer(session, product))
        if d.clock.breached_at is not None
    }


def opened(session: Session, actor: Principal, product: Product, justification: str = "", **facts: Any) -> PsirtCase:
    """A vulnerability case of `product` received five hours ago, opened by `actor` with `facts`."""
    return services.create_case(
        session,
        actor,
        product.id,
        kind="vulnerability",
        title="Frame overflow",
        source="customer",
        received_at=ago(hours=5),
        facts=facts,
        justification=justification,
    )


def measured_before_the_spring_change(session: Session, product: Product) -> PsirtCase:
    """An exploited vulnerability whose measure came at 12:00 CET on 26 March 2026, three days before the change."""
    return vulnerability(
        session,
        product,
        received_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
        aware_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
        measure_available_at=datetime(2026, 3, 26, 11, tzinfo=UTC),
    )


# --- 1. Deadlines: never later than the earliest legal reading -------------------------------------------------


def test_an_awareness_time_minutes_ahead_of_the_server_moves_no_deadline_later(session: Session, plc: Product) -> None:
    """Awareness cannot lie after the moment it is recorded, yet five minutes of slack are taken as given: every
    deadline then ends up to five minutes after the earliest reading (an incident's default awareness, its
    receipt, takes the same slack)."""
    case = vulnerability(session, plc)
    try:
        with session.begin_nested():
            services.update_case(
                session, officer(session, plc), case.id, {"aware_at": datetime.now(UTC) + timedelta(minutes=4)}
            )
    except Invalid as refused:
        assert [e.field for e in refused.errors] == ["aware_at"]
        return
    recorded = datetime.now(UTC)
    warning = next(c for c in services.case_clocks(session, case) if c.stage == "early-warning")
    assert warning.due_at is not None and warning.due_at <= recorded + timedelta(hours=24)


def test_a_zone_change_moves_no_defined_deadline_later(
    session: Session, plc: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """14 days from 12:00 CET across the spring change end at 10:00 UTC in Berlin, 11:00 in UTC; switching the
    product to UTC afterwards must not hand back the hour (nor hide the breach recorded at 10:00)."""
    now = datetime(2026, 4, 9, 10, 30, tzinfo=UTC)
    monkeypatch.setattr(services, "utcnow", lambda: now)
    actor = officer(session, plc)
    services.update_settings(session, actor, plc.id, zone="Europe/Berlin")
    case = measured_before_the_spring_change(session, plc)
    berlin = next(c for c in services.case_clocks(session, case, now) if c.stage == "final-report")
    assert berlin.due_at == datetime(2026, 4, 9, 10, tzinfo=UTC) and berlin.state == "overdue"
    services.update_settings(session, actor, plc.id, zone="UTC")
    final = next(c for c in services.case_clocks(session, case, now) if c.stage == "final-report")
    assert final.due_at is not None and final.due_at <= berlin.due_at
    assert final.state == "overdue"


def test_without_settings_a_calendar_period_is_not_read_later_than_in_any_member_states_zone(
    session: Session, plc: Product
) -> None:
    """A product without settings reads the 14 days on UTC alone: across the spring change that is an hour later
    than the reading in every Member State's zone (10:00 UTC in Lisbon, Berlin and Athens alike), and nothing
    says the establishment's zone is unknown."""
    case = measured_before_the_spring_change(session, plc)
    final = next(c for c in services.case_clocks(session, case) if c.stage == "final-report")
    assert final.due_at is not None and final.due_at <= datetime(2026, 4, 9, 10, tzinfo=UTC)


# --- 2. Breaches: recorded when they happen, never cleared -----------------------------------------------------


def test_a_recorded_breach_still_shows_after_awareness_is_moved_later(session: Session, plc: Product) -> None:
    """A justified correction of the anchor may move the deadlines, but the breach recorded meanwhile stays."""
    case = vulnerability(session, plc, aware_at=ago(hours=30))
    assert breached_stages(session, plc) == {"early-warning"}
    services.update_case(session, officer(session, plc), case.id, {"aware_at": ago(hours=2)}, justification=JUSTIFIED)
    assert breached_stages(session, plc) == {"early-warning"}


def test_a_backdated_submission_does_not_clear_a_recorded_breach(session: Session, plc: Product) -> None:
    """A submission recorded after the breach with a time before the due time turns the clock `submitted`."""
    case = vulnerability(session, plc, aware_at=ago(hours=30))  # early warning due 6 h ago: breach recorded
    assert breached_stages(session, plc) == {"early-warning"}
    services.record_submission(
        session, officer(session, plc), case.id, submitted_at=ago(hours=7), stages=["early-warning"]
    )
    assert breached_stages(session, plc) == {"early-warning"}


def test_awareness_cannot_be_withdrawn_from_a_case_with_submissions(session: Session, plc: Product) -> None:
    """The clock function refuses submissions without an awareness time; the service skips it for a
    vulnerability, so withdrawing awareness drops the case, its submissions and its breach from `psirt clocks`."""
    case = vulnerability(session, plc, aware_at=ago(hours=30))
    actor = officer(session, plc)
    services.record_submission(session, actor, case.id, submitted_at=ago(hours=1), stages=["early-warning"])
    with pytest.raises(Invalid), session.begin_nested():
        services.update_case(session, actor, case.id, {"aware_at": None}, justification=JUSTIFIED)
    assert breached_stages(session, plc) == {"early-warning"}


def test_an_intermediate_request_without_awareness_is_refused(session: Session, plc: Product) -> None:
    """docs/psirt.md: an intermediate request without an awareness time is refused; a vulnerability's is kept."""
    case = vulnerability(session, plc)
    before = counts(session)
    with pytest.raises(Invalid), session.begin_nested():
        services.request_intermediate(
            session, officer(session, plc), case.id, requested_at=ago(hours=1), due_at=ago(hours=-48)
        )
    assert counts(session) == before


def test_a_corrected_deadline_that_passes_is_recorded_and_announced_as_a_breach(session: Session, plc: Product) -> None:
    """After a justified correction the stage keeps the first breach's `breached_at`, so passing the corrected
    deadline records no breach and tells nobody (the overdue alert waits for a row without a breach)."""
    case = vulnerability(session, plc, aware_at=ago(hours=30))
    actor = officer(session, plc)
    services.update_case(session, actor, case.id, {"aware_at": ago(hours=2)}, justification=JUSTIFIED)
    later = datetime.now(UTC) + timedelta(hours=23)  # the corrected early warning was due an hour before
    services.refresh_clocks(session, actor, case, later)
    breaches = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:clock:breach")).all()
    assert [e.details["stage"] for e in breaches] == ["early-warning", "early-warning"]


# --- 3. Who may know what ---------------------------------------------------------------------------------------


def test_a_case_of_a_product_one_cannot_see_is_answered_as_one_that_does_not_exist(
    session: Session, plc: Product
) -> None:
    """`no case PSIRT-...` for a free number, `case not found` for another product's: the answer tells them apart."""
    case = vulnerability(session, plc)
    stranger = member(session, make_product(session, "Gateway"), "security_officer", "other@example.com")
    with pytest.raises(NotFound) as hidden:
        services.get_case_by_reference(session, stranger, case.reference)
    free = f"PSIRT-{case.year}-9999"
    with pytest.raises(NotFound) as missing:
        services.get_case_by_reference(session, stranger, free)
    assert hidden.value.one_line() == missing.value.one_line().replace(free, case.reference)


# --- 4. Bad input: clear refusals, nothing written ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "zone"),
    [("0001-01-01T00:30+01:00", "UTC"), ("0001-01-01T00:30Z", "America/New_York")],
    ids=["no-utc-instant", "no-local-date"],
)
def test_a_time_at_the_start_of_the_calendar_is_refused_not_a_crash(
    session: Session, plc: Product, measure: str, zone: str
) -> None:
    """Valid ISO 8601 with a zone, but with no UTC instant (or no date in the product's zone) in Python's range:
    OverflowError escapes the service instead of a refusal naming the field."""
    actor = officer(session, plc)
    services.update_settings(session, actor, plc.id, zone=zone)
    case = vulnerability(session, plc, aware_at=ago(hours=1))
    before = counts(session)
    with pytest.raises(Invalid), session.begin_nested():
        services.update_case(session, actor, case.id, {"measure_available_at": measure}, justification=JUSTIFIED)
    assert counts(session) == before


def test_a_zone_that_names_a_folder_is_refused_with_the_field_named(session: Session, plc: Product) -> None:
    """`Europe` is a folder of the zone database: IsADirectoryError escapes instead of a refusal."""
    with pytest.raises(Invalid) as refused, session.begin_nested():
        services.update_settings(session, officer(session, plc), plc.id, zone="Europe")
    assert [e.field for e in refused.value.errors] == ["zone"]


@pytest.mark.parametrize(
    "justification",
    ["Dated \u202eyletamixorppa", "Dated\x1b[2J from the logs", "x" * 1_000_000],
    ids=["rtl-override", "terminal-escape", "a-megabyte"],
)
def test_a_hostile_justification_is_refused(session: Session, plc: Product, justification: str) -> None:
    """The justification goes into the audit log unchecked: any length, any control character."""
    case = vulnerability(session, plc, aware_at=ago(hours=10))
    before = counts(session)
    with pytest.raises(Invalid) as refused, session.begin_nested():
        services.update_case(
            session, officer(session, plc), case.id, {"aware_at": ago(hours=9)}, justification=justification
        )
    assert [e.field for e in refused.value.errors] == ["justification"]
    assert counts(session) == before


@pytest.mark.parametrize(
    "field",
    ["title", "submission reference", "intermediate reference", "csirt"],
)
def test_single_line_fields_take_no_line_break(session: Session, plc: Product, field: str) -> None:
    """A title may hold U+2028, a platform or CSIRT reference and the CSIRT's name a newline: each is one line
    where it is shown (packets, e-mails, lists) and can start a line of its own there."""
    actor = officer(session, plc)
    case = vulnerability(session, plc, aware_at=ago(hours=1))
    text = "ENISA-2026-1\nSubmitted: all stages" if field != "title" else "Overflow\u2028Fixed: yes"
    calls = {
        "title": lambda: services.update_case(session, actor, case.id, {"title": text}),
        "submission reference": lambda: services.record_submission(
            session, actor, case.id, submitted_at=ago(minutes=5), stages=["early-warning"], reference=text
        ),
        "intermediate reference": lambda: services.request_intermediate(
            session, actor, case.id, requested_at=ago(minutes=5), due_at=ago(hours=-24), reference=text
        ),
        "csirt": lambda: services.update_settings(session, actor, plc.id, zone="UTC", csirt=text),
    }
    with pytest.raises(Invalid), session.begin_nested():
        calls[field]()


# --- 5. The timeline and the DM records ---------------------------------------------------------------------------


def test_the_create_event_records_the_facts_it_was_created_with(session: Session, plc: Product) -> None:
    """The audit events are the case's timeline: a back-dated awareness given at creation is justified there
    but its time, and every other fact given at once, is not in the event."""
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    case = opened(session, officer(session, plc), plc, JUSTIFIED, aware_at=ago(hours=8), cvss_v31=vector)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:case:create")).one()
    assert case.aware_at is not None and event.details.get("aware_at") == case.aware_at.isoformat()
    assert event.details["cvss_v31"] == case.cvss_v31


def test_two_officers_changing_a_case_at_once_record_its_review_once(shared_app: Flask) -> None:
    """Each reads `records` before the other commits and both record DM-2 (PostgreSQL; SQLite writes one at a
    time); the later commit also drops the earlier one's evidence id from `records`."""
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        actor = officer(session, product)
        case_id = vulnerability(session, product).id

    def triage(status: str) -> Any:
        def change() -> None:
            with database.unit_of_work() as session:
                services.update_case(session, actor, case_id, {"status": status})

        return change

    outcomes = at_once([triage("triaged"), triage("investigating")])
    assert all(o is None for o in outcomes), outcomes
    with database.unit_of_work(read_only=True) as session:
        recorded = list(session.scalars(select(Evidence.id).where(Evidence.product_id == product.id)))
        case = session.get(PsirtCase, case_id)
        assert case is not None and set(case.records) == {"receipt", "review"}
        assert sorted(recorded) == sorted(case.records.values())  # receipt and one review, each kept
