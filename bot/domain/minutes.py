"""A meeting's minutes: drafted when the meeting ends, edited by the coordinator and signed
off by whoever the panel's terms of reference name: its coordinator, its chair, or both.

The minutes are a record of what was decided, so they are a snapshot: names of agencies and
people as they were at the meeting, dates as the panel reads them (the day it was held, not
the day it was planned). `draft_minutes` builds them from the meeting's state; the
coordinator may then rewrite each case's discussion summary until they are approved, after
which they no longer change. Each sign-off (who, in which role, when) is kept in the
minutes; with both, two different people sign, in either order, and a summary rewritten
after a sign-off withdraws it (the signer approved other words).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.action import Action, ActionStatus, ActionUpdate, UpdateKind
from bot.domain.case import CLOSURE_LABELS, Case, CaseStatus
from bot.domain.common import new_id, require_aware
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus, Attendance, Meeting
from bot.domain.panel import Agency, Member, Role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

MAX_SUMMARY = 4000
NO_SUMMARY = "No summary recorded."


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class SignOff(StrEnum):
    """Who signs the minutes off (MINUTES_SIGNOFF, per panel): the minutes are approved once
    every role it names has signed, each by a different person."""

    COORDINATOR = "coordinator"
    CHAIR = "chair"
    BOTH = "both"

    @property
    def roles(self) -> tuple[Role, ...]:
        if self is SignOff.BOTH:
            return (Role.COORDINATOR, Role.CHAIR)
        return (Role(self.value),)

    @property
    def words(self) -> str:
        """e.g. "the coordinator and the chair"."""
        return " and ".join(f"the {role.value}" for role in self.roles)


@dataclass(frozen=True)
class SignOffBook:
    """Which sign-off each panel follows: by the panel's Teams team id, else the default."""

    default: SignOff = SignOff.COORDINATOR
    by_team: Mapping[str, SignOff] = field(default_factory=dict)

    def for_team(self, team_id: str) -> SignOff:
        return self.by_team.get(team_id, self.default)


def _sign_off(value: object, where: str) -> SignOff:
    try:
        return SignOff(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{where}: {str(value)[:40]!r} is not coordinator, chair or both."
        ) from None


def sign_off_book(text: str) -> SignOffBook:
    """Read MINUTES_SIGNOFF: a word (coordinator, chair or both) for every panel, or JSON
    `{"default": "both", "teams": {"<Teams team id>": "chair"}}`."""
    text = text.strip()
    if not text:
        return SignOffBook()
    if not text.startswith("{"):
        return SignOffBook(default=_sign_off(text, "MINUTES_SIGNOFF"))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"MINUTES_SIGNOFF is not valid JSON: {exc}") from None
    if unknown := sorted(str(key) for key in data if key not in {"default", "teams"}):
        raise InvalidInput(f"MINUTES_SIGNOFF: unknown key {', '.join(unknown)[:80]}.")
    teams = data.get("teams", {})
    if not isinstance(teams, dict):
        raise InvalidInput("MINUTES_SIGNOFF: teams maps a Teams team id to its sign-off.")
    return SignOffBook(
        default=_sign_off(data.get("default", "coordinator"), "MINUTES_SIGNOFF default"),
        by_team={
            str(team): _sign_off(value, f"MINUTES_SIGNOFF team {str(team)[:60]}")
            for team, value in teams.items()
        },
    )


@dataclass(frozen=True)
class Signature:
    """One sign-off: who gave it, in which role, when."""

    member_id: str
    name: str
    role: Role
    at: datetime


def day_label(day: date) -> str:
    """e.g. "Tue 8 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


@dataclass(frozen=True)
class AttendanceLine:
    """One agency at the meeting and who attended for it."""

    agency: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class ActionLine:
    """An action agreed at the meeting."""

    action_id: str
    description: str
    owner: str
    due_on: date


@dataclass(kw_only=True)
class CaseMinutes:
    """What the meeting said and decided about one case."""

    item_id: str
    case_id: str
    reference: str
    review: bool
    discussed: bool
    summary: str = ""
    risk_level: str = ""
    lead_agency: str | None = None
    lead_officer: str | None = None
    decision: str = ""
    actions: list[ActionLine] = field(default_factory=list)


@dataclass(frozen=True)
class UnmetOutcome:
    """What the meeting decided about an action left open from an earlier meeting."""

    action_id: str
    reference: str
    description: str
    owner: str
    outcome: str


@dataclass(kw_only=True)
class Minutes:
    """The minutes of one meeting."""

    id: str = field(default_factory=new_id)
    panel_id: str
    meeting_id: str
    meeting_starts_at: datetime
    status: MinutesStatus = MinutesStatus.DRAFT
    # Optimistic lock: storage saves only from the version it holds and stores the next.
    version: int = 0
    drafted_at: datetime
    approved_at: datetime | None = None
    approved_by_member_id: str | None = None
    meeting_label: str = ""
    approved_by: str | None = None
    # The sign-offs given so far (in the stored document), and the rule they were given
    # under; a summary rewritten after a sign-off withdraws it.
    sign_off: SignOff = SignOff.COORDINATOR
    signatures: list[Signature] = field(default_factory=list)
    attendance: list[AttendanceLine] = field(default_factory=list)
    cases: list[CaseMinutes] = field(default_factory=list)
    unmet: list[UnmetOutcome] = field(default_factory=list)
    other_business: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_aware(self.meeting_starts_at, "meeting_starts_at")
        require_aware(self.drafted_at, "drafted_at")
        if self.approved_at is not None:
            require_aware(self.approved_at, "approved_at")

    @property
    def approved(self) -> bool:
        return self.status is MinutesStatus.APPROVED

    @property
    def actions(self) -> list[tuple[str, ActionLine]]:
        """Every action agreed, with its case reference."""
        return [(case.reference, line) for case in self.cases for line in case.actions]

    def case(self, item_id: str) -> CaseMinutes:
        found = next((c for c in self.cases if c.item_id == item_id), None)
        if found is None:
            raise InvalidInput("That case is not in these minutes.")
        return found

    def edit_summary(self, item_id: str, text: str) -> list[Signature]:
        """The coordinator rewrites a case's discussion summary (draft minutes only). A
        change withdraws the sign-offs given so far, which are returned."""
        if self.approved:
            raise InvalidTransition("Approved minutes no longer change.")
        text = text.strip()
        if len(text) > MAX_SUMMARY:
            raise InvalidInput(
                f"Keep the summary under {MAX_SUMMARY} characters.", {"summary": "too_long"}
            )
        case = self.case(item_id)
        if case.summary == text:
            return []
        case.summary = text
        withdrawn, self.signatures = self.signatures, []
        return withdrawn

    def still_to_sign(self, rule: SignOff) -> list[Role]:
        """The roles whose sign-off `rule` still waits for."""
        signed = {s.role for s in self.signatures}
        return [role for role in rule.roles if role not in signed]

    def signing_role(self, rule: SignOff, roles: Iterable[Role], member_id: str) -> Role | None:
        """The role a member holding `roles` would sign in now: one still awaited, and never
        a second one for the same person (both means two people)."""
        if self.approved or any(s.member_id == member_id for s in self.signatures):
            return None
        held = set(roles)
        return next((role for role in self.still_to_sign(rule) if role in held), None)

    def sign(
        self, rule: SignOff, *, member_id: str, name: str, roles: Iterable[Role], at: datetime
    ) -> Signature:
        """A coordinator or chair signs the minutes off; once every role the rule names has
        signed, they are approved and final."""
        if self.approved:
            raise InvalidTransition("These minutes are already approved.")
        if any(s.member_id == member_id for s in self.signatures):
            raise InvalidInput(
                f"You have signed these minutes already: they wait for {rule.words}, "
                "each a different person."
            )
        role = self.signing_role(rule, roles, member_id)
        if role is None:
            raise InvalidInput(f"This panel's minutes are signed off by {rule.words}.")
        signature = Signature(member_id=member_id, name=name, role=role, at=require_aware(at))
        self.signatures = [*self.signatures, signature]
        self.sign_off = rule
        if not self.still_to_sign(rule):
            self.status = MinutesStatus.APPROVED
            self.approved_at = signature.at
            self.approved_by_member_id = member_id
            self.approved_by = " and ".join(s.name for s in self.signatures)
        return signature

    def approve(self, *, by_member_id: str, by_name: str, at: datetime) -> None:
        """The coordinator approves the minutes alone (the coordinator sign-off)."""
        self.sign(
            SignOff.COORDINATOR,
            member_id=by_member_id,
            name=by_name,
            roles=(Role.COORDINATOR,),
            at=at,
        )

    # --- stored as one JSON document --------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The minutes' content (everything but identity, state and timestamps) as JSON."""
        return {
            "meeting_label": self.meeting_label,
            "approved_by": self.approved_by,
            "sign_off": self.sign_off.value,
            "signatures": [
                {
                    "member_id": g.member_id,
                    "name": g.name,
                    "role": g.role.value,
                    "at": g.at.isoformat(),
                }
                for g in self.signatures
            ],
            "attendance": [{"agency": a.agency, "people": list(a.people)} for a in self.attendance],
            "cases": [
                {
                    "item_id": c.item_id,
                    "case_id": c.case_id,
                    "reference": c.reference,
                    "review": c.review,
                    "discussed": c.discussed,
                    "summary": c.summary,
                    "risk_level": c.risk_level,
                    "lead_agency": c.lead_agency,
                    "lead_officer": c.lead_officer,
                    "decision": c.decision,
                    "actions": [
                        {
                            "action_id": a.action_id,
                            "description": a.description,
                            "owner": a.owner,
                            "due_on": a.due_on.isoformat(),
                        }
                        for a in c.actions
                    ],
                }
                for c in self.cases
            ],
            "unmet": [
                {
                    "action_id": u.action_id,
                    "reference": u.reference,
                    "description": u.description,
                    "owner": u.owner,
                    "outcome": u.outcome,
                }
                for u in self.unmet
            ],
            "other_business": list(self.other_business),
        }

    def fill_from(self, document: Mapping[str, Any]) -> None:
        """Set the content from a stored document (the inverse of `document`)."""
        self.meeting_label = str(document.get("meeting_label", ""))
        approved_by = document.get("approved_by")
        self.approved_by = str(approved_by) if approved_by is not None else None
        self.sign_off = SignOff(str(document.get("sign_off", SignOff.COORDINATOR.value)))
        self.signatures = [
            Signature(
                member_id=str(g["member_id"]),
                name=str(g["name"]),
                role=Role(str(g["role"])),
                at=datetime.fromisoformat(str(g["at"])),
            )
            for g in document.get("signatures", [])
        ]
        if "signatures" not in document and self.approved and self.approved_at is not None:
            # Approved before sign-offs were recorded: the coordinator approved them alone.
            self.signatures = [
                Signature(
                    member_id=self.approved_by_member_id or "",
                    name=self.approved_by or "the coordinator",
                    role=Role.COORDINATOR,
                    at=self.approved_at,
                )
            ]
        self.attendance = [
            AttendanceLine(str(a["agency"]), tuple(str(p) for p in a["people"]))
            for a in document.get("attendance", [])
        ]
        self.cases = [
            CaseMinutes(
                item_id=str(c["item_id"]),
                case_id=str(c["case_id"]),
                reference=str(c["reference"]),
                review=bool(c["review"]),
                discussed=bool(c["discussed"]),
                summary=str(c.get("summary", "")),
                risk_level=str(c.get("risk_level", "")),
                lead_agency=c.get("lead_agency"),
                lead_officer=c.get("lead_officer"),
                decision=str(c.get("decision", "")),
                actions=[
                    ActionLine(
                        action_id=str(a["action_id"]),
                        description=str(a["description"]),
                        owner=str(a["owner"]),
                        due_on=date.fromisoformat(a["due_on"]),
                    )
                    for a in c.get("actions", [])
                ],
            )
            for c in document.get("cases", [])
        ]
        self.unmet = [
            UnmetOutcome(
                action_id=str(u["action_id"]),
                reference=str(u["reference"]),
                description=str(u["description"]),
                owner=str(u["owner"]),
                outcome=str(u["outcome"]),
            )
            for u in document.get("unmet", [])
        ]
        self.other_business = [str(t) for t in document.get("other_business", [])]


# --- drafting --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRecord:
    """Everything the minutes are drafted from, loaded by the services layer."""

    meeting: Meeting
    items: Sequence[AgendaItem]
    cases: Mapping[str, Case]
    # Each case item's case's actions (all of them: those agreed here have this meeting's id).
    actions_by_case: Mapping[str, Sequence[Action]]
    # The actions the unmet-actions item listed, as they stand now.
    unmet_actions: Sequence[Action]
    attendance: Sequence[Attendance]
    agencies: Mapping[str, Agency]
    members: Mapping[str, Member]
    # Other meetings a case was set to be reviewed at.
    meetings: Mapping[str, Meeting]
    zone: ZoneInfo


def _agency_name(record: MeetingRecord, agency_id: str | None) -> str:
    agency = record.agencies.get(agency_id or "")
    return agency.name if agency else "no agency"


def _attendance(record: MeetingRecord) -> list[AttendanceLine]:
    by_agency: dict[str, list[str]] = {}
    for present in sorted(record.attendance, key=lambda a: a.acknowledged_at):
        member = record.members.get(present.member_id)
        agency = _agency_name(record, present.agency_id)
        by_agency.setdefault(agency, []).append(member.name if member else "a former member")
    return [AttendanceLine(agency, tuple(people)) for agency, people in sorted(by_agency.items())]


def decision_text(
    case: Case, meeting: Meeting, meetings: Mapping[str, Meeting], zone: ZoneInfo
) -> str:
    """The meeting's decision on a case as the minutes state it."""
    if case.status is CaseStatus.CLOSED and case.closure_reason is not None:
        text = f"Closed: {CLOSURE_LABELS[case.closure_reason]}"
        return f"{text} ({case.closure_note})" if case.closure_note else text
    review = meetings.get(case.review_meeting_id or "")
    if review is not None and review.id != meeting.id:
        return f"Review at the meeting on {day_label(review.starts_at.astimezone(zone).date())}"
    return "Review at the next meeting"


OUTCOMES = frozenset(
    {
        UpdateKind.CARRIED_FORWARD,
        UpdateKind.ESCALATED,
        UpdateKind.CANCELLED,
        UpdateKind.DONE,
        UpdateKind.PASSED_BACK,
    }
)


def outcome_update(action: Action, since: datetime | None) -> ActionUpdate | None:
    """The latest carry-forward, escalation, cancellation or completion since `since`."""
    return next(
        (
            u
            for u in reversed(action.updates)
            if u.kind in OUTCOMES and (since is None or u.at >= since)
        ),
        None,
    )


def unmet_settled(action: Action, since: datetime | None) -> bool:
    """Whether an unmet action needs no decision from the meeting that began at `since`:
    it was dealt with there, or is no longer open."""
    return action.status is not ActionStatus.OPEN or outcome_update(action, since) is not None


def unmet_outcome(action: Action, since: datetime | None) -> str:
    """What became of an unmet action at the meeting that began at `since`."""
    latest = outcome_update(action, since)
    if latest is None:
        if action.status is ActionStatus.DONE:
            return "Done before the meeting."
        if action.status is ActionStatus.CANCELLED:
            return f"Cancelled before the meeting: {action.cancel_reason or 'no reason given'}."
        if action.status is ActionStatus.PASSED_BACK:
            return "Passed back to the agency when the case closed."
        return f"Not reviewed; still open, due {day_label(action.due_on)}."
    if latest.kind is UpdateKind.PASSED_BACK:
        # Closing the case passed back what the meeting had just decided about: say both.
        before = [
            u
            for u in action.updates
            if u.kind in OUTCOMES
            and u.kind is not UpdateKind.PASSED_BACK
            and (since is None or u.at >= since)
        ]
        if before:
            then = latest.note[0].lower() + latest.note[1:]
            return f"{_outcome_text(action, before[-1])} Then {then}"
    return _outcome_text(action, latest)


def _outcome_text(action: Action, update: ActionUpdate) -> str:
    why = ""
    if update.circumstances_changed is not None:
        why = (
            " Circumstances changed."
            if update.circumstances_changed
            else " The agency did not act."
        )
    if update.kind is UpdateKind.CARRIED_FORWARD:
        return f"Carried forward to {day_label(action.due_on)}.{why}"
    if update.kind in (UpdateKind.ESCALATED, UpdateKind.PASSED_BACK):
        return update.note
    if update.kind is UpdateKind.CANCELLED:
        return f"Cancelled: {update.note.rstrip('.')}.{why}"
    return "Done."


def held_at(meeting: Meeting) -> datetime:
    """When a meeting was held: when it started, or its planned time until then."""
    return meeting.started_at or meeting.starts_at


def held_label(meeting: Meeting, zone: ZoneInfo) -> str:
    """The meeting as its minutes name it: the planned day and time, or, for a meeting
    held on another day (called early), the day and time it was held and the day planned;
    "Urgent meeting, …" for an extraordinary one, as its other cards name it."""
    planned = meeting.starts_at.astimezone(zone)
    held = held_at(meeting).astimezone(zone)
    if held.date() == planned.date():
        label = f"{day_label(planned.date())}, {planned:%H:%M}"
    else:
        label = f"{day_label(held.date())}, {held:%H:%M} (planned for {day_label(planned.date())})"
    return f"Urgent meeting, {label}" if meeting.urgent else label


def draft_minutes(record: MeetingRecord, *, now: datetime) -> Minutes:
    """Draft the minutes of a meeting that has ended, from what it recorded, dated on the
    day it was held."""
    meeting, zone = record.meeting, record.zone
    minutes = Minutes(
        panel_id=meeting.panel_id,
        meeting_id=meeting.id,
        meeting_starts_at=meeting.starts_at,
        drafted_at=now,
        meeting_label=held_label(meeting, zone),
    )
    minutes.attendance = _attendance(record)
    ordered = sorted(record.items, key=lambda i: (i.position, i.id))
    for item in ordered:
        if item.kind is AgendaItemKind.OTHER_BUSINESS and item.is_active:
            minutes.other_business.append(item.title)
        if not item.is_case or not item.is_active:
            continue
        case = record.cases.get(item.case_id or "")
        if case is None:
            continue
        agreed = [a for a in record.actions_by_case.get(case.id, ()) if a.meeting_id == meeting.id]
        minutes.cases.append(
            CaseMinutes(
                item_id=item.id,
                case_id=case.id,
                reference=case.reference,
                review=item.kind is AgendaItemKind.REVIEW_CASE,
                discussed=item.status is AgendaItemStatus.DISCUSSED,
                summary=item.summary or "",
                risk_level=case.risk_level.value.capitalize(),
                lead_agency=_agency_name(record, case.lead_agency_id)
                if case.lead_agency_id
                else None,
                lead_officer=case.lead_officer,
                decision=decision_text(case, meeting, record.meetings, zone)
                if item.status is AgendaItemStatus.DISCUSSED
                else "Not reached: listed again at the next meeting",
                actions=[
                    ActionLine(
                        a.id, a.description, _agency_name(record, a.owner_agency_id), a.due_on
                    )
                    for a in agreed
                ],
            )
        )
    references = {c.id: c.reference for c in record.cases.values()}
    for action in record.unmet_actions:
        minutes.unmet.append(
            UnmetOutcome(
                action_id=action.id,
                reference=references.get(action.case_id, "another case"),
                description=action.description,
                owner=_agency_name(record, action.owner_agency_id),
                outcome=unmet_outcome(action, meeting.started_at),
            )
        )
    return minutes


def attending_members(attendance: Iterable[Attendance]) -> list[str]:
    """The member ids of everyone who acknowledged, once each, in order of arrival."""
    seen: dict[str, None] = {}
    for present in sorted(attendance, key=lambda a: a.acknowledged_at):
        seen.setdefault(present.member_id, None)
    return list(seen)
