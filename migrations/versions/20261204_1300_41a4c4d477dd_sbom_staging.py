"""sbom staging: a big import's rows stay invisible (state `staging`) until one transaction publishes them

Existing SBOMs are published.

Revision ID: 41a4c4d477dd
Revises: 85f3bc2b0167
Create Date: 2026-12-04 18:23:18.488063
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '41a4c4d477dd'
down_revision: str | None = '85f3bc2b0167'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('staging', 'published', name='sbom_state', native_enum=False, create_constraint=True), server_default='published', nullable=False))
        batch_op.add_column(sa.Column('staged_by_job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sbom_staged_by_job_id'), ['staged_by_job_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sbom_staged_by_job_id_job'), 'job', ['staged_by_job_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sbom_staged_by_job_id_job'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sbom_staged_by_job_id'))
        batch_op.drop_column('staged_by_job_id')
        # The CHECK constraint names the column: on SQLite's table copy it would outlive it.
        batch_op.drop_constraint(batch_op.f('ck_sbom_sbom_state'), type_='check')
        batch_op.drop_column('state')

