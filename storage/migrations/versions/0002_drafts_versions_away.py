"""Referral drafts and versions, members away until a date.

referrals: `draft_inputs` (what the referrer typed, a JSON object; existing rows get {}),
`draft_step` (where they were), `version` (the optimistic lock; existing rows get 0, and
their next save stores 1). members: `away_until`.

Both dialects add and drop these columns in place. On SQLite the batch operations are told
never to recreate a table: DROP COLUMN is native there (SQLite 3.35 and later), and
recreating `referrals` would drop the old table while foreign keys are enforced, which
deletes its subjects through ON DELETE CASCADE.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Plain string defaults, rendered as quoted literals ('{}', '0'): both databases accept them
# for these types, and a string (unlike an SQL expression) lets SQLite add the column in place.
EMPTY_OBJECT = "{}"
ZERO = "0"


def upgrade() -> None:
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.add_column(
            sa.Column("draft_inputs", JSON_DOCUMENT, nullable=False, server_default=EMPTY_OBJECT)
        )
        batch.add_column(sa.Column("draft_step", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=ZERO))
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.add_column(sa.Column("away_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", recreate="never") as batch:
        batch.drop_column("away_until")
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.drop_column("version")
        batch.drop_column("draft_step")
        batch.drop_column("draft_inputs")
