"""`sdl-tracker client gate-check PRODUCT VERSION`: exit 0 on a current pass, 1 on a fail or a result still
outdated when the wait ends, 2 on an error; while the result is outdated it asks the tracker once to evaluate and
reads again, with progress on stderr, and never reports an outdated result as a pass. Against a scripted HTTP server
(the waiting) and a real tracker (`sdl-tracker serve`)."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sdl_tracker.app_access import app_db
from sdl_tracker.gates.evaluations import set_policy
from sdl_tracker.gates.policy import Policy, policy_from_document
from tests.client.live import Live, served, with_ci_token
from tests.client.repos import SDL, environment
from tests.factories import OPERATOR
from tests.gates.builders import lenient

PRODUCT, RELEASE = 7, 70


def gate(outcome: str | None, current: bool, why: str = "", failing: tuple[str, ...] = ()) -> dict[str, Any]:
    """A release's gate as the tracker's API gives it."""
    results = [
        {"rule": rule, "outcome": "fail", "reasons": [{"message": f"{rule} is missing", "fix": {"area": "evidence"}}]}
        for rule in failing
    ]
    evaluation = None if outcome is None else {"id": 1, "outcome": outcome, "results": results}
    return {
        "release_id": RELEASE,
        "outcome": outcome,
        "current": current,
        "outdated_because": why,
        "passed": bool(current and outcome == "pass"),
        "evaluation": evaluation,
        "signoff": None,
        "waivers": [],
    }


@dataclass
class Script:
    """What the scripted tracker answers to GET .../gate, one answer per request (the last one repeats)."""

    answers: list[Any]
    evaluate_status: int = 201
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def scripted() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            script.requests.append(f"GET {self.path.split('?')[0]}")
            if self.path.startswith(f"/api/v1/products/{PRODUCT}/releases"):
                self._answer(
                    200, {"items": [{"id": RELEASE, "version": "1.0"}], "total": 1, "page": 1, "per_page": 200}
                )
            elif self.path == f"/api/v1/releases/{RELEASE}/gate":
                answer = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
                self._answer(200, answer)
            else:
                self._answer(404, {"title": "Not Found", "status": 404, "detail": "no such thing"})

        def do_POST(self) -> None:
            script.requests.append(f"POST {self.path}")
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if script.evaluate_status == 201:
                self._answer(201, {"id": 2, "outcome": "pass", "results": []})
            else:
                self._answer(script.evaluate_status, {"title": "Forbidden", "status": 403, "detail": "not for you"})

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def check(url: str, *args: str, version: str = "1.0") -> subprocess.CompletedProcess[str]:
    """`sdl-tracker client gate-check 7 VERSION ARGS...` against `url`, in a fresh process."""
    return subprocess.run(
        [*SDL, "client", "--server", url, "gate-check", str(PRODUCT), version, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment("sdl_test_token"),
    )


def test_a_current_pass_exits_0_and_a_current_fail_1_with_a_line_per_failing_rule(
    scripted: tuple[str, Script],
) -> None:
    url, script = scripted
    script.answers = [gate("pass", True)]
    passed = check(url)
    assert (passed.returncode, passed.stdout, passed.stderr) == (0, "7 1.0: pass (current)\n", "")
    assert not any(r.startswith("POST") for r in script.requests)  # current already: nothing asked
    script.answers = [gate("fail", True, failing=("threat_model", "fuzzing"))]
    failed = check(url)
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [
        "7 1.0: fail (current)",
        "  FAIL threat_model: threat_model is missing",
        "  FAIL fuzzing: fuzzing is missing",
    ]
    as_json = json.loads(check(url, "--json").stdout)
    assert as_json["verdict"] == "fail" and as_json["gate"]["outcome"] == "fail"


def test_an_outdated_result_is_evaluated_once_and_waited_for_never_passed(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    # An outdated pass, still outdated after the evaluation was asked for, then current.
    script.answers = [gate("pass", False, "evidence changed"), gate("pass", False, "evidence changed"),
                      gate("pass", True)]  # fmt: skip
    result = check(url, "--timeout", "30")
    assert result.returncode == 0, result.stderr
    assert [r for r in script.requests if r.startswith("POST")] == [f"POST /api/v1/releases/{RELEASE}/gate/evaluations"]
    assert "gate outdated (evidence changed): asking the tracker to evaluate it" in result.stderr
    assert "still outdated" in result.stderr


def test_a_result_still_outdated_when_the_wait_ends_is_not_a_pass(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    script.answers = [gate("pass", False, "the policy changed")]
    result = check(url, "--timeout", "1")
    assert result.returncode == 1
    assert result.stdout == "7 1.0: gate still outdated after 1 s (the policy changed): not a pass\n"
    assert json.loads(check(url, "--timeout", "0", "--json").stdout)["verdict"] == "outdated"
    # A token that may only read: no evaluation asked, the tracker's own waited for; still never a pass.
    script.evaluate_status = 403
    refused = check(url, "--timeout", "1")
    assert refused.returncode == 1 and "may not ask for an evaluation" in refused.stderr


def test_errors_exit_2_in_one_line(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    script.answers = [{"current": "yes", "outcome": "pass"}]  # not a gate: never read as a pass
    garbled = check(url)
    assert garbled.returncode == 2 and garbled.stderr.count("\n") == 1 and "not a release's gate" in garbled.stderr
    unknown = check(url, version="9.9")
    assert unknown.returncode == 2 and "has no release '9.9'" in unknown.stderr
    assert check(url, "--timeout", "nonsense").returncode == 2


# --- against a real tracker ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with served(tmp_path_factory.mktemp("gate")) as tracker:
        yield with_ci_token(tracker, versions=("4.2.0",))


@pytest.mark.slow
def test_gate_check_against_a_real_tracker(live: Live) -> None:
    # Never evaluated: the CI token asks for an evaluation; the default policy fails an empty release.
    failed = live.client("gate-check", "NW-PLC 5000", "4.2.0", "--timeout", "60")
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert failed.stdout.startswith("NW-PLC 5000 4.2.0: fail (current)")
    assert "  FAIL commits_reviewed: " in failed.stdout
    # A policy that an empty release passes: the failing result is outdated at once, evaluated again, passes.
    with app_db(live.app).unit_of_work() as session:
        set_policy(session, OPERATOR, live.product_id, policy_from_document(lenient()))
    passed = live.client("gate-check", "NW-PLC 5000", "4.2.0", "--json")
    assert passed.returncode == 0, (passed.stdout, passed.stderr)
    answer = json.loads(passed.stdout)
    assert answer["verdict"] == "pass" and answer["gate"]["current"] is True
    assert live.client("gate-check", "NW-PLC 5000", "9.9").returncode == 2
    with app_db(live.app).unit_of_work() as session:
        set_policy(session, OPERATOR, live.product_id, Policy())
    stale = live.client("gate-check", "NW-PLC 5000", "4.2.0", "--timeout", "0")
    assert stale.returncode == 1 and "not a pass" in stale.stdout
