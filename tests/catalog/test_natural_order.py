"""Requirement ids in the order people read them: `natural_ref_key`."""

from __future__ import annotations

import itertools
import random

import pytest

from sdl_tracker.catalog.rules import ItemKind, natural_ref_key, parse_catalog
from sdl_tracker.catalog.services import packaged_document


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("CR 1.2", "CR 1.10"),
        ("CR 1.1 RE(2)", "CR 1.1 RE(10)"),
        ("CR 1.10", "CR 1.10 RE(1)"),
        ("CR 1.2 RE(1)", "CR 1.10"),
        ("CR 1.10 RE(1)", "CR 1.11"),
        ("CR 2.3", "EDR 2.4"),  # a component-type requirement stands in its FR, not after CR 7.x
        ("EDR 2.4", "CR 2.5"),
        ("CR 2.4", "EDR 2.4"),  # the CR before the requirement that refines it
        ("EDR 2.4 RE(1)", "HDR 2.4"),
        ("NDR 1.6", "CR 7.8"),
        ("SM-2", "SM-10"),
        ("SM-13", "SR-1"),
        ("SVV-1", "SVV-5"),
        ("I.2", "I.10"),
    ],
)
def test_natural_order(before: str, after: str) -> None:
    assert natural_ref_key(before) < natural_ref_key(after)


def test_sorting_a_mixed_list() -> None:
    expected = [
        "CR 1.1",
        "CR 1.1 RE(1)",
        "CR 1.1 RE(2)",
        "CR 1.1 RE(10)",
        "CR 1.2",
        "CR 1.10",
        "CR 1.10 RE(1)",
        "CR 2.3",
        "EDR 2.4",
        "EDR 2.4 RE(1)",
        "CR 2.5",
        "CR 7.8",
        "DM-1",
        "SM-2",
        "SM-10",
    ]
    shuffled = expected[:]
    random.Random(4).shuffle(shuffled)
    assert sorted(shuffled, key=natural_ref_key) == expected


def test_each_fr_of_the_packaged_4_2_catalog_stays_together() -> None:
    items = [item for item in parse_catalog(packaged_document("iec62443-4-2.json")).items if item.parent]
    ordered = sorted(items, key=lambda item: natural_ref_key(item.ref))
    frs = [item.fr for item in ordered]
    assert frs == sorted(frs) and len(frs) > 100
    # An enhancement follows its own requirement.
    for before, item in itertools.pairwise(ordered):
        if item.kind is ItemKind.ENHANCEMENT:
            assert item.parent in (before.ref, before.parent), item.ref
