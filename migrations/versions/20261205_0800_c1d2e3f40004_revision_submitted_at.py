"""revision submitted_at: when a revision went to review, so the queue ages from submission

Revision ID: c1d2e3f40004
Revises: c1d2e3f40003
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import sdl_tracker.db

revision: str = 'c1d2e3f40004'
down_revision: str | None = 'c1d2e3f40003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "(state = 'draft' AND submitted_at IS NULL) OR (state <> 'draft' AND submitted_at IS NOT NULL)"

revision_table = sa.table(
    'evidence_revision',
    sa.column('state', sa.String()),
    sa.column('created_at', sdl_tracker.db.UTCDateTime(timezone=True)),
    sa.column('submitted_at', sdl_tracker.db.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table('evidence_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True))
    # Revisions made before this column were submitted when they were made, or were made by an edit of
    # submitted evidence (which submits it): their creation is the best record of the submission there is.
    # A draft submitted later reads as submitted on the day it was written; that is what the queue showed.
    op.get_bind().execute(
        revision_table.update()
        .where(revision_table.c.state != 'draft')
        .values(submitted_at=revision_table.c.created_at)
    )
    with op.batch_alter_table('evidence_revision', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_evidence_revision_submitted_unless_draft'), CHECK)


def downgrade() -> None:
    with op.batch_alter_table('evidence_revision', schema=None) as batch_op:
        # The CHECK constraint names the column: on SQLite's table copy it would outlive it.
        batch_op.drop_constraint(batch_op.f('ck_evidence_revision_submitted_unless_draft'), type_='check')
        batch_op.drop_column('submitted_at')
