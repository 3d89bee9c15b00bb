"""outbox event revision

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.BigInteger(), nullable=True))
    # Existing events take revisions in id order, ending at the current content revision (every
    # write since 0004 bumped it once per event).
    op.execute(
        """
        UPDATE outbox_event SET revision = (
            SELECT count(*) FROM outbox_event AS earlier WHERE earlier.id <= outbox_event.id
        ) + coalesce((SELECT max(revision) FROM content_state), 0)
          - (SELECT count(*) FROM outbox_event)
        """
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.alter_column("revision", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f("ix_outbox_event_revision"), ["revision"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_event_revision"))
        batch_op.drop_column("revision")
