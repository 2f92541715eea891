"""Periodic jobs once across instances; each planned meeting created once.

job_runs: where each periodic job stands (bot.kernel.jobs): when it is next due, when it
last started and finished, and how it ended; so that it runs once across instances and,
after a restart, when it is due rather than from scratch.
meetings.planned_on: the schedule's date a meeting fills (a moved meeting keeps it), with a
unique index on (panel_id, planned_on): two instances planning at once cannot both create
the same meeting. meetings.teams_outdated: a moved meeting whose Teams meeting still has
the old times, for the Graph sync job to move.

An existing database is filled in: each meeting's planned date is the date it was moved
from (the audit trail says "moved from YYYY-MM-DD ..."), else its local date in the panel's
time zone. Where two meetings of a panel already fill one date, the one that went furthest
(not cancelled, started, published) keeps it and the others keep none (NULL never clashes);
nothing is deleted. Columns and indexes are added in place on both dialects (no table is
recreated; see 0002).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from storage.sql.types import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_PER_DATE = "ix_meetings_panel_id_planned_on"
_MOVED = re.compile(r"^moved from (\d{4}-\d{2}-\d{2})\b")
# Which of two meetings on one planned date keeps it: the one that went furthest.
_RANK = {
    "minutes_approved": 0,
    "ended": 1,
    "in_progress": 2,
    "agenda_published": 3,
    "scheduled": 4,
    "cancelled": 5,
}

meetings = sa.table(
    "meetings",
    sa.column("id", sa.String(64)),
    sa.column("panel_id", sa.String(64)),
    sa.column("starts_at", UTCDateTime()),
    sa.column("status", sa.String(32)),
    sa.column("planned_on", sa.Date()),
)
panels = sa.table("panels", sa.column("id", sa.String(64)), sa.column("timezone", sa.String(64)))
audit_events = sa.table(
    "audit_events",
    sa.column("seq", sa.BigInteger()),
    sa.column("panel_id", sa.String(64)),
    sa.column("entity", sa.String(64)),
    sa.column("entity_id", sa.String(64)),
    sa.column("detail", sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.add_column(sa.Column("planned_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("teams_outdated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _fill_planned_dates(op.get_bind())
    op.create_index(ONE_PER_DATE, "meetings", ["panel_id", "planned_on"], unique=True)


def _fill_planned_dates(conn: sa.Connection) -> None:
    zones = {row.id: _zone(row.timezone) for row in conn.execute(sa.select(panels))}
    moved_from: dict[tuple[str, str], date] = {}
    moves = conn.execute(
        sa.select(audit_events)
        .where(audit_events.c.entity == "meeting", audit_events.c.detail.like("moved from %"))
        .order_by(audit_events.c.seq)
    )
    for event in moves:
        match = _MOVED.match(event.detail or "")
        if match and event.entity_id:
            # The first move's "from" is the date the planner gave the meeting.
            key = (event.panel_id, event.entity_id)
            moved_from.setdefault(key, date.fromisoformat(match.group(1)))
    holders: dict[tuple[str, date], Any] = {}
    for row in conn.execute(sa.select(meetings).order_by(meetings.c.starts_at, meetings.c.id)):
        day = moved_from.get((row.panel_id, row.id)) or _local_day(
            row.starts_at, zones.get(row.panel_id)
        )
        other = holders.get((row.panel_id, day))
        if other is None or _RANK.get(row.status, 9) < _RANK.get(other.status, 9):
            holders[(row.panel_id, day)] = row
    for (_panel_id, day), row in holders.items():
        conn.execute(meetings.update().where(meetings.c.id == row.id).values(planned_on=day))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def _local_day(starts_at: datetime, zone: ZoneInfo | None) -> date:
    at = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)
    return at.astimezone(zone or ZoneInfo("Europe/London")).date()


def downgrade() -> None:
    op.drop_index(ONE_PER_DATE, table_name="meetings")
    with op.batch_alter_table("meetings", recreate="never") as batch:
        batch.drop_column("teams_outdated")
        batch.drop_column("planned_on")
    op.drop_table("job_runs")
