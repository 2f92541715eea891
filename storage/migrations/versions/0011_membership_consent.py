"""Membership by consent: a person added to a panel is invited until they accept, and a
person on several panels chooses the one they act for.

`members.invited`: true while the invitation is not accepted (members from before this
revision had been added by a coordinator and used the bot: they stay members).
`members.chosen_at`: when the person last chose this panel in their private chat.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.add_column(
            sa.Column("invited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.drop_column("chosen_at")
        batch.drop_column("invited")
