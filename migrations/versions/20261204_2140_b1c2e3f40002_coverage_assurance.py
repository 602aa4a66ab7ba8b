"""coverage assurance: scoping (SM-5), review intervals per product, organisation maturity

Existing per-product maturity rows stay as they are: they were self-assessments that no evidence bounded,
so none is promoted to the organisation's level (that would carry an unchecked ML3 or ML4 forward). They
remain readable as per-product history; the organisation's levels start empty and are recorded within
what the evidence supports.

Revision ID: b1c2e3f40002
Revises: a1c2e3f40001
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import sdl_tracker.db

revision: str = 'b1c2e3f40002'
down_revision: str | None = "a1c2e3f40001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('product_review_interval',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('threat-model', 'threat-model-change', 'requirements-specification', 'design-document', 'design-review', 'code-review', 'static-analysis', 'fuzz-campaign', 'fuzz-run', 'vulnerability-scan', 'penetration-test', 'requirements-test', 'threat-mitigation-test', 'security-training', 'process-document', 'process-record', 'guideline-document', 'update-record', 'psirt-fix', 'sbom', 'other', name='evidence_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('months', sa.Integer(), nullable=True),
    sa.CheckConstraint('months IS NULL OR months BETWEEN 1 AND 120', name=op.f('ck_product_review_interval_months_range')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_review_interval_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', 'kind', name=op.f('pk_product_review_interval'))
    )
    op.create_table('requirement_scoping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('requirement_ref', sa.String(length=40), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'accepted', 'withdrawn', name='scoping_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('set_by_user_id', sa.Integer(), nullable=True),
    sa.Column('set_by', sa.String(length=400), nullable=False),
    sa.Column('set_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sa.String(length=400), nullable=False),
    sa.Column('accepted_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=400), nullable=False),
    sa.Column('withdrawn_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_requirement_scoping_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['user_account.id'], name=op.f('fk_requirement_scoping_set_by_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_scoping'))
    )
    with op.batch_alter_table('requirement_scoping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_scoping_product_id'), ['product_id'], unique=False)

    with op.batch_alter_table('practice_maturity', schema=None) as batch_op:
        batch_op.alter_column('product_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade() -> None:
    # Organisation-wide levels have no product to go back to.
    op.execute(sa.text('DELETE FROM practice_maturity WHERE product_id IS NULL'))
    with op.batch_alter_table('practice_maturity', schema=None) as batch_op:
        batch_op.alter_column('product_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('requirement_scoping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_scoping_product_id'))

    op.drop_table('requirement_scoping')
    op.drop_table('product_review_interval')
