"""Panels' data version: a counter raised by every transaction that changes what a panel's
agenda is built from (the panel, its agencies, cases, meetings, agenda items and actions).

The bot keeps a panel's agenda card while the counter stands still, in every process that
shares the database, and builds it again when the counter moves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("panels", recreate="never") as batch:
        batch.add_column(
            sa.Column("data_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("panels", recreate="never") as batch:
        batch.drop_column("data_version")
