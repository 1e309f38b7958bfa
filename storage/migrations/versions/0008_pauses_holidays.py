"""the calendar bends: cohort pauses, local holidays, meetings on a holiday

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 13:55:00

`cohorts.pauses` holds a cohort's pauses (Ramadan, Lebaran, the harvest) as a list of
{"id", "first", "last", "reason"} with local dates. `holidays` are the days an admin
added for a region or a cohort, beside the national list in content/holidays.yaml.
`meeting_decisions` keeps a facilitator's answer to "the meeting falls on a holiday:
does it still happen?".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cohorts') as batch:
        batch.add_column(sa.Column('pauses', sa.JSON(), nullable=True))
    op.create_table(
        'holidays',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('region', sa.String(length=200), nullable=False),
        sa.Column('cohort_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['cohort_id'], ['cohorts.id'], name=op.f('fk_holidays_cohort_id_cohorts'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
        sa.UniqueConstraint('day', 'region', 'cohort_id', name=op.f('uq_holidays_day_region_cohort_id')),
    )
    op.create_index(op.f('ix_holidays_day'), 'holidays', ['day'], unique=False)
    op.create_table(
        'meeting_decisions',
        sa.Column('cohort_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('held', sa.Boolean(), nullable=False),
        sa.Column('decided_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('decided_at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['cohort_id'], ['cohorts.id'], name=op.f('fk_meeting_decisions_cohort_id_cohorts'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['decided_by'], ['people.id'], name=op.f('fk_meeting_decisions_decided_by_people'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('cohort_id', 'day', name=op.f('pk_meeting_decisions')),
    )


def downgrade() -> None:
    op.drop_table('meeting_decisions')
    op.drop_index(op.f('ix_holidays_day'), table_name='holidays')
    op.drop_table('holidays')
    with op.batch_alter_table('cohorts') as batch:
        batch.drop_column('pauses')
