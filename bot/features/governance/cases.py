"""`case CM-2026-014`: one case in full, for those the need-to-know policy entitles.

In a private chat only: asked in a channel or group chat, the card is turned away by the
gate there and sent to the person's private chat instead. Every view is audited, and so is
every refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.audit import AuditVerb
from bot.domain.case import CLOSURE_LABELS, Case, CaseStatus
from bot.domain.errors import NotFound
from bot.domain.meeting import AgendaItemKind, AgendaItemStatus, Meeting
from bot.domain.minutes import day_label
from bot.domain.panel import Agency, Member, Panel
from bot.domain.policy import Act, Relation, decide
from bot.domain.referral import CATEGORY_LABELS, Referral, Subject
from bot.features.governance.commands import CASE_USAGE, ShowCase
from bot.kernel import access, audit
from bot.kernel.guard import NOT_MEETINGS, Access, Target
from bot.kernel.localtime import born_text, day_text, local_day
from bot.kernel.ports import UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from cards.case import (
    ActionBlock,
    CaseView,
    HistoryLine,
    ReturnLine,
    SubjectBlock,
    render_case,
)


@dataclass(frozen=True)
class _Read:
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


async def _read(uow: UnitOfWork, panel: Panel, case: Case) -> _Read:
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
                label = day_text(meeting.starts_at, panel)
                decisions.append((meeting.starts_at, f"{label}: {entry.decision or entry.summary}"))
    return _Read(
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


def _agency(read: _Read, agency_id: str | None) -> str:
    agency = read.agencies.get(agency_id) if agency_id else None
    return agency.name if agency else "no agency"


def _person(read: _Read, member_id: str | None) -> str | None:
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
        details.append(f"{subject.phone} ({safe})")
    if subject.vulnerabilities:
        details.append(subject.vulnerabilities)
    if subject.language:
        interpreter = ", needs an interpreter" if subject.interpreter_needed else ""
        details.append(f"speaks {subject.language}{interpreter}")
    return SubjectBlock(subject.name, subject.role.value, details)


def _facts(read: _Read) -> list[tuple[str, str]]:
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


def _referral_facts(read: _Read) -> list[tuple[str, str]]:
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
    if referral.criteria.professional_judgement:
        criteria.append(f"professional judgement: “{referral.criteria.professional_judgement}”")
    pairs = [
        ("Referral", f"{referral.reference}, {day_text(sent, panel)}"),
        ("Referred by", f"{who}, {_agency(read, referral.referring_agency_id)}"),
        ("Category", CATEGORY_LABELS[referral.category]),
        ("Incidents (12 months)", incidents),
        ("Consent", ("aware, " if consent.aware else "not aware, ") + consent_text),
        ("Criteria met", "; ".join(criteria) or "none"),
    ]
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


def _returns(read: _Read) -> list[ReturnLine]:
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


def _actions(read: _Read, today: date) -> list[ActionBlock]:
    blocks = []
    for action in read.actions:
        if action.status is ActionStatus.DONE:
            done = day_text(action.completed_at, read.panel) if action.completed_at else ""
            status = f"done {done}".strip()
        elif action.status is ActionStatus.CANCELLED:
            status = f"cancelled: {action.cancel_reason or 'no reason given'}"
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


def _decisions(read: _Read) -> list[str]:
    case = read.case
    found = [text for _, text in read.decisions]
    if case.lead_agency_id:
        officer = f" (lead officer {case.lead_officer})" if case.lead_officer else ""
        found.append(f"Lead agency: {_agency(read, case.lead_agency_id)}{officer}")
    if case.status is CaseStatus.CLOSED and case.closure_reason:
        note = f" ({case.closure_note})" if case.closure_note else ""
        found.append(f"Closed: {CLOSURE_LABELS[case.closure_reason]}{note}")
    return found


def _history(read: _Read) -> list[HistoryLine]:
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
        events.append((meeting.starts_at, f"On the panel's agenda ({kind}): {state}"))
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


def case_view(read: _Read, now: datetime) -> CaseView:
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


async def show_case(request: Request, deps: Deps) -> Reply:
    """`case CM-2026-014`: the case in full, if the caller is entitled to it."""
    # VIEW_CASE_DETAIL on the case named, with the agreement: checked by the guard.
    request.admitted()
    return await open_case(request, deps, ShowCase.typed(request.args))


async def open_case(request: Request, deps: Deps, command: ShowCase) -> Reply:
    """The case card, its view audited in the same unit of work."""
    panel, member = request.admitted()
    reference = command.reference
    now = deps.clock.now()
    async with deps.uow() as uow:
        case = await uow.cases.by_reference(panel.id, reference)
        if case is None:
            raise NotFound(f"There is no case {reference} in this panel.")
        subject = await access.subject_for(uow, panel, member)
        read = await _read(uow, panel, case)
        await audit.record(uow, request, AuditVerb.VIEW, "case", case.id, "case view", at=now)
        await uow.commit()
    may_audit = decide(subject, Act.VIEW_AUDIT, Relation.NONE).allowed
    return Reply(card=render_case(case_view(read, now), audit_button=may_audit))


def register(router: Router) -> None:
    """Register `case`."""
    router.command(
        CommandSpec(
            name="case",
            summary="Open a case in full (history, subjects, risk, agency returns, actions, "
            "decisions), if your role and agency need to know it.",
            handler=show_case,
            usage=CASE_USAGE,
            access=Access(Act.VIEW_CASE_DETAIL, NOT_MEETINGS, targets=(Target.CASE_IN_ARGS,)),
        )
    )
