"""The `may_*` predicates pages ask agree with their services: for every kind of actor, a predicate is
true exactly when the service call succeeds."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import (
    add_member,
    create_user,
    may_change_member,
    may_manage_members,
    may_manage_users,
    principal_for,
    remove_member,
    roles_to_manage,
)
from sdl_tracker.auth import Permission, Principal, Role
from sdl_tracker.claims.review import accept_claim, confirm_claim, may_accept, may_confirm
from sdl_tracker.claims.services import ClaimInput, list_claims, set_claim
from sdl_tracker.errors import DomainError
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import may_review, review_evidence
from sdl_tracker.evidence.services import (
    EvidenceInput,
    Upload,
    create_evidence,
    may_attach_evidence,
    may_edit_evidence,
    revise_evidence,
)
from sdl_tracker.modifications.services import decide_modification, may_decide_modifications
from sdl_tracker.outbox.services import add_webhook, may_manage_webhooks
from sdl_tracker.products.models import Product
from sdl_tracker.products.repositories import (
    add_repository,
    may_edit_repository,
    may_manage_repositories,
    remove_repository,
    update_repository,
)
from sdl_tracker.products.services import (
    create_product,
    create_release,
    may_create_product,
    may_manage_product,
    may_manage_releases,
    update_product,
)
from sdl_tracker.resources import resource_dir
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.services import (
    DecisionInput,
    confirm_decision,
    delete_decision,
    list_decisions,
    may_confirm_decision,
    may_decide_vex,
    may_delete_decision,
    record_decision,
)
from tests.factories import OPERATOR, make_product, make_user, member
from tests.sboms.builders import xml_bom

TODAY = date(2026, 11, 26)
LEVELS = dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 2)


def _succeeds(session: Session, call: Callable[[], object]) -> bool:
    """Whether the service call goes through; whatever it wrote is undone either way."""
    savepoint = session.begin_nested()
    try:
        call()
    except DomainError:
        return False
    finally:
        savepoint.rollback()
    return True


def _actors(session: Session, product: Product) -> dict[str, Principal]:
    officer = member(session, product, "security_officer")
    other = make_product(session)
    return {
        "admin": principal_for(session, make_user(session, admin=True)),
        "security officer": officer,
        "developer": member(session, product, "developer"),
        "auditor": member(session, product, "auditor"),
        "officer elsewhere": member(session, other, "security_officer"),
        "outsider": principal_for(session, make_user(session)),
        "officer's read-only token": replace(
            officer, scopes=frozenset({Permission.PRODUCT_READ}), token_products=frozenset({product.id})
        ),
        "officer's token for another product": replace(officer, token_products=frozenset({other.id})),
        "operator": OPERATOR,
    }


def _agree(
    session: Session,
    actors: dict[str, Principal],
    predicate: Callable[[Principal], bool],
    service: Callable[[Principal], object],
) -> set[str]:
    """The actors the predicate allows, after checking that the service allows exactly them."""
    allowed = {name for name, actor in actors.items() if predicate(actor)}
    succeeded = {name for name, actor in actors.items() if _succeeds(session, lambda a=actor: service(a))}
    assert allowed == succeeded
    return allowed


def _evidence(session: Session, actor: Principal, product: Product | None, *, draft: bool = False) -> Evidence:
    data = EvidenceInput(
        title="Secure coding standard",
        requirements=["SI-1"],
        effective_date=TODAY - timedelta(days=3),
        files=[Upload("standard.pdf", "application/pdf", io.BytesIO(b"%PDF standard"))],
    )
    return create_evidence(
        session, actor, product_id=product.id if product else None, kind="other", data=data, draft=draft, today=TODAY
    )


def test_review(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    actors["submitter"] = submitter = member(session, product, "developer")
    submitted = _evidence(session, submitter, product)

    def review(actor: Principal) -> object:
        return review_evidence(session, actor, submitted.id, accept=True)

    allowed = _agree(session, actors, lambda actor: may_review(actor, submitted), review)
    assert allowed == {"admin", "security officer"}

    draft = _evidence(session, submitter, product, draft=True)
    allowed = _agree(
        session,
        actors,
        lambda actor: may_review(actor, draft),
        lambda actor: review_evidence(session, actor, draft.id, accept=True),
    )
    assert allowed == set()

    organisation = _evidence(session, OPERATOR, None)
    allowed = _agree(
        session,
        actors,
        lambda actor: may_review(actor, organisation),
        lambda actor: review_evidence(session, actor, organisation.id, accept=True),
    )
    assert allowed == {"admin", "security officer", "officer elsewhere"}


@pytest.mark.parametrize("scope", ["product", "organisation"])
def test_attach_and_edit_evidence(session: Session, scope: str) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    target = product if scope == "product" else None
    existing = _evidence(session, OPERATOR, target)

    attach_allowed = _agree(
        session,
        actors,
        lambda actor: may_attach_evidence(actor, target),
        lambda actor: _evidence(session, actor, target),
    )
    edit_allowed = _agree(
        session,
        actors,
        lambda actor: may_edit_evidence(actor, existing),
        lambda actor: revise_evidence(session, actor, existing.id, data=EvidenceInput(title="Revised"), today=TODAY),
    )
    assert attach_allowed == edit_allowed
    if scope == "product":
        assert attach_allowed == {"admin", "security officer", "developer", "operator"}
    else:
        assert attach_allowed == {"admin", "operator"}


def test_manage_product_releases_and_repositories(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    managers = {"admin", "security officer", "operator"}

    assert managers == _agree(
        session,
        actors,
        lambda actor: may_manage_product(actor, product),
        lambda actor: update_product(session, actor, product.id, changes={"vendor": "Changed"}),
    )
    assert managers == _agree(
        session,
        actors,
        lambda actor: may_manage_releases(actor, product),
        lambda actor: create_release(session, actor, product.id, version="9.9"),
    )
    assert managers == _agree(
        session,
        actors,
        lambda actor: may_manage_repositories(actor, product),
        lambda actor: add_repository(session, actor, product.id, name="fw", location="https://git.example/fw.git"),
    )
    repository = add_repository(session, OPERATOR, product.id, name="app", location="https://git.example/app.git")
    assert managers == _agree(
        session,
        actors,
        lambda actor: may_edit_repository(actor, repository),
        lambda actor: update_repository(session, actor, repository.id, name="application"),
    )
    remove_repository(session, OPERATOR, repository.id)  # history now: nobody edits it
    assert set() == _agree(
        session,
        actors,
        lambda actor: may_edit_repository(actor, repository),
        lambda actor: update_repository(session, actor, repository.id, ref_patterns=["refs/heads/main"]),
    )
    assert managers == _agree(
        session,
        actors,
        lambda actor: may_manage_webhooks(actor, product),
        lambda actor: add_webhook(session, actor, product.id, url="https://hooks.example.com/sdl"),
    )


def test_accept_and_confirm_claims(session: Session) -> None:
    product = make_product(session)
    first = create_release(session, OPERATOR, product.id, version="1.0")
    actors = _actors(session, product)
    actors["setter"] = setter = member(session, product, "security_officer")
    decision = ClaimInput("not_applicable", justification="No users", override_reason="Accounts live in the host")
    claim = set_claim(session, setter, first.id, "CR 1.3", decision)
    assert {"admin", "security officer"} == _agree(
        session,
        actors,
        lambda actor: may_accept(actor, claim, first),
        lambda actor: accept_claim(session, actor, first.id, "CR 1.3"),
    )
    second = create_release(session, OPERATOR, product.id, version="1.1")
    carried = list_claims(session, OPERATOR, second.id)[0]
    assert {"admin", "security officer", "setter"} == _agree(
        session,
        actors,
        lambda actor: may_confirm(actor, carried, second),
        lambda actor: confirm_claim(session, actor, second.id, "CR 1.3"),
    )


def test_administration(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    admins = {"admin", "operator"}
    assert admins == _agree(
        session,
        actors,
        may_create_product,
        lambda actor: create_product(session, actor, name="Predicated", component_type="EDR", target_sl=LEVELS),
    )
    assert admins == _agree(
        session,
        actors,
        may_manage_users,
        lambda actor: create_user(session, actor, email="new@example.com", password="long enough password 1"),
    )


def test_members(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    target = make_user(session)
    officers, admins = {"admin", "operator", "security officer"}, {"admin", "operator"}
    for old in Role:
        add_member(session, OPERATOR, product.id, email=target.email, role=old.value)
        removers = _agree(
            session,
            actors,
            lambda actor, r=old: may_change_member(actor, product, r),
            lambda actor, r=old: remove_member(session, actor, product.id, email=target.email, role=r.value),
        )
        assert removers == (admins if old is Role.SECURITY_OFFICER else officers)
        for new in Role:
            changers = _agree(
                session,
                actors,
                lambda actor, o=old, n=new: (
                    may_change_member(actor, product, o) and n in roles_to_manage(actor, product)
                ),
                lambda actor, n=new: add_member(session, actor, product.id, email=target.email, role=n.value),
            )
            assert changers == (admins if Role.SECURITY_OFFICER in (old, new) else officers)
    assert {name for name, actor in actors.items() if may_manage_members(actor, product)} == officers


def test_templates_ask_predicates_rather_than_permissions() -> None:
    """A page decides nothing: it asks a service's `may_*` predicate, never a permission of its own choosing."""
    offenders = [
        str(path.relative_to(resource_dir("templates")))
        for path in sorted(resource_dir("templates").rglob("*.html"))
        if "Permission." in path.read_text() or "can(" in path.read_text()
    ]
    assert offenders == []


def test_decide_modifications(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    first = create_release(session, OPERATOR, product.id, version="1.0")
    second = create_release(session, OPERATOR, product.id, version="1.1")
    broker = (
        '<component type="library" bom-ref="mq"><name>mosquitto</name><version>2.0.18</version>'
        "<purl>pkg:generic/mosquitto@2.0.18</purl></component>"
    )
    for release, extra in ((first, ""), (second, broker)):
        import_sbom(session, OPERATOR, release.id, Upload("bom.xml", "", io.BytesIO(xml_bom(extra_component=extra))))

    def decide(actor: Principal) -> object:
        key = "network-facing:added:pkg:generic/mosquitto"
        return decide_modification(session, actor, second.id, key=key, verdict="confirmed")

    allowed = _agree(session, actors, lambda actor: may_decide_modifications(actor, second), decide)
    assert allowed == {"admin", "security officer", "operator"}


def test_decide_confirm_and_delete_vex_decisions(session: Session) -> None:
    product = make_product(session)
    actors = _actors(session, product)
    first = create_release(session, OPERATOR, product.id, version="1.0")
    record_decision(session, OPERATOR, first.id, "CVE-2024-3094", DecisionInput("affected", action="Update"))
    deciders = {"admin", "security officer", "operator"}
    assert deciders == _agree(
        session,
        actors,
        lambda actor: may_decide_vex(actor, first),
        lambda actor: record_decision(session, actor, first.id, "CVE-2024-3094", DecisionInput("fixed")),
    )
    second = create_release(session, OPERATOR, product.id, version="1.1")
    carried = list_decisions(session, OPERATOR, second.id)[0]
    assert {"admin", "security officer"} == _agree(  # a confirmation is a named officer's
        session,
        actors,
        lambda actor: may_confirm_decision(actor, carried),
        lambda actor: confirm_decision(session, actor, carried.id),
    )
    assert deciders == _agree(
        session,
        actors,
        lambda actor: may_delete_decision(actor, carried),
        lambda actor: delete_decision(session, actor, carried.id),
    )
