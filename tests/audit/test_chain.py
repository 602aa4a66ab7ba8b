"""The chain as pure functions: every kind of tampering is named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sdl_tracker.audit.chain import (
    GENESIS,
    ChainedEvent,
    Seal,
    chain_hash,
    check_seal,
    checkpoint_signature_valid,
    event_content,
    make_seal,
    sign_checkpoint,
    verify_chain,
)

KEY = b"k" * 32
SIGNER = Ed25519PrivateKey.generate()
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def build(count: int, key: bytes = KEY) -> list[ChainedEvent]:
    events: list[ChainedEvent] = []
    prev = GENESIS
    for n in range(1, count + 1):
        event = ChainedEvent(
            id=n,
            seq=n,
            at=T0 + timedelta(seconds=n),
            actor="user:a@example.com",
            origin="cli",
            action="products:product:update",
            target_type="product",
            target_id=str(n % 3),
            product_id=1,
            details={"n": n},
            digest="d" * 64,
            prev_hash=prev,
            hash="",
        )
        event = dataclasses.replace(event, hash=chain_hash(key, event_content(event), prev))
        events.append(event)
        prev = event.hash
    return events


def kind(events: list[ChainedEvent], checkpoints: tuple = ()) -> tuple[str, int | None] | None:
    problem = verify_chain(events, KEY, SIGNER.public_key(), checkpoints)
    return None if problem is None else (problem.kind, problem.seq)


def test_an_untouched_chain_verifies() -> None:
    assert kind(build(10)) is None
    assert kind([]) is None


def test_a_modified_field_is_named() -> None:
    events = build(10)
    events[4] = dataclasses.replace(events[4], details={"n": 999})
    assert kind(events) == ("modified", 5)


def test_a_deleted_event_in_the_middle_is_named() -> None:
    events = build(10)
    del events[4]
    assert kind(events) == ("deleted", 5)


def test_swapped_rows_are_reordered() -> None:
    """Whole rows exchanged in storage: seq order and id order disagree."""
    events = build(10)
    events[3], events[4] = dataclasses.replace(events[3], id=5), dataclasses.replace(events[4], id=4)
    assert kind(events) == ("reordered", 5)


def test_an_inserted_event_is_named() -> None:
    events = build(10)
    renumbered = [dataclasses.replace(e, seq=e.seq + 1) if e.seq > 5 else e for e in events]
    forged = dataclasses.replace(events[4], id=99, seq=6, details={"forged": True}, hash="f" * 64)
    assert kind([*renumbered, forged]) == ("inserted", 6)


def test_a_chain_recomputed_without_the_key_is_named() -> None:
    assert kind(build(10, key=b"attacker" * 4)) == ("rekeyed", 1)


def test_truncation_after_a_checkpoint_is_named() -> None:
    events = build(10)
    checkpoint = sign_checkpoint(SIGNER, 10, events[-1].hash, T0.isoformat())
    assert kind(events, (checkpoint,)) is None
    assert kind(events[:7], (checkpoint,)) == ("truncated", 8)


def test_a_checkpoint_must_match_and_be_signed_by_us() -> None:
    events = build(10)
    forged = sign_checkpoint(Ed25519PrivateKey.generate(), 10, events[-1].hash, T0.isoformat())
    assert not checkpoint_signature_valid(SIGNER.public_key(), forged)
    assert kind(events, (forged,)) == ("checkpoint", 10)
    wrong_head = sign_checkpoint(SIGNER, 5, "0" * 64, T0.isoformat())
    assert kind(events, (wrong_head,)) == ("checkpoint", 5)


@pytest.mark.parametrize("field", ["actor", "action", "target_id", "origin", "digest"])
def test_every_covered_field_counts(field: str) -> None:
    events = build(3)
    events[1] = dataclasses.replace(events[1], **{field: "tampered"})
    assert kind(events) == ("modified", 2)


def test_a_deleted_automatic_checkpoint_is_missed() -> None:
    events = build(12)
    every_five = [sign_checkpoint(SIGNER, n, events[n - 1].hash, T0.isoformat()) for n in (5, 10)]
    assert verify_chain(events, KEY, SIGNER.public_key(), every_five, every=5) is None
    problem = verify_chain(events, KEY, SIGNER.public_key(), every_five[1:], every=5)
    assert problem is not None and (problem.kind, problem.seq) == ("checkpoint", 5)


def seal_kind(events: list[ChainedEvent], seal: Seal | None) -> tuple[str, int | None] | None:
    by_seq = {e.seq: e.hash for e in events}
    problem = check_seal(KEY, seal, max(by_seq, default=0), by_seq.get, "the seal")
    return None if problem is None else (problem.kind, problem.seq)


def test_a_sealed_head_names_each_way_of_losing_the_newest_events() -> None:
    events = build(10)
    seal = make_seal(KEY, 10, events[-1].hash, T0.isoformat())
    assert seal_kind(events, seal) is None
    assert seal_kind(events[:7], seal) == ("tail-deleted", 8)
    assert seal_kind([], seal) == ("truncated", 1)
    # An earlier copy written on since: seq 10 exists again, but it is another event.
    rewritten = [*events[:7], *(dataclasses.replace(e, hash=f"{e.seq:064x}") for e in build(12)[7:])]
    assert seal_kind(rewritten, seal) == ("rolled-back", 10)


def test_a_seal_must_be_made_with_the_installation_key() -> None:
    events = build(10)
    seal = make_seal(KEY, 10, events[-1].hash, T0.isoformat())
    assert seal_kind(events, dataclasses.replace(seal, seq=7, head_hash=events[6].hash)) == ("seal-forged", 7)
    assert seal_kind(events, make_seal(b"attacker" * 4, 10, events[-1].hash, T0.isoformat())) == ("seal-forged", 10)


def test_a_missing_seal_matters_only_when_there_are_events() -> None:
    assert seal_kind([], None) is None
    assert seal_kind(build(3), None) == ("unsealed", None)


def test_a_seal_behind_the_log_is_its_own_kind() -> None:
    """Events committed after the last seal was written (a crash in between): a warning for verify."""
    events = build(10)
    assert seal_kind(events, make_seal(KEY, 8, events[7].hash, T0.isoformat())) == ("seal-behind", 9)
