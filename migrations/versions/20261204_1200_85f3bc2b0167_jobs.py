"""jobs: the job table (queue, leases, progress, results) that `sdl-tracker worker` runs

Revision ID: 85f3bc2b0167
Revises: 49a7de0d067c
Create Date: 2026-12-04 18:12:20.827868
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdl_tracker.db

revision: str = '85f3bc2b0167'
down_revision: str | None = '49a7de0d067c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('arguments', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', name='job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('progress_message', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('lease_holder', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=400), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('narrowing', sa.JSON(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0 AND max_attempts >= 1', name=op.f('ck_job_attempts')),
    sa.CheckConstraint('progress_done >= 0', name=op.f('ck_job_progress')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'], name=op.f('fk_job_created_by_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_job_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_job_state_id', ['state', 'id'], unique=False)
        batch_op.create_index('uq_job_idempotency_key', ['idempotency_key'], unique=True, sqlite_where=sa.text('idempotency_key IS NOT NULL'), postgresql_where=sa.text('idempotency_key IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('uq_job_idempotency_key', sqlite_where=sa.text('idempotency_key IS NOT NULL'), postgresql_where=sa.text('idempotency_key IS NOT NULL'))
        batch_op.drop_index('ix_job_state_id')
        batch_op.drop_index(batch_op.f('ix_job_product_id'))

    op.drop_table('job')
