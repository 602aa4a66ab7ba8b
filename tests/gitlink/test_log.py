"""The streaming `git log` parser on real output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sdl_tracker.gitlink.log import LogFormat
from sdl_tracker.gitlink.rules import commits_between, evidence_reference, resolve_ref, rule_for
from tests.gitlink.repo import GitRepo

LOG = LogFormat.fresh()


def log_of(repo: GitRepo, log: LogFormat = LOG) -> bytes:
    return subprocess.run(
        ["git", *log.args, "--branches", "--tags"], cwd=repo.path, capture_output=True, check=True
    ).stdout


def test_records_survive_any_chunking_and_hostile_content(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    first = repo.commit(
        "Add web UI\n\nSecurity-Review: so@example.com\nThreat-Model: docs/tm.json\n",
        files={'a b"c.txt': "x", "new\nline.txt": "y", "dir/-rf": "z"},
    )
    second = repo.commit(b"Caf\xe9 in Latin-1\n\n" + b"long " * 20_000)
    raw = log_of(repo)
    for size in (1, 7, 4096, len(raw)):
        records = list(LOG.parse_stream(raw[i : i + size] for i in range(0, len(raw), size)))
        assert [r.sha for r in records] == [second, first]
    newest, oldest = records
    assert newest.subject.startswith("Caf") and newest.subject.endswith("in Latin-1")  # invalid UTF-8 never fails
    assert oldest.trailers == (("Security-Review", "so@example.com"), ("Threat-Model", "docs/tm.json"))
    assert set(oldest.paths) == {'a b"c.txt', "new\nline.txt", "dir/-rf"}
    assert newest.parents == (first,) and oldest.parents == ()


def test_commit_text_cannot_imitate_a_separator(tmp_path: Path) -> None:
    """A subject or a name that spells the old fixed separators (RS, a SHA, US) splits nothing: the separators
    carry a nonce drawn for each reading, which a committer cannot know."""
    repo = GitRepo(tmp_path / "r")
    forged = "\x1e" + "a" * 40 + "\x1f"
    first = repo.commit(f"Innocent{forged}forged\x1fsubject\n\nSecurity-Review: so@example.com\n")
    second = repo.commit("Next\n", author=f"Mal{forged}lory <m@example.com>")
    for log in (LOG, LogFormat.fresh()):
        records = list(log.parse_stream([log_of(repo, log)]))
        assert [r.sha for r in records] == [second, first]
        assert records[1].subject == f"Innocent{forged}forged\x1fsubject"
        assert records[1].trailers == (("Security-Review", "so@example.com"),)
        assert records[0].author_name == f"Mal{forged}lory" and records[0].parents == (first,)
    assert LogFormat.fresh().nonce != LogFormat.fresh().nonce


def test_git_decides_what_is_a_trailer(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.commit("Subject\n\nSecurity-Review: in the middle of prose is not a trailer\n\nBody ends here.\n")
    assert next(iter(LOG.parse_stream([log_of(repo)]))).trailers == ()


def test_vocabulary_and_references() -> None:
    assert rule_for("security-review") is not None and rule_for("SECURITY-REVIEW").requirement == "SI-1"  # type: ignore[union-attr]
    assert rule_for("Signed-off-by") is None
    assert evidence_reference("#12") == 12 and evidence_reference("evidence 7") == 7
    assert evidence_reference("docs/tm.json") is None


def test_ranges_and_refs_from_stored_parents() -> None:
    parents = {"a": [], "b": ["a"], "c": ["b"], "d": ["c"], "x": ["b"], "m": ["d", "x"]}
    assert commits_between(parents, "m", "c") == ["d", "m", "x"]
    assert commits_between(parents, "c", None) == ["a", "b", "c"]
    refs = {"refs/tags/v1.0": "c", "refs/heads/main": "m"}
    assert resolve_ref(refs, set(parents), "v1.0") == "c" and resolve_ref(refs, set(parents), "main") == "m"
    assert (
        resolve_ref(refs, {"0123456789abcdef0123456789abcdef01234567"}, "0123456")
        == "0123456789abcdef0123456789abcdef01234567"
    )
    assert resolve_ref(refs, set(parents), "v9") is None
