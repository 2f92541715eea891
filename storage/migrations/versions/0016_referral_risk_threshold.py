"""Referrals keep the threshold of the risk matrix version they were scored with, so that a
panel's new matrix (a new version, another threshold) never changes how an existing
referral was judged, even once its version is in no configuration file.

Referrals scored before this revision were all scored with the shipped example matrix: those
whose version is the example's get its threshold; a referral of any other version keeps
none (its total is then not judged, only the criteria stored with it).

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The shipped example matrix as it stood at this revision (bot/kernel/risk_matrix_example.json),
# written out: a later change to that file must not change what this revision did.
EXAMPLE_VERSION = "example-2026.1"
EXAMPLE_THRESHOLD = 31


def upgrade() -> None:
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.add_column(sa.Column("risk_threshold", sa.Integer(), nullable=True))
    referrals = sa.table(
        "referrals",
        sa.column("risk_threshold", sa.Integer()),
        sa.column("risk_matrix_version", sa.String()),
        sa.column("risk_total", sa.Integer()),
    )
    op.execute(
        referrals.update()
        .where(
            referrals.c.risk_matrix_version == EXAMPLE_VERSION,
            referrals.c.risk_total.is_not(None),
        )
        .values(risk_threshold=EXAMPLE_THRESHOLD)
    )


def downgrade() -> None:
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.drop_column("risk_threshold")
