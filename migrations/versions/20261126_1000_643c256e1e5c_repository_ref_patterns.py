"""repository ref patterns

Revision ID: 643c256e1e5c
Revises: d479c7b6e0d8
Create Date: 2026-11-26 13:17:56.853514
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "643c256e1e5c"
down_revision: str | None = "d479c7b6e0d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing repositories keep the behaviour they had: branches and tags.
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ref_patterns", sa.JSON(), nullable=False, server_default='["refs/heads", "refs/tags"]')
        )
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.alter_column("ref_patterns", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.drop_column("ref_patterns")
