"""Raw commit objects, as hooks send them, read without git: the same record the scanner gets from `git log`."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from sdl_tracker.gitlink import git
from sdl_tracker.gitlink.log import LogFormat, LogRecord
from sdl_tracker.gitlink.objects import MAX_OBJECT_BYTES, ObjectProblem, object_id, parse_commit_object
from tests.gitlink.repo import GitRepo

LOG = LogFormat.fresh()

DEV = "Dana Developer <dev@example.com>"


def scanned(repo: GitRepo, sha: str) -> LogRecord:
    """The commit as a scan reads it (`git log` over the scanner's format)."""
    [record] = [r for r in LOG.parse_stream(git.stream_log(repo.path, [sha], [], LOG.args)) if r.sha == sha]
    return record


def delivered(repo: GitRepo, sha: str) -> LogRecord:
    """The commit as the intake reads the object a hook sends; paths are not in the object."""
    return replace(parse_commit_object(repo.cat_file(sha), sha).record, paths=scanned(repo, sha).paths)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_commits_read_from_their_objects_equal_the_scanners(repo: GitRepo) -> None:
    base = repo.commit("Init\n\nSecurity-Requirement: CR 1.1\n", author=DEV, when="2026-03-01T10:00:00+01:00")
    reviewed = repo.commit(
        "Harden login\n\nRate-limit attempts.\n\nSecurity-Review: Sofia <so@example.com>\nFuzzed-by: afl\n"
        "Threat-Model: the login\n  flow, folded\n",
        author="Émile Ünsworth <emile@example.com>",
    )
    repo.git("checkout", "--quiet", "-b", "side", base)
    side = repo.commit("Side change\n\nFixes-PSIRT: PSIRT-2026-0001\n")
    repo.git("checkout", "--quiet", "main")
    repo.git("merge", "--quiet", "--no-ff", "-m", "Merge side\n\nSigned-off-by: Dana <dev@example.com>", "side")
    merge = repo.git("rev-parse", "HEAD")
    for sha in (base, reviewed, side, merge):
        assert delivered(repo, sha) == scanned(repo, sha)
    assert len(delivered(repo, merge).parents) == 2
    assert delivered(repo, reviewed).trailers == (
        ("Security-Review", "Sofia <so@example.com>"),
        ("Fuzzed-by", "afl"),
        ("Threat-Model", "the login flow, folded"),
    )


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("ISO-8859-1", "Réparé\n\nSecurity-Review: José <jose@example.com>\n".encode("latin-1")),
        ("ISO-8859-1", "Not Latin-1 at all: ☃\n".encode()),  # git converts the UTF-8 bytes as Latin-1 too
        ("Shift_JIS", "修正\n\nFuzzed-by: 夜間\n".encode("shift_jis")),
        ("no-such-encoding", "Kept as they are: caf\xe9\n".encode("latin-1")),  # git cannot convert: bytes kept
        ("unicode_escape", b"Not decoded as escapes: \\ud800 \\x1b\n"),  # Python's codec, not git's
    ],
)
def test_the_encoding_header_is_read_as_git_converts(repo: GitRepo, encoding: str, message: bytes) -> None:
    sha = repo.commit_tree(message, config=(f"i18n.commitEncoding={encoding}",))
    assert f"encoding {encoding}\n".encode() in repo.cat_file(sha) or encoding == "UTF-8"
    assert delivered(repo, sha) == scanned(repo, sha)


def test_bytes_without_an_encoding_header_are_read_as_utf8(repo: GitRepo) -> None:
    message = "Latin-1 without a header: caf\xe9\n\nFuzzed-by: caf\xe9\n".encode("latin-1")
    sha = repo.write_commit(_object(message))  # `git commit` would have made the bytes UTF-8
    assert b"encoding" not in repo.cat_file(sha)
    record = delivered(repo, sha)
    assert record == scanned(repo, sha) and record.subject == "Latin-1 without a header: caf\ufffd"


def test_invalid_utf8_is_read_as_the_scanner_reads_it(repo: GitRepo) -> None:
    for header in (b"", b"encoding UTF-8\n", b"encoding utf8\n"):
        sha = repo.write_commit(_object(b"Invalid \xff\xfe here\n\nFuzzed-by: \xc3\n", header=header))
        record = delivered(repo, sha)
        assert record == scanned(repo, sha) and record.trailers == (("Fuzzed-by", "\ufffd"),)


def test_a_signed_commit_keeps_its_signature_header(repo: GitRepo, tmp_path: Path) -> None:
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    repo.commit("Init")
    signing = ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}.pub")
    repo.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "Signed\n\nSecurity-Review: so@example.com")
    sha = repo.git("rev-parse", "HEAD")
    raw = repo.cat_file(sha)
    assert b"\ngpgsig -----BEGIN SSH SIGNATURE-----\n" in raw
    found = parse_commit_object(raw, sha)
    assert found.signature == "gpgsig"
    assert replace(found.record, paths=()) == replace(scanned(repo, sha), paths=())


def test_sha256_repositories(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "sha256", object_format="sha256")
    first = repo.commit("Init")
    second = repo.commit("Second\n\nFuzzed-by: afl\n")
    assert len(second) == 64
    record = parse_commit_object(repo.cat_file(second), second).record
    assert record.parents == (first,) and record.trailers == (("Fuzzed-by", "afl"),)
    assert record.subject == "Second"


def _object(message: bytes = b"Subject\n", *, header: bytes = b"") -> bytes:
    return (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author A <a@example.com> 1700000000 +0000\ncommitter C <c@example.com> 1700000000 +0000\n"
        + header
        + b"\n"
        + message
    )


def _sha(raw: bytes) -> str:
    return hashlib.sha1(b"commit %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()


HOSTILE = [
    (b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n", "begins with tree, parent, author and committer"),
    (b"blob\n", "malformed header line"),
    (_object().replace(b"author", b"committer", 1), "begins with tree"),
    (_object(header=b"author B <b@example.com> 1 +0000\n"), "one tree, author"),
    (_object(header=b"encoding a\nencoding b\n"), "one tree, author, committer and encoding"),
    (b" tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n", "malformed header line"),
    (_object(header=b"Bad Key value\n"), "malformed header line"),
    (_object(b"Sub\0ject\n"), "NUL"),
    (_object().replace(b"A <a@example.com>", b"A a@example.com"), "the author is not"),
    (_object().replace(b"1700000000 +0000\ncommitter", b"99999999999999999999 +0000\ncommitter"), "out of range"),
    (
        _object().replace(b"author", b"parent 0123\nauthor", 1),  # an id of the wrong length
        "not a 40-digit object id",
    ),
]


@pytest.mark.parametrize(("raw", "why"), HOSTILE)
def test_hostile_objects_are_refused(raw: bytes, why: str) -> None:
    with pytest.raises(ObjectProblem, match=why):
        parse_commit_object(raw, _sha(raw))


def test_the_id_is_computed_from_the_bytes() -> None:
    raw = _object(b"Harmless\n\nSecurity-Review: so@example.com\n")
    forged = raw.replace(b"Harmless", b"Backdoor")
    with pytest.raises(ObjectProblem, match=f"these bytes are commit {_sha(forged)}, not {_sha(raw)}"):
        parse_commit_object(forged, _sha(raw))
    with pytest.raises(ObjectProblem, match="lower-case hex"):
        parse_commit_object(raw, _sha(raw).upper())
    assert object_id(raw, "sha1") == _sha(raw) and parse_commit_object(raw, _sha(raw)).record.subject == "Harmless"


def test_an_oversize_object_is_refused_before_it_is_read() -> None:
    raw = _object(b"x" * MAX_OBJECT_BYTES)
    with pytest.raises(ObjectProblem, match="at most 1,048,576 bytes"):
        parse_commit_object(raw, _sha(raw))


def test_a_commit_without_a_message_or_a_date() -> None:
    raw = _object().removesuffix(b"\nSubject\n").replace(b" 1700000000 +0000\ncommitter", b"\ncommitter")
    record = parse_commit_object(raw, _sha(raw)).record
    assert (record.subject, record.trailers, record.authored_at.year) == ("", (), 1970)
