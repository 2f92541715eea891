"""Referrals keep the explanation typed in the justification whenever it is typed, not only
when professional judgement is ticked: it explains a potential escalation as well, and the
triage card and the case show it.

Referrals stored before this revision kept the text only with professional judgement; that
text is their explanation too.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.add_column(sa.Column("criteria_explanation", sa.Text(), nullable=True))
    referrals = sa.table(
        "referrals",
        sa.column("criteria_explanation", sa.Text()),
        sa.column("criteria_professional_judgement", sa.Text()),
    )
    op.execute(
        referrals.update()
        .where(referrals.c.criteria_professional_judgement.is_not(None))
        .values(criteria_explanation=referrals.c.criteria_professional_judgement)
    )


def downgrade() -> None:
    with op.batch_alter_table("referrals", recreate="never") as batch:
        batch.drop_column("criteria_explanation")
