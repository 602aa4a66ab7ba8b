"""commit intake and repository removal: delivered commits, SHA-256 ids, removed repositories

Revision ID: c1d2e3f40005
Revises: c1d2e3f40004
Create Date: 2026-12-05 08:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import sdl_tracker.db

revision: str = 'c1d2e3f40005'
down_revision: str | None = "c1d2e3f40004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('git_commit', schema=None) as batch_op:
        batch_op.alter_column('sha', existing_type=sa.String(length=40), type_=sa.String(length=64), existing_nullable=False)
        # Every commit stored so far was found by a scan.
        batch_op.add_column(sa.Column('seen_by_scan', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('delivered_by', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('raw_object', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('signature', sa.String(length=20), nullable=True))
    with op.batch_alter_table('git_commit', schema=None) as batch_op:
        batch_op.alter_column('seen_by_scan', existing_type=sa.Boolean(), server_default=None)

    with op.batch_alter_table('repository', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('repository', schema=None) as batch_op:
        batch_op.drop_column('removed_at')

    # Commits only a client delivered, and SHA-256 ones, do not fit the older schema.
    op.execute("DELETE FROM git_commit WHERE NOT seen_by_scan OR length(sha) > 40")
    with op.batch_alter_table('git_commit', schema=None) as batch_op:
        batch_op.drop_column('signature')
        batch_op.drop_column('raw_object')
        batch_op.drop_column('delivered_by')
        batch_op.drop_column('seen_by_scan')
        batch_op.alter_column('sha', existing_type=sa.String(length=64), type_=sa.String(length=40), existing_nullable=False)
