"""Urgent meetings: a meeting called for the cases it names, outside the panel's schedule
(issue 15: Islington's terms of reference, an urgent CMARAC called on request to the chairs).
Every meeting before this revision was planned or added by hand: none is urgent.

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    # In place on both dialects (SQLite 3.35+ drops a column itself): recreating `meetings`
    # on SQLite would drop the old table, and with it, by its foreign keys, every agenda item.
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.drop_column("urgent")
