"""Fixtures of the gates' service tests: the gathering replaced by hand-built snapshots, a clock, a product."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from sdl_tracker.products.models import Product
from tests.factories import make_product
from tests.gates.fakes import Clock, Gathered, fake_gathering


@pytest.fixture
def gathered(monkeypatch: pytest.MonkeyPatch) -> Gathered:
    """Snapshots built by hand in place of the gathering (tests/gates/fakes.py)."""
    return fake_gathering(monkeypatch)


@pytest.fixture
def clock(session: Session) -> Clock:
    return Clock(session)


@pytest.fixture
def product(session: Session) -> Product:
    return make_product(session, "PLC")
