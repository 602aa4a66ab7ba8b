"""Trailers and subjects read from a message as git reads them: compared with real git on real commits.

Each message is committed verbatim (`git commit-tree`, so no clean-up hides an odd shape), then read back
three ways: `git interpret-trailers --parse --no-divider` over the stored message, `git log`'s
`%(trailers:only,unfold)` (what the scanner asks for) and `%s`. The parser must agree with all three, and,
with `divider=True`, with `git interpret-trailers --parse` as it reads any other text.
"""

from __future__ import annotations

import random

import pytest

from sdl_tracker.gitlink.trailers import commit_trailers, parse_trailers, skip_blank_lines, subject_of
from tests.gitlink.repo import GitRepo

TRAILERS_FORMAT = "%s%x1e%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)"

# Shapes git treats specially, each a real case: a prose paragraph last, git's own lines among prose,
# continuation lines, comments, an old `Conflicts:` block, the scissors line, `---`, odd separators.
MESSAGES = [
    "Subject only",
    "Subject\n\nSecurity-Review: so@example.com\n",
    "Subject\n\nBody text.\n\nSecurity-Review: so@example.com\nFuzzed-by: nightly\n",
    "Subject\n\nSecurity-Review: so@example.com\nnot a trailer\n",  # prose in the block: no trailers
    "Subject\n\nSigned-off-by: A <a@x>\nsome prose\nFixes-PSIRT: PSIRT-1\n",  # git's line: a quarter is enough
    "Subject\n\nSigned-off-by: A <a@x>\none\ntwo\nthree\nFixes-PSIRT: PSIRT-1\n",  # less than a quarter
    "Subject\n\n(cherry picked from commit 0123456789abcdef)\nThreat-Model: dfd v2\n",
    "Subject\n\nThreat-Model: first line\n  continued here\n\tand here\nFuzzed-by: afl\n",
    "Subject\n\n  Fuzzed-by: indented\n",
    "Subject\nstill the subject\n\nKey: value\n",  # a two-line subject
    "\n\n  \nSubject after blank lines\n\nKey: value\n",
    "Security-Review: in the title\n",  # the first paragraph is never trailers
    "Subject\n\nKey : spaced\nKey\t: tabbed\nKey x: not\n-Dash: first\nkey-2: lower\n",
    "Subject\n\nKey:\nOther:: double\nhttp://example.com: url\n",
    "Subject\n\nKey: value\n# a comment\n\n# another\n",
    "# leading comment\nSubject\n\nKey: value\n",
    "Subject\n\nKey: value\n\nConflicts:\n\tsrc/a.c\n\tsrc/b.c\n",
    "Subject\n\nKey: value\n# ------------------------ >8 ------------------------\ndiff --git a/x b/x\nLater: no\n",
    "Subject\n\nBody\n---\nKey: after the divider\n",
    "Subject\n\nBody\n---\n\nKey: after the divider, alone\n",
    "Subject\n\nKey: before\n---\n",
    "Subject\n\nKey: value\r\nOther: crlf\r\n",
    "Subject\n\nKey: trailing spaces   \nKey2:\tlead tab\n",
    "Subject\n\nKey: a\x0bb\nKey: v\x0c\n",  # vertical tab and form feed are not git's whitespace
    "Subject\n\nKey: \x1b[31mred\x1b[0m\nBidi: \u202eevil\u202c\nSep: \u2028line\n",
    "Subject\n\nÜnïcode: välue\nKéy: v\nKey: välue\n",
    "Subject\n\nKey: value",  # no final newline
    "Subject\n\nSecurity-Review: a\n\nSecurity-Review: b\n",  # only the last paragraph
    "Subject\n\n" + "".join(f"Fuzzed-by: fuzzer-{n}\n" for n in range(40)),
    "",
]

# The line vocabulary of the random sample: every kind of line above.
LINES = [
    "Subject", "", " ", "\t", "Key: value", "Key:value", "Key : spaced", "Key x: no", "-Key: dash", "key-2: v",
    "Signed-off-by: A <a@x>", "Signed-off-by:nospace", "(cherry picked from commit abc)", "  continued",
    "\tcont tab", "prose line", "# comment", "#Key: c", "---", "--- x", "----", "Conflicts:", "\tpath",
    "# ------------------------ >8 ------------------------", "Key:", "Ünïcode: välue", "Key: a\rb", "Key: v\r",
    "Fixes-PSIRT: PSIRT-1", "Security-Review: so@example.com", ": empty key", "Key:: double",
    "http://example.com: not", "Key\t: tab", "  Key: indented", "Key: \u202e bidi", "Key: \x1b[31m",
    "Key: a\x0bb", "\x0c", "Key: v\x0c",
]  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return GitRepo(tmp_path_factory.mktemp("trailers") / "repo")


def _read_by_git(repo: GitRepo, message: str) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """Commit the message verbatim; git's subject, `%(trailers)` and `interpret-trailers --no-divider` of it."""
    sha = repo.commit_tree(message.encode())
    stored = repo.cat_file(sha).partition(b"\n\n")[2].decode()
    shown = repo.raw("log", "-1", f"--format={TRAILERS_FORMAT}", sha).decode().removesuffix("\n")
    subject, _, listed = shown.partition("\x1e")
    by_log = [(key, value) for key, _, value in (item.partition("\x1c") for item in listed.split("\x1d") if item)]
    return subject, by_log, _interpret(repo, skip_blank_lines(stored), "--no-divider")


def _interpret(repo: GitRepo, text: str, *options: str) -> list[tuple[str, str]]:
    """`git interpret-trailers --parse` of the text: one `key: value` line per trailer."""
    printed = repo.raw("interpret-trailers", "--parse", *options, input=text.encode()).decode()
    return [(key, value) for key, _, value in (line.partition(": ") for line in printed.split("\n")[:-1])]


@pytest.mark.parametrize("message", MESSAGES)
def test_a_commit_is_read_as_git_reads_it(repo: GitRepo, message: str) -> None:
    subject, by_log, by_interpret = _read_by_git(repo, message)
    assert commit_trailers(message) == by_log == by_interpret
    assert subject_of(message) == subject


def test_random_messages_are_read_as_git_reads_them(repo: GitRepo) -> None:
    rng = random.Random(18)  # fixed: a failure names a message that fails again
    for _ in range(60):
        lines = [rng.choice(LINES) for _ in range(rng.randint(0, 12))]
        message = "\n".join(lines) + ("\n" if rng.random() < 0.7 else "") + "\n" * rng.randint(0, 2)
        subject, by_log, by_interpret = _read_by_git(repo, message)
        assert (commit_trailers(message), subject_of(message)) == (by_log, subject), repr(message)
        assert by_interpret == by_log, repr(message)


@pytest.mark.parametrize("message", MESSAGES)
def test_with_the_divider_as_interpret_trailers_reads_other_text(repo: GitRepo, message: str) -> None:
    # Outside a commit, `interpret-trailers` ends the message at a `---` line (a patch follows).
    text = skip_blank_lines(message)
    assert parse_trailers(text, divider=True) == _interpret(repo, text)


def test_a_divider_line_does_not_end_a_commit_message() -> None:
    message = "Subject\n\nBody\n---\n\nSecurity-Review: so@example.com\n"
    assert commit_trailers(message) == [("Security-Review", "so@example.com")]
    assert parse_trailers(message, divider=True) == []
