"""Referral triage: the coordinator accepts, sends back or declines each new referral.

A submitted referral reaches every coordinator as a triage card (with the subjects' matches
in the panel's records) and the team channel as a notice without personal data. Accepting
opens a case, lists it on a meeting's agenda and asks the chosen agencies for information.
Two coordinators may click at once: the referral's version decides, one wins and the other
is told what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from bot.domain import policy
from bot.domain.audit import AuditVerb
from bot.domain.case import Case
from bot.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from bot.domain.events import MeetingsWanted
from bot.domain.meeting import AgendaItem, AgendaItemKind
from bot.domain.panel import AgencyKind, Member, Panel, Role
from bot.domain.referral import (
    DECLINE_LABELS,
    DeclineReason,
    Referral,
    ReferralStatus,
)
from bot.features.referrals.commands import (
    AcceptReferral,
    AskReferrer,
    DeclineReferral,
    ListReferrals,
    PlanMeetings,
    TriageClick,
)
from bot.features.referrals.info_requests import SentRequest, send_requests
from bot.features.referrals.notices import ReferralEvent, tell_referrer
from bot.features.referrals.views import (
    DEFAULT_INFO_QUESTION,
    OTHER_MEETINGS,
    listable,
    mine_card,
    pending_card,
    risk_level,
    state_card,
    triage_view,
)
from bot.kernel import access, audit
from bot.kernel.audit import Actor
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.localtime import day_text, short_day_text, when_text
from bot.kernel.notify import card_to_channel, card_to_member
from bot.kernel.ports import AlreadyExists, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.kit import Card
from cards.triage import (
    ACCEPT_FORM,
    AGENCIES_INPUT,
    DECLINE_NOTE_INPUT,
    DECLINE_REASON_INPUT,
    MEETING_INPUT,
    OTHER_MEETING_INPUT,
    QUESTION_INPUT,
    ChannelNoticeView,
    OutcomeView,
    render_channel_notice,
    render_triage,
    render_triage_outcome,
    triage_title,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from bot.domain.delivery import ConversationKind

NEW_CASE_MINUTES = 15
SEE_REFERRAL = policy.Act.VIEW_REFERRAL
CHANGED_MEANWHILE = (
    "Someone changed this referral while you were deciding, so your click changed nothing. "
    "Here it is as it stands now: check it and choose again."
)


class FormRefused(DomainError):
    """A triage form's inputs are wrong: `errors` maps each input id to what to fix."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("Check the highlighted fields.")
        self.errors = dict(errors)


# ---- a referral submitted ---------------------------------------------------------------


async def referral_submitted(
    uow: UnitOfWork, panel: Panel, referral: Referral, now: datetime
) -> None:
    """A referral was (re)submitted: queue the coordinator's triage card and the channel
    notice, in the same unit of work.

    Keys name the referral's version, so redelivering the submission queues nothing twice
    while a resubmission (a new version) is announced again.
    """
    card = render_triage(await triage_view(uow, panel, referral, now))
    agency = (
        await uow.agencies.get(panel.id, referral.referring_agency_id)
        if referral.referring_agency_id
        else None
    )
    for member in await _coordinators(uow, panel):
        if not await _may_see(uow, panel, member):
            # Need to know: no detail until they accept the agreement; accepting opens it.
            card_for = await _agreement_card(uow, panel, member, referral)
        else:
            card_for = card
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            card=card_for,
            key=f"triage:{referral.id}:{referral.version}:{member.id}",
            now=now,
            text=f"Referral {referral.reference} is waiting for triage",
        )
    notice = ChannelNoticeView(
        reference=referral.reference,
        agency=agency.name if agency else "no agency given",
        risk_level=risk_level(referral).value.capitalize(),
        resubmitted=referral.more_info_question is not None,
    )
    await card_to_channel(
        uow,
        panel=panel,
        card=render_channel_notice(notice),
        key=f"triage-channel:{referral.id}:{referral.version}",
        now=now,
    )


async def _coordinators(uow: UnitOfWork, panel: Panel) -> list[Member]:
    return [m for m in await uow.members.all(panel.id) if m.has(Role.COORDINATOR)]


async def _may_see(uow: UnitOfWork, panel: Panel, member: Member) -> bool:
    """Whether the member may see a referral's detail now (the policy, with their agreement)."""
    decision = await access.decide_for(uow, panel, member, SEE_REFERRAL, policy.Relation.NONE)
    return decision.allowed


async def _agreement_card(
    uow: UnitOfWork, panel: Panel, member: Member, referral: Referral
) -> Card:
    """In place of the triage card for a coordinator who has not accepted the agreement:
    the agreement, and no detail; accepting it opens the triage card."""
    agency = (
        await uow.agencies.get(panel.id, referral.referring_agency_id)
        if referral.referring_agency_id
        else None
    )
    return await access.agreement_card(
        uow,
        panel,
        member,
        reason=policy.agreement_reason(panel.isa_version),
        next_step={"verb": Verb.COMMAND.value, "command": f"referrals {referral.reference}"},
        title=triage_title(referral.reference),
        facts=[
            ("Referring agency", agency.name if agency else "no agency given"),
            ("Risk level", risk_level(referral).value.capitalize()),
        ],
    )


# ---- deciding -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decider:
    """The coordinator who clicked, in their panel."""

    panel: Panel
    member: Member
    where: ConversationKind

    @property
    def actor(self) -> Actor:
        """Who the audit trail records: the coordinator, where they clicked."""
        return Actor.member(self.member, self.where.value)

    @classmethod
    def of(cls, request: Request) -> Decider:
        """The coordinator the guard let through (TRIAGE on the referral the card names)."""
        panel, member = request.admitted()
        return cls(panel, member, request.where.kind)


async def _load(uow: UnitOfWork, panel: Panel, referral_id: str) -> Referral:
    referral = await uow.referrals.get(panel.id, referral_id)
    if referral is None or referral.status is ReferralStatus.DRAFT:
        raise NotFound("That referral no longer exists in this panel.")
    return referral


_Click = TypeVar("_Click", bound=TriageClick)
# A decision's use case: it acts on the referral in the unit of work, or raises FormRefused.
Decision = Callable[[UnitOfWork, Decider, Referral, _Click, datetime], Awaitable[Card]]


async def _decide(decider: Decider, command: _Click, act: Decision[_Click], deps: Deps) -> Reply:
    """Load the referral, make sure the card is current, act, and commit; or say why not.

    Nothing is saved unless everything succeeds: bad input shows the card again with the
    errors; a referral someone else decided shows what they decided; a stale save (storage's
    optimistic lock) is answered the same way.
    """
    panel = decider.panel
    referral_id, version = command.referral_id, command.version
    now = deps.clock.now()
    try:
        async with deps.uow() as uow:
            referral = await _load(uow, panel, referral_id)
            settled = await state_card(uow, panel, referral, already=True)
            if settled is not None:
                return Reply(card=settled)
            if version != referral.version:
                if not await _may_see(uow, panel, decider.member):
                    return Reply(card=await _agreement_card(uow, panel, decider.member, referral))
                view = await triage_view(uow, panel, referral, now, notice=CHANGED_MEANWHILE)
                return Reply(card=render_triage(view))
            card = await act(uow, decider, referral, command, now)
            await uow.commit()
            return Reply(card=card)
    except FormRefused as refused:
        async with deps.uow() as uow:
            referral = await _load(uow, panel, referral_id)
            if not await _may_see(uow, panel, decider.member):
                return Reply(card=await _agreement_card(uow, panel, decider.member, referral))
            view = await triage_view(
                uow,
                panel,
                referral,
                now,
                open_form=command.form,
                values=command.typed,
                errors=refused.errors,
            )
        return Reply(card=render_triage(view))
    except Conflict:
        async with deps.uow() as uow:
            referral = await _load(uow, panel, referral_id)
            settled = await state_card(uow, panel, referral, already=True)
            if settled is not None:
                return Reply(card=settled)
            if not await _may_see(uow, panel, decider.member):
                return Reply(card=await _agreement_card(uow, panel, decider.member, referral))
            view = await triage_view(uow, panel, referral, now, notice=CHANGED_MEANWHILE)
        return Reply(card=render_triage(view))


def _refuse_as(field_name: str, err: InvalidInput) -> FormRefused:
    """A domain refusal, shown next to the field it concerns."""
    return FormRefused({name: err.message for name in err.fields} or {field_name: err.message})


def _readable(command: TriageClick) -> None:
    """Refuse the form when the card sent an input that could not be read (not text, or
    too long): that input alone is shown, as before anything else was checked."""
    if command.unreadable:
        raise FormRefused(command.unreadable)


async def _referrer_name(uow: UnitOfWork, panel: Panel, referral: Referral) -> str:
    referrer = await uow.members.get(panel.id, referral.referrer_member_id)
    return referrer.name if referrer else "the referrer"


async def _next_case_reference(uow: UnitOfWork, panel: Panel, now: datetime) -> str:
    """The panel's next case number of the year (years in UTC), from its counter: never
    given twice, never going back; numbers given by hand or by an import are passed over."""
    year = now.astimezone(UTC).year
    while True:
        reference = panel.case_reference(year, await uow.counters.next(panel.id, "case", year))
        if await uow.cases.by_reference(panel.id, reference) is None:
            return reference


async def _accept(
    uow: UnitOfWork, decider: Decider, referral: Referral, command: AcceptReferral, now: datetime
) -> Card:
    _readable(command)
    panel = decider.panel
    errors: dict[str, str] = {}
    meeting_id = command.meeting_id
    meeting = await uow.meetings.get(panel.id, meeting_id) if meeting_id else None
    if meeting is None:
        errors[MEETING_INPUT] = "Choose one of the panel's upcoming meetings."
    elif not listable(meeting, now):
        errors[MEETING_INPUT] = "That meeting has started, ended or been cancelled: choose another."
    agencies = {a.id: a for a in await uow.agencies.all(panel.id) if a.active}
    chosen = command.agency_ids
    if chosen is None or any(agency_id not in agencies for agency_id in chosen):
        errors[AGENCIES_INPUT] = (
            "Choose agencies from the list: one is not an agency of this panel."
        )
    question = command.info_question or DEFAULT_INFO_QUESTION
    if errors or meeting is None or chosen is None:
        raise FormRefused(errors)

    case = Case(
        panel_id=panel.id,
        reference=await _next_case_reference(uow, panel, now),
        referral_id=referral.id,
        risk_level=risk_level(referral),
        risk_score=referral.risk_total,
        has_children=referral.has_children,
        opened_at=now,
    )
    asked = [agencies[agency_id] for agency_id in chosen]
    for agency in asked:
        if agency.kind is AgencyKind.INVITED:
            case.invite(agency.id)
    referral.accept(case.id, now)
    # The referral first: a stale copy fails here, before anything else is written.
    await uow.referrals.save(referral)
    await uow.cases.save(case)
    agenda = await uow.meetings.agenda(panel.id, meeting.id)
    await uow.meetings.save_agenda_item(
        AgendaItem(
            panel_id=panel.id,
            meeting_id=meeting.id,
            kind=AgendaItemKind.NEW_CASE,
            position=max((item.position for item in agenda), default=0) + 1,
            title=case.reference,
            case_id=case.id,
            minutes_estimate=NEW_CASE_MINUTES,
        )
    )
    sent = await send_requests(uow, panel, case, referral, meeting, asked, question, now)
    await tell_referrer(
        uow,
        panel,
        referral,
        ReferralEvent.ACCEPTED,
        now,
        case_reference=case.reference,
        meeting_starts_at=meeting.starts_at,
    )
    actor = decider.actor
    await audit.record(uow, actor, AuditVerb.CREATE, "case", case.id, referral.reference, at=now)
    for each in sent:
        await audit.record(
            uow,
            actor,
            AuditVerb.CREATE,
            "information_request",
            each.request.id,
            f"asked {each.agency.name}",
            at=now,
        )
    await audit.record(
        uow, actor, AuditVerb.UPDATE, "referral", referral.id, f"accepted: {case.reference}", at=now
    )
    referrer = await _referrer_name(uow, panel, referral)
    return render_triage_outcome(
        OutcomeView(
            title=f"Accepted as {case.reference} for {short_day_text(meeting.starts_at, panel)}",
            subtitle=panel.name,
            facts=[
                ("Referral", referral.reference),
                ("Meeting", when_text(meeting.starts_at, panel)),
                ("Agencies asked", _asked_text(sent)),
                *([("Answers due", day_text(sent[0].request.due_at, panel))] if sent else []),
            ],
            note=f"The case is on the meeting's agenda and {referrer} has been told.",
        )
    )


def _asked_text(sent: list[SentRequest]) -> str:
    if not sent:
        return "none"
    return "; ".join(
        f"{s.agency.name} ({s.contact.name})"
        if s.contact
        else f"{s.agency.name} (no SPOC or deputy: ask them yourself)"
        for s in sent
    )


async def _ask(
    uow: UnitOfWork, decider: Decider, referral: Referral, command: AskReferrer, now: datetime
) -> Card:
    _readable(command)
    try:
        referral.ask_for_more_information(command.question or "")
    except InvalidInput as err:
        raise _refuse_as(QUESTION_INPUT, err) from None
    await uow.referrals.save(referral)
    await tell_referrer(uow, decider.panel, referral, ReferralEvent.MORE_INFO_NEEDED, now)
    await audit.record(
        uow,
        decider.actor,
        AuditVerb.UPDATE,
        "referral",
        referral.id,
        "more information requested",
        at=now,
    )
    referrer = await _referrer_name(uow, decider.panel, referral)
    return render_triage_outcome(
        OutcomeView(
            title=f"Sent back to {referrer}",
            subtitle=decider.panel.name,
            facts=[
                ("Referral", referral.reference),
                ("Question", referral.more_info_question or ""),
            ],
            note="It comes back to you for triage when they resubmit it.",
        )
    )


async def _decline(
    uow: UnitOfWork, decider: Decider, referral: Referral, command: DeclineReferral, now: datetime
) -> Card:
    _readable(command)
    errors: dict[str, str] = {}
    reason = command.reason
    if reason is None:
        errors[DECLINE_REASON_INPUT] = "Choose a reason from the list."
    other = command.other_meeting
    if other is not None and other not in OTHER_MEETINGS:
        errors[OTHER_MEETING_INPUT] = "Choose a meeting from the list."
    elif reason is DeclineReason.MORE_APPROPRIATE_MEETING and other is None:
        errors[OTHER_MEETING_INPUT] = "Name the more appropriate meeting."
    note = command.note
    if errors or reason is None:
        raise FormRefused(errors)
    if reason is DeclineReason.MORE_APPROPRIATE_MEETING and other is not None:
        note = f"{OTHER_MEETINGS[other]}. {note}" if note else OTHER_MEETINGS[other]
    try:
        referral.decline(reason, note, now)
    except InvalidInput as err:
        raise _refuse_as(DECLINE_NOTE_INPUT, err) from None
    await uow.referrals.save(referral)
    await tell_referrer(uow, decider.panel, referral, ReferralEvent.DECLINED, now)
    await audit.record(
        uow,
        decider.actor,
        AuditVerb.UPDATE,
        "referral",
        referral.id,
        f"declined: {reason.value}",
        at=now,
    )
    referrer = await _referrer_name(uow, decider.panel, referral)
    pairs = [("Referral", referral.reference), ("Reason", DECLINE_LABELS[reason])]
    if note:
        pairs.append(("Note", note))
    return render_triage_outcome(
        OutcomeView(
            title=f"Declined: {DECLINE_LABELS[reason]}",
            subtitle=decider.panel.name,
            facts=pairs,
            note=f"{referrer} has been told.",
        )
    )


async def accept(request: Request, deps: Deps) -> Reply:
    """Accept: open the case, list it on the chosen meeting, ask the chosen agencies."""
    decider = Decider.of(request)
    return await _decide(decider, AcceptReferral.parse(request.data), _accept, deps)


async def ask(request: Request, deps: Deps) -> Reply:
    """Send the referral back to its referrer with a question."""
    decider = Decider.of(request)
    return await _decide(decider, AskReferrer.parse(request.data), _ask, deps)


async def decline(request: Request, deps: Deps) -> Reply:
    """Decline with a reason (and the more appropriate meeting, when that is the reason)."""
    decider = Decider.of(request)
    return await _decide(decider, DeclineReferral.parse(request.data), _decline, deps)


MEETINGS_PLANNED = "The panel's next meetings are planned: choose one under Accept."
NO_MEETING_PLANNED = (
    "The panel's schedule gives no upcoming meeting. Type schedule to see it; the "
    "deployment's schedule file sets the rule."
)


async def plan_meetings(request: Request, deps: Deps) -> Reply:
    """The triage card had no meeting to list the case on: plan the panel's next meetings
    from its schedule now (the meetings feature does, on MeetingsWanted) and show the card
    again with them, its Accept form open."""
    panel, member = request.admitted()  # MANAGE_SCHEDULE on the referral: the guard's
    command = PlanMeetings.parse(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        referral = await _load(uow, panel, command.referral_id)
        settled = await state_card(uow, panel, referral, already=True)
        if settled is not None:
            return Reply(card=settled)
        try:
            await deps.events.publish(uow, panel, MeetingsWanted(), now)
            await uow.commit()
        except AlreadyExists:
            # Planned meanwhile by another instance's calendar run: the meetings are there.
            await uow.rollback()
    async with deps.uow() as uow:
        referral = await _load(uow, panel, command.referral_id)
        if not await _may_see(uow, panel, member):
            return Reply(card=await _agreement_card(uow, panel, member, referral))
        view = await triage_view(uow, panel, referral, now)
        notice = MEETINGS_PLANNED if view.meetings else NO_MEETING_PLANNED
        view = await triage_view(
            uow,
            panel,
            referral,
            now,
            notice=notice,
            open_form=ACCEPT_FORM if view.meetings else None,
        )
    return Reply(card=render_triage(view))


# ---- the referrals command ------------------------------------------------------------


async def referrals(request: Request, deps: Deps) -> Reply:
    """Coordinators: every pending referral, or one's triage card. Others: their own."""
    panel, member = request.admitted()
    command = ListReferrals.parse(request.args)
    now = deps.clock.now()
    async with deps.uow() as uow:
        if Role.COORDINATOR in request.roles():
            if command.reference is not None:
                reply = await _open(uow, panel, member, request, command.reference, now)
                await uow.commit()
                return reply
            return Reply(card=await pending_card(uow, panel, now))
        return Reply(card=await mine_card(uow, panel, member))


async def _open(
    uow: UnitOfWork, panel: Panel, member: Member, request: Request, reference: str, now: datetime
) -> Reply:
    referral = await uow.referrals.by_reference(panel.id, reference)
    if referral is None or referral.status is ReferralStatus.DRAFT:
        raise NotFound(f"There is no referral {reference} in this panel. Type referrals.")
    decision = await access.decide_for(uow, panel, member, SEE_REFERRAL, policy.Relation.NONE)
    if not decision.allowed:
        return await audit.refuse(
            uow,
            request,
            decision,
            act=policy.Act.VIEW_REFERRAL,
            entity="referral",
            entity_id=referral.id,
            at=now,
            next_step={"verb": Verb.COMMAND.value, "command": f"referrals {referral.reference}"},
            title=triage_title(referral.reference),
        )
    viewer = Actor.member(member, request.where.kind.value)
    await audit.record(uow, viewer, AuditVerb.VIEW, "referral", referral.id, at=now)
    card = await state_card(uow, panel, referral, already=False)
    if card is None:
        card = render_triage(await triage_view(uow, panel, referral, now))
    return Reply(card=card)


def register(router: Router) -> None:
    """Register `referrals`, the triage verbs and the information request verb."""
    router.command(
        CommandSpec(
            name="referrals",
            summary="Coordinators: the referrals waiting for a decision. Others: your own "
            "referrals and what became of them.",
            handler=referrals,
            usage="referrals [RF-reference]",
            access=Access(policy.Act.REFER, PRIVATE),
            button="Referrals",
        )
    )
    deciding = Access(policy.Act.TRIAGE, PRIVATE, (Target.REFERRAL,), (Target.REFERRAL,))
    router.verb(VerbSpec(Verb.TRIAGE_ACCEPT.value, accept, deciding))
    router.verb(VerbSpec(Verb.TRIAGE_ASK.value, ask, deciding))
    router.verb(VerbSpec(Verb.TRIAGE_DECLINE.value, decline, deciding))
    planning = Access(policy.Act.MANAGE_SCHEDULE, PRIVATE, (Target.REFERRAL,), (Target.REFERRAL,))
    router.verb(VerbSpec(Verb.TRIAGE_PLAN_MEETINGS.value, plan_meetings, planning))
