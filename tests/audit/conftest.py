"""Fixtures of the audit tests."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.audit.services import record
from tests.audit.helpers import run
from tests.factories import OPERATOR, make_product


@pytest.fixture
def history(app: Flask, session: Session) -> list[int]:
    """Ten fresh events on top of the shared chain, committed; returns their seqs."""
    product = make_product(session, "Chained")
    seqs = [
        record(
            session,
            OPERATOR,
            "products:product:update",
            target_type="product",
            target_id=product.id,
            product_id=product.id,
            details={"step": n},
        ).seq
        for n in range(10)
    ]
    session.commit()
    assert run(app, "audit", "verify").exit_code == 0
    return seqs
