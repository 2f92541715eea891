"""Several instances on one database: a conversation's lane belongs to one instance at a
time, and the tenant's requests share one budget (bot.teams.outbox).

outbox: `lane` (the conversation whose order the row keeps, OutgoingDelivery.lane), filled
for the rows still to send and those sent in the last hour (their history), with an index
on (lane, state, sent_at). `outbox_lanes`: which instance holds a lane, until when.
`outbox_tenant_pace`: when the tenant's next request may go, who took the last turns, and
until when another instance counts as sending too. SQLite (one instance) has the
same tables; its dispatcher does not need them.

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANE_INDEX = "ix_outbox_lane_state_sent_at"
# The lanes of the rows still to send and of those sent in the last hour: SQLite, PostgreSQL.
BACKFILL = (
    "UPDATE outbox SET lane = CASE WHEN recipient_member_id IS NOT NULL "
    "THEN panel_id || ':member:' || recipient_member_id "
    "ELSE panel_id || ':conversation:' "
    "|| COALESCE(json_extract(payload, '$.conversation_id'), 'None') END "
    "WHERE lane IS NULL AND (state IN ('pending', 'sending') "
    "OR sent_at > datetime('now', '-1 hour'))",
    "UPDATE outbox SET lane = CASE WHEN recipient_member_id IS NOT NULL "
    "THEN panel_id || ':member:' || recipient_member_id "
    "ELSE panel_id || ':conversation:' || COALESCE(payload->>'conversation_id', 'None') END "
    "WHERE lane IS NULL AND (state IN ('pending', 'sending') "
    "OR sent_at > now() - interval '1 hour')",
)


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.add_column(sa.Column("lane", sa.Text(), nullable=True))
    op.create_index(LANE_INDEX, "outbox", ["lane", "state", "sent_at"])
    op.create_table(
        "outbox_lanes",
        sa.Column("lane_key", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        _instant("leased_until"),
        sa.PrimaryKeyConstraint("lane_key", name="pk_outbox_lanes"),
    )
    op.create_table(
        "outbox_tenant_pace",
        sa.Column("tenant", sa.Text(), nullable=False),
        _instant("next_slot"),
        sa.Column("last_owner", sa.Text(), nullable=False),
        _instant("shared_until"),
        sa.PrimaryKeyConstraint("tenant", name="pk_outbox_tenant_pace"),
    )
    # As OutgoingDelivery.lane: a sent row's payload is emptied, so a conversation's recent
    # sends (not a member's) stay without a lane, and count from the next send on.
    op.execute(BACKFILL[op.get_bind().dialect.name == "postgresql"])


def downgrade() -> None:
    op.drop_table("outbox_tenant_pace")
    op.drop_table("outbox_lanes")
    op.drop_index(LANE_INDEX, table_name="outbox")
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.drop_column("lane")
