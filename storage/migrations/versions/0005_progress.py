"""progress views: indexes for /progres over a thousand cohorts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 01:20:00
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.create_index('ix_progress_cohort_status_week', ['cohort_id', 'status', 'week'], unique=False)
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_person_last_inbound', ['person_id', 'last_inbound_at'], unique=False)
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_cohort_facilitator_at', ['cohort_id', 'facilitator_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_cohort_facilitator_at')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_person_last_inbound')
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_cohort_status_week')
