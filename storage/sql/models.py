"""Typed table rows. Domain objects are not mapped: repositories copy between the two.

Every table of panel data carries an indexed `panel_id` that references `panels`, and every
repository query filters on it. Relationships use `lazy="raise"` so an accidental lazy load
fails loudly instead of blocking the event loop.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.sql.types import UTCDateTime, json_document

# Deterministic constraint names, spelled out again in the migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
ENUM = String(32)
# A boolean column's default as both databases accept it ('0' reads as false on both).
FALSE = "0"
# BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PanelScoped:
    """A row of one panel's data: the owning panel is required, indexed and must exist."""

    panel_id: Mapped[str] = mapped_column(ID, ForeignKey("panels.id"), index=True)


class PanelRow(Base):
    __tablename__ = "panels"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str] = mapped_column(Text, unique=True)
    tenant_id: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    case_prefix: Mapped[str] = mapped_column(String(6))
    isa_version: Mapped[str] = mapped_column(String(32))
    isa_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Revision 0008: raised by every transaction that changes what the agenda is built from
    # (storage.sql.unit_of_work.AGENDA_INPUTS); never written from a Panel entity.
    data_version: Mapped[int] = mapped_column(Integer, server_default="0")

    # The database gives data_version its 0 (RETURNING it at the INSERT).
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 (SQLAlchemy reads it once)


class AgencyRow(PanelScoped, Base):
    __tablename__ = "agencies"
    # Unique since revision 0005: one agency of a name per panel, whatever the case.
    __table_args__ = (Index("ix_agencies_panel_id_name_key", "panel_id", "name_key", unique=True),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # casefold()ed name: the same case-insensitive match on every backend.
    name_key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(ENUM)
    active: Mapped[bool] = mapped_column(Boolean)


class MemberRow(PanelScoped, Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("panel_id", "aad_object_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    agency_id: Mapped[str | None] = mapped_column(ID)
    # Sorted, comma-separated role values: "chair,coordinator".
    roles: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    away_until: Mapped[date | None] = mapped_column(Date)
    # Revision 0011: invited until the person accepts; when they last chose this panel.
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Revision 0020_member_mri: the id Teams gives the person in the bot's chats.
    teams_user_id: Mapped[str | None] = mapped_column(Text)


class IsaAcceptanceRow(PanelScoped, Base):
    __tablename__ = "isa_acceptances"
    __table_args__ = (
        Index("ix_isa_acceptances_panel_id_member_id", "panel_id", "member_id"),
        # Revision 0005: a member accepts each version once (a double click stores one).
        Index(
            "ix_isa_acceptances_panel_id_member_id_version",
            "panel_id",
            "member_id",
            "version",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID)
    version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferralRow(PanelScoped, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("panel_id", "reference_key"),
        Index("ix_referrals_panel_id_created_at", "panel_id", "created_at"),
        Index("ix_referrals_panel_id_referrer_member_id", "panel_id", "referrer_member_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    reference_key: Mapped[str] = mapped_column(String(64))
    referrer_member_id: Mapped[str] = mapped_column(ID)
    referring_agency_id: Mapped[str | None] = mapped_column(ID)
    category: Mapped[str] = mapped_column(ENUM)
    status: Mapped[str] = mapped_column(ENUM)
    relationship_: Mapped[str | None] = mapped_column("relationship", Text)
    incidents_last_12_months: Mapped[int] = mapped_column(Integer)
    incidents_rising: Mapped[bool] = mapped_column(Boolean)
    tried_already: Mapped[str | None] = mapped_column(Text)
    multi_professional_meeting_held: Mapped[bool] = mapped_column(Boolean)
    discussed_with: Mapped[str | None] = mapped_column(Text)
    agencies_involved: Mapped[list[str]] = mapped_column(json_document())
    children: Mapped[list[dict[str, Any]]] = mapped_column(json_document())
    consent_aware: Mapped[bool] = mapped_column(Boolean)
    consent_consented: Mapped[bool] = mapped_column(Boolean)
    consent_without_consent_reason: Mapped[str | None] = mapped_column(Text)
    risk_answers: Mapped[dict[str, str]] = mapped_column(json_document())
    risk_matrix_version: Mapped[str | None] = mapped_column(String(32))
    risk_total: Mapped[int | None] = mapped_column(Integer)
    # The threshold of the matrix version the total was scored with (revision 0016).
    risk_threshold: Mapped[int | None] = mapped_column(Integer)
    criteria_high_risk: Mapped[bool] = mapped_column(Boolean)
    criteria_potential_escalation: Mapped[bool] = mapped_column(Boolean)
    criteria_professional_judgement: Mapped[str | None] = mapped_column(Text)
    criteria_explanation: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(ENUM)
    decline_note: Mapped[str | None] = mapped_column(Text)
    more_info_question: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the referrer typed, as typed; rows from before revision 0002 hold {}.
    draft_inputs: Mapped[dict[str, Any]] = mapped_column(json_document(), server_default="{}")
    draft_step: Mapped[str | None] = mapped_column(String(64))
    # The optimistic lock: the repository updates a row only from the version it holds and
    # stores the next one. Rows from before revision 0002 hold 0.
    version: Mapped[int] = mapped_column(Integer, server_default="0")

    subjects: Mapped[list[SubjectRow]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SubjectRow.position",
    )


class SubjectRow(PanelScoped, Base):
    __tablename__ = "referral_subjects"
    __table_args__ = (Index("ix_referral_subjects_panel_id_match_name", "panel_id", "match_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ID, ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(ENUM)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(json_document())
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(64))
    safe_to_call: Mapped[bool] = mapped_column(Boolean)
    vulnerabilities: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(64))
    interpreter_needed: Mapped[bool] = mapped_column(Boolean)
    # The domain's normalised forms, stored so the repeat-referral check is one indexed query.
    match_name: Mapped[str] = mapped_column(Text)
    match_postcode: Mapped[str | None] = mapped_column(String(16))


class CaseRow(PanelScoped, Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("panel_id", "reference_key"),
        Index("ix_cases_panel_id_status", "panel_id", "status"),
        Index("ix_cases_panel_id_opened_at", "panel_id", "opened_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    # casefold()ed reference: lookups and uniqueness ignore case (people type cm-2026-014).
    reference_key: Mapped[str] = mapped_column(String(64))
    referral_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(ENUM)
    risk_level: Mapped[str] = mapped_column(ENUM)
    risk_score: Mapped[int | None] = mapped_column(Integer)
    has_children: Mapped[bool] = mapped_column(Boolean)
    lead_agency_id: Mapped[str | None] = mapped_column(ID)
    lead_officer: Mapped[str | None] = mapped_column(Text)
    keeps_victim_informed: Mapped[str | None] = mapped_column(Text)
    victim_last_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closure_reason: Mapped[str | None] = mapped_column(ENUM)
    closure_note: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_meeting_id: Mapped[str | None] = mapped_column(ID)
    # The optimistic lock (revision 0009; rows from before it hold 0).
    version: Mapped[int] = mapped_column(Integer, server_default="0")

    invited_agencies: Mapped[list[CaseInvitedAgencyRow]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CaseInvitedAgencyRow.agency_id",
    )


class CaseInvitedAgencyRow(PanelScoped, Base):
    __tablename__ = "case_invited_agencies"

    case_id: Mapped[str] = mapped_column(
        ID, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class MeetingRow(PanelScoped, Base):
    __tablename__ = "meetings"
    __table_args__ = (
        # The target of agenda_items' (panel_id, meeting_id) reference.
        UniqueConstraint("panel_id", "id"),
        Index("ix_meetings_panel_id_starts_at", "panel_id", "starts_at"),
        # Revision 0013: one meeting per panel and planned date (NULLs, meetings not made
        # by the planner, never clash), so two instances planning at once create it once.
        Index("ix_meetings_panel_id_planned_on", "panel_id", "planned_on", unique=True),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    referral_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(ENUM)
    join_url: Mapped[str | None] = mapped_column(Text)
    teams_meeting_id: Mapped[str | None] = mapped_column(Text)
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agenda_manual: Mapped[bool] = mapped_column(Boolean, server_default=FALSE)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chat_conversation_id: Mapped[str | None] = mapped_column(Text)
    current_item_id: Mapped[str | None] = mapped_column(ID)
    step: Mapped[int] = mapped_column(Integer, server_default="0")
    # The optimistic lock (revision 0009; rows from before it hold 0); it guards the
    # meeting's agenda items too (one aggregate).
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    # Revision 0013: the schedule's date the meeting fills, and whether its Teams meeting
    # still has the times from before a move.
    planned_on: Mapped[date | None] = mapped_column(Date)
    teams_outdated: Mapped[bool] = mapped_column(Boolean, server_default=FALSE)
    # Revision 0017: an urgent meeting, called for the cases it names.
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=FALSE)
    # Revision 0021: its Outlook calendar event, and the meeting chat the bot is in.
    calendar_event_id: Mapped[str | None] = mapped_column(Text)
    teams_chat_id: Mapped[str | None] = mapped_column(Text)


class AgendaItemRow(PanelScoped, Base):
    __tablename__ = "agenda_items"
    __table_args__ = (
        # Saved on its own, so the database checks the meeting is of the same panel.
        ForeignKeyConstraint(
            ["panel_id", "meeting_id"],
            ["meetings.panel_id", "meetings.id"],
            ondelete="CASCADE",
        ),
        Index("ix_agenda_items_meeting_id_position", "meeting_id", "position"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(ENUM)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(ID, index=True)
    minutes_estimate: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(ENUM)
    note: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    action_ids: Mapped[list[str]] = mapped_column(json_document(), server_default="[]")


class MeetingAttendanceRow(PanelScoped, Base):
    """A member acknowledged the confidentiality statement: present, for their agency."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (
        ForeignKeyConstraint(
            ["panel_id", "meeting_id"],
            ["meetings.panel_id", "meetings.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("meeting_id", "member_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ID)
    member_id: Mapped[str] = mapped_column(ID)
    agency_id: Mapped[str | None] = mapped_column(ID)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingMinutesRow(PanelScoped, Base):
    """A meeting's minutes: one per meeting, their content one JSON document."""

    __tablename__ = "meeting_minutes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["panel_id", "meeting_id"],
            ["meetings.panel_id", "meetings.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("meeting_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(ENUM)
    # The optimistic lock, as for referrals.
    version: Mapped[int] = mapped_column(Integer)
    meeting_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_member_id: Mapped[str | None] = mapped_column(ID)
    document: Mapped[dict[str, Any]] = mapped_column(json_document())


class ActionRow(PanelScoped, Base):
    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_panel_id_case_id", "panel_id", "case_id"),
        Index("ix_actions_panel_id_status_due_on", "panel_id", "status", "due_on"),
        Index("ix_actions_panel_id_owner_agency_id", "panel_id", "owner_agency_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ID)
    owner_agency_id: Mapped[str] = mapped_column(ID)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(ENUM)
    set_by_member_id: Mapped[str | None] = mapped_column(ID)
    meeting_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    escalated: Mapped[bool] = mapped_column(Boolean)
    # The optimistic lock (revision 0009; rows from before it hold 0).
    version: Mapped[int] = mapped_column(Integer, server_default="0")

    updates: Mapped[list[ActionUpdateRow]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ActionUpdateRow.position",
    )


class ActionUpdateRow(PanelScoped, Base):
    __tablename__ = "action_updates"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    action_id: Mapped[str] = mapped_column(
        ID, ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    # Order of arrival: updates are appended, never rewritten.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(ENUM)
    note: Mapped[str] = mapped_column(Text)
    author_member_id: Mapped[str | None] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    circumstances_changed: Mapped[bool | None] = mapped_column(Boolean)


class InformationRequestRow(PanelScoped, Base):
    __tablename__ = "information_requests"
    __table_args__ = (
        Index("ix_information_requests_panel_id_case_id", "panel_id", "case_id"),
        Index("ix_information_requests_panel_id_agency_id", "panel_id", "agency_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ID)
    agency_id: Mapped[str] = mapped_column(ID)
    meeting_id: Mapped[str | None] = mapped_column(ID)
    question: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(ENUM)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_member_id: Mapped[str | None] = mapped_column(ID)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The optimistic lock (revision 0009; rows from before it hold 0).
    version: Mapped[int] = mapped_column(Integer, server_default="0")


class ConversationRefRow(PanelScoped, Base):
    __tablename__ = "conversation_refs"
    __table_args__ = (
        UniqueConstraint("panel_id", "conversation_id"),
        Index("ix_conversation_refs_panel_id_member_id", "panel_id", "member_id"),
        Index("ix_conversation_refs_panel_id_kind", "panel_id", "kind"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(ENUM)
    conversation_id: Mapped[str] = mapped_column(Text)
    member_id: Mapped[str | None] = mapped_column(ID)
    service_url: Mapped[str] = mapped_column(Text)
    reference: Mapped[dict[str, Any]] = mapped_column(json_document())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxRow(PanelScoped, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_not_before", "state", "not_before"),
        # Revision 0006: a member's latest deliveries (is their SPOC reachable?).
        Index("ix_outbox_recipient_member_id_created_at", "recipient_member_id", "created_at"),
        # Revision 0012: a lane's rows still sending, and its recent sends (its history).
        Index("ix_outbox_lane_state_sent_at", "lane", "state", "sent_at"),
    )

    # Insertion order breaks ties between deliveries queued at the same instant.
    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    recipient_member_id: Mapped[str | None] = mapped_column(ID)
    conversation_ref_id: Mapped[str | None] = mapped_column(ID)
    payload: Mapped[dict[str, Any]] = mapped_column(json_document())
    state: Mapped[str] = mapped_column(ENUM)
    attempts: Mapped[int] = mapped_column(Integer)
    last_status: Mapped[int | None] = mapped_column(Integer)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed: Mapped[int] = mapped_column(Integer, server_default="0")
    # Revision 0006: the message Teams made of a sent row (an "update" row replaces it).
    activity_id: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(Text)
    # Revision 0012: the conversation whose order the row keeps (OutgoingDelivery.lane).
    lane: Mapped[str | None] = mapped_column(Text)


class OutboxLaneRow(Base):
    """Revision 0012, infrastructure: which bot instance holds a conversation's lane (its
    rows are claimed by that instance alone) and until when (bot.teams.outbox)."""

    __tablename__ = "outbox_lanes"

    lane_key: Mapped[str] = mapped_column(Text, primary_key=True)
    owner: Mapped[str] = mapped_column(Text)
    leased_until: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxTenantPaceRow(Base):
    """Revision 0012, infrastructure: when the tenant's next request to Teams may go, shared
    by every instance (bot.teams.outbox.budget)."""

    __tablename__ = "outbox_tenant_pace"

    tenant: Mapped[str] = mapped_column(Text, primary_key=True)
    next_slot: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who took the last turns, and until when another instance counts as sending too.
    last_owner: Mapped[str] = mapped_column(Text)
    shared_until: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderRow(PanelScoped, Base):
    """Revision 0006: a reminder queued once (its key is unique across runs)."""

    __tablename__ = "reminders"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(ENUM)
    subject_id: Mapped[str] = mapped_column(ID)
    recipient_member_id: Mapped[str | None] = mapped_column(ID)
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionCardRow(PanelScoped, Base):
    """Revision 0006: which outbox rows carried an action's card (to update every copy)."""

    __tablename__ = "action_cards"
    __table_args__ = (
        Index(
            "ix_action_cards_panel_id_action_id_created_at", "panel_id", "action_id", "created_at"
        ),
    )

    delivery_id: Mapped[str] = mapped_column(ID, primary_key=True)
    action_id: Mapped[str] = mapped_column(ID)
    member_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEventRow(PanelScoped, Base):
    """Append-only; triggers in the migration make the database refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_panel_id_entity_entity_id", "panel_id", "entity", "entity_id"),
        Index("ix_audit_events_panel_id_at", "panel_id", "at"),
    )

    # Insertion order breaks ties between events of the same instant.
    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_aad_object_id: Mapped[str] = mapped_column(String(128))
    actor_member_id: Mapped[str | None] = mapped_column(ID)
    verb: Mapped[str] = mapped_column(ENUM)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(ID)
    # The domain's `where` (a conversation kind); WHERE is an SQL keyword.
    location: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class ProcessedActivityRow(Base):
    """Infrastructure, not panel data: which incoming activities were already handled."""

    __tablename__ = "processed_activities"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class JobRunRow(Base):
    """Revision 0013, infrastructure: where each periodic job stands (bot.kernel.jobs), so
    that it runs once across instances and resumes when due after a restart."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_due: Mapped[datetime] = mapped_column(UTCDateTime())
    last_started: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)


class CounterRow(Base):
    """Revision 0015: the last reference number given, per panel, kind (referral, case) and
    year; numbers come from here so they are never reused and never out of order."""

    __tablename__ = "reference_counters"

    panel_id: Mapped[str] = mapped_column(ID, ForeignKey("panels.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class FileOfferRow(PanelScoped, Base):
    """Revision 0022: approved minutes offered to a member through Teams' file consent card;
    the card's context carries only this row's id (bot.domain.file_offer)."""

    __tablename__ = "file_offers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ID, index=True)
    member_id: Mapped[str] = mapped_column(ID)
    delivery_id: Mapped[str] = mapped_column(ID)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MinutesLinksRow(Base):
    """Revision 0022: a panel whose coordinator set whether its minutes may also go by
    signed link; no row, the default (allowed)."""

    __tablename__ = "minutes_links"

    panel_id: Mapped[str] = mapped_column(ID, ForeignKey("panels.id"), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- data protection (revision 0007) ------------------------------------------------------


class RetentionMarkRow(PanelScoped, Base):
    """A case or referral whose personal data the retention job anonymised."""

    __tablename__ = "retention_marks"

    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ID, primary_key=True)
    anonymised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferralRepeatRow(PanelScoped, Base):
    """Whether a referral was a repeat, kept before its people were anonymised or erased, so
    the quarterly figures stay as they were."""

    __tablename__ = "referral_repeats"

    referral_id: Mapped[str] = mapped_column(ID, primary_key=True)
    repeat: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ErasureRequestRow(PanelScoped, Base):
    """Revision 0014: a confirmed erasure, ids only (bot.domain.erasures); the ledger file
    (ERASURE_LEDGER) holds the same outside the database, which a restore cannot take back."""

    __tablename__ = "erasure_requests"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(ID)
    reason: Mapped[str] = mapped_column(Text)
    entries: Mapped[list[dict[str, str]]] = mapped_column(json_document())


class SubjectAccessExportRow(PanelScoped, Base):
    """A coordinator's subject access search, kept while its download links work."""

    __tablename__ = "subject_access_exports"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(Text)
    # Revision 0010: optional, and the postcode kept to tell two people of one name apart.
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    postcode: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
