"""Approved minutes go to members as a Word file through Teams' file consent card.

file_offers: one meeting's minutes offered to one member; the consent card's context, which
the member's client sends back and anyone could forge, carries only the offer's id, and the
offer says what, to whom, until when, and whether it was used (offered, uploading, sent,
declined).
minutes_links: a panel whose coordinator set whether its minutes may also go by signed link
(no row: allowed, as before this revision).

Revision ID: 0022_file_offers
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0022_file_offers"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_offers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("panel_id", sa.String(64), nullable=False),
        sa.Column("meeting_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["panel_id"], ["panels.id"], name="fk_file_offers_panel_id_panels"),
        sa.PrimaryKeyConstraint("id", name="pk_file_offers"),
    )
    op.create_index("ix_file_offers_panel_id", "file_offers", ["panel_id"], unique=False)
    op.create_index("ix_file_offers_meeting_id", "file_offers", ["meeting_id"], unique=False)
    op.create_table(
        "minutes_links",
        sa.Column("panel_id", sa.String(64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name="fk_minutes_links_panel_id_panels"
        ),
        sa.PrimaryKeyConstraint("panel_id", name="pk_minutes_links"),
    )


def downgrade() -> None:
    op.drop_table("minutes_links")
    op.drop_index("ix_file_offers_meeting_id", table_name="file_offers")
    op.drop_index("ix_file_offers_panel_id", table_name="file_offers")
    op.drop_table("file_offers")
