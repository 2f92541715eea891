"""Data protection: what retention anonymised, repeat answers kept for the statistics, and
subject access searches.

New tables, no change to existing ones:
- `retention_marks`: each case or referral (entity, entity id) the retention job anonymised,
  and when, so the job passes over it next time;
- `referral_repeats`: whether a referral was a repeat, kept before its people were
  anonymised or erased (matching can no longer tell afterwards);
- `subject_access_exports`: a coordinator's subject access search (the person's name and
  date of birth) while its download links work; the retention job deletes expired ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.sql.schema import SchemaItem

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
TABLES = ("retention_marks", "referral_repeats", "subject_access_exports")


def _panel_id(table: str) -> list[SchemaItem]:
    """The owning panel's id and its foreign key."""
    return [
        sa.Column("panel_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["panel_id"], ["panels.id"], name=f"fk_{table}_panel_id_panels"),
    ]


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "retention_marks",
        *_panel_id("retention_marks"),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        _instant("anonymised_at"),
        sa.PrimaryKeyConstraint("entity", "entity_id", name="pk_retention_marks"),
    )
    op.create_table(
        "referral_repeats",
        *_panel_id("referral_repeats"),
        sa.Column("referral_id", ID, nullable=False),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        _instant("recorded_at"),
        sa.PrimaryKeyConstraint("referral_id", name="pk_referral_repeats"),
    )
    op.create_table(
        "subject_access_exports",
        sa.Column("id", ID, nullable=False),
        *_panel_id("subject_access_exports"),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_subject_access_exports"),
    )
    for table in TABLES:
        op.create_index(f"ix_{table}_panel_id", table, ["panel_id"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
