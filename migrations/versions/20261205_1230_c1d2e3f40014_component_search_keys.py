"""component search keys: each component's folded name and purl identity, and the folded names stored once

Revision ID: c1d2e3f40014
Revises: c1d2e3f40011
Create Date: 2026-12-05 12:30:00.000000

A search across the portfolio folded every component's name with lower() on each request (on SQLite a
Python function per row); the keys are computed once, by the same code the importer uses, and indexed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdl_tracker.sboms.rules import search_keys

revision: str = 'c1d2e3f40014'
down_revision: str | None = 'c1d2e3f40011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 10_000
component = sa.table(
    'sbom_component',
    sa.column('id', sa.Integer()),
    sa.column('name', sa.Text()),
    sa.column('purl', sa.Text()),
    sa.column('name_folded', sa.Text()),
    sa.column('purl_key', sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        'component_name',
        sa.Column('name_folded', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name_folded', name=op.f('pk_component_name')),
    )
    with op.batch_alter_table('sbom_component', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_folded', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('purl_key', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('sbom_component', schema=None) as batch_op:
        batch_op.alter_column('name_folded', server_default=None)
        batch_op.alter_column('purl_key', server_default=None)
    _fill_keys()
    with op.batch_alter_table('sbom_component', schema=None) as batch_op:
        batch_op.create_index('ix_sbom_component_name_folded', ['name_folded', 'sbom_id'], unique=False)
        batch_op.create_index('ix_sbom_component_purl_key', ['purl_key', 'sbom_id'], unique=False)


def _fill_keys() -> None:
    """The stored components' keys, computed as the importer computes them, a batch at a time."""
    bind = op.get_bind()
    names: set[str] = set()
    last = 0
    while rows := bind.execute(
        sa.select(component.c.id, component.c.name, component.c.purl)
        .where(component.c.id > last)
        .order_by(component.c.id)
        .limit(BATCH)
    ).all():
        keys = []
        for row in rows:
            folded, purl_key = search_keys(row.name, row.purl)
            keys.append({'key_id': row.id, 'folded': folded, 'key': purl_key})
        bind.execute(
            component.update()
            .where(component.c.id == sa.bindparam('key_id'))
            .values(name_folded=sa.bindparam('folded'), purl_key=sa.bindparam('key')),
            keys,
        )
        names.update(key['folded'] for key in keys)
        last = rows[-1].id
    table = sa.table('component_name', sa.column('name_folded', sa.Text()))
    ordered = sorted(names)
    for start in range(0, len(ordered), BATCH):
        bind.execute(table.insert(), [{'name_folded': name} for name in ordered[start : start + BATCH]])


def downgrade() -> None:
    with op.batch_alter_table('sbom_component', schema=None) as batch_op:
        batch_op.drop_index('ix_sbom_component_purl_key')
        batch_op.drop_index('ix_sbom_component_name_folded')
        batch_op.drop_column('purl_key')
        batch_op.drop_column('name_folded')
    op.drop_table('component_name')
