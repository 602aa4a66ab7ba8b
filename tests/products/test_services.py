"""Product, release and repository services: rules, permissions, audit, nothing written on error."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.config import load_settings
from sdl_tracker.errors import Conflict, Forbidden, Invalid, NotFound
from sdl_tracker.installation import SESSION_KEY, GitPolicy, installation
from sdl_tracker.products.interfaces import InterfaceData
from sdl_tracker.products.models import Interface, Product, Release
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.products.services import (
    create_product,
    create_release,
    get_product,
    get_product_by_name,
    get_release,
    list_products,
    list_releases,
    update_product,
    update_release,
)
from tests.factories import OPERATOR, make_product, make_release, member

LEVELS = {"FR1": 3, "FR2": 3, "FR3": 2, "FR4": 2, "FR5": 1, "FR6": 2, "FR7": 4}


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_create_product_with_everything(session: Session) -> None:
    product = create_product(
        session,
        OPERATOR,
        name="NW-PLC",
        component_type="EDR",
        target_sl=LEVELS,
        vendor="Northwind",
        cra_category="important_class_i",
        support_period_end=date(2031, 12, 31),
        security_contact="psirt@northwind.example",
        cvd_policy_url="https://northwind.example/cvd",
        interfaces=[InterfaceData("eth0", "network", "Modbus TCP", 502), InterfaceData("jtag", "debug")],
    )
    session.expire_all()
    loaded = session.get(Product, product.id)
    assert loaded is not None
    assert loaded.target_sl == LEVELS
    assert [(i.name, i.kind.value, i.port) for i in loaded.interfaces] == [
        ("eth0", "network", 502),
        ("jtag", "debug", None),
    ]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "products:product:create")).one()
    assert event.actor == "cli:tests" and event.product_id == product.id
    assert event.details["target_sl"] == LEVELS and len(event.digest) == 64


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": " padded"}, "name"),
        ({"component_type": "PLC"}, "component_type"),
        ({"target_sl": {**LEVELS, "FR3": 5}}, "target_sl.FR3"),
        ({"target_sl": {"FR1": 2}}, "target_sl.FR2"),
        ({"cra_category": "huge"}, "cra_category"),
        ({"security_contact": "not a contact"}, "security_contact"),
        ({"cvd_policy_url": "javascript:alert(1)"}, "cvd_policy_url"),
        ({"interfaces": [InterfaceData("eth0", "network", port=70000)]}, "interfaces[0].port"),
        ({"interfaces": [InterfaceData("eth0", "laser")]}, "interfaces[0].kind"),
        ({"interfaces": [InterfaceData("eth0", "network"), InterfaceData("ETH0", "usb")]}, "interfaces[1].name"),
    ],
)
def test_bad_product_input_names_the_field_and_writes_nothing(session: Session, fields: dict, field: str) -> None:
    values = {"name": "Good", "component_type": "EDR", "target_sl": LEVELS, **fields}
    audit_before = _count(session, AuditEvent)
    with pytest.raises(Invalid) as caught:
        create_product(session, OPERATOR, **values)
    assert field in {e.field for e in caught.value.errors}
    assert _count(session, Product) == 0 and _count(session, Interface) == 0
    assert _count(session, AuditEvent) == audit_before


def test_duplicate_product_names_conflict_case_insensitively(session: Session) -> None:
    make_product(session, "NW-PLC")
    with pytest.raises(Conflict):
        make_product(session, "nw-plc")
    assert _count(session, Product) == 1


def test_only_admins_create_products(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    with pytest.raises(Forbidden):
        create_product(session, officer, name="Mine", component_type="SAR", target_sl=LEVELS)


def test_members_see_only_their_products(session: Session) -> None:
    mine, theirs = make_product(session, "Mine"), make_product(session, "Theirs")
    dev = member(session, mine, "developer")
    assert [p.name for p in list_products(session, dev)] == ["Mine"]
    with pytest.raises(NotFound):
        get_product(session, dev, theirs.id)
    with pytest.raises(NotFound):
        get_product_by_name(session, dev, "Theirs")
    with pytest.raises(NotFound):
        get_product(session, dev, 999_999)


def test_update_product_records_old_and_new(session: Session) -> None:
    product = make_product(session, "Old")
    officer = member(session, product, "security_officer")
    update_product(
        session,
        officer,
        product.id,
        changes={
            "name": "New",
            "target_sl": LEVELS,
            "interfaces": [InterfaceData("eth0", "network", "OPC UA", 4840), InterfaceData("usb", "usb")],
        },
    )
    assert product.name == "New" and product.target_sl == LEVELS
    assert [(i.name, i.protocol) for i in product.interfaces] == [("eth0", "OPC UA"), ("usb", "")]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "products:product:update")).one()
    assert event.details["name"] == {"old": "Old", "new": "New"}
    assert event.actor == officer.label


def test_update_rejects_unknown_fields_and_keeps_the_product(session: Session) -> None:
    product = make_product(session, "Keep")
    with pytest.raises(Invalid):
        update_product(session, OPERATOR, product.id, changes={"owner": "me"})
    with pytest.raises(Invalid):
        update_product(session, OPERATOR, product.id, changes={"name": "Changed", "target_sl": {"FR1": 9}})
    session.expire_all()
    assert session.get(Product, product.id).name == "Keep"  # type: ignore[union-attr]


def test_developers_and_auditors_cannot_edit_products_or_releases(session: Session) -> None:
    product = make_product(session)
    for role in ("developer", "auditor"):
        actor = member(session, product, role)
        with pytest.raises(Forbidden):
            update_product(session, actor, product.id, changes={"vendor": "x"})
        with pytest.raises(Forbidden):
            create_release(session, actor, product.id, version="1.0")


def test_releases_order_by_version_and_reject_duplicates(session: Session) -> None:
    product = make_product(session)
    for version in ("1.10.0", "1.9.0", "1.10.0-rc1"):
        make_release(session, product, version)
    assert [r.version for r in list_releases(session, OPERATOR, product.id)] == ["1.9.0", "1.10.0-rc1", "1.10.0"]
    with pytest.raises(Conflict):
        make_release(session, product, "1.9.0")
    assert _count(session, Release) == 3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"version": "1 0"}, "version"),
        ({"version": ""}, "version"),
        ({"version": "v" * 65}, "version"),
        ({"version": "1.0", "status": "shipped"}, "status"),
        ({"version": "1.0", "git_ref": "--upload-pack=x"}, "git_ref"),
        ({"version": "1.0", "git_ref": "a..b"}, "git_ref"),
        ({"version": "1.0", "git_ref": "tag with space"}, "git_ref"),
    ],
)
def test_bad_release_input(session: Session, fields: dict, field: str) -> None:
    product = make_product(session)
    with pytest.raises(Invalid) as caught:
        create_release(session, OPERATOR, product.id, **fields)
    assert field in {e.field for e in caught.value.errors}
    assert _count(session, Release) == 0


def test_release_of_another_product_is_not_found(session: Session) -> None:
    mine, theirs = make_product(session), make_product(session)
    release = make_release(session, theirs, "1.0")
    officer = member(session, mine, "security_officer")
    with pytest.raises(NotFound):
        get_release(session, officer, release.id)
    with pytest.raises(NotFound):
        update_release(session, officer, release.id, status="released")
    with pytest.raises(NotFound):
        create_release(session, officer, theirs.id, version="2.0")


def test_update_release(session: Session) -> None:
    product = make_product(session)
    release = make_release(session, product, "1.0")
    update_release(session, OPERATOR, release.id, status="candidate", release_date=date(2026, 11, 1), git_ref="v1.0")
    assert (release.status.value, release.git_ref) == ("candidate", "v1.0")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "products:release:update")).one()
    assert event.details["status"] == {"old": "planned", "new": "candidate"}


def test_a_release_is_marked_released_only_through_a_signed_off_gate(session: Session) -> None:
    # The gates' receiver of `release_shipping` refuses; tests/gates/test_signoff.py lets one through.
    product = make_product(session)
    release = make_release(session, product, "1.0", git_ref="v1.0")
    with pytest.raises(Invalid, match="without a signed-off release gate") as caught, session.begin_nested():
        update_release(session, OPERATOR, release.id, status="released", release_date=date(2026, 11, 1))
    assert caught.value.errors[0].field == "status"
    with pytest.raises(Invalid, match="without a signed-off release gate"), session.begin_nested():
        create_release(session, OPERATOR, product.id, version="1.1", status="released")  # the door rolls back
    session.refresh(release)
    assert release.status.value == "planned" and release.release_date is None
    assert session.scalars(select(Release.version).where(Release.product_id == product.id)).all() == ["1.0"]


def test_release_created_signal_fires_inside_the_transaction(session: Session) -> None:
    from sdl_tracker.products import signals

    seen: list[tuple[str, str]] = []

    def receiver(sender: Session, release: Release, actor: Principal) -> None:
        seen.append((release.version, actor.label))

    signals.release_created.connect(receiver)
    try:
        make_release(session, make_product(session), "3.1")
    finally:
        signals.release_created.disconnect(receiver)
    assert seen == [("3.1", "cli:tests")]


@pytest.mark.parametrize(
    ("location", "ok_for_officer"),
    [
        ("https://git.example.com/plc.git", True),
        ("ssh://git@example.com/plc.git", True),
        ("git@example.com:org/plc.git", True),
        ("/srv/git/plc", False),
        ("file:///srv/git/plc", False),
        ("ext::sh -c touch% /tmp/pwned", None),
        ("--upload-pack=touch /tmp/x", None),
        ("ftp://x/y", None),
    ],
)
def test_repository_locations(session: Session, location: str, ok_for_officer: bool | None) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    if ok_for_officer:
        assert add_repository(session, officer, product.id, name="r", location=location).location == location
        return
    with pytest.raises(Invalid):
        add_repository(session, officer, product.id, name="r", location=location)
    if ok_for_officer is False:  # local paths: administrators only
        assert add_repository(session, OPERATOR, product.id, name="r", location=location).location == location


def test_git_schemes_are_the_configured_ones(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    lan = dataclasses.replace(installation(session), git=GitPolicy(frozenset({"https", "http"})))
    session.info[SESSION_KEY] = lan
    assert add_repository(session, officer, product.id, name="lan", location="http://git.lan/plc.git").id
    for location in ("ssh://git@example.com/plc.git", "git@example.com:org/plc.git"):
        with pytest.raises(Invalid) as caught:
            add_repository(session, officer, product.id, name="r", location=location)
        assert "http://, https://" in caught.value.errors[0].message


def test_git_schemes_file_takes_local_paths_only(tmp_path: Path, session: Session) -> None:
    """SDL_TRACKER_GIT_SCHEMES=file: no remote location at all, local paths for administrators only."""
    settings = load_settings(str(tmp_path), environ={"SDL_TRACKER_GIT_SCHEMES": "file"})
    assert settings.git_schemes == frozenset()
    product = make_product(session)
    officer = member(session, product, "security_officer")
    session.info[SESSION_KEY] = dataclasses.replace(installation(session), git=GitPolicy(settings.git_schemes))
    for location in ("https://git.example.com/plc.git", "ssh://git@example.com/plc.git", "git@example.com:o/plc.git"):
        with pytest.raises(Invalid) as caught:
            add_repository(session, OPERATOR, product.id, name="r", location=location)
        assert "local paths only" in caught.value.errors[0].message
    for location in ("/srv/git/plc", "file:///srv/git/plc"):
        with pytest.raises(Invalid):
            add_repository(session, officer, product.id, name="r", location=location)
    assert add_repository(session, OPERATOR, product.id, name="r", location="file:///srv/git/plc").id


@pytest.mark.parametrize(
    ("patterns", "ok"),
    [
        (["refs/heads/main", "refs/tags/v*"], True),
        (["refs/heads/release/*"], True),
        (["refs/pull"], False),
        (["refs/pull/*/head"], False),
        (["heads/main"], False),
        (["refs/heads/../pull"], False),
        (["refs/heads/x y"], False),
    ],
)
def test_repository_ref_patterns(session: Session, patterns: list[str], ok: bool) -> None:
    product = make_product(session)
    if ok:
        created = add_repository(session, OPERATOR, product.id, name="r", location="/srv/r", ref_patterns=patterns)
        assert created.ref_patterns == patterns
        return
    with pytest.raises(Invalid) as caught:
        add_repository(session, OPERATOR, product.id, name="r", location="/srv/r", ref_patterns=patterns)
    assert [e.field for e in caught.value.errors] == ["refs"]


def test_names_clash_by_unicode_case_folding(session: Session) -> None:
    make_product(session, "Ölwächter")
    with pytest.raises(Conflict):
        make_product(session, "ÖLWÄCHTER")
    assert get_product_by_name(session, OPERATOR, "ölwächter").name == "Ölwächter"


def test_versions_equal_by_semantics_clash(session: Session) -> None:
    product = make_product(session)
    make_release(session, product, "1.0")
    for twin in ("1.0.0", "v1.0"):
        with pytest.raises(Conflict, match="the same version"):
            make_release(session, product, twin)
    make_release(session, product, "1.0.1")


def test_a_null_in_a_patch_is_a_field_error_not_a_crash(session: Session) -> None:
    from sdl_tracker.errors import Invalid as _Invalid

    product = make_product(session)
    with pytest.raises(_Invalid):
        update_product(session, OPERATOR, product.id, changes={"vendor": None})
