"""Fixtures of the client tests: a stand-in tracker on loopback, and repositories to commit in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.client.fake_tracker import FakeTracker
from tests.client.repos import TOKEN, HookedRepo


@pytest.fixture
def tracker() -> Iterator[FakeTracker]:
    """The commit intake, listening on a loopback port."""
    stand_in = FakeTracker(TOKEN).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def repository(tmp_path: Path) -> Callable[..., HookedRepo]:
    """Make a repository (`name` under the test's folder), its hooks not yet installed."""

    def make(name: str = "firmware", env: dict[str, str] | None = None) -> HookedRepo:
        return HookedRepo(tmp_path / name, env)

    return make
