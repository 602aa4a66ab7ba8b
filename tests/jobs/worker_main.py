"""`sdl-tracker` with the test-only job kinds registered: what the kill -9 test runs as a subprocess."""

from __future__ import annotations

import sys

from sdl_tracker.cli import cli
from tests.jobs.kinds import register_test_kinds

if __name__ == "__main__":
    register_test_kinds()
    cli.main(args=sys.argv[1:], prog_name="sdl-tracker")
