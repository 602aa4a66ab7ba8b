"""audit event product seq index

Revision ID: c1d2e3f40009
Revises: c1d2e3f40013
Create Date: 2026-12-05 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = 'c1d2e3f40009'
down_revision: str | None = 'c1d2e3f40013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A product's log page reads its newest events by seq; without this it sorted all of the product's events.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_product_seq', ['product_id', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_product_seq')
