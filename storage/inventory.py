"""The one inventory of personal data: every table and column that can hold it, what kind it
is, and how erasure, retention and subject access reach it.

SECURITY.md, principle 6. Every text, JSON and binary column of the schema is either listed
in `INVENTORY` or declared in `NO_PERSONAL_DATA` with the reason; a test fails for a column
that is in neither (tests/security/test_erasure_scan.py), and another plants one invented
person in every `Holding.subject` place through the product's own flows, erases them, and
scans every column of every table on SQLite and PostgreSQL for what is left.

Used by the code, not only read: storage sweeps the free text of every `subject` holding of a
panel for an erased person's identifiers (`SWEPT`), and empties a delivered outbox row down
to `KEPT_AFTER_DELIVERY`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class Kind(StrEnum):
    """What sort of personal data a column holds."""

    IDENTITY = "identity"  # a referred person's names, aliases, date of birth
    CONTACT = "contact"  # their address, postcode, phone
    SPECIAL = "special"  # vulnerabilities, language: special category or close to it
    NARRATIVE = "narrative"  # free text professionals wrote about people
    COPY = "copy"  # a copy of the above: a card owed or sent, a draft as typed
    SEARCH = "search"  # who a coordinator looked for
    STAFF = "staff"  # panel members' own data: names, e-mail, Entra object ids
    PSEUDONYMOUS = "pseudonymous"  # Teams' ids of chats and messages


class Erasure(StrEnum):
    """How `erase` (and, where it says so, retention) removes it."""

    OVERWRITE = "overwrite"  # the value becomes "[erased]" (free text) or empty
    REDACT_JSON = "redact_json"  # the person's entries or strings inside the document go
    DELETE_ROW = "delete_row"  # the row is deleted
    NOT_SUBJECT = "not_subject"  # holds no referred person's data; kept as the note says


@dataclass(frozen=True)
class Holding:
    """One column that can hold personal data."""

    table: str
    column: str
    kind: Kind
    erasure: Erasure
    # Can hold a referred person's data: `erase` reaches it, and the erasure scan plants the
    # person there and checks it is gone.
    subject: bool
    # What erase, retention and subject access do with it, in a line.
    note: str


def _h(table: str, column: str, kind: Kind, erasure: Erasure, note: str) -> Holding:
    return Holding(table, column, kind, erasure, erasure is not Erasure.NOT_SUBJECT, note)


ERASED_ENTRY = "the person's entry overwritten by erase_person; anonymised by retention; in the SAR"
NARRATIVE = "overwritten when the referral or case is about the person; swept; retention; SAR"

INVENTORY: tuple[Holding, ...] = (
    # Referrals and their subjects (bot.domain.retention.scrub_subject, scrub_narratives).
    _h("referral_subjects", "name", Kind.IDENTITY, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "match_name", Kind.IDENTITY, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "aliases", Kind.IDENTITY, Erasure.REDACT_JSON, ERASED_ENTRY),
    _h("referral_subjects", "address", Kind.CONTACT, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "postcode", Kind.CONTACT, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "match_postcode", Kind.CONTACT, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "phone", Kind.CONTACT, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "vulnerabilities", Kind.SPECIAL, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referral_subjects", "language", Kind.SPECIAL, Erasure.OVERWRITE, ERASED_ENTRY),
    _h("referrals", "children", Kind.IDENTITY, Erasure.REDACT_JSON, ERASED_ENTRY),
    _h("referrals", "relationship", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("referrals", "tried_already", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("referrals", "discussed_with", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("referrals", "consent_without_consent_reason", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h(
        "referrals", "criteria_professional_judgement", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE
    ),
    _h("referrals", "criteria_explanation", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("referrals", "decline_note", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("referrals", "more_info_question", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h(
        "referrals",
        "draft_inputs",
        Kind.COPY,
        Erasure.REDACT_JSON,
        "what the referrer typed: emptied with the narratives; a draft naming the person is "
        "found by its rows (bot.domain.retention.draft_entries) and emptied; swept",
    ),
    # Cases and what hangs off them (bot.features.records.dataprotection.scrub_case_records).
    _h("cases", "closure_note", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("information_requests", "question", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("information_requests", "answer", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("actions", "description", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("actions", "cancel_reason", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("action_updates", "note", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("agenda_items", "note", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h("agenda_items", "summary", Kind.NARRATIVE, Erasure.OVERWRITE, NARRATIVE),
    _h(
        "agenda_items",
        "title",
        Kind.NARRATIVE,
        Erasure.OVERWRITE,
        "a case's reference, or any other business as typed: swept for the person",
    ),
    _h(
        "meeting_minutes",
        "document",
        Kind.NARRATIVE,
        Erasure.REDACT_JSON,
        "the case's entries and unmet actions overwritten (scrub_minutes); the rest swept",
    ),
    # Copies.
    _h(
        "outbox",
        "payload",
        Kind.COPY,
        Erasure.REDACT_JSON,
        "erase withdraws unsent cards that name the person and empties sent ones; every "
        "delivered row is emptied to KEPT_AFTER_DELIVERY when it is marked sent, and deleted "
        "OUTBOX_KEEP_DAYS later",
    ),
    _h(
        "subject_access_exports",
        "name",
        Kind.SEARCH,
        Erasure.DELETE_ROW,
        "the person's searches are deleted by erase, every search when its links expire",
    ),
    _h(
        "subject_access_exports",
        "postcode",
        Kind.SEARCH,
        Erasure.DELETE_ROW,
        "as the name (revision 0010)",
    ),
    # Not about referred people.
    _h(
        "members",
        "name",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "a member's own name, kept while they are on the panel's records",
    ),
    _h("members", "email", Kind.STAFF, Erasure.NOT_SUBJECT, "as the name"),
    _h("members", "aad_object_id", Kind.STAFF, Erasure.NOT_SUBJECT, "as the name"),
    _h(
        "members",
        "teams_user_id",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "as the name: the id Teams gives the member in the bot's chats (revision 0020)",
    ),
    _h(
        "cases",
        "keeps_victim_informed",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "the agency or officer who keeps the victim informed; in the SAR",
    ),
    _h(
        "cases",
        "lead_officer",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "the lead agency's officer, a professional; in the SAR",
    ),
    _h(
        "conversation_refs",
        "reference",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "Teams' conversation reference: the member's Teams name and ids",
    ),
    _h("conversation_refs", "conversation_id", Kind.PSEUDONYMOUS, Erasure.NOT_SUBJECT, "Teams"),
    _h(
        "audit_events",
        "actor_aad_object_id",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "who acted; the trail is append-only and never erased",
    ),
    _h(
        "audit_events",
        "detail",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "names no subject by rule (references, counts, the erasure's checked reason); the "
        "erasure scan proves it",
    ),
    _h(
        "erasure_requests",
        "reason",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "the erasure's reason, checked to name nobody (as in the audit trail); kept, with the "
        "ledger file, to apply the erasure again after a restore",
    ),
    _h(
        "erasure_requests",
        "requested_by",
        Kind.STAFF,
        Erasure.NOT_SUBJECT,
        "the member id of the coordinator who asked",
    ),
    _h(
        "processed_activities",
        "key",
        Kind.PSEUDONYMOUS,
        Erasure.NOT_SUBJECT,
        "chat and activity ids; deleted ACTIVITY_LEDGER_KEEP_DAYS after they were seen",
    ),
    _h("outbox", "conversation_id", Kind.PSEUDONYMOUS, Erasure.NOT_SUBJECT, "Teams' chat id"),
    _h("outbox", "activity_id", Kind.PSEUDONYMOUS, Erasure.NOT_SUBJECT, "Teams' message id"),
    _h(
        "outbox",
        "lane",
        Kind.PSEUDONYMOUS,
        Erasure.NOT_SUBJECT,
        "the row's conversation: panel and member ids, or Teams' chat id",
    ),
    _h(
        "outbox_lanes",
        "lane_key",
        Kind.PSEUDONYMOUS,
        Erasure.NOT_SUBJECT,
        "an outbox lane, as above; deleted when its instance lets it go, or an hour after "
        "its lease ran out",
    ),
    _h(
        "meetings",
        "chat_conversation_id",
        Kind.PSEUDONYMOUS,
        Erasure.NOT_SUBJECT,
        "the meeting chat's id",
    ),
    _h("panels", "channel_id", Kind.PSEUDONYMOUS, Erasure.NOT_SUBJECT, "the team channel's id"),
)

# Text columns that hold no personal data, and why. Columns named `id` or ending in `_id`
# whose type is the schema's own id type (String(64)) hold generated ids or Teams' tenant-wide
# ids and need no entry; every other text column is listed here or in INVENTORY.
NO_PERSONAL_DATA: Mapping[tuple[str, str], str] = {
    ("alembic_version", "version_num"): "the schema's revision",
    ("panels", "name"): "the panel's name",
    ("panels", "team_id"): "the Teams team's id",
    ("panels", "tenant_id"): "the organisation's tenant id",
    ("panels", "timezone"): "a zone name",
    ("panels", "case_prefix"): "a reference prefix",
    ("panels", "isa_version"): "the agreement's version",
    ("panels", "isa_text"): "the agreement's text, written by the council",
    ("agencies", "name"): "an organisation's name",
    ("agencies", "name_key"): "the same, folded",
    ("agencies", "kind"): "core or invited",
    ("members", "roles"): "role names",
    ("isa_acceptances", "version"): "the agreement's version",
    ("referrals", "reference"): "a reference (RF-2026-0047)",
    ("referrals", "reference_key"): "the same, folded",
    ("referrals", "category"): "a category code",
    ("referrals", "status"): "a status",
    ("referrals", "agencies_involved"): "agency ids",
    ("referrals", "risk_answers"): "risk question ids and answer codes",
    ("referrals", "risk_matrix_version"): "the matrix's version",
    ("referrals", "decline_reason"): "a reason code",
    ("referrals", "draft_step"): "a step name",
    ("referral_subjects", "role"): "victim, perpetrator…",
    ("cases", "reference"): "a reference (CM-2026-014)",
    ("cases", "reference_key"): "the same, folded",
    ("cases", "status"): "a status",
    ("cases", "risk_level"): "a risk level",
    ("cases", "closure_reason"): "a reason code",
    ("meetings", "status"): "a status",
    ("meetings", "join_url"): "the Teams meeting's join link",
    ("meetings", "teams_meeting_id"): "Graph's online meeting id",
    ("meetings", "calendar_event_id"): "Graph's calendar event id",
    ("meetings", "teams_chat_id"): "the Teams meeting chat's thread id",
    ("agenda_items", "kind"): "an item kind",
    ("agenda_items", "status"): "a status",
    ("agenda_items", "action_ids"): "action ids",
    ("meeting_minutes", "status"): "a status",
    ("actions", "status"): "a status",
    ("action_updates", "kind"): "an update kind",
    ("information_requests", "status"): "a status",
    ("conversation_refs", "kind"): "a conversation kind",
    ("conversation_refs", "service_url"): "the Bot Connector's address",
    ("outbox", "key"): "ids and kinds of what was queued (no names)",
    ("outbox", "state"): "a delivery state",
    ("outbox_lanes", "owner"): "a bot instance's name (host, process, a random part)",
    ("outbox_tenant_pace", "tenant"): "the organisation's tenant id",
    ("outbox_tenant_pace", "last_owner"): "a bot instance's name, as outbox_lanes.owner",
    ("reminders", "key"): "ids and kinds of what was reminded",
    ("reminders", "kind"): "a reminder kind",
    ("audit_events", "verb"): "an audit verb",
    ("audit_events", "entity"): "a record kind",
    ("audit_events", "location"): "a conversation kind",
    ("retention_marks", "entity"): "a record kind",
    ("job_runs", "name"): "a periodic job's name",
    ("job_runs", "outcome"): "ok, or the kind of error a run failed with",
    ("reference_counters", "kind"): "referral or case",
    ("file_offers", "state"): "offered, uploading, sent or declined",
    ("erasure_requests", "entries"): "referral and subject ids, a child's place, a draft row's key",
}

# A delivered (or given up) outbox row keeps only these keys of its payload: an update row's
# `update_of` (the row whose message it replaced, an id) is what later updates skip it by.
KEPT_AFTER_DELIVERY = frozenset({"update_of"})


def emptied_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a finished delivery keeps of its payload: ids, no card and no text."""
    return {key: payload[key] for key in KEPT_AFTER_DELIVERY if key in payload}


def holding(table: str, column: str) -> Holding | None:
    """The inventory's entry for a column, if it has one."""
    return next((h for h in INVENTORY if (h.table, h.column) == (table, column)), None)


def subject_holdings() -> tuple[Holding, ...]:
    """Every column that can hold a referred person's data."""
    return tuple(h for h in INVENTORY if h.subject)


# The free-text and JSON columns an erasure sweeps for the person's identifiers, after the
# records about them are overwritten: anything typed elsewhere that names them (another
# referral's narrative, an agenda's other business, a draft). Outbox payloads are withdrawn
# instead, and searches deleted.
SWEPT: tuple[Holding, ...] = tuple(
    h
    for h in INVENTORY
    if h.subject
    and h.kind in (Kind.NARRATIVE, Kind.COPY, Kind.IDENTITY)
    and h.table not in ("outbox", "subject_access_exports", "referral_subjects")
)


def is_plain_id(column: str, length: int | None) -> bool:
    """A generated id column (String(64), named id or …_id): holds no personal data."""
    return (column == "id" or column.endswith("_id")) and length == 64


def unlisted(columns: Iterable[tuple[str, str, int | None]]) -> list[tuple[str, str]]:
    """The (table, column) pairs among text columns (table, column, length) that are
    neither in the inventory nor declared free of personal data."""
    listed = {(h.table, h.column) for h in INVENTORY} | set(NO_PERSONAL_DATA)
    return sorted(
        (table, column)
        for table, column, length in columns
        if (table, column) not in listed and not is_plain_id(column, length)
    )


def redact(value: Any, pattern: re.Pattern[str], marker: str) -> Any:
    """`value` (a string, or a JSON document) with every match of `pattern` in its strings
    (keys included) replaced by `marker`."""
    if isinstance(value, str):
        return pattern.sub(marker, value)
    if isinstance(value, list):
        return [redact(item, pattern, marker) for item in value]
    if isinstance(value, dict):
        return {redact(k, pattern, marker): redact(v, pattern, marker) for k, v in value.items()}
    return value


def needle_pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the identifiers, longest first; None for none."""
    words = sorted({n.strip() for n in needles if len(n.strip()) >= MIN_NEEDLE}, key=len)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in reversed(words)), re.IGNORECASE)


# Shorter identifiers ("Al", "5") would rub out other people's words.
MIN_NEEDLE = 4
