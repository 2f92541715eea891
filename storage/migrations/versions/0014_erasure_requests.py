"""Erasure requests, ids only, so that an erasure can be applied again after a restore.

erasure_requests: one row per confirmed erasure (bot.domain.erasures): the panel, when, who
asked (a member id), the reason (checked to name nobody) and the erased entries as referral
ids with a subject id, a child's place or a draft row's key. The same goes to the ledger
file (ERASURE_LEDGER) outside the database: restoring a backup rolls this table back with
everything else, the file stays, and `python -m bot reapply-erasures` applies it again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("panel_id", ID, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("entries", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name="fk_erasure_requests_panel_id_panels"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_erasure_requests"),
    )
    op.create_index("ix_erasure_requests_panel_id", "erasure_requests", ["panel_id"])


def downgrade() -> None:
    op.drop_table("erasure_requests")
