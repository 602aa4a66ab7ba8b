"""audit checkpoints name the signing key that made them

Revision ID: 5b7e2c91d0a4
Revises: 41a4c4d477dd
Create Date: 2026-12-04 18:50:00.000000
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import serialization

revision: str = "5b7e2c91d0a4"
down_revision: str | None = "41a4c4d477dd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_id(pem: str) -> str:
    # The same rule as sdl_tracker.keys.key_id, frozen here: SHA-256 of the raw public key, 16 hex digits.
    key = serialization.load_pem_public_key(pem.encode())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def upgrade() -> None:
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=False, server_default=""))
    checkpoints = sa.table("audit_checkpoint", sa.column("id", sa.Integer), sa.column("public_key", sa.Text),
                           sa.column("key_id", sa.String))
    connection = op.get_bind()
    for row_id, pem in connection.execute(sa.select(checkpoints.c.id, checkpoints.c.public_key)).all():
        connection.execute(checkpoints.update().where(checkpoints.c.id == row_id).values(key_id=_key_id(pem)))
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), server_default=None)
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_key_id"))
        batch_op.drop_column("key_id")
