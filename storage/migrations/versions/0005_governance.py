"""Governance: one agency of a name per panel, one acceptance per member and agreement version.

agencies: the index on (panel_id, name_key) becomes unique, so adding an agency (by hand or
from a CSV import) cannot create a second one of the same name, whatever the case, even when
two coordinators add it at once.
isa_acceptances: a unique index on (panel_id, member_id, version), so a double click on
"I accept" stores one acceptance.

Indexes are dropped and created in place on both dialects (no table is recreated; see 0002).
Upgrading fails, and changes nothing, if a panel already holds two agencies of the same name
or a member accepted one version twice: merge those rows first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCY_NAMES = "ix_agencies_panel_id_name_key"
ONE_ACCEPTANCE = "ix_isa_acceptances_panel_id_member_id_version"


def upgrade() -> None:
    op.drop_index(AGENCY_NAMES, table_name="agencies")
    op.create_index(AGENCY_NAMES, "agencies", ["panel_id", "name_key"], unique=True)
    op.create_index(
        ONE_ACCEPTANCE, "isa_acceptances", ["panel_id", "member_id", "version"], unique=True
    )


def downgrade() -> None:
    op.drop_index(ONE_ACCEPTANCE, table_name="isa_acceptances")
    op.drop_index(AGENCY_NAMES, table_name="agencies")
    op.create_index(AGENCY_NAMES, "agencies", ["panel_id", "name_key"])
