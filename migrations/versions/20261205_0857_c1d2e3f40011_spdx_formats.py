"""spdx formats: an SBOM's format may be SPDX JSON or SPDX tag-value besides CycloneDX JSON and XML

Revision ID: c1d2e3f40011
Revises: c1d2e3f40009
Create Date: 2026-12-05 10:09:14.022466
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

OLD_FORMATS = sa.Enum('json', 'xml', name='sbom_format', native_enum=False, create_constraint=True)
NEW_FORMATS = sa.Enum('json', 'xml', 'spdx-json', 'spdx-tag-value', name='sbom_format', native_enum=False, create_constraint=True)

revision: str = 'c1d2e3f40011'
down_revision: str | None = 'c1d2e3f40009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=OLD_FORMATS, type_=NEW_FORMATS, existing_nullable=False)


def downgrade() -> None:
    # An SPDX SBOM has no CycloneDX format to fall back to, and calling it one would misdescribe its blob.
    sbom = sa.table('sbom', sa.column('format', sa.String()))
    spdx = op.get_bind().scalar(sa.select(sa.func.count()).select_from(sbom).where(sbom.c.format.like('spdx-%')))
    if spdx:
        raise RuntimeError(f'{spdx} SPDX SBOMs are stored: this schema cannot hold them; remove them first')
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=NEW_FORMATS, type_=OLD_FORMATS, existing_nullable=False)
