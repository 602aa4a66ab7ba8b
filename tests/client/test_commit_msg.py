"""The commit-msg hook reads trailers as git does and warns (never refuses) about unknown keys, trailers
git will not read, reviewers without an e-mail address and requirement ids the tracker does not know;
offline, from the vocabulary cached in the git directory."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from sdl_tracker.app_access import app_db
from sdl_tracker.client.vocabulary import KEYS, Vocabulary, check, from_data, to_data
from sdl_tracker.gitlink.rules import EVIDENCE_REFERENCE, TRACEABILITY, VOCABULARY
from tests.client.fake_tracker import REQUIREMENTS, FakeTracker
from tests.client.repos import HookedRepo
from tests.factories import ApiClient, make_product, member

Repository = Callable[..., HookedRepo]
KNOWN = Vocabulary(REQUIREMENTS)


def test_the_keys_are_the_trackers() -> None:
    assert set(KEYS) == {*VOCABULARY, TRACEABILITY}
    from sdl_tracker.client import vocabulary

    assert vocabulary.EVIDENCE_REFERENCE.pattern == EVIDENCE_REFERENCE.pattern


@pytest.mark.parametrize(
    ("trailers", "message", "warnings"),
    [
        ([("Security-Review", "sofia@example.com")], "", []),
        ([("security-review", "Sofia <sofia@example.com>"), ("FIXES-PSIRT", "PSIRT-1")], "", []),
        ([("Security-Review", "#42"), ("Threat-Model", "evidence 7")], "", []),
        ([("Signed-off-by", "A <a@b.c>"), ("Change-Id", "I123"), ("Co-authored-by", "x")], "", []),
        (
            [("Security-Reveiw", "s@example.com")],
            "",
            ["unknown trailer key 'Security-Reveiw': did you mean Security-Review?"],
        ),
        (
            [("Fuzzed-By", "nightly"), ("Fuzzd-by", "x")],
            "",
            ["unknown trailer key 'Fuzzd-by': did you mean Fuzzed-by?"],
        ),
        (
            [("Security-Approved", "x")],
            "",
            ["unknown trailer key 'Security-Approved': the tracker reads Security-Review"],
        ),
        ([("Security-Review", "sofia")], "", ["Security-Review: 'sofia' names no e-mail address"]),
        ([("Threat-Model", "")], "", ["Threat-Model has no value"]),
        ([("Security-Requirement", "cr  3.4")], "", []),
        (
            [("Security-Requirement", "CR 3.5")],
            "",
            ["'CR 3.5' is not a requirement the tracker knows (did you mean CR 3.4?)"],
        ),
        ([("Security-Requirement", "XYZ")], "", ["'XYZ' is not a requirement the tracker knows"]),
        (
            [],
            "Fix\n\nSecurity-Review: a@b.c\n\nMore prose.\n",
            ["a Security-Review: line is not in the message's last"],
        ),
        ([("Security-Review", "a@b.c")], "Fix\n\nSecurity-Review: a@b.c\n", []),
        ([], "Fix\n# Security-Review: a@b.c\n+Security-Review: x\n", []),  # comments and diff lines are no trailers
    ],
)
def test_check(trailers: list[tuple[str, str]], message: str, warnings: list[str]) -> None:
    found = check(trailers, message, KNOWN)
    assert len(found) == len(warnings), found
    assert all(expected in warning for expected, warning in zip(warnings, found, strict=True)), found


def test_a_reviewer_who_is_no_user_is_warned_about_from_the_cached_digests(app: Flask, api: ApiClient) -> None:
    with app_db(app).unit_of_work() as session:
        product = make_product(session, "PLC")
        member(session, product, "security_officer", email="sofia@example.com")
        member(session, product, "developer", email="dev@example.com")
    refused = api.call("GET", "/api/v1/reviewers", api.as_user("dev@example.com", scopes=["product:read"]))
    assert refused.status_code == 403  # only a token that delivers commits reads them
    token = api.as_user("dev@example.com", scopes=["commits:submit"])
    first, second = (api.call("GET", "/api/v1/reviewers", token).get_json() for _ in range(2))
    assert first["salt"] != second["salt"] and set(first["digests"]).isdisjoint(second["digests"])
    assert not any("example.com" in digest for digest in first["digests"])
    cached = from_data(to_data(REQUIREMENTS, "https://tracker", (first["salt"], first["digests"])))
    trailers = [("Security-Review", "Sofia <SOFIA@example.com>"), ("Security-Review", "rita@example.com")]
    assert check(trailers, "", cached) == [
        "Security-Review: 'rita@example.com' is no user of the tracker, so the review would not count"
    ]
    # Without digests (an older tracker, a cache from before), reviewers are not checked.
    assert check(trailers, "", from_data(to_data(REQUIREMENTS, "https://tracker"))) == []


def test_without_cached_ids_requirements_are_not_checked_and_it_says_so() -> None:
    found = check([("Security-Requirement", "CR 99")], "", Vocabulary(None))
    assert found == ["Security-Requirement: not checked, no list of requirements cached yet (sdl-tracker hook refresh)"]


@pytest.mark.slow
def test_a_commit_with_odd_trailers_is_warned_about_offline_and_goes_ahead(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    repo.install(tracker.url)  # caches the requirement ids
    tracker.stop()
    message = (
        "Parse Modbus frames\n\nSecurity-Review: a@b.c\nis the reviewer.\n\n"  # prose: not git's trailer block
        "Security-Reveiw: sofia@example.com\nSecurity-Requirement: CR 3.5\n"
        "Signed-off-by: Dana Developer <dev@example.com>\n"
    )
    sha, said, _took = repo.commit_hooked(message)
    lines = said.splitlines()
    assert lines[:4] == [
        "sdl-tracker: warning: unknown trailer key 'Security-Reveiw': did you mean Security-Review?",
        "sdl-tracker: warning: Security-Requirement: 'CR 3.5' is not a requirement the tracker knows "
        "(did you mean CR 3.4?)",
        "sdl-tracker: warning: a Security-Review: line is not in the message's last paragraph, so git does not "
        "read it as a trailer (trailers go together at the end, after a blank line)",
        "sdl-tracker: the commit goes ahead; `git commit --amend` corrects its message",
    ]
    assert "Connection refused" in lines[4] and repo.queued() == {sha}


@pytest.mark.slow
def test_trailers_are_read_by_gits_rules(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    # A folded value, and `Key : value` with a space: git reads both as trailers of this block.
    message = "Fix\n\nSecurity-Requirement : CR\n  3.4\nSecurity-Review: a@b.c\n"
    assert repo.commit_hooked(message)[1] == ""
    # A block that is mostly prose is no trailer block for git: the keys in it are said to be misplaced.
    said = repo.commit_hooked("Fix\n\nThis is prose.\nMore prose here.\nSecurity-Review: a@b.c\n")[1]
    assert "a Security-Review: line is not in the message's last paragraph" in said


@pytest.mark.slow
def test_hostile_trailers_are_shown_escaped_and_cut_one_line_each(tracker: FakeTracker, repository: Repository) -> None:
    repo = repository()
    repo.install(tracker.url)
    message = "Title\n\nSecurity-Review: \x1b]0;pwned\x07\x1b[2J\u202egnp.exe\nSecurity-Requirement: " + "\x9b" * 5000
    sha, said, _took = repo.commit_hooked(message + "\n")
    assert not any(c in said for c in "\x1b\x07\u202e\x9b")
    assert said.count("\n") == 3 and "Security-Review: '\\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.exe' names no" in said
    assert len(said.splitlines()[1]) < 500
    assert tracker.shas() == {sha}


@pytest.mark.slow
def test_a_message_without_trailers_is_not_checked_and_a_damaged_cache_reads_as_none(
    tracker: FakeTracker, repository: Repository
) -> None:
    repo = repository()
    repo.install(tracker.url)
    assert repo.commit_hooked("Just a subject\n\nAnd some prose.\n")[1] == ""
    cache = repo.path / ".git" / "sdl-tracker" / "vocabulary.json"
    cache.write_text("{damaged")
    said = repo.commit_hooked("Fix\n\nSecurity-Requirement: CR 3.4\n")[1]
    assert "not checked, no list of requirements cached yet" in said
    assert "CR 3.4" in cache.read_text()  # the post-commit hook fetched the ids again once it delivered
