"""Verifying signed commits: `python bench/signatures.py [--commits 200]`.

Makes a repository of SSH-signed and OpenPGP-signed commits (`git commit -S`, real keys made for the run), then
times, in the same run, the tracker's verdicts on all of them (`signing.judge_signatures`: one keyring and one
allowed-signers file for the batch, one tool run per signature) against git's own verification of the same
commits (`git verify-commit`, one per commit, with an allowed-signers file and the same keyring), and prints
both and their ratio. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sdl_tracker.gitlink.signatures import KeyKind  # noqa: E402
from sdl_tracker.gitlink.signing import AuthorKeys, Signed, judge_signatures  # noqa: E402
from sdl_tracker.gitlink.verifier import RegisteredKey, read_public_key  # noqa: E402

EMAIL = "dev@example.com"


def run(*args: str, cwd: Path, env: dict[str, str], data: bytes | None = None) -> bytes:
    return subprocess.run(list(args), cwd=cwd, env=env, input=data, capture_output=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=200, help="commits of each kind of signature")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sig", dir="/tmp") as tmp:
        base = Path(tmp)
        gnupg = base / "g"
        gnupg.mkdir(mode=0o700)
        env = {
            **os.environ,
            "GNUPGHOME": str(gnupg),
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Dana",
            "GIT_AUTHOR_EMAIL": EMAIL,
            "GIT_COMMITTER_NAME": "Dana",
            "GIT_COMMITTER_EMAIL": EMAIL,
        }
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "id"), cwd=base, env=env)
        run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"Dana <{EMAIL}>", "ed25519", cwd=base, env=env)
        armour = run("gpg", "--armor", "--export", EMAIL, cwd=base, env=env).decode()
        ssh_public = (base / "id.pub").read_text().strip()
        (base / "allowed").write_text(f'{EMAIL} namespaces="git" {ssh_public}\n')
        repo = base / "repo"
        run("git", "init", "-q", str(repo), cwd=base, env=env)
        ssh = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={base / 'id'}"]
        pgp = ["-c", f"user.signingkey={EMAIL}"]
        shas: list[str] = []
        for n in range(options.commits * 2):
            config = ssh if n % 2 else pgp
            run("git", *config, "commit", "-q", "--allow-empty", "-S", "-m", f"change {n}", cwd=repo, env=env)
            shas.append(run("git", "rev-parse", "HEAD", cwd=repo, env=env).decode().strip())
        objects = {sha: run("git", "cat-file", "commit", sha, cwd=repo, env=env) for sha in shas}
        keys = tuple(
            RegisteredKey(i, facts.kind, facts.material, facts.fingerprint)
            for i, facts in enumerate((read_public_key(armour), read_public_key(ssh_public)), 1)
        )
        assert {k.kind for k in keys} == {KeyKind.OPENPGP, KeyKind.SSH}
        accounts = {EMAIL: AuthorKeys(1, EMAIL, False, keys)}

        started = time.perf_counter()
        verdicts = judge_signatures([Signed(sha, objects[sha], EMAIL) for sha in shas], accounts)
        ours = time.perf_counter() - started
        assert {v.status.value for v in verdicts.values()} == {"verified"}, set(verdicts.values())

        started = time.perf_counter()
        for sha in shas:
            run("git", "-c", f"gpg.ssh.allowedSignersFile={base / 'allowed'}", "verify-commit", sha, cwd=repo, env=env)
        git = time.perf_counter() - started
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)

    count = len(shas)
    print(f"{count} signed commits ({options.commits} OpenPGP, {options.commits} SSH)")
    print(f"  tracker verdicts   {ours:7.2f} s  {ours / count * 1000:6.1f} ms a commit")
    print(f"  git verify-commit  {git:7.2f} s  {git / count * 1000:6.1f} ms a commit")
    print(f"  ratio              {ours / git:7.2f}x git's own verification")


if __name__ == "__main__":
    main()
