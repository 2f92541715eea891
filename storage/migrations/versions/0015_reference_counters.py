"""Reference numbers from a counter per panel, kind and year.

reference_counters: the last number given, per panel, kind ("referral", "case") and year.
Numbers used to be "how many this year, plus one, skipping those taken", so a new case could
get CM-2026-003 after CM-2026-014 existed; a counter never goes back and never gives a number
twice (storage.sql.counters).

An existing database is filled in: each counter starts at the highest number of its panel,
kind and year found in the references already given (RF-2026-0049, CM-2026-014).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PREFIX-YEAR-NUMBER, the prefix being RF for referrals and the panel's own for cases.
_REFERENCE = re.compile(r"^[A-Z]{1,6}-(\d{4})-(\d{1,6})$")

counters = sa.table(
    "reference_counters",
    sa.column("panel_id", sa.String(64)),
    sa.column("kind", sa.String(16)),
    sa.column("year", sa.Integer),
    sa.column("last", sa.Integer),
)


def upgrade() -> None:
    op.create_table(
        "reference_counters",
        sa.Column("panel_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name="fk_reference_counters_panel_id_panels"
        ),
        sa.PrimaryKeyConstraint("panel_id", "kind", "year", name="pk_reference_counters"),
    )
    op.create_index(
        "ix_reference_counters_panel_id", "reference_counters", ["panel_id"], unique=False
    )
    bind = op.get_bind()
    highest: dict[tuple[str, str, int], int] = {}
    for kind, table in (("referral", "referrals"), ("case", "cases")):
        rows = bind.execute(sa.text(f"SELECT panel_id, reference FROM {table}"))  # noqa: S608
        for panel_id, reference in rows:
            found = _REFERENCE.match(reference or "")
            if found is None:
                continue
            key = (panel_id, kind, int(found.group(1)))
            highest[key] = max(highest.get(key, 0), int(found.group(2)))
    if highest:
        op.bulk_insert(
            counters,
            [
                {"panel_id": panel_id, "kind": kind, "year": year, "last": last}
                for (panel_id, kind, year), last in sorted(highest.items())
            ],
        )


def downgrade() -> None:
    op.drop_index("ix_reference_counters_panel_id", table_name="reference_counters")
    op.drop_table("reference_counters")
