"""Pure rules of commit review and trailers: ranges over stored parents, verdicts, the per-commit bound."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sdl_tracker.gitlink.rules import (
    MAX_EVIDENCE_PER_COMMIT,
    VOCABULARY,
    CommitIndex,
    NotReviewed,
    ReviewRevision,
    beyond_bound_problem,
    commits_between,
    evidence_trailers,
    first_reason,
    judge_review,
    reviewer_email,
)


def sha(n: int) -> str:
    return f"{n:040x}"[::-1]  # distinct leading digits, so 7-digit prefixes stay unique


@st.composite
def histories(draw: st.DrawFn) -> dict[str, list[str]]:
    """A random DAG: each commit's parents are earlier commits."""
    size = draw(st.integers(1, 25))
    parents: dict[str, list[str]] = {}
    for n in range(size):
        earlier = draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True)) if n else []
        parents[sha(n)] = [sha(p) for p in earlier]
    return parents


def ancestors(parents: dict[str, list[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parents[current])
    return seen


@given(histories(), st.data())
def test_a_range_names_exactly_what_the_tip_reaches_and_the_base_does_not(parents, data) -> None:  # type: ignore[no-untyped-def]
    shas = sorted(parents)
    base, tip = data.draw(st.sampled_from(shas)), data.draw(st.sampled_from(shas))
    index = CommitIndex(parents)
    named = index.named(f"{base[:9]}..{tip}")
    assert named == ancestors(parents, tip) - ancestors(parents, base)
    assert named == set(commits_between(parents, tip, base))
    assert base not in named  # evidence for one range never counts for a commit outside it


@given(histories(), st.data())
def test_a_sha_names_only_itself(parents, data) -> None:  # type: ignore[no-untyped-def]
    one = data.draw(st.sampled_from(sorted(parents)))
    index = CommitIndex(parents)
    assert index.named(one) == {one} == index.named(one[:7].upper())
    assert index.named("PR-12 reviewed") == frozenset() and index.named(f"{one}...{one}") == frozenset()


def test_ambiguous_and_short_abbreviations_name_nothing() -> None:
    index = CommitIndex({"abcdef1" + "0" * 33: [], "abcdef1" + "1" * 33: []})
    assert index.resolve("abcdef1") is None and index.resolve("abcdef") is None
    assert index.resolve("abcdef10") == "abcdef1" + "0" * 33


NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TODAY = NOW.date()
COMMIT = sha(1)
KNOWN = frozenset({"rev@example.com", "officer@example.com", "dev@example.com"})


def revision(**changes: object) -> ReviewRevision:
    values: dict[str, object] = {
        "evidence_id": 7,
        "recorded_on": date(2026, 11, 1),
        "change": COMMIT,
        "reviewer": "Rita Reviewer <rev@example.com>",
        "state": "accepted",
        "accepted_at": NOW,
        "acceptor_email": "officer@example.com",
    }
    values.update(changes)
    return ReviewRevision(**values)  # type: ignore[arg-type]


def judge(revisions: list[ReviewRevision], author: str = "dev@example.com", on: date = TODAY) -> NotReviewed | None:
    index = CommitIndex({COMMIT: [], sha(2): [COMMIT]})
    return judge_review(revisions, sha=COMMIT, author_email=author, named=index.named, known_emails=KNOWN, on=on).reason


def test_each_reason() -> None:
    assert judge([revision()]) is None
    assert judge([revision(state="submitted", accepted_at=None, acceptor_email=None)]) is NotReviewed.NOT_ACCEPTED
    assert judge([revision(change=sha(2))]) is NotReviewed.NAMES_ANOTHER_CHANGE
    assert judge([revision(reviewer="ghost@example.com")]) is NotReviewed.REVIEWER_UNKNOWN
    assert judge([revision()], author="REV@example.com") is NotReviewed.REVIEWER_IS_AUTHOR
    assert judge([revision()], author="officer@example.com") is NotReviewed.ACCEPTOR_IS_AUTHOR
    assert judge([revision(acceptor_email=None)]) is NotReviewed.ACCEPTOR_UNKNOWN
    assert judge([revision()], on=date(2026, 11, 20)) is NotReviewed.ACCEPTED_LATER  # accepted on 12-01
    assert judge([revision()], on=date(2026, 10, 1)) is NotReviewed.ACCEPTED_LATER  # recorded on 11-01
    assert first_reason([]).reason is NotReviewed.NO_REVIEW
    assert reviewer_email(" Rita <Rev@Example.com> ") == "rev@example.com"


states = st.sampled_from(["draft", "submitted", "accepted", "rejected"])
people = st.sampled_from(sorted(KNOWN | {"ghost@example.com"}))
days = st.dates(date(2026, 10, 1), date(2027, 1, 31))


@given(states, people, people, people, days, days, days)
def test_a_review_counts_only_accepted_by_then_with_reviewer_and_acceptor_other_than_the_author(  # type: ignore[no-untyped-def]
    state, reviewer, acceptor, author, recorded, accepted, on
) -> None:
    accepted_at = datetime.combine(accepted, datetime.min.time(), UTC) if state == "accepted" else None
    revisions = [
        revision(state=state, reviewer=reviewer, acceptor_email=acceptor, recorded_on=recorded, accepted_at=accepted_at)
    ]
    counts = judge(revisions, author=author, on=on) is None
    expected = (
        state == "accepted"
        and reviewer in KNOWN
        and author not in (reviewer, acceptor)
        and recorded <= on
        and accepted <= on
    )
    assert counts == expected
    if counts:  # a later day never takes an accepted review away, as long as it is not revised
        assert judge(revisions, author=author, on=on + timedelta(days=30)) is None


@given(
    st.lists(st.tuples(st.sampled_from([*VOCABULARY, "Security-Requirement", "Signed-off-by"]), st.text(max_size=5)))
)
def test_at_most_the_bound_of_trailers_become_evidence_and_the_rest_is_reported(trailers) -> None:  # type: ignore[no-untyped-def]
    recorded, beyond = evidence_trailers(trailers)
    assert len(recorded) <= MAX_EVIDENCE_PER_COMMIT
    assert recorded + beyond == [t for t in trailers if t[0] in VOCABULARY]
    if beyond:
        assert f"{len(beyond):,} trailers beyond the {MAX_EVIDENCE_PER_COMMIT}" in beyond_bound_problem(COMMIT, beyond)


def test_the_release_date_view_reads_the_revision_that_stood_then() -> None:
    # Accepted in November; revised (back to submitted) in December: it counted on the release date, not today.
    accepted = revision(recorded_on=date(2026, 11, 1), accepted_at=datetime(2026, 11, 2, tzinfo=UTC))
    revised = revision(recorded_on=date(2026, 12, 1), state="submitted", accepted_at=None, acceptor_email=None)
    assert judge([accepted, revised], on=date(2026, 11, 15)) is None
    assert judge([accepted, revised], on=TODAY) is NotReviewed.NOT_ACCEPTED
