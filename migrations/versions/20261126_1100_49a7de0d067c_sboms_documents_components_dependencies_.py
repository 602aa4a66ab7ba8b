"""sboms: documents, components, dependencies, policy; sbom evidence kind

Revision ID: 49a7de0d067c
Revises: 643c256e1e5c
Create Date: 2026-11-26 14:18:47.812903

The evidence kind gains `sbom`: the CHECK constraint is dropped and recreated with the new list
(on SQLite by batch table copy).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdl_tracker.db

OLD_KINDS = sa.Enum('threat-model', 'design-review', 'code-review', 'static-analysis', 'fuzz-campaign', 'vulnerability-scan', 'penetration-test', 'requirements-test', 'threat-mitigation-test', 'security-training', 'process-document', 'guideline-document', 'update-record', 'other', name='evidence_kind', native_enum=False, create_constraint=True)
NEW_KINDS = sa.Enum('threat-model', 'design-review', 'code-review', 'static-analysis', 'fuzz-campaign', 'vulnerability-scan', 'penetration-test', 'requirements-test', 'threat-mitigation-test', 'security-training', 'process-document', 'guideline-document', 'update-record', 'sbom', 'other', name='evidence_kind', native_enum=False, create_constraint=True)

revision: str = '49a7de0d067c'
down_revision: str | None = '643c256e1e5c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=OLD_KINDS, type_=NEW_KINDS, existing_nullable=False)
    op.create_table('sbom_policy',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('strict', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=400), nullable=False),
    sa.Column('updated_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sbom_policy_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_sbom_policy'))
    )
    op.create_table('sbom',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.Enum('json', 'xml', name='sbom_format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('serial_number', sa.Text(), nullable=False),
    sa.Column('bom_version', sa.Integer(), nullable=False),
    sa.Column('generated_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('subject', sa.JSON(), nullable=True),
    sa.Column('tools', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('component_count', sa.Integer(), nullable=False),
    sa.Column('dependency_count', sa.Integer(), nullable=False),
    sa.Column('service_count', sa.Integer(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('strict', sa.Boolean(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('imported_by', sa.String(length=400), nullable=False),
    sa.Column('imported_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_sbom_evidence_id_evidence'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_sbom_product_id_product'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], name=op.f('fk_sbom_release_id_release'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sha256'], ['blob.sha256'], name=op.f('fk_sbom_sha256_blob'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sbom')),
    sa.UniqueConstraint('release_id', 'sha256', name=op.f('uq_sbom_release_id_sha256'))
    )
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sbom_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sbom_release_id'), ['release_id'], unique=False)
        batch_op.create_index('uq_sbom_primary_per_release', ['release_id'], unique=True, sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))

    op.create_table('sbom_component',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sbom_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('parent_position', sa.Integer(), nullable=True),
    sa.Column('bom_ref', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('group_name', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('purl', sa.Text(), nullable=False),
    sa.Column('cpe', sa.Text(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('supplier', sa.Text(), nullable=False),
    sa.Column('hashes', sa.JSON(), nullable=False),
    sa.Column('licenses', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['sbom_id'], ['sbom.id'], name=op.f('fk_sbom_component_sbom_id_sbom'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sbom_component')),
    sa.UniqueConstraint('sbom_id', 'position', name=op.f('uq_sbom_component_sbom_id_position'))
    )
    op.create_table('sbom_dependency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sbom_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('depends_on', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['sbom_id'], ['sbom.id'], name=op.f('fk_sbom_dependency_sbom_id_sbom'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sbom_dependency'))
    )
    with op.batch_alter_table('sbom_dependency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sbom_dependency_sbom_id'), ['sbom_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sbom_dependency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sbom_dependency_sbom_id'))

    op.drop_table('sbom_dependency')
    op.drop_table('sbom_component')
    with op.batch_alter_table('sbom', schema=None) as batch_op:
        batch_op.drop_index('uq_sbom_primary_per_release', sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))
        batch_op.drop_index(batch_op.f('ix_sbom_release_id'))
        batch_op.drop_index(batch_op.f('ix_sbom_product_id'))

    op.drop_table('sbom')
    op.drop_table('sbom_policy')
    # SBOM evidence outlives the downgrade as kind "other": evidence is never deleted.
    op.execute(sa.text("UPDATE evidence SET kind = 'other' WHERE kind = 'sbom'"))
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=NEW_KINDS, type_=OLD_KINDS, existing_nullable=False)
