"""Running the meeting: the agenda's state, attendance, where the chair card stands, minutes.

meetings: `agenda_published_at`, `agenda_manual` (the coordinator reordered by hand;
existing rows get false), `started_at`, `ended_at`, `chat_conversation_id`,
`current_item_id` and `step` (the chair card's position and how often it moved; existing
rows get 0). agenda_items: `summary` (the chair's note of the discussion) and `action_ids`
(the unmet actions an item lists, a JSON array; existing rows get []). cases:
`review_meeting_id` (the meeting that reviews the case next).
New tables: `meeting_attendance` (one row per member who acknowledged the confidentiality
statement) and `meeting_minutes` (one per meeting, the content one JSON document).

Both dialects add and drop the columns in place (see 0002 for why SQLite never recreates).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
ENUM = sa.String(length=32)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# Plain string defaults (see 0002): '0' reads as false for a boolean on both databases.
FALSE = "0"
ZERO = "0"
EMPTY_ARRAY = "[]"


def _instant(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _meeting_scoped(table: str) -> list[sa.schema.SchemaItem]:
    """The owning panel, and the meeting of the same panel (deleted with it)."""
    return [
        sa.Column("panel_id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["panel_id"], ["panels.id"], name=f"fk_{table}_panel_id_panels"),
        sa.ForeignKeyConstraint(
            ["panel_id", "meeting_id"],
            ["meetings.panel_id", "meetings.id"],
            name=f"fk_{table}_panel_id_meeting_id_meetings",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.add_column(_instant("agenda_published_at"))
        batch.add_column(
            sa.Column("agenda_manual", sa.Boolean(), nullable=False, server_default=FALSE)
        )
        batch.add_column(_instant("started_at"))
        batch.add_column(_instant("ended_at"))
        batch.add_column(sa.Column("chat_conversation_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("current_item_id", ID, nullable=True))
        batch.add_column(sa.Column("step", sa.Integer(), nullable=False, server_default=ZERO))
    with op.batch_alter_table("agenda_items", recreate="never") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("action_ids", JSON_DOCUMENT, nullable=False, server_default=EMPTY_ARRAY)
        )
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.add_column(sa.Column("review_meeting_id", ID, nullable=True))

    op.create_table(
        "meeting_attendance",
        sa.Column("id", ID, nullable=False),
        *_meeting_scoped("meeting_attendance"),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=True),
        _instant("acknowledged_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_attendance"),
        sa.UniqueConstraint(
            "meeting_id", "member_id", name="uq_meeting_attendance_meeting_id_member_id"
        ),
    )
    op.create_index("ix_meeting_attendance_panel_id", "meeting_attendance", ["panel_id"])

    op.create_table(
        "meeting_minutes",
        sa.Column("id", ID, nullable=False),
        *_meeting_scoped("meeting_minutes"),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _instant("meeting_starts_at", nullable=False),
        _instant("drafted_at", nullable=False),
        _instant("approved_at"),
        sa.Column("approved_by_member_id", ID, nullable=True),
        sa.Column("document", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_minutes"),
        sa.UniqueConstraint("meeting_id", name="uq_meeting_minutes_meeting_id"),
    )
    op.create_index("ix_meeting_minutes_panel_id", "meeting_minutes", ["panel_id"])


def downgrade() -> None:
    op.drop_table("meeting_minutes")
    op.drop_table("meeting_attendance")
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("review_meeting_id")
    with op.batch_alter_table("agenda_items", recreate="never") as batch:
        batch.drop_column("action_ids")
        batch.drop_column("summary")
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.drop_column("step")
        batch.drop_column("current_item_id")
        batch.drop_column("chat_conversation_id")
        batch.drop_column("ended_at")
        batch.drop_column("started_at")
        batch.drop_column("agenda_manual")
        batch.drop_column("agenda_published_at")
