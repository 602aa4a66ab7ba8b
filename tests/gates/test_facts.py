"""The facts snapshot: its JSON round trip and a digest that depends on every fact and on nothing else."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta, timezone
from typing import Any

import pytest

from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.coverage import CoverageState
from sdl_tracker.evidence.vocabulary import ReviewState
from sdl_tracker.gates.rules import (
    Acceptance,
    CommitFacts,
    CraGap,
    EvidenceRef,
    GateFacts,
    IssueFacts,
    IssueKind,
    IssueState,
    LevelFacts,
    OpenClock,
    PatchFacts,
    SumRecord,
    ThreatModelFacts,
    canonical_facts,
    facts_from_json,
    facts_to_json,
    snapshot_digest,
)
from sdl_tracker.vex.rules import Status

from .builders import NOW, passing_facts, ref, requirement


def full_facts() -> GateFacts:
    """Passing facts with every optional part filled, so the round trip covers every type."""
    facts = passing_facts()
    accepted = Acceptance("officer", "zone firewall", NOW, NOW + timedelta(days=90))
    return replace(
        facts,
        levels=(LevelFacts("FR1", 3, 2, accepted, (ref(70),)), *facts.levels[1:]),
        issues=(IssueFacts("PSIRT-1", IssueKind.CASE, IssueState.OPEN, 7.5, True, accepted, (ref(71),)),),
        patch=PatchFacts(True, (SumRecord("delivery", ref(72, stands_until=date(2030, 1, 1))),), False, "one image"),
        cra=replace(facts.cra, missing=(CraGap("risk", "assets", "no assets"),), clocks=(OpenClock("C", "s", NOW),)),
    )


@pytest.mark.parametrize("facts", [GateFacts(1, 2, "1.0"), passing_facts(), full_facts()])
def test_json_round_trip_is_exact(facts: GateFacts) -> None:
    text = facts_to_json(facts)
    assert facts_from_json(text) == facts
    assert facts_to_json(facts_from_json(text)) == text
    assert snapshot_digest(facts_from_json(text)) == snapshot_digest(facts)


def test_canonical_json_has_sorted_keys_no_whitespace_and_iso_dates() -> None:
    text = canonical_facts(full_facts())
    assert " " not in text.replace("zone firewall", "").replace("one image", "").replace("no assets", "")
    document = json.loads(text)
    assert list(document) == sorted(document) and list(document["facts"]) == sorted(document["facts"])
    assert document["facts"]["threat_model"]["last_reviewed"] == "2027-01-15"
    assert document["facts"]["cra"]["clocks"][0]["due_at"] == "2027-03-01T12:00:00Z"
    assert len(snapshot_digest(full_facts())) == 64


def _reordered(value: Any) -> Any:
    """Every mapping's keys in reverse order and every list reversed."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in reversed(value)]
    return value


def test_the_digest_is_stable_across_key_order_collection_order_and_time_zones() -> None:
    facts = full_facts()
    shuffled = facts_from_json(json.dumps(_reordered(json.loads(facts_to_json(facts))), indent=2))
    assert shuffled != facts  # the collections came back in another order
    assert snapshot_digest(shuffled) == snapshot_digest(facts)
    paris = timezone(timedelta(hours=1))
    moved = replace(facts, cra=replace(facts.cra, clocks=(OpenClock("C", "s", NOW.astimezone(paris)),)))
    assert snapshot_digest(moved) == snapshot_digest(facts)


CHANGES = {
    "product": lambda f: replace(f, product_id=2),
    "release": lambda f: replace(f, release_id=8),
    "version": lambda f: replace(f, version="2.1.1"),
    "requirement state": lambda f: replace(
        f, requirements=(requirement("SM-1", "SM", 10, records=CoverageState.SUBMITTED), *f.requirements[1:])
    ),
    "requirement scoped out": lambda f: replace(
        f, requirements=(requirement("SM-1", "SM", 10, scoped_out=True), *f.requirements[1:])
    ),
    "evidence expiry": lambda f: replace(
        f, requirements=(requirement("SM-1", "SM", 10, evidence=(ref(10, "writer"),)), *f.requirements[1:])
    ),
    "evidence submitter": lambda f: replace(f, primary_sbom=ref(104, "mallory")),
    "evidence state": lambda f: replace(f, primary_sbom=EvidenceRef(104, "erin", ReviewState.SUBMITTED)),
    "threat model date": lambda f: replace(f, threat_model=ThreatModelFacts(ref(100, "alice"), date(2027, 1, 16))),
    "commits": lambda f: replace(f, commits=CommitFacts(10, 9, f.commits.reviews)),
    "fuzz hours": lambda f: replace(
        f,
        interfaces=(
            replace(f.interfaces[0], campaigns=(replace(f.interfaces[0].campaigns[0], duration_hours=47.9),)),
            *f.interfaces[1:],
        ),
    ),
    "interface kind": lambda f: replace(f, interfaces=(f.interfaces[0], replace(f.interfaces[1], network=True))),
    "pen test": lambda f: replace(f, pen_tests=(replace(f.pen_tests[0], tester_independence=None),)),
    "level": lambda f: replace(f, levels=(LevelFacts("FR1", 2, 3), *f.levels[1:])),
    "vex status": lambda f: replace(f, vulnerabilities=(replace(f.vulnerabilities[0], status=Status.FIXED),)),
    "vex since": lambda f: replace(
        f, vulnerabilities=(replace(f.vulnerabilities[0], since=f.vulnerabilities[0].since + timedelta(seconds=1)),)
    ),
    "exploited": lambda f: replace(f, vulnerabilities=(replace(f.vulnerabilities[0], exploited=True),)),
    "issues": lambda f: replace(f, issues=(IssueFacts("X", IssueKind.FINDING, IssueState.FIXED),)),
    "patch": lambda f: replace(f, patch=PatchFacts(True)),
    "cra support": lambda f: replace(f, cra=replace(f.cra, support_ends=date(2032, 12, 30))),
    "cra contact": lambda f: replace(f, cra=replace(f.cra, security_contact=False)),
    "no sbom": lambda f: replace(f, primary_sbom=None),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_any_changed_fact_changes_the_digest(name: str) -> None:
    facts = passing_facts()
    changed = CHANGES[name](facts)
    assert changed != facts
    assert snapshot_digest(changed) != snapshot_digest(facts)


def test_equal_facts_built_twice_have_one_digest() -> None:
    assert snapshot_digest(passing_facts()) == snapshot_digest(passing_facts())


def _document() -> dict[str, Any]:
    return json.loads(facts_to_json(passing_facts()))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["facts"].update(extra=1), "facts.extra"),
        (lambda d: d["facts"]["commits"].update(total="10"), "facts.commits.total"),
        (
            lambda d: d["facts"]["vulnerabilities"][0].update(since="2027-02-01T00:00:00"),
            "facts.vulnerabilities.0.since",
        ),
        (lambda d: d["facts"]["vulnerabilities"][0].update(status="maybe"), "facts.vulnerabilities.0.status"),
        (lambda d: d["facts"]["requirements"][0].update(process="great"), "facts.requirements.0.process"),
        (lambda d: d["facts"].pop("version"), "facts.version"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(version=2), "format"),
    ],
)
def test_facts_from_json_refuses_bad_documents(edit: Any, field: str) -> None:
    document = _document()
    edit(document)
    with pytest.raises(Invalid) as exc:
        facts_from_json(json.dumps(document))
    assert field in {e.field for e in exc.value.errors}


def test_facts_from_json_refuses_what_is_not_json() -> None:
    with pytest.raises(Invalid):
        facts_from_json("{not json")
