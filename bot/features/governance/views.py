"""The governance feature's read side: what the panels, members, agencies, case and audit
trail cards show, loaded from storage and shaped into the cards' view models.

Nothing here changes a record or writes the audit trail: the use cases (panels, membership,
cases, audit_trail) record each view in the unit of work they read it in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.case import CLOSURE_LABELS, Case, CaseStatus
from bot.domain.delivery import ConversationKind
from bot.domain.errors import NotFound
from bot.domain.intake_rules import phone_text
from bot.domain.meeting import AgendaItemKind, AgendaItemStatus, Meeting
from bot.domain.minutes import day_label, held_at
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import CATEGORY_LABELS, Referral, Subject
from bot.kernel.localtime import born_text, day_text, local_day, when_text
from cards.audit import MAX_CARD_BYTES, AuditLine, AuditView, render_audit
from cards.case import ActionBlock, CaseView, HistoryLine, ReturnLine, SubjectBlock
from cards.membership import AgenciesView, AgencyLine, Choice, MemberLine, MembersView, MemberView
from cards.panels import InvitationLine, PanelLine, PanelsView

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card

# ---- panels ---------------------------------------------------------------------------------


def roles_text(member: Member) -> str:
    """e.g. "spoc, deputy" (or "member")."""
    return ", ".join(sorted(role.value for role in member.roles)) or "member"


async def my_panels(uow: UnitOfWork, aad_object_id: str) -> list[tuple[Panel, Member]]:
    """The person's active memberships (invitations included), by panel name."""
    found: list[tuple[Panel, Member]] = []
    for member in await uow.members.memberships(aad_object_id):
        panel = await uow.panels.get(member.panel_id)
        if panel is not None and member.active:
            found.append((panel, member))
    return sorted(found, key=lambda pair: pair[0].name)


def panels_view(
    pairs: Sequence[tuple[Panel, Member]],
    current: str | None,
    notice: str | None = None,
    joined: bool = False,
) -> PanelsView:
    """The panels card's content: the panels they belong to, then invitations."""
    return PanelsView(
        panels=[
            PanelLine(p.id, p.name, roles_text(m), current=p.id == current)
            for p, m in pairs
            if not m.invited
        ],
        invitations=[InvitationLine(p.id, p.name, roles_text(m)) for p, m in pairs if m.invited],
        notice=notice,
        joined=joined,
    )


# ---- members and agencies -------------------------------------------------------------------


ROLE_LABELS: Mapping[Role, str] = {
    Role.COORDINATOR: "Coordinator",
    Role.CHAIR: "Chair",
    Role.SPOC: "SPOC (single point of contact)",
    Role.DEPUTY: "Deputy (stands in for the SPOC)",
    Role.REFERRER: "Referrer",
}


def role_choices() -> list[Choice]:
    """Every role, as the cards offer it."""
    return [Choice(role.value, ROLE_LABELS[role]) for role in Role]


def agreement_status(panel: Panel, accepted: IsaAcceptance | None) -> str:
    """e.g. "v2 accepted", "v1 only (v2 is current)", "not accepted"."""
    if accepted is None:
        return "not accepted"
    if accepted.version == panel.isa_version:
        return f"v{accepted.version} accepted"
    return f"v{accepted.version} only (v{panel.isa_version} is current)"


async def members_view(
    uow: UnitOfWork,
    panel: Panel,
    *,
    search: str = "",
    notice: str | None = None,
    open_add: bool = False,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> MembersView:
    """The members card's content: active members first, by name."""
    everyone = await uow.members.all(panel.id)
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    accepted = await uow.isa.latest_by_member(panel.id)
    wanted = search.casefold()
    shown = sorted(
        (m for m in everyone if wanted in m.name.casefold()),
        key=lambda m: (not m.active, m.name.casefold()),
    )
    return MembersView(
        panel_name=panel.name,
        lines=[
            MemberLine(
                member_id=m.id,
                name=m.name,
                agency=agencies[m.agency_id].name if m.agency_id in agencies else None,
                roles=sorted(role.value for role in m.roles),
                agreement=agreement_status(panel, accepted.get(m.id)),
                active=m.active,
            )
            for m in shown
        ],
        agencies=[Choice(a.id, a.name) for a in agencies.values() if a.active],
        roles=role_choices(),
        notice=notice,
        open_add=open_add,
        values=dict(values or {}),
        errors=dict(errors or {}),
    )


async def member_view(
    uow: UnitOfWork,
    panel: Panel,
    member: Member,
    *,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    confirm_remove: bool = False,
) -> MemberView:
    """One member's card's content, with the panel's active agencies to choose from."""
    agencies = [a for a in await uow.agencies.all(panel.id) if a.active]
    return MemberView(
        panel_name=panel.name,
        member_id=member.id,
        name=member.name,
        email=member.email,
        agency_id=member.agency_id,
        roles=sorted(role.value for role in member.roles),
        agreement=agreement_status(panel, await uow.isa.latest(panel.id, member.id)),
        active=member.active,
        agencies=[Choice(a.id, a.name) for a in agencies],
        role_choices=role_choices(),
        errors=dict(errors or {}),
        notice=notice,
        confirm_remove=confirm_remove,
    )


async def agencies_view(
    uow: UnitOfWork,
    panel: Panel,
    *,
    notice: str | None = None,
    open_add: bool = False,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> AgenciesView:
    """The agencies card's content, by name."""
    counts: dict[str, int] = {}
    for member in await uow.members.all(panel.id):
        if member.active and member.agency_id:
            counts[member.agency_id] = counts.get(member.agency_id, 0) + 1
    return AgenciesView(
        panel_name=panel.name,
        lines=[
            AgencyLine(a.id, a.name, a.kind is AgencyKind.CORE, counts.get(a.id, 0))
            for a in await uow.agencies.all(panel.id)
            if a.active
        ],
        notice=notice,
        open_add=open_add,
        values=dict(values or {}),
        errors=dict(errors or {}),
    )


# ---- the case view --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRead:
    """What the case card is made of, read in one unit of work."""

    panel: Panel
    case: Case
    referral: Referral | None
    agencies: Mapping[str, Agency]
    members: Mapping[str, Member]
    requests: Sequence[InformationRequest]
    actions: Sequence[Action]
    hearings: Sequence[tuple[Meeting, str, str | None]]  # meeting, item kind, state
    decisions: Sequence[tuple[datetime, str]]


async def read_case(uow: UnitOfWork, panel: Panel, case: Case) -> CaseRead:
    """Everything the case card shows, in one unit of work."""
    referral = await uow.referrals.get(panel.id, case.referral_id) if case.referral_id else None
    hearings: list[tuple[Meeting, str, str | None]] = []
    decisions: list[tuple[datetime, str]] = []
    for item in await uow.meetings.items_for_cases(panel.id, [case.id]):
        meeting = await uow.meetings.get(panel.id, item.meeting_id)
        if meeting is None or item.status is AgendaItemStatus.REMOVED:
            continue
        kind = "new case" if item.kind is AgendaItemKind.NEW_CASE else "review"
        hearings.append((meeting, kind, item.status.value))
        minutes = await uow.meetings.minutes(panel.id, meeting.id)
        for entry in minutes.cases if minutes else []:
            if entry.case_id == case.id and (entry.decision or entry.summary):
                held = held_at(meeting)
                label = day_text(held, panel)
                decisions.append((held, f"{label}: {entry.decision or entry.summary}"))
    return CaseRead(
        panel=panel,
        case=case,
        referral=referral,
        agencies={a.id: a for a in await uow.agencies.all(panel.id)},
        members={m.id: m for m in await uow.members.all(panel.id)},
        requests=await uow.information_requests.for_case(panel.id, case.id),
        actions=await uow.actions.for_case(panel.id, case.id),
        hearings=sorted(hearings, key=lambda h: h[0].starts_at),
        decisions=sorted(decisions),
    )


def _agency(read: CaseRead, agency_id: str | None) -> str:
    agency = read.agencies.get(agency_id) if agency_id else None
    return agency.name if agency else "no agency"


def _person(read: CaseRead, member_id: str | None) -> str | None:
    member = read.members.get(member_id) if member_id else None
    return member.name if member else None


def _subject(subject: Subject) -> SubjectBlock:
    details: list[str] = []
    if subject.aliases:
        details.append("also known as " + ", ".join(subject.aliases))
    if subject.date_of_birth:
        details.append(f"born {born_text(subject.date_of_birth)}")
    place = ", ".join(p for p in (subject.address, subject.postcode) if p)
    if place:
        details.append(place)
    if subject.phone:
        safe = "safe to call" if subject.safe_to_call else "not safe to call"
        details.append(f"{phone_text(subject.phone)} ({safe})")
    if subject.vulnerabilities:
        # Details are joined with "; ": a sentence's own full stop would read "frame.; speaks".
        details.append(subject.vulnerabilities.strip().rstrip(".;"))
    if subject.language:
        interpreter = ", needs an interpreter" if subject.interpreter_needed else ""
        details.append(f"speaks {subject.language}{interpreter}")
    return SubjectBlock(subject.name, subject.role.value, details)


def _facts(read: CaseRead) -> list[tuple[str, str]]:
    case, panel = read.case, read.panel
    risk = case.risk_level.value.capitalize()
    if case.risk_score is not None:
        risk += f" (score {case.risk_score})"
    lead = _agency(read, case.lead_agency_id) if case.lead_agency_id else "not nominated yet"
    if case.lead_agency_id and case.lead_officer:
        lead += f", {case.lead_officer}"
    pairs = [
        ("Risk", risk),
        ("Children in the household", "yes" if case.has_children else "no"),
        ("Lead agency", lead),
    ]
    if case.keeps_victim_informed:
        informed = case.keeps_victim_informed
        if case.victim_last_updated_at:
            informed += f", last on {day_text(case.victim_last_updated_at, panel)}"
        pairs.append(("Keeps the victim informed", informed))
    if case.invited_agency_ids:
        invited = sorted(_agency(read, a) for a in case.invited_agency_ids)
        pairs.append(("Invited agencies", "; ".join(invited)))
    pairs.append(("Opened", day_text(case.opened_at, panel)))
    if case.first_heard_at:
        pairs.append(("First heard", day_text(case.first_heard_at, panel)))
    if case.closed_at:
        pairs.append(("Closed", day_text(case.closed_at, panel)))
    return pairs


def _referral_facts(read: CaseRead) -> list[tuple[str, str]]:
    referral = read.referral
    if referral is None:
        return []
    panel = read.panel
    sent = referral.submitted_at or referral.created_at
    who = _person(read, referral.referrer_member_id) or "unknown"
    incidents = str(referral.incidents_last_12_months)
    if referral.incidents_rising:
        incidents += ", rising"
    consent = referral.consent
    if consent.consented:
        consent_text = "consented"
    else:
        consent_text = f"shared without consent: {consent.without_consent_reason or 'no reason'}"
    criteria = [
        name
        for name, met in (
            ("high risk", referral.criteria.high_risk),
            ("potential escalation", referral.criteria.potential_escalation),
        )
        if met
    ]
    if (referral.criteria.professional_judgement or "").strip():
        criteria.append("professional judgement")
    pairs = [
        ("Referral", f"{referral.reference}, {day_text(sent, panel)}"),
        ("Referred by", f"{who}, {_agency(read, referral.referring_agency_id)}"),
        ("Category", CATEGORY_LABELS[referral.category]),
        ("Incidents (12 months)", incidents),
        ("Consent", ("aware, " if consent.aware else "not aware, ") + consent_text),
        ("Criteria met", "; ".join(criteria) or "none"),
    ]
    if referral.criteria.explained:
        pairs.append(("Why it escalates", referral.criteria.explained))
    if referral.risk_total is not None:
        pairs.append(
            ("Risk total", f"{referral.risk_total} (matrix {referral.risk_matrix_version})")
        )
    for label, text in (
        ("Relationship", referral.relationship),
        ("Tried already", referral.tried_already),
        ("Discussed with", referral.discussed_with),
    ):
        if text:
            pairs.append((label, text))
    if referral.more_info_question:
        pairs.append(("The coordinator asked", referral.more_info_question))
    return pairs


def _returns(read: CaseRead) -> list[ReturnLine]:
    lines = []
    for info in read.requests:
        agency = _agency(read, info.agency_id)
        if info.status is RequestStatus.ANSWERED:
            when = day_text(info.answered_at, read.panel) if info.answered_at else "—"
            by = _person(read, info.answered_by_member_id) or "the agency"
            lines.append(ReturnLine(agency, f"answered on {when} by {by}", info.answer))
        elif info.status is RequestStatus.CANCELLED:
            lines.append(ReturnLine(agency, "request cancelled"))
        else:
            lines.append(
                ReturnLine(agency, f"awaiting an answer, due {day_text(info.due_at, read.panel)}")
            )
    return lines


def _actions(read: CaseRead, today: date) -> list[ActionBlock]:
    blocks = []
    for action in read.actions:
        if action.status is ActionStatus.DONE:
            done = day_text(action.completed_at, read.panel) if action.completed_at else ""
            status = f"done {done}".strip()
        elif action.status is ActionStatus.CANCELLED:
            status = f"cancelled: {action.cancel_reason or 'no reason given'}"
        elif action.status is ActionStatus.PASSED_BACK:
            status = "passed back to the agency when the case closed"
        else:
            status = "overdue" if action.is_overdue(today) else "open"
            if action.escalated:
                status += ", escalated"
        updates = [
            f"{day_text(u.at, read.panel)}: {u.note}"
            + (f" ({who})" if (who := _person(read, u.author_member_id)) else "")
            for u in action.updates
        ]
        blocks.append(
            ActionBlock(
                description=action.description,
                owner=_agency(read, action.owner_agency_id),
                due=day_label(action.due_on),
                status=status,
                updates=updates,
            )
        )
    return blocks


def _decisions(read: CaseRead) -> list[str]:
    case = read.case
    found = [text for _, text in read.decisions]
    if case.lead_agency_id:
        officer = f" (lead officer {case.lead_officer})" if case.lead_officer else ""
        found.append(f"Lead agency: {_agency(read, case.lead_agency_id)}{officer}")
    if case.status is CaseStatus.CLOSED and case.closure_reason:
        note = f" ({case.closure_note})" if case.closure_note else ""
        found.append(f"Closed: {CLOSURE_LABELS[case.closure_reason]}{note}")
    return found


def _history(read: CaseRead) -> list[HistoryLine]:
    panel, case, referral = read.panel, read.case, read.referral
    events: list[tuple[datetime, str]] = []
    if referral is not None and referral.submitted_at:
        who = _person(read, referral.referrer_member_id) or "the referrer"
        events.append((referral.submitted_at, f"Referral {referral.reference} submitted by {who}"))
    events.append((case.opened_at, f"Accepted: case {case.reference} opened"))
    for info in read.requests:
        if info.answered_at:
            events.append((info.answered_at, f"{_agency(read, info.agency_id)} answered"))
    for meeting, kind, state in read.hearings:
        # on the day it was held (a meeting called early too), before what was agreed at it
        events.append((held_at(meeting), f"On the panel's agenda ({kind}): {state}"))
    if case.first_heard_at:
        events.append((case.first_heard_at, "First heard by the panel"))
    for action in read.actions:
        events.append(
            (action.created_at, f"Action agreed for {_agency(read, action.owner_agency_id)}")
        )
        if action.completed_at:
            events.append(
                (action.completed_at, f"Action done by {_agency(read, action.owner_agency_id)}")
            )
    if case.victim_last_updated_at and case.keeps_victim_informed:
        events.append(
            (case.victim_last_updated_at, f"Victim updated by {case.keeps_victim_informed}")
        )
    if case.closed_at:
        events.append((case.closed_at, "Case closed"))
    events.sort(key=lambda e: e[0])
    return [HistoryLine(day_text(at, panel), text) for at, text in events]


def case_view(read: CaseRead, now: datetime) -> CaseView:
    """Everything on the case card, formatted in the panel's time zone."""
    case, panel = read.case, read.panel
    status = {
        CaseStatus.OPEN: "Open",
        CaseStatus.HEARD: "Heard",
        CaseStatus.CLOSED: "Closed",
    }[case.status]
    subjects = read.referral.subjects if read.referral else []
    children = read.referral.children if read.referral else []
    return CaseView(
        reference=case.reference,
        panel_name=panel.name,
        summary=f"{status} · {case.risk_level.value.capitalize()} risk",
        facts=_facts(read),
        subjects=[_subject(s) for s in subjects],
        children=[
            c.name + (f", born {born_text(c.date_of_birth)}" if c.date_of_birth else "")
            for c in children
        ],
        referral=_referral_facts(read),
        returns=_returns(read),
        actions=_actions(read, local_day(now, panel)),
        decisions=_decisions(read),
        history=_history(read),
    )


# ---- the audit trail ------------------------------------------------------------------------


# Events fetched for one page; fewer are shown when the card would not fit.
PAGE = 40


VERB_WORDS: Mapping[AuditVerb, str] = {
    AuditVerb.VIEW: "viewed",
    AuditVerb.CREATE: "created",
    AuditVerb.UPDATE: "changed",
    AuditVerb.DELETE: "deleted",
    AuditVerb.REFUSE: "was refused",
    AuditVerb.EXPORT: "exported",
}


WHERE_WORDS: Mapping[str, str] = {
    ConversationKind.PERSONAL.value: "private chat",
    ConversationKind.CHANNEL.value: "team channel",
    ConversationKind.GROUP_CHAT.value: "group chat",
    ConversationKind.MEETING.value: "meeting chat",
}


@dataclass(frozen=True)
class TrailScope:
    """Whose trail: a case (with its referral, requests and actions), a referral, or all."""

    reference: str  # "" for the whole panel
    title: str
    entities: list[tuple[str, str]] | None
    viewed: tuple[str, str]  # the record the view itself is recorded on


async def trail_scope(uow: UnitOfWork, panel: Panel, reference: str) -> TrailScope:
    """The trail a reference names: a case's, a referral's, or ("") the panel's."""
    if not reference:
        return TrailScope("", f"Audit trail of {panel.name}", None, ("panel", panel.id))
    case = await uow.cases.by_reference(panel.id, reference)
    if case is not None:
        return TrailScope(
            case.reference,
            f"Audit trail for {case.reference}",
            await case_entities(uow, panel, case),
            ("case", case.id),
        )
    referral = await uow.referrals.by_reference(panel.id, reference)
    if referral is not None:
        entities = [("referral", referral.id)]
        if referral.case_id:
            case = await uow.cases.get(panel.id, referral.case_id)
            if case is not None:
                entities = await case_entities(uow, panel, case)
        return TrailScope(
            referral.reference,
            f"Audit trail for {referral.reference}",
            entities,
            ("referral", referral.id),
        )
    raise NotFound(f"There is no case or referral {reference} in this panel.")


async def case_entities(uow: UnitOfWork, panel: Panel, case: Case) -> list[tuple[str, str]]:
    """The records a case's trail covers: the case, its referral, requests and actions."""
    entities = [("case", case.id)]
    if case.referral_id:
        entities.append(("referral", case.referral_id))
    for info in await uow.information_requests.for_case(panel.id, case.id):
        entities.append(("information_request", info.id))
    for action in await uow.actions.for_case(panel.id, case.id):
        entities.append(("action", action.id))
    return entities


async def trail_labels(
    uow: UnitOfWork, panel: Panel, events: Sequence[AuditEvent]
) -> dict[tuple[str, str], str]:
    """What each event's record is called: "case CM-2026-014", "member Gemma Hartley"."""
    labels: dict[tuple[str, str], str] = {}
    members = {m.id: m for m in await uow.members.all(panel.id)}
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    case_ids = sorted({e.entity_id for e in events if e.entity == "case" and e.entity_id})
    for case in await uow.cases.by_ids(panel.id, case_ids):
        labels[("case", case.id)] = f"case {case.reference}"
    for event in events:
        key = (event.entity, event.entity_id or "")
        if key in labels or not event.entity_id:
            continue
        labels[key] = await _label(uow, panel, event, members, agencies)
    return labels


async def _label(
    uow: UnitOfWork,
    panel: Panel,
    event: AuditEvent,
    members: Mapping[str, Member],
    agencies: Mapping[str, Agency],
) -> str:
    entity, entity_id = event.entity, event.entity_id or ""
    if entity == "referral":
        referral = await uow.referrals.get(panel.id, entity_id)
        return f"referral {referral.reference}" if referral else "a referral"
    if entity == "information_request":
        info = await uow.information_requests.get(panel.id, entity_id)
        asked = agencies.get(info.agency_id) if info else None
        return f"information request to {asked.name if asked else 'an agency'}"
    if entity == "action":
        action = await uow.actions.get(panel.id, entity_id)
        owner = agencies.get(action.owner_agency_id) if action else None
        return f"action of {owner.name if owner else 'an agency'}"
    if entity == "member":
        member = members.get(entity_id)
        return f"member {member.name}" if member else "a member"
    if entity == "agency":
        agency = agencies.get(entity_id)
        return f"agency {agency.name}" if agency else "an agency"
    if entity == "panel":
        return "the panel"
    if entity == "command":
        return f"the command {entity_id}"
    return entity.replace("_", " ")


def _who(event: AuditEvent, members: Mapping[str, Member]) -> str:
    member = members.get(event.actor_member_id) if event.actor_member_id else None
    if member is not None:
        return member.name
    return f"someone outside the panel ({event.actor_aad_object_id[:40]})"


def trail_line(
    event: AuditEvent,
    panel: Panel,
    members: Mapping[str, Member],
    labels: Mapping[tuple[str, str], str],
) -> AuditLine:
    """One event as the card says it, in the panel's time zone."""
    what = labels.get((event.entity, event.entity_id or ""), event.entity.replace("_", " "))
    return AuditLine(
        when=when_text(event.at, panel),
        who=_who(event, members),
        did=VERB_WORDS.get(event.verb, event.verb.value),
        what=what,
        where=WHERE_WORDS.get(event.where or "", event.where or ""),
        detail=event.detail,
    )


def fit(view: AuditView) -> tuple[Card, int]:
    """The card with as many of the view's lines as fit the budget; how many it shows."""
    shown = len(view.lines)
    while True:
        card = render_audit(view, shown=shown)
        if shown <= 1 or len(json.dumps(card).encode()) <= MAX_CARD_BYTES:
            return card, shown
        shown = max(1, shown * 3 // 4)
