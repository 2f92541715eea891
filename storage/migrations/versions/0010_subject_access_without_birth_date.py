"""Subject access searches for someone recorded without a date of birth: the date becomes
optional and the postcode they were recorded at is kept instead (it tells two people of one
name apart). Only while the search's links work, as before (storage.inventory).

Revision ID: 0010
Revises: 0009 (which revises 0011)
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subject_access_exports") as batch:
        batch.alter_column("date_of_birth", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("postcode", sa.String(16), nullable=True))


def downgrade() -> None:
    # Searches without a date of birth cannot be kept by the older schema: they expire
    # within a day anyway.
    op.execute("DELETE FROM subject_access_exports WHERE date_of_birth IS NULL")
    with op.batch_alter_table("subject_access_exports") as batch:
        batch.drop_column("postcode")
        batch.alter_column("date_of_birth", existing_type=sa.Date(), nullable=False)
