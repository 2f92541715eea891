"""The id Teams gives each member in the bot's chats (an MRI, "29:…"), noted when they talk
to the bot: a card in a shared chat names its readers by it in its Universal Actions
refresh, so that each one's client asks for their own view (issue 14).

Revision ID: 0020_member_mri
Revises: 0021_calendar_events
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0020_member_mri"
down_revision: str | Sequence[str] | None = "0021_calendar_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.add_column(sa.Column("teams_user_id", sa.Text(), nullable=True))


def downgrade() -> None:
    # In place on both dialects: recreating `members` on SQLite would drop, by their foreign
    # keys, the rows that name a member.
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.drop_column("teams_user_id")
