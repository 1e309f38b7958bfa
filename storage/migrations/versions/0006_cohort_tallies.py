"""cohort tallies: each cohort's progress figures, kept on write for /progres

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 04:30:00

The rows are filled by storage.db.upgrade after migrating (storage/tallies.py), from the
progress and answers already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cohort_tallies',
        sa.Column('cohort_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('weeks_done', sa.Integer(), nullable=False),
        sa.Column('finished', sa.JSON(), nullable=False),
        sa.Column('product', sa.Integer(), nullable=False),
        sa.Column('permit_filed', sa.Integer(), nullable=False),
        sa.Column('first_sales', sa.Integer(), nullable=False),
        sa.Column('refreshed_at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_tallies_cohort_id_cohorts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('cohort_id', name=op.f('pk_cohort_tallies')),
    )


def downgrade() -> None:
    op.drop_table('cohort_tallies')
