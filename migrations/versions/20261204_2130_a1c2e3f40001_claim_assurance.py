"""claim assurance: who set a claim, its acceptance, override, user documentation, carried forward

Revision ID: a1c2e3f40001
Revises: 8ade4f6c4010
Create Date: 2026-12-04 21:30:00.222763
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import sdl_tracker.db

revision: str = 'a1c2e3f40001'
down_revision: str | None = '8ade4f6c4010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('documentation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('set_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('set_by', sa.String(length=400), server_default='', nullable=False))
        batch_op.add_column(sa.Column('accepted_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('accepted_by', sa.String(length=400), server_default='', nullable=False))
        batch_op.add_column(sa.Column('accepted_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('carried_from', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirmed_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by', sa.String(length=400), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirmed_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_claim_documentation_id'), ['documentation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_claim_documentation_id_evidence'), 'evidence', ['documentation_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_claim_accepted_by_user_id_user_account'), 'user_account', ['accepted_by_user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_claim_set_by_user_id_user_account'), 'user_account', ['set_by_user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_claim_confirmed_by_user_id_user_account'), 'user_account', ['confirmed_by_user_id'], ['id'], ondelete='SET NULL')

    _keep_existing_claims()
    # The defaults served only the rows that existed; the application always sets these columns.
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.alter_column('override_reason', existing_type=sa.Text(), server_default=None)
        for column in ('set_by', 'accepted_by', 'confirmed_by'):
            batch_op.alter_column(column, existing_type=sa.String(length=400), server_default=None)
        batch_op.alter_column('carried_from', existing_type=sa.String(length=64), server_default=None)


claim_table = sa.table(
    'claim',
    sa.column('updated_by', sa.String()),
    sa.column('set_by', sa.String()),
    sa.column('carried_from', sa.String()),
)


def _keep_existing_claims() -> None:
    # Claims stay as they are; they are judged by the stricter rules from now on and show why they do
    # not count. Nobody has accepted an existing "not applicable" or "compensated" claim (the acceptance
    # did not exist), and the setter is known by label only. Claims copied to a release ("copied from
    # 1.0") arrive as carried forward, unconfirmed.
    connection = op.get_bind()
    connection.execute(claim_table.update().values(set_by=claim_table.c.updated_by))
    prefix = 'copied from '
    copied = claim_table.c.updated_by.like(prefix + '%')
    connection.execute(
        claim_table.update().where(copied).values(carried_from=sa.func.substr(claim_table.c.updated_by, len(prefix) + 1))
    )



def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claim_confirmed_by_user_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_claim_set_by_user_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_claim_accepted_by_user_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_claim_documentation_id_evidence'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_claim_documentation_id'))
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by')
        batch_op.drop_column('confirmed_by_user_id')
        batch_op.drop_column('carried_from')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('accepted_by')
        batch_op.drop_column('accepted_by_user_id')
        batch_op.drop_column('set_by')
        batch_op.drop_column('set_by_user_id')
        batch_op.drop_column('documentation_id')
        batch_op.drop_column('override_reason')

