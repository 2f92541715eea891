"""The initial schema: every table, and the triggers that keep the audit trail append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.sql.schema import SchemaItem

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
ENUM = sa.String(length=32)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY = "audit_events is append-only"


def _id() -> sa.Column[str]:
    return sa.Column("id", ID, nullable=False)


def _panel_id(table: str) -> list[SchemaItem]:
    """The owning panel's id and its foreign key."""
    return [
        sa.Column("panel_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["panel_id"], ["panels.id"], name=f"fk_{table}_panel_id_panels"),
    ]


def _instant(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, *, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "panels",
        _id(),
        _text("name", nullable=False),
        _text("team_id", nullable=False),
        _text("tenant_id", nullable=False),
        _text("channel_id"),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("case_prefix", sa.String(length=6), nullable=False),
        sa.Column("isa_version", sa.String(length=32), nullable=False),
        _text("isa_text", nullable=False),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_panels"),
        sa.UniqueConstraint("team_id", name="uq_panels_team_id"),
    )

    op.create_table(
        "agencies",
        _id(),
        *_panel_id("agencies"),
        _text("name", nullable=False),
        _text("name_key", nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        _flag("active"),
        sa.PrimaryKeyConstraint("id", name="pk_agencies"),
    )
    _index("agencies", "panel_id")
    _index("agencies", "panel_id", "name_key")

    op.create_table(
        "members",
        _id(),
        *_panel_id("members"),
        sa.Column("aad_object_id", sa.String(length=128), nullable=False),
        _text("name", nullable=False),
        _text("email"),
        sa.Column("agency_id", ID, nullable=True),
        sa.Column("roles", sa.String(length=200), nullable=False),
        _flag("active"),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.UniqueConstraint("panel_id", "aad_object_id", name="uq_members_panel_id_aad_object_id"),
    )
    _index("members", "panel_id")
    _index("members", "aad_object_id")

    op.create_table(
        "isa_acceptances",
        _id(),
        *_panel_id("isa_acceptances"),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        _instant("accepted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_isa_acceptances"),
    )
    _index("isa_acceptances", "panel_id")
    _index("isa_acceptances", "panel_id", "member_id")

    op.create_table(
        "referrals",
        _id(),
        *_panel_id("referrals"),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("reference_key", sa.String(length=64), nullable=False),
        sa.Column("referrer_member_id", ID, nullable=False),
        sa.Column("referring_agency_id", ID, nullable=True),
        sa.Column("category", ENUM, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        _text("relationship"),
        sa.Column("incidents_last_12_months", sa.Integer(), nullable=False),
        _flag("incidents_rising"),
        _text("tried_already"),
        _flag("multi_professional_meeting_held"),
        _text("discussed_with"),
        sa.Column("agencies_involved", JSON_DOCUMENT, nullable=False),
        sa.Column("children", JSON_DOCUMENT, nullable=False),
        _flag("consent_aware"),
        _flag("consent_consented"),
        _text("consent_without_consent_reason"),
        sa.Column("risk_answers", JSON_DOCUMENT, nullable=False),
        sa.Column("risk_matrix_version", sa.String(length=32), nullable=True),
        sa.Column("risk_total", sa.Integer(), nullable=True),
        _flag("criteria_high_risk"),
        _flag("criteria_potential_escalation"),
        _text("criteria_professional_judgement"),
        sa.Column("decline_reason", ENUM, nullable=True),
        _text("decline_note"),
        _text("more_info_question"),
        sa.Column("case_id", ID, nullable=True),
        _instant("created_at"),
        _instant("submitted_at", nullable=True),
        _instant("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_referrals"),
        sa.UniqueConstraint(
            "panel_id", "reference_key", name="uq_referrals_panel_id_reference_key"
        ),
    )
    _index("referrals", "panel_id")
    _index("referrals", "panel_id", "created_at")
    _index("referrals", "panel_id", "referrer_member_id")

    op.create_table(
        "referral_subjects",
        _id(),
        *_panel_id("referral_subjects"),
        sa.Column("referral_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", ENUM, nullable=False),
        _text("name", nullable=False),
        sa.Column("aliases", JSON_DOCUMENT, nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        _text("address"),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        _flag("safe_to_call"),
        _text("vulnerabilities"),
        sa.Column("language", sa.String(length=64), nullable=True),
        _flag("interpreter_needed"),
        _text("match_name", nullable=False),
        sa.Column("match_postcode", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_referral_subjects"),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name="fk_referral_subjects_referral_id_referrals",
            ondelete="CASCADE",
        ),
    )
    _index("referral_subjects", "panel_id")
    _index("referral_subjects", "referral_id")
    _index("referral_subjects", "panel_id", "match_name")

    op.create_table(
        "cases",
        _id(),
        *_panel_id("cases"),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("reference_key", sa.String(length=64), nullable=False),
        sa.Column("referral_id", ID, nullable=True),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("risk_level", ENUM, nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        _flag("has_children"),
        sa.Column("lead_agency_id", ID, nullable=True),
        _text("lead_officer"),
        _text("keeps_victim_informed"),
        _instant("victim_last_updated_at", nullable=True),
        sa.Column("closure_reason", ENUM, nullable=True),
        _text("closure_note"),
        _instant("opened_at"),
        _instant("first_heard_at", nullable=True),
        _instant("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("panel_id", "reference_key", name="uq_cases_panel_id_reference_key"),
    )
    _index("cases", "panel_id")
    _index("cases", "panel_id", "status")
    _index("cases", "panel_id", "opened_at")

    op.create_table(
        "case_invited_agencies",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        *_panel_id("case_invited_agencies"),
        sa.PrimaryKeyConstraint("case_id", "agency_id", name="pk_case_invited_agencies"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name="fk_case_invited_agencies_case_id_cases",
            ondelete="CASCADE",
        ),
    )
    _index("case_invited_agencies", "panel_id")
    _index("case_invited_agencies", "agency_id")

    op.create_table(
        "meetings",
        _id(),
        *_panel_id("meetings"),
        _instant("starts_at"),
        _instant("ends_at"),
        _instant("referral_deadline"),
        sa.Column("status", ENUM, nullable=False),
        _text("join_url"),
        _text("teams_meeting_id"),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        sa.UniqueConstraint("panel_id", "id", name="uq_meetings_panel_id_id"),
    )
    _index("meetings", "panel_id")
    _index("meetings", "panel_id", "starts_at")

    op.create_table(
        "agenda_items",
        _id(),
        *_panel_id("agenda_items"),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("title", nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("minutes_estimate", sa.Integer(), nullable=False),
        sa.Column("status", ENUM, nullable=False),
        _text("note"),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_items"),
        sa.ForeignKeyConstraint(
            ["panel_id", "meeting_id"],
            ["meetings.panel_id", "meetings.id"],
            name="fk_agenda_items_panel_id_meeting_id_meetings",
            ondelete="CASCADE",
        ),
    )
    _index("agenda_items", "panel_id")
    _index("agenda_items", "case_id")
    _index("agenda_items", "meeting_id", "position")

    op.create_table(
        "actions",
        _id(),
        *_panel_id("actions"),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("owner_agency_id", ID, nullable=False),
        _text("description", nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("set_by_member_id", ID, nullable=True),
        sa.Column("meeting_id", ID, nullable=True),
        _instant("created_at"),
        _instant("completed_at", nullable=True),
        _text("cancel_reason"),
        _flag("escalated"),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
    )
    _index("actions", "panel_id")
    _index("actions", "panel_id", "case_id")
    _index("actions", "panel_id", "status", "due_on")
    _index("actions", "panel_id", "owner_agency_id")

    op.create_table(
        "action_updates",
        _id(),
        *_panel_id("action_updates"),
        sa.Column("action_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        _text("note", nullable=False),
        sa.Column("author_member_id", ID, nullable=True),
        _instant("at"),
        sa.Column("circumstances_changed", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_action_updates"),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name="fk_action_updates_action_id_actions",
            ondelete="CASCADE",
        ),
    )
    _index("action_updates", "panel_id")
    _index("action_updates", "action_id")

    op.create_table(
        "information_requests",
        _id(),
        *_panel_id("information_requests"),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=True),
        _text("question", nullable=False),
        _instant("due_at"),
        sa.Column("status", ENUM, nullable=False),
        _text("answer"),
        sa.Column("answered_by_member_id", ID, nullable=True),
        _instant("answered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_information_requests"),
    )
    _index("information_requests", "panel_id")
    _index("information_requests", "panel_id", "case_id")
    _index("information_requests", "panel_id", "agency_id")

    op.create_table(
        "conversation_refs",
        _id(),
        *_panel_id("conversation_refs"),
        sa.Column("kind", ENUM, nullable=False),
        _text("conversation_id", nullable=False),
        sa.Column("member_id", ID, nullable=True),
        _text("service_url", nullable=False),
        sa.Column("reference", JSON_DOCUMENT, nullable=False),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_refs"),
        sa.UniqueConstraint(
            "panel_id", "conversation_id", name="uq_conversation_refs_panel_id_conversation_id"
        ),
    )
    _index("conversation_refs", "panel_id")
    _index("conversation_refs", "panel_id", "member_id")
    _index("conversation_refs", "panel_id", "kind")

    op.create_table(
        "outbox",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        _id(),
        *_panel_id("outbox"),
        _text("key", nullable=False),
        sa.Column("recipient_member_id", ID, nullable=True),
        sa.Column("conversation_ref_id", ID, nullable=True),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("state", ENUM, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        _instant("not_before"),
        _instant("created_at"),
        _instant("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("id", name="uq_outbox_id"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    _index("outbox", "panel_id")
    _index("outbox", "state", "not_before")

    op.create_table(
        "audit_events",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        _id(),
        *_panel_id("audit_events"),
        _instant("at"),
        sa.Column("actor_aad_object_id", sa.String(length=128), nullable=False),
        sa.Column("actor_member_id", ID, nullable=True),
        sa.Column("verb", ENUM, nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", ID, nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        _text("detail"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("id", name="uq_audit_events_id"),
    )
    _index("audit_events", "panel_id")
    _index("audit_events", "panel_id", "at")
    _index("audit_events", "panel_id", "entity", "entity_id")
    _make_audit_append_only()

    op.create_table(
        "processed_activities",
        _text("key", nullable=False),
        _instant("seen_at"),
        sa.PrimaryKeyConstraint("key", name="pk_processed_activities"),
    )
    _index("processed_activities", "seen_at")


def _make_audit_append_only() -> None:
    """The database itself refuses to change or remove an audit event."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    # Dropping a table drops its indexes and triggers; children go before their parents.
    for table in (
        "processed_activities",
        "audit_events",
        "outbox",
        "conversation_refs",
        "information_requests",
        "action_updates",
        "actions",
        "agenda_items",
        "meetings",
        "case_invited_agencies",
        "cases",
        "referral_subjects",
        "referrals",
        "isa_acceptances",
        "members",
        "agencies",
        "panels",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
