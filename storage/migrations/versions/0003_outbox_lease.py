"""The outbox's lease: when a dispatcher took a row, and how often it was taken back.

outbox: `claimed_at` (when a dispatcher last claimed the row; NULL for rows claimed before
this revision, which a dispatcher starting up treats as abandoned) and `resumed` (how often
the row was taken back from a dispatcher that stopped while holding it; existing rows get 0).

Both dialects add and drop the columns in place (see 0002 for why SQLite never recreates).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO = "0"


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resumed", sa.Integer(), nullable=False, server_default=ZERO))


def downgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.drop_column("resumed")
        batch.drop_column("claimed_at")
