"""SPOC actions and reminders: which message each sent card became, which rows carried an
action's card, and which reminders were queued.

outbox: `activity_id` and `conversation_id` (the message Teams made of a sent row, so that a
later "update" row can put a new card over it; NULL for rows sent before this revision),
and an index on (recipient_member_id, created_at) to find a member's latest deliveries.
New tables: `action_cards` (one row per outbox row that carried an action's card: the
copies to update when the action changes) and `reminders` (one row per reminder queued;
its key is the primary key, so a second run of the reminder job queues nothing twice).

Both dialects add and drop the columns in place (see 0002 for why SQLite never recreates).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
ENUM = sa.String(length=32)
RECIPIENT_INDEX = "ix_outbox_recipient_member_id_created_at"
CARDS_INDEX = "ix_action_cards_panel_id_action_id_created_at"


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.add_column(sa.Column("activity_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("conversation_id", sa.Text(), nullable=True))
    op.create_index(RECIPIENT_INDEX, "outbox", ["recipient_member_id", "created_at"])

    op.create_table(
        "action_cards",
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("panel_id", ID, nullable=False),
        sa.Column("action_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=True),
        _instant("created_at"),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name="fk_action_cards_panel_id_panels"
        ),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_action_cards"),
    )
    op.create_index("ix_action_cards_panel_id", "action_cards", ["panel_id"])
    op.create_index(CARDS_INDEX, "action_cards", ["panel_id", "action_id", "created_at"])

    op.create_table(
        "reminders",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("panel_id", ID, nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("recipient_member_id", ID, nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        _instant("created_at"),
        sa.ForeignKeyConstraint(["panel_id"], ["panels.id"], name="fk_reminders_panel_id_panels"),
        sa.PrimaryKeyConstraint("key", name="pk_reminders"),
    )
    op.create_index("ix_reminders_panel_id", "reminders", ["panel_id"])


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("action_cards")
    op.drop_index(RECIPIENT_INDEX, table_name="outbox")
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.drop_column("conversation_id")
        batch.drop_column("activity_id")
