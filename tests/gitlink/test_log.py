"""The streaming `git log` parser on real output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sdl_tracker.gitlink.log import LOG_ARGS, parse_stream
from sdl_tracker.gitlink.rules import commits_between, evidence_reference, resolve_ref, rule_for
from tests.gitlink.repo import GitRepo


def log_of(repo: GitRepo) -> bytes:
    return subprocess.run(
        ["git", *LOG_ARGS, "--branches", "--tags"], cwd=repo.path, capture_output=True, check=True
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
        records = list(parse_stream(raw[i : i + size] for i in range(0, len(raw), size)))
        assert [r.sha for r in records] == [second, first]
    newest, oldest = records
    assert newest.subject.startswith("Caf") and newest.subject.endswith("in Latin-1")  # invalid UTF-8 never fails
    assert oldest.trailers == (("Security-Review", "so@example.com"), ("Threat-Model", "docs/tm.json"))
    assert set(oldest.paths) == {'a b"c.txt', "new\nline.txt", "dir/-rf"}
    assert newest.parents == (first,) and oldest.parents == ()


def test_git_decides_what_is_a_trailer(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.commit("Subject\n\nSecurity-Review: in the middle of prose is not a trailer\n\nBody ends here.\n")
    assert next(iter(parse_stream([log_of(repo)]))).trailers == ()


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
