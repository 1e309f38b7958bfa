"""personal data: which privacy text a person agreed to, and when they were erased

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:30:00

`consent_version` is the version of the privacy text (content/program.yaml, `privacy`)
the person said yes to; a person who agreed before versions were kept has none and is
asked again at their next message. `erased_at` marks a person whose data was erased
(/hapus, `jamaah person erase`): the row stays, holding nothing about them, so that the
records that point to it (a check-in they logged as staff) keep their shape.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('consent_version', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('erased_at', storage.models.UTCDateTime(), nullable=True))
    op.create_index(op.f('ix_people_erased_at'), 'people', ['erased_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_people_erased_at'), table_name='people')
    with op.batch_alter_table('people') as batch:
        batch.drop_column('erased_at')
        batch.drop_column('consent_version')
