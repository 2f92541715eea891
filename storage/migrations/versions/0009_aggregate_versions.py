"""Every aggregate a click changes carries a version (the optimistic lock), as referrals
and minutes already do: actions, information requests, cases and meetings (a meeting's
version also guards its agenda items).

A save updates a row only from the version it was loaded (or rendered) with and stores the
next one; rows from before this revision hold 0.

Revision ID: 0009
Revises: 0011 (0011 already followed 0008; one line of revisions, one head)
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables that gain the column; referrals (0002) and meeting_minutes (0004) have theirs.
VERSIONED = ("actions", "information_requests", "cases", "meetings")
# A plain string default, so SQLite adds the column in place (as in revision 0002).
ZERO = "0"


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.add_column(
                sa.Column("version", sa.Integer(), nullable=False, server_default=ZERO)
            )


def downgrade() -> None:
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("version")
