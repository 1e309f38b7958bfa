"""siaran: a broadcast's audience not sent to, and the channel its photo came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_sent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("media_channel", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("media_channel")
        batch_op.drop_column("not_sent")
