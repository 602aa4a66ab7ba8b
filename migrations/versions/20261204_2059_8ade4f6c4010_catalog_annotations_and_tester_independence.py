"""catalog annotations, tester independence and new evidence kinds

Revision ID: 8ade4f6c4010
Revises: 5b7e2c91d0a4
Create Date: 2026-12-04 20:59:18.872484
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import sdl_tracker.db

OLD_KINDS = sa.Enum('threat-model', 'design-review', 'code-review', 'static-analysis', 'fuzz-campaign', 'vulnerability-scan', 'penetration-test', 'requirements-test', 'threat-mitigation-test', 'security-training', 'process-document', 'guideline-document', 'update-record', 'sbom', 'other', name='evidence_kind', native_enum=False, create_constraint=True)
NEW_KINDS = sa.Enum('threat-model', 'threat-model-change', 'requirements-specification', 'design-document', 'design-review', 'code-review', 'static-analysis', 'fuzz-campaign', 'fuzz-run', 'vulnerability-scan', 'penetration-test', 'requirements-test', 'threat-mitigation-test', 'security-training', 'process-document', 'process-record', 'guideline-document', 'update-record', 'psirt-fix', 'sbom', 'other', name='evidence_kind', native_enum=False, create_constraint=True)
ADDED_KINDS = ('threat-model-change', 'requirements-specification', 'design-document', 'fuzz-run', 'process-record', 'psirt-fix')

revision: str = '8ade4f6c4010'
down_revision: str | None = '5b7e2c91d0a4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_annotation_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sdl_tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_annotation_set')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_catalog_annotation_set_name_version'))
    )
    op.create_table('requirement_annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirement.id'], name=op.f('fk_requirement_annotation_requirement_id_requirement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['catalog_annotation_set.id'], name=op.f('fk_requirement_annotation_set_id_catalog_annotation_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_annotation')),
    sa.UniqueConstraint('set_id', 'requirement_id', name=op.f('uq_requirement_annotation_set_id_requirement_id'))
    )
    with op.batch_alter_table('requirement_annotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_annotation_requirement_id'), ['requirement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_annotation_set_id'), ['set_id'], unique=False)

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=OLD_KINDS, type_=NEW_KINDS, existing_nullable=False)

    with op.batch_alter_table('evidence_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tester_independence', sa.Enum('none', 'independent-person', 'independent-department', 'independent-organisation', name='tester_independence', native_enum=False, create_constraint=True), nullable=True))

    _move_tester_independence()


revision_table = sa.table(
    'evidence_revision',
    sa.column('id', sa.Integer()),
    sa.column('details', sa.JSON()),
    sa.column('tester_independence', sa.String()),
)


def _move_tester_independence() -> None:
    # Scan and penetration test details carried `tester_independent: true`. The flag said only "independent of
    # the developers", so it becomes the least independence Table 3 knows (an independent person): the
    # stricter reading; an officer raises it where the record shows a department or organisation.
    connection = op.get_bind()
    rows = connection.execute(sa.select(revision_table.c.id, revision_table.c.details)).all()
    for revision_id, details in rows:
        if not isinstance(details, dict) or 'tester_independent' not in details:
            continue
        flag = bool(details.pop('tester_independent'))
        connection.execute(
            revision_table.update()
            .where(revision_table.c.id == revision_id)
            .values(details=details, tester_independence='independent-person' if flag else 'none')
        )


def downgrade() -> None:
    evidence = sa.table('evidence', sa.column('kind', sa.String()))
    op.execute(evidence.update().where(evidence.c.kind.in_(ADDED_KINDS)).values(kind='other'))
    with op.batch_alter_table('evidence_revision', schema=None) as batch_op:
        # The CHECK constraint names the column: without dropping it first, SQLite's table rebuild keeps it.
        batch_op.drop_constraint(batch_op.f('ck_evidence_revision_tester_independence'), type_='check')
        batch_op.drop_column('tester_independence')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=NEW_KINDS, type_=OLD_KINDS, existing_nullable=False)

    with op.batch_alter_table('requirement_annotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_annotation_set_id'))
        batch_op.drop_index(batch_op.f('ix_requirement_annotation_requirement_id'))

    op.drop_table('requirement_annotation')
    op.drop_table('catalog_annotation_set')
