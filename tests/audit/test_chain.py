"""The chain as pure functions: every kind of tampering is named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sdl_tracker.audit.chain import (
    GENESIS,
    ChainedEvent,
    chain_hash,
    checkpoint_signature_valid,
    event_content,
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
