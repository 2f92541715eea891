"""Panel meetings as Outlook calendar events: the event's id, and the Teams meeting chat the
bot was installed into (issue 14). Meetings linked before this revision keep their bare
online meeting (`teams_meeting_id`) and have neither.

Revision ID: 0021_calendar_events
Revises: 0022_file_offers
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0021_calendar_events"
down_revision: str | Sequence[str] | None = "0022_file_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.add_column(sa.Column("calendar_event_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("teams_chat_id", sa.Text(), nullable=True))


def downgrade() -> None:
    # In place on both dialects (as revision 0017's): recreating `meetings` on SQLite would
    # drop, by its foreign keys, every agenda item.
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.drop_column("teams_chat_id")
        batch.drop_column("calendar_event_id")
