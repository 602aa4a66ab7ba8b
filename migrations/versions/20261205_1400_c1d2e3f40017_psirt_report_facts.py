"""psirt report facts: what the Article 14 reports say beyond the case's other facts (severity and impact in words,
how sensitive the information is, the malicious actor, the incident's root cause)

Revision ID: c1d2e3f40017
Revises: c1d2e3f40016
Create Date: 2026-12-05 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1d2e3f40017"
down_revision: str | None = "c1d2e3f40016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("impact", "sensitivity", "malicious_actor", "root_cause")


def upgrade() -> None:
    # Stored cases get empty text; the default goes again in a second batch, as the model sets it itself.
    with op.batch_alter_table("psirt_case", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("psirt_case", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("psirt_case", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
