"""A subject access export: everything the panel holds about one person, as JSON and as a
Word document that say the same thing (the document is written from the JSON).

What is in it: each referral that names the person (as a subject, by name or alias, or as a
child in the household) with the person's own entries and the referral's narrative; the
case it became, with the agencies' answers, the actions and their updates, the chair's
notes and the minutes about it; and who viewed or changed that case (the audit trail).
What is not: the other subjects and children of those referrals (only how many there
were), and referrals about other people. The coordinator still reads the narrative for
third parties' information before disclosing it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Pt

from bot.domain.case import CLOSURE_LABELS, Case
from bot.domain.referral import CATEGORY_LABELS, DECLINE_LABELS, Child, Referral, Subject
from bot.domain.retention import Person, entries

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docx.document import Document as DocumentObject

    from bot.domain.action import Action, InformationRequest
    from bot.domain.audit import AuditEvent
    from bot.domain.meeting import AgendaItem, Meeting
    from bot.domain.minutes import CaseMinutes, UnmetOutcome
    from bot.domain.panel import Agency, Member, Panel

JSON_CONTENT_TYPE = "application/json"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKING = (
    "OFFICIAL-SENSITIVE: subject access export. Check for third parties' data before disclosure."
)
NOT_INCLUDED = (
    "Other people named in these referrals are left out (only how many there were is "
    "given), and so are referrals about other people. The narratives are as the "
    "professionals wrote them: read them for third parties' information before you disclose "
    "them. Messages the bot delivered in Teams chats are held by Microsoft Teams, not here."
)
TITLE = "Subject access export"


@dataclass(frozen=True)
class Hearing:
    """One meeting where the person's case was on the agenda."""

    meeting: Meeting
    item: AgendaItem
    minutes: CaseMinutes | None = None


@dataclass(frozen=True)
class Holding:
    """One referral about the person, and everything that hangs off it."""

    referral: Referral
    case: Case | None = None
    requests: Sequence[InformationRequest] = ()
    actions: Sequence[Action] = ()
    hearings: Sequence[Hearing] = ()
    # What later meetings' minutes say of the case's actions left open (unmet).
    unmet: Sequence[tuple[Meeting, UnmetOutcome]] = ()
    access: Sequence[AuditEvent] = ()

    def counts(self) -> Mapping[str, int]:
        return {
            "referrals": 1,
            "cases": int(self.case is not None),
            "information_requests": len(self.requests),
            "actions": len(self.actions),
            "meetings": len(self.hearings),
        }


@dataclass(frozen=True)
class Lookups:
    """Names of agencies and members, and the panel's zone, for the export's words."""

    agencies: Mapping[str, Agency] = field(default_factory=dict)
    members: Mapping[str, Member] = field(default_factory=dict)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))

    def agency(self, agency_id: str | None) -> str | None:
        found = self.agencies.get(agency_id or "")
        return found.name if found else None

    def member(self, member_id: str | None) -> str | None:
        found = self.members.get(member_id or "")
        return found.name if found else None


# How each kind of record is named, one and many.
KINDS: Mapping[str, tuple[str, str]] = {
    "referrals": ("referral", "referrals"),
    "cases": ("case", "cases"),
    "information_requests": ("agency's answer", "agencies' answers"),
    "actions": ("action", "actions"),
    "meetings": ("meeting", "meetings"),
}


def counted(count: int, kind: str) -> str:
    """e.g. "1 referral", "2 cases"."""
    one, many = KINDS[kind]
    return f"{count} {one if count == 1 else many}"


def total(holdings: Sequence[Holding]) -> dict[str, int]:
    """How many of each kind of record were found."""
    found = {"referrals": 0, "cases": 0, "information_requests": 0, "actions": 0, "meetings": 0}
    for holding in holdings:
        for key, value in holding.counts().items():
            found[key] += value
    return found


def _instant(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _subject(subject: Subject) -> dict[str, Any]:
    return {
        "recorded_as": subject.role.value,
        "name": subject.name,
        "aliases": list(subject.aliases),
        "date_of_birth": _day(subject.date_of_birth),
        "address": subject.address,
        "postcode": subject.postcode,
        "phone": subject.phone,
        "safe_to_call": subject.safe_to_call,
        "vulnerabilities": subject.vulnerabilities,
        "language": subject.language,
        "interpreter_needed": subject.interpreter_needed,
    }


def _child(child: Child) -> dict[str, Any]:
    return {
        "recorded_as": "child in the household",
        "name": child.name,
        "date_of_birth": _day(child.date_of_birth),
    }


def _case(holding: Holding, case: Case, names: Lookups) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "status": case.status.value,
        "risk_level": case.risk_level.value,
        "risk_score": case.risk_score,
        "children_in_household": case.has_children,
        "lead_agency": names.agency(case.lead_agency_id),
        "lead_officer": case.lead_officer,
        "keeps_victim_informed": case.keeps_victim_informed,
        "victim_last_updated_at": _instant(case.victim_last_updated_at),
        "opened_at": _instant(case.opened_at),
        "first_heard_at": _instant(case.first_heard_at),
        "closed_at": _instant(case.closed_at),
        "closure_reason": CLOSURE_LABELS[case.closure_reason] if case.closure_reason else None,
        "closure_note": case.closure_note,
        "information_requests": [
            {
                "agency": names.agency(info.agency_id),
                "question": info.question,
                "status": info.status.value,
                "due_at": _instant(info.due_at),
                "answer": info.answer,
                "answered_by": names.member(info.answered_by_member_id),
                "answered_at": _instant(info.answered_at),
            }
            for info in holding.requests
        ],
        "actions": [
            {
                "agency": names.agency(action.owner_agency_id),
                "description": action.description,
                "due_on": _day(action.due_on),
                "status": action.status.value,
                "completed_at": _instant(action.completed_at),
                "cancel_reason": action.cancel_reason,
                "updates": [
                    {
                        "at": _instant(update.at),
                        "kind": update.kind.value,
                        "note": update.note,
                        "by": names.member(update.author_member_id),
                    }
                    for update in action.updates
                ],
            }
            for action in holding.actions
        ],
        "meetings": [
            {
                "meeting_starts_at": _instant(hearing.meeting.starts_at),
                "agenda_item": hearing.item.kind.value,
                "item_status": hearing.item.status.value,
                "chair_notes": hearing.item.summary,
                "item_note": hearing.item.note,
                "minutes_summary": hearing.minutes.summary if hearing.minutes else None,
                "minutes_decision": hearing.minutes.decision if hearing.minutes else None,
            }
            for hearing in holding.hearings
        ],
        "unmet_actions_in_minutes": [
            {
                "meeting_starts_at": _instant(meeting.starts_at),
                "action": outcome.description,
                "agency": outcome.owner,
                "outcome": outcome.outcome,
            }
            for meeting, outcome in holding.unmet
        ],
        "access": [
            {
                "at": _instant(event.at),
                "who": names.member(event.actor_member_id) or "outside the panel",
                "did": event.verb.value,
                "record": event.entity,
                "detail": event.detail,
            }
            for event in holding.access
        ],
    }


def _referral(holding: Holding, person: Person, names: Lookups) -> dict[str, Any]:
    referral = holding.referral
    # A draft names people only in what was typed (bot.domain.retention.entries).
    subjects, children = entries(referral)
    mine = [_subject(s) for s in subjects if person.is_subject(s)]
    mine += [_child(c) for c in children if person.is_child(c)]
    others_subjects = sum(1 for s in subjects if not person.is_subject(s))
    others_children = sum(1 for c in children if not person.is_child(c))
    return {
        "reference": referral.reference,
        "status": referral.status.value,
        "category": CATEGORY_LABELS[referral.category],
        "referred_by": names.member(referral.referrer_member_id),
        "referring_agency": names.agency(referral.referring_agency_id),
        "created_at": _instant(referral.created_at),
        "submitted_at": _instant(referral.submitted_at),
        "decided_at": _instant(referral.decided_at),
        "the_person": mine,
        "other_people": {"subjects": others_subjects, "children": others_children},
        "relationship": referral.relationship,
        "incidents_last_12_months": referral.incidents_last_12_months,
        "incidents_rising": referral.incidents_rising,
        "tried_already": referral.tried_already,
        "multi_professional_meeting_held": referral.multi_professional_meeting_held,
        "discussed_with": referral.discussed_with,
        "consent": {
            "aware": referral.consent.aware,
            "consented": referral.consent.consented,
            "without_consent_reason": referral.consent.without_consent_reason,
        },
        "criteria": {
            "high_risk": referral.criteria.high_risk,
            "potential_escalation": referral.criteria.potential_escalation,
            "professional_judgement": referral.criteria.professional_judgement,
            "explanation": referral.criteria.explanation,
        },
        "risk": {
            "total": referral.risk_total,
            "matrix_version": referral.risk_matrix_version,
            "answers": dict(sorted(referral.risk_answers.items())),
        },
        "decline_reason": (
            DECLINE_LABELS[referral.decline_reason] if referral.decline_reason else None
        ),
        "decline_note": referral.decline_note,
        "more_info_question": referral.more_info_question,
        "case": _case(holding, holding.case, names) if holding.case else None,
    }


def document(
    panel: Panel, person: Person, holdings: Sequence[Holding], names: Lookups, now: datetime
) -> dict[str, Any]:
    """The export as a JSON-ready dict."""
    return {
        "export": TITLE,
        "panel": panel.name,
        "generated_at": _instant(now),
        "person": {
            "name": person.name,
            "date_of_birth": _day(person.date_of_birth),
            # Only for someone recorded without a date of birth.
            **({"postcode": person.postcode} if person.postcode else {}),
        },
        "found": total(holdings),
        "referrals": [_referral(h, person, names) for h in holdings],
        "not_included": NOT_INCLUDED,
    }


def to_json(export: Mapping[str, Any]) -> bytes:
    """The export as UTF-8 JSON, indented for a person to read."""
    return (json.dumps(export, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---- the Word document ----------------------------------------------------------------------


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) > 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            at = datetime.fromisoformat(value).astimezone(zone)
        except ValueError:
            return value
        return f"{at:%a} {at.day} {at:%b %Y}, {at:%H:%M}"
    if isinstance(value, list):
        return ", ".join(_value(v, zone) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {_value(v, zone)}" for k, v in value.items()) or "—"
    return str(value)


def _table(document: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


def _facts(document: DocumentObject, record: Mapping[str, Any], zone: ZoneInfo) -> None:
    rows = [
        (_words(key), _value(value, zone))
        for key, value in record.items()
        if not isinstance(value, list | dict)
        or key in {"aliases", "consent", "criteria", "risk", "other_people"}
    ]
    _table(document, ("", ""), rows)
    document.add_paragraph()


def _found_line(found: Mapping[str, int], references: Sequence[str]) -> str:
    parts = [counted(count, kind) for kind, count in found.items() if count]
    text = ", ".join(parts) if parts else "nothing"
    return f"Found: {text}" + (f" ({', '.join(references)})." if references else ".")


def to_docx(export: Mapping[str, Any], timezone: str = "Europe/London") -> bytes:
    """The export as a Word document: the person, what was found, then each referral with
    its case, in tables."""
    zone = ZoneInfo(timezone)
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    person = export["person"]
    document.core_properties.title = f"{TITLE}: {person['name']}"
    document.core_properties.subject = "Community MARAC subject access export"
    document.sections[0].header.paragraphs[0].text = MARKING

    document.add_heading(f"{TITLE}: {person['name']}", level=0)
    document.add_paragraph(f"Date of birth: {person['date_of_birth'] or 'not recorded'}")
    if person.get("postcode"):
        document.add_paragraph(f"Recorded at postcode: {person['postcode']}")
    document.add_paragraph(f"Panel: {export['panel']}")
    document.add_paragraph(f"Produced: {_value(export['generated_at'], zone)}")
    references: list[str] = []
    for referral in export["referrals"]:
        references.append(referral["reference"])
        if referral["case"]:
            references.append(referral["case"]["reference"])
    document.add_paragraph(_found_line(export["found"], references))
    document.add_paragraph(export["not_included"])

    for referral in export["referrals"]:
        document.add_heading(f"Referral {referral['reference']}", level=1)
        for entry in referral["the_person"]:
            document.add_heading(f"Recorded as {entry['recorded_as']}", level=2)
            _facts(document, entry, zone)
        document.add_heading("The referral", level=2)
        _facts(document, {k: v for k, v in referral.items() if k != "the_person"}, zone)
        case = referral["case"]
        if not case:
            continue
        document.add_heading(f"Case {case['reference']}", level=2)
        _facts(document, case, zone)
        if case["information_requests"]:
            document.add_heading("Agencies' information", level=3)
            _table(
                document,
                ("Agency", "Question", "Answer", "Answered"),
                [
                    (
                        _value(i["agency"], zone),
                        _value(i["question"], zone),
                        _value(i["answer"], zone),
                        _value(i["answered_at"], zone),
                    )
                    for i in case["information_requests"]
                ],
            )
        if case["actions"]:
            document.add_heading("Actions", level=3)
            _table(
                document,
                ("Agency", "Action", "Due", "Status", "Updates"),
                [
                    (
                        _value(a["agency"], zone),
                        _value(a["description"], zone),
                        _value(a["due_on"], zone),
                        _value(a["status"], zone),
                        "\n".join(f"{_value(u['at'], zone)}: {u['note']}" for u in a["updates"]),
                    )
                    for a in case["actions"]
                ],
            )
        if case["meetings"]:
            document.add_heading("Panel meetings", level=3)
            _table(
                document,
                ("Meeting", "Chair's notes", "Minutes", "Decision"),
                [
                    (
                        _value(h["meeting_starts_at"], zone),
                        _value(h["chair_notes"], zone),
                        _value(h["minutes_summary"], zone),
                        _value(h["minutes_decision"], zone),
                    )
                    for h in case["meetings"]
                ],
            )
        if case["unmet_actions_in_minutes"]:
            document.add_heading("Unmet actions in later minutes", level=3)
            _table(
                document,
                ("Meeting", "Action", "Agency", "Outcome"),
                [
                    (
                        _value(u["meeting_starts_at"], zone),
                        _value(u["action"], zone),
                        _value(u["agency"], zone),
                        _value(u["outcome"], zone),
                    )
                    for u in case["unmet_actions_in_minutes"]
                ],
            )
        if case["access"]:
            document.add_heading("Who viewed or changed the case", level=3)
            _table(
                document,
                ("When", "Who", "What", "Detail"),
                [
                    (
                        _value(e["at"], zone),
                        _value(e["who"], zone),
                        f"{e['did']} {e['record']}",
                        _value(e["detail"], zone),
                    )
                    for e in case["access"]
                ],
            )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
