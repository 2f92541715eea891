"""Information requests: the panel asks an agency what it knows about a case before a meeting.

Need to know: a request's card, with the subjects' names, goes only to the asked agency's
contact (its SPOC, or the deputy while the SPOC is away), and only they may answer it.

The card carries the request's version: an answer from a card older than the request (the
SPOC and the deputy both answering, seconds or days apart), or one that loses the race to
save, is refused and shown the request as it is now, with a line saying what changed
meanwhile and the typed answer kept (bot.kernel.versions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.action import InformationRequest, RequestStatus
from bot.domain.audit import AuditVerb
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.panel import Agency, Member, Panel, Role, agency_contact
from bot.domain.policy import Act
from bot.domain.schedule import working_day_on_or_before
from bot.features.referrals.commands import AnswerInfoRequest, OpenInfoRequest
from bot.kernel import access, versions
from bot.kernel.audit import Actor, record
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.localtime import (
    born_text,
    day_text,
    england_and_wales_holidays,
    local,
    when_text,
)
from bot.kernel.notify import card_to_member
from bot.kernel.ports import StaleVersion, UnitOfWork
from bot.kernel.router import Deps, Reply, Request, Router, VerbSpec
from cards.info_request import (
    MAX_ANSWER,
    AnsweredNoticeView,
    InfoAnsweredView,
    InfoRequestView,
    RequestSubject,
    answered_notice_text,
    info_request_title,
    render_answered_notice,
    render_info_answered,
    render_info_request,
)
from cards.verbs import REQUEST_ID_KEY, Verb

if TYPE_CHECKING:
    from bot.domain.case import Case
    from bot.domain.meeting import Meeting
    from bot.domain.referral import Referral
    from cards.kit import Card

AGENCY_ANSWERERS = frozenset({Role.SPOC, Role.DEPUTY})
AGREEMENT_FIRST = (
    "The panel asks your agency about this case. Accept the panel's information sharing "
    "agreement to see the people named and answer."
)
# When the meeting's referral deadline has passed, answers are due this long before it.
LATE_DUE_BEFORE_MEETING = timedelta(days=2)
# The audit trail's name for a request.
_ENTITY = "information_request"


def answers_due(meeting: Meeting, now: datetime, zone: ZoneInfo) -> datetime:
    """The meeting's referral deadline, or two days before the meeting once that passed; on
    a working day in the panel's zone (a weekend or a bank holiday moves it to the working day
    before, at the same time), unless that has passed already."""
    if meeting.referral_deadline > now:
        due = meeting.referral_deadline
    else:
        late = meeting.starts_at - LATE_DUE_BEFORE_MEETING
        due = late if late > now else meeting.starts_at
    at = due.astimezone(zone)
    day = working_day_on_or_before(at.date(), england_and_wales_holidays({at.year, at.year - 1}))
    moved = datetime.combine(day, at.time(), zone)
    return moved if moved > now else due


@dataclass(frozen=True)
class SentRequest:
    """One agency asked, and who in it received the card (None: nobody to send it to)."""

    agency: Agency
    request: InformationRequest
    contact: Member | None


def request_view(
    panel: Panel,
    request: InformationRequest,
    case: Case,
    referral: Referral | None,
    agency: Agency,
    meeting: Meeting | None,
    *,
    answer: str | None = None,
    error: str | None = None,
) -> InfoRequestView:
    """What the agency's contact sees of the case: need to know, nothing more."""
    subjects = [
        RequestSubject(
            name=s.name,
            role=s.role.value,
            born=born_text(s.date_of_birth) if s.date_of_birth else None,
        )
        for s in (referral.subjects if referral else [])
    ]
    return InfoRequestView(
        request_id=request.id,
        case_reference=case.reference,
        panel_name=panel.name,
        agency=agency.name,
        risk_level=case.risk_level.value.capitalize(),
        meeting=when_text(meeting.starts_at, panel) if meeting else None,
        due=day_text(request.due_at, panel),
        subjects=subjects,
        question=request.question,
        answer=answer,
        error=error,
        version=request.version,
    )


async def send_requests(
    uow: UnitOfWork,
    panel: Panel,
    case: Case,
    referral: Referral,
    meeting: Meeting,
    agencies: list[Agency],
    question: str,
    now: datetime,
) -> list[SentRequest]:
    """Create one request per agency and queue its card to the agency's contact today."""
    members = await uow.members.all(panel.id)
    today = local(now, panel).date()
    due = answers_due(meeting, now, ZoneInfo(panel.timezone))
    sent: list[SentRequest] = []
    for agency in agencies:
        request = InformationRequest(
            panel_id=panel.id,
            case_id=case.id,
            agency_id=agency.id,
            meeting_id=meeting.id,
            question=question,
            due_at=due,
        )
        await uow.information_requests.save(request)
        contact = agency_contact(members, agency.id, today)
        if contact is not None:
            if await _may_see(uow, panel, contact, agency):
                view = request_view(panel, request, case, referral, agency, meeting)
                card = render_info_request(view)
            else:
                card = await _agreement_card(uow, panel, contact, request, case, agency)
            await card_to_member(
                uow,
                panel_id=panel.id,
                member_id=contact.id,
                card=card,
                key=f"inforeq:{request.id}:{contact.id}",
                now=now,
                text=f"The panel asks {agency.name} about {case.reference}",
            )
        sent.append(SentRequest(agency, request, contact))
    return sent


async def _may_see(uow: UnitOfWork, panel: Panel, member: Member, agency: Agency) -> bool:
    """Need to know: the asked agency's contact sees the case's people (the request's
    detail) once they have accepted the panel's current agreement."""
    relation = await access.relation_of_agency(uow, panel, agency.id)
    decision = await access.decide_for(uow, panel, member, Act.VIEW_CASE_DETAIL, relation)
    return decision.allowed


async def _agreement_card(
    uow: UnitOfWork,
    panel: Panel,
    member: Member,
    info: InformationRequest,
    case: Case,
    agency: Agency,
) -> Card:
    """In place of the request for a contact who has not accepted the agreement: what is
    asked and by when, no one's name; accepting the agreement opens the request."""
    return await access.agreement_card(
        uow,
        panel,
        member,
        reason=AGREEMENT_FIRST,
        next_step={"verb": Verb.INFO_OPEN.value, REQUEST_ID_KEY: info.id},
        title=info_request_title(case.reference),
        facts=[
            ("Agency", agency.name),
            ("Risk level", case.risk_level.value.capitalize()),
            ("Please answer by", day_text(info.due_at, panel)),
        ],
    )


async def _contact_request(
    uow: UnitOfWork, panel: Panel, request_id: str
) -> tuple[InformationRequest, Case, Agency]:
    """The request the card names, its case and the agency asked."""
    info = await uow.information_requests.get(panel.id, request_id)
    case = await uow.cases.get(panel.id, info.case_id) if info else None
    if info is None or case is None:
        raise NotFound("That information request no longer exists.")
    agency = await uow.agencies.get(panel.id, info.agency_id)
    if agency is None:
        raise NotFound("That information request no longer exists.")
    return info, case, agency


async def open_request(request: Request, deps: Deps) -> Reply:
    """The request's card, opened by its contact once they may see it (e.g. after accepting
    the agreement); its answer once answered. Who may open it (VIEW_CASE_DETAIL as its
    agency, with the agreement) was decided by the guard."""
    panel, member = request.admitted()
    command = OpenInfoRequest.parse(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        info, case, agency = await _contact_request(uow, panel, command.request_id)
        if info.status is not RequestStatus.OPEN:
            return Reply(card=await _answered_card(uow, panel, info, case, agency))
        referral = await uow.referrals.get(panel.id, case.referral_id) if case.referral_id else None
        meeting = await uow.meetings.get(panel.id, info.meeting_id) if info.meeting_id else None
        await record(uow, Actor.member(member), AuditVerb.VIEW, _ENTITY, info.id, "opened", at=now)
        await uow.commit()
    view = request_view(panel, info, case, referral, agency, meeting)
    return Reply(card=render_info_request(view))


async def answer_request(request: Request, deps: Deps) -> Reply:
    """The agency's SPOC or deputy returns what the agency knows (ANSWER_INFO_REQUEST as the
    asked agency: checked by the guard)."""
    panel, member = request.admitted()
    command = AnswerInfoRequest.parse(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        info, case, agency = await _contact_request(uow, panel, command.request_id)
        if info.status is not RequestStatus.OPEN or command.version != info.version:
            return Reply(
                card=await _not_sent(uow, request, command, panel, member, info, case, agency, now)
            )
        error = command.unreadable
        if error is None:
            try:
                info.answer_with(
                    command.answer or "", by_agency_id=agency.id, by_member_id=member.id, at=now
                )
            except InvalidInput as err:
                error = err.message
        if error is not None:
            if not await _may_see(uow, panel, member, agency):
                return Reply(card=await _agreement_card(uow, panel, member, info, case, agency))
            referral = (
                await uow.referrals.get(panel.id, case.referral_id) if case.referral_id else None
            )
            meeting = await uow.meetings.get(panel.id, info.meeting_id) if info.meeting_id else None
            typed = command.typed
            view = request_view(
                panel,
                info,
                case,
                referral,
                agency,
                meeting,
                answer=typed[:MAX_ANSWER] if typed is not None else None,
                error=error,
            )
            return Reply(card=render_info_request(view))
        try:
            await uow.information_requests.save(info)
        except StaleVersion:
            # Lost the race: another answer was saved since the request was loaded.
            await uow.rollback()
            current = await uow.information_requests.get(panel.id, info.id)
            if current is None:
                raise NotFound("That information request no longer exists.") from None
            return Reply(
                card=await _not_sent(
                    uow, request, command, panel, member, current, case, agency, now
                )
            )
        await record(
            uow, Actor.member(member), AuditVerb.UPDATE, _ENTITY, info.id, "answered", at=now
        )
        await _tell_coordinators(uow, panel, info, case, agency, now)
        card = await _answered_card(uow, panel, info, case, agency)
        await uow.commit()
    return Reply(card=card)


async def _not_sent(
    uow: UnitOfWork,
    request: Request,
    command: AnswerInfoRequest,
    panel: Panel,
    member: Member,
    info: InformationRequest,
    case: Case,
    agency: Agency,
    now: datetime,
) -> Card:
    """An answer from a card older than the request (or one that lost the race to save
    it): nothing is sent, the refusal is audited (and committed), and the request is shown
    as it is now with a line saying what changed meanwhile; the typed answer stays in the
    box while the request is open, and is quoted back (in this private chat) once not."""
    raw = command.typed
    typed = (raw.strip()[:MAX_ANSWER] or None) if raw is not None else None
    await versions.record_refusal(
        uow,
        request,
        _ENTITY,
        info.id,
        current=info.version,
        at=now,
    )
    line = await versions.changed_meanwhile(
        uow, panel, "This request", [(_ENTITY, info.id)], now=now, me=member.id
    )
    await uow.commit()
    if not await _may_see(uow, panel, member, agency):
        # Answering needs no agreement (it is the agency's own word); showing the request
        # as it is now (the people it names) does.
        return await _agreement_card(uow, panel, member, info, case, agency)
    if info.status is not RequestStatus.OPEN:
        notice = f"{line} {versions.kept(typed, in_the_box=False)}"
        return await _answered_card(uow, panel, info, case, agency, notice=notice)
    referral = await uow.referrals.get(panel.id, case.referral_id) if case.referral_id else None
    meeting = await uow.meetings.get(panel.id, info.meeting_id) if info.meeting_id else None
    notice = f"{line} {versions.kept(typed, in_the_box=True)}"
    view = request_view(panel, info, case, referral, agency, meeting, answer=typed, error=notice)
    return render_info_request(view)


async def _answered_card(
    uow: UnitOfWork,
    panel: Panel,
    info: InformationRequest,
    case: Case,
    agency: Agency,
    *,
    notice: str | None = None,
) -> Card:
    if info.status is RequestStatus.CANCELLED:
        return render_info_answered(
            InfoAnsweredView(
                case_reference=case.reference,
                agency=agency.name,
                answered_by="nobody",
                answered_on="—",
                answer="The panel cancelled this request; nothing more is needed.",
                notice=notice,
            )
        )
    who = (
        await uow.members.get(panel.id, info.answered_by_member_id)
        if info.answered_by_member_id
        else None
    )
    return render_info_answered(
        InfoAnsweredView(
            case_reference=case.reference,
            agency=agency.name,
            answered_by=who.name if who else "your agency",
            answered_on=day_text(info.answered_at, panel) if info.answered_at else "—",
            answer=info.answer or "",
            notice=notice,
        )
    )


async def _tell_coordinators(
    uow: UnitOfWork,
    panel: Panel,
    info: InformationRequest,
    case: Case,
    agency: Agency,
    now: datetime,
) -> None:
    """The coordinators see who has answered: one short card per answer."""
    asked = [
        r
        for r in await uow.information_requests.for_case(panel.id, case.id)
        if r.status is not RequestStatus.CANCELLED
    ]
    answered = sum(1 for r in asked if r.status is RequestStatus.ANSWERED)
    view = AnsweredNoticeView(
        agency=agency.name, case_reference=case.reference, answered=answered, asked=len(asked)
    )
    for coordinator in await uow.members.all(panel.id):
        if coordinator.has(Role.COORDINATOR):
            await card_to_member(
                uow,
                panel_id=panel.id,
                member_id=coordinator.id,
                card=render_answered_notice(view),
                key=f"inforeq-answered:{info.id}:{coordinator.id}",
                now=now,
                text=answered_notice_text(view),
            )


def register(router: Router) -> None:
    """Register the answer button of the information request card."""
    asked = (Target.INFO_REQUEST,)
    router.verb(
        VerbSpec(
            Verb.INFO_ANSWER.value,
            answer_request,
            Access(Act.ANSWER_INFO_REQUEST, PRIVATE, asked, asked),
        )
    )
    router.verb(
        VerbSpec(
            Verb.INFO_OPEN.value, open_request, Access(Act.VIEW_CASE_DETAIL, PRIVATE, asked, asked)
        )
    )
