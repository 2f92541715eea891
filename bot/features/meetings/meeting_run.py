"""Running the meeting in its chat: start, the confidentiality card, the chair card, end.

The Agents Playground has no meeting chat, so the commands work in a group chat and a team
channel as in a meeting's chat. `start` (the chair or the coordinator; or Teams' meeting-start
event) opens the meeting at its first item and posts the confidentiality card: acknowledging
it records attendance by agency, after the member accepts the current information sharing
agreement if they have not. The chair card walks the agenda ("Item 3 of 9") and records
actions, the lead agency, the risk level, review or closure, and what became of each unmet
action; the meeting's current item is stored, so a restart continues where it stopped.

Clicks are idempotent: each chair card carries the step it was rendered at and a token that
changes with every rendering. Next and Back move only from the step they were rendered at,
once (the activity ledger holds "meeting-nav:<meeting>:<step>"), and each form is saved once
per token ("meeting-form:<token>"), so a click delivered twice, or two people clicking the
same card, never adds an action twice or skips an item. Each card also carries the meeting's
version, which every move and every saved form raises: a click from a card older than that
(the chair and the coordinator each with a card), or one that loses the race to save,
changes nothing and is shown the card as it is now with a line saying what changed
(bot.kernel.versions).

In a shared chat (the meeting's, a team channel, a group chat) the meeting's cards are shared
views (bot.kernel.views, bot.features.meetings.shared): the message everyone reads is the
base, without narratives (agencies' returns, action descriptions, summaries; the channel
gate, bot.kernel.channel_gate, holds it to that), and each reader's client asks for their own
view, which the policy decides: the chair and the coordinator the whole card with its forms,
a SPOC the narratives of the cases their agency may see. The chair's private chat gets the
whole card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.domain.action import (
    Action,
    ActionStatus,
)
from bot.domain.agenda import neighbour, running_items
from bot.domain.audit import AuditVerb
from bot.domain.case import CLOSURE_LABELS, Case, CaseStatus
from bot.domain.delivery import ConversationKind
from bot.domain.errors import DomainError, InvalidInput, InvalidTransition, NotFound
from bot.domain.events import ActionAgreed, ActionChanged, CaseChanged, DomainEvent
from bot.domain.meeting import (
    AgendaItem,
    Attendance,
    Meeting,
    MeetingStatus,
)
from bot.domain.minutes import (
    day_label,
)
from bot.domain.panel import Agency, IsaAcceptance, Member, Panel, Role
from bot.domain.policy import Act
from bot.features.meetings.agenda import NO_MEETING, AgendaConfig, refresh_agenda
from bot.features.meetings.commands import (
    AcceptIsa,
    CancelAction,
    CaptureAction,
    CarryForward,
    ChairClick,
    ChairForm,
    CloseCase,
    Escalate,
    MeetingAsked,
    NominateLead,
    ReopenCase,
    ReviewLater,
    SaveSummary,
    SetRisk,
    kept_inputs,
)
from bot.features.meetings.minutes import draft_for_meeting, queue_draft
from bot.features.meetings.shared import (
    ACTION_VIEW,
    CHAIR_VIEW,
    CONFIDENTIALITY_VIEW,
    MEETING_ENDED_VIEW,
    VIEWS,
    ended_view,
    started_late,
    statement,
)
from bot.features.meetings.views import (
    RISK_LABELS,
    attendance_lines,
    chair_context,
    chair_view,
    meeting_title,
    next_meeting,
)
from bot.kernel import agreement, versions, views
from bot.kernel.audit import Actor, record
from bot.kernel.guard import ANYWHERE, SHARED, Access, Target
from bot.kernel.localtime import day_text, local, when_text
from bot.kernel.ports import StaleVersion, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.chair import (
    DUE_ON_INPUT,
    LEAD_AGENCY_INPUT,
    OWNER_AGENCY_INPUT,
    REVIEW_MEETING_INPUT,
    ConfidentialityView,
    IsaPromptView,
    render_chair,
    render_confidentiality,
    render_isa_prompt,
    render_meeting_ended,
)
from cards.verbs import ACTION_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    from bot.kernel.events import Events
    from cards.kit import Card

CHAIR_ROLES = frozenset({Role.CHAIR, Role.COORDINATOR})
MEETING_CHATS = frozenset(
    {ConversationKind.GROUP_CHAT, ConversationKind.CHANNEL, ConversationKind.MEETING}
)
ONLY_CHAIR = "Only the chair or the coordinator can run the meeting."
NOT_A_MEMBER = (
    "You are not a member of this panel, so your attendance cannot be recorded. Ask the "
    "panel coordinator to add you."
)
STALE_MOVE = "The meeting had moved on from that card: this is where it is now."
ALREADY_SAVED = "That was already saved from this card, so nothing was added twice."


@dataclass(frozen=True)
class RunConfig:
    """How the meeting is run: the agenda's timing (the agenda is built again at `start`)."""

    agenda: AgendaConfig = field(default_factory=AgendaConfig)


# --- who and which meeting -----------------------------------------------------------------


async def _meeting(uow: UnitOfWork, panel: Panel, meeting_id: str | None, now: datetime) -> Meeting:
    """The meeting a card names, or the one under way (or next)."""
    meeting = (
        await uow.meetings.get(panel.id, meeting_id)
        if meeting_id
        else await next_meeting(uow, panel.id, now)
    )
    if meeting is None:
        raise NotFound(NO_MEETING if not meeting_id else "That meeting no longer exists.")
    return meeting


def _require_running(meeting: Meeting, panel: Panel) -> None:
    if meeting.status is MeetingStatus.IN_PROGRESS:
        return
    when = day_text(meeting.starts_at, panel)
    if meeting.status in {MeetingStatus.ENDED, MeetingStatus.MINUTES_APPROVED}:
        raise InvalidTransition(
            f"The meeting on {when} has ended; the coordinator has its minutes."
        )
    if meeting.status is MeetingStatus.CANCELLED:
        raise InvalidTransition(f"The meeting on {when} was cancelled.")
    raise InvalidTransition(f"The meeting on {when} has not started: the chair types start.")


def _actor(
    panel: Panel, member: Member | None, kind: ConversationKind, request: Request | None = None
) -> Actor:
    """Who did it, for the audit trail: the member; else the person Teams named; else
    Teams' own meeting event (a meeting started or ended with nobody known behind it)."""
    if member is not None:
        return Actor.member(member, kind.value)
    caller = request.caller.aad_object_id if request is not None else None
    return Actor(panel.id, caller or "teams-meeting-event", None, kind.value)


# --- the confidentiality card --------------------------------------------------------------


async def confidentiality_card(
    uow: UnitOfWork,
    panel: Panel,
    meeting: Meeting,
    *,
    notice: str | None = None,
    acknowledged: bool = False,
) -> Card:
    view = ConfidentialityView(
        panel_name=panel.name,
        meeting_id=meeting.id,
        meeting_label=meeting_title(meeting, when_text(meeting.starts_at, panel)),
        statement=statement(panel),
        attendance=await attendance_lines(uow, panel, meeting),
        notice=notice,
        acknowledged=acknowledged,
        started_late=started_late(meeting, panel),
    )
    return render_confidentiality(view)


async def _start(
    uow: UnitOfWork,
    panel: Panel,
    meeting: Meeting,
    config: RunConfig,
    *,
    member: Member | None,
    where: Request | None,
    kind: ConversationKind,
    conversation_id: str | None,
    now: datetime,
) -> bool:
    """Build the agenda once more and open the meeting at its first item; False when the
    meeting was started by someone else meanwhile (nothing changed). The caller commits."""
    state = await refresh_agenda(uow, panel, meeting, config.agenda.timing)
    if not await uow.activities.first_time(f"meeting-start:{meeting.id}", now):
        return False
    running = running_items(state.items)
    if not running:  # build_agenda always lists the confidentiality statement
        raise InvalidTransition("The agenda is empty.")
    meeting.start(now, conversation_id=conversation_id, first_item_id=running[0].id)
    await uow.meetings.save(meeting)
    actor = _actor(panel, member, kind, where)
    await record(uow, actor, AuditVerb.UPDATE, "meeting", meeting.id, "started", at=now)
    return True


async def start(request: Request, deps: Deps, config: RunConfig) -> Reply:
    """`start`: open the next meeting and post the confidentiality card."""
    panel, member = request.admitted()
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, None, now)
        if meeting.status is MeetingStatus.IN_PROGRESS:
            under_way = (
                "The meeting is under way already. Acknowledge the statement if you have "
                "not; the chair opens the chair card."
            )
            if _shared(request):
                return await _statement_view(deps, request, meeting, under_way)
            card = await confidentiality_card(uow, panel, meeting, notice=under_way)
            return Reply(card=card)
        started = await _start(
            uow,
            panel,
            meeting,
            config,
            member=member,
            where=request,
            kind=request.where.kind,
            conversation_id=request.where.conversation_id,
            now=now,
        )
        if started:
            await uow.commit()
    notice = None if started else "Someone else started the meeting a moment ago."
    if _shared(request):
        return await _statement_view(deps, request, meeting, notice)
    async with deps.uow() as uow:
        current = await uow.meetings.get(panel.id, meeting.id)
        assert current is not None
        return Reply(card=await confidentiality_card(uow, panel, current, notice=notice))


def _shared(request: Request) -> bool:
    """Whether the request came from a chat several people read: the meeting's cards are
    then shared views, each reader's own made by bot.kernel.views."""
    return request.where.kind in SHARED


async def _statement_view(
    deps: Deps,
    request: Request,
    meeting: Meeting,
    notice: str | None,
    *,
    acknowledged: bool = False,
) -> Reply:
    """The confidentiality statement as a shared view; `notice` says what happened (no
    personal data: it goes on the base too, unless it thanks the reader)."""
    extras: dict[str, Any] = {"notice": notice, "acknowledged": acknowledged}
    return await views.answer(
        deps,
        request,
        CONFIDENTIALITY_VIEW,
        views.meeting_data(meeting),
        extras=extras,
        base_extras={} if acknowledged else {"notice": notice},
    )


async def _isa_current(uow: UnitOfWork, panel: Panel, member: Member) -> IsaAcceptance | None:
    latest = await uow.isa.latest(panel.id, member.id)
    return latest if latest is not None and latest.version == panel.isa_version else None


async def accept_current_isa(
    uow: UnitOfWork, panel: Panel, member: Member, now: datetime, where: ConversationKind
) -> None:
    """Accept the panel's current agreement for `member` (audited, once)."""
    await agreement.accept_current(uow, panel, member, now, where=where.value)


async def _attend(
    uow: UnitOfWork, panel: Panel, member: Member, meeting: Meeting, request: Request, now: datetime
) -> bool:
    recorded = await uow.meetings.record_attendance(
        Attendance(
            panel_id=panel.id,
            meeting_id=meeting.id,
            member_id=member.id,
            agency_id=member.agency_id,
            acknowledged_at=now,
        )
    )
    if recorded:
        await record(
            uow,
            _actor(panel, member, request.where.kind),
            AuditVerb.CREATE,
            "attendance",
            meeting.id,
            "acknowledged the confidentiality statement",
            at=now,
        )
    return recorded


async def _agency_name(uow: UnitOfWork, panel: Panel, agency_id: str | None) -> str:
    agency = await uow.agencies.get(panel.id, agency_id) if agency_id else None
    return agency.name if agency else "no agency"


async def acknowledge(request: Request, deps: Deps) -> Reply:
    """An attendee acknowledges the statement: their attendance is recorded by agency; a
    member who has not accepted the current agreement is asked to first."""
    panel, member = request.admitted()
    asked = MeetingAsked.of(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, asked.meeting_id, now)
        _require_running(meeting, panel)
        if await _isa_current(uow, panel, member) is None:
            return Reply(card=await _isa_prompt(uow, panel, member, meeting))
        await _attend(uow, panel, member, meeting, request, now)
        await uow.commit()
        agency = await _agency_name(uow, panel, member.agency_id)
        thanks = f"Thank you, {member.name}: you are recorded as attending for {agency}."
        if not _shared(request):
            card = await confidentiality_card(uow, panel, meeting, notice=thanks, acknowledged=True)
            return Reply(card=card)
    return await _statement_view(deps, request, meeting, thanks, acknowledged=True)


async def _isa_prompt(uow: UnitOfWork, panel: Panel, member: Member, meeting: Meeting) -> Card:
    latest = await uow.isa.latest(panel.id, member.id)
    return render_isa_prompt(
        IsaPromptView(
            panel_name=panel.name,
            meeting_id=meeting.id,
            member_name=member.name,
            isa_version=panel.isa_version,
            isa_text=panel.isa_text,
            accepted_version=latest.version if latest else None,
        )
    )


async def accept_isa(request: Request, deps: Deps) -> Reply:
    """The member accepts the agreement from the meeting's prompt, and so attends."""
    panel, member = request.admitted()
    command = AcceptIsa.of(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, command.meeting_id, now)
        _require_running(meeting, panel)
        if command.isa_version != panel.isa_version:
            return Reply(card=await _isa_prompt(uow, panel, member, meeting))
        await accept_current_isa(uow, panel, member, now, request.where.kind)
        await _attend(uow, panel, member, meeting, request, now)
        await uow.commit()
        agency = await _agency_name(uow, panel, member.agency_id)
        thanks = (
            f"Thank you, {member.name}: you accepted version {panel.isa_version} of the "
            f"agreement and are recorded as attending for {agency}."
        )
        if not _shared(request):
            card = await confidentiality_card(uow, panel, meeting, notice=thanks, acknowledged=True)
            return Reply(card=card)
    return await _statement_view(deps, request, meeting, thanks, acknowledged=True)


# --- the chair card ------------------------------------------------------------------------


def _private(request: Request) -> bool:
    """Whether the chair card is the whole card for the one person in a private chat; in a
    shared chat it is a shared view (`chair_reply`)."""
    return request.where.kind is ConversationKind.PERSONAL


async def chair_reply(
    deps: Deps,
    request: Request,
    panel: Panel,
    member: Member,
    meeting_id: str,
    *,
    notice: str | None = None,
    error: bool = False,
    typed: Mapping[str, str] | None = None,
    edit: bool = True,
) -> Reply:
    """The chair card as it stands now (a case shown is audited as viewed). In a shared chat
    it is a shared view: the clicker's own (the chair's controls), and the base everyone
    else reads, which the clicked message then shows (`edit`) so their views follow."""
    if _shared(request):
        async with deps.uow() as uow:
            meeting = await uow.meetings.get(panel.id, meeting_id)
            if meeting is None:
                raise NotFound("That meeting no longer exists.")
            _require_running(meeting, panel)
        extras: dict[str, Any] = {"notice": notice, "error": error, "typed": typed}
        return await views.answer(
            deps, request, CHAIR_VIEW, views.meeting_data(meeting), extras=extras, edit=edit
        )
    async with deps.uow() as uow:
        meeting = await uow.meetings.get(panel.id, meeting_id)
        if meeting is None:
            raise NotFound("That meeting no longer exists.")
        _require_running(meeting, panel)
        view, case = await chair_view(
            uow,
            panel,
            meeting,
            private=_private(request),
            notice=notice,
            error=error,
            typed=typed,
        )
        if case is not None:
            actor = _actor(panel, member, request.where.kind)
            await record(
                uow, actor, AuditVerb.VIEW, "case", case.id, "chair card", at=deps.clock.now()
            )
            await uow.commit()
    return Reply(card=render_chair(view))


async def open_chair(request: Request, deps: Deps) -> Reply:
    """`chair` or the confidentiality card's button: the chair card at the current item."""
    panel, member = request.admitted()
    asked = MeetingAsked.of(request.data)
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, asked.meeting_id, deps.clock.now())
    _require_running(meeting, panel)
    return await chair_reply(deps, request, panel, member, meeting.id)


async def _discussed(uow: UnitOfWork, panel: Panel, item: AgendaItem, now: datetime) -> None:
    """The meeting dealt with an item; a case discussed has been heard."""
    item.mark_discussed()
    await uow.meetings.save_agenda_item(item)
    if item.case_id is not None:
        case = await uow.cases.get(panel.id, item.case_id)
        if case is not None and case.is_open:
            case.mark_heard(now)
            await uow.cases.save(case)


async def navigate(request: Request, deps: Deps, *, forward: bool) -> Reply:
    """Next or Back, applied once and only from the item and step the card was rendered at."""
    panel, member = request.admitted()
    click = ChairClick.of(request.data)
    item_id, step = click.item_id, click.step
    now = deps.clock.now()
    notice: str | None = None
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, click.meeting_id, now)
        _require_running(meeting, panel)
        fresh = meeting.current_item_id == item_id and meeting.step == step
        if fresh and click.version != meeting.version:
            notice = await _refuse_stale(uow, request, panel, member, meeting, item_id, step, now)
        elif not fresh or not await uow.activities.first_time(
            f"meeting-nav:{meeting.id}:{meeting.step}", now
        ):
            notice = STALE_MOVE
        else:
            items = await uow.meetings.agenda(panel.id, meeting.id)
            target = neighbour(items, item_id, forward=forward)
            if target is None:
                notice = (
                    "This is the last item: End the meeting when you are ready."
                    if forward
                    else "This is the first item."
                )
            else:
                if forward:
                    current = next(i for i in items if i.id == item_id)
                    await _discussed(uow, panel, current, now)
                meeting.go_to(target.id)
                try:
                    await uow.meetings.save(meeting)
                except StaleVersion:
                    # Lost the race: another click moved or changed the meeting first.
                    await uow.rollback()
                    notice = STALE_MOVE
                else:
                    await uow.commit()
    return await chair_reply(deps, request, panel, member, click.meeting_id, notice=notice)


async def _refuse_stale(
    uow: UnitOfWork,
    request: Request,
    panel: Panel,
    member: Member,
    meeting: Meeting,
    item_id: str,
    step: int | None,
    now: datetime,
) -> str:
    """A click from a chair card older than the meeting (or one that lost the race to
    save): nothing of it is saved; the refusal is audited (and committed) and the line says
    what changed meanwhile."""
    await versions.record_refusal(
        uow,
        request,
        "meeting",
        meeting.id,
        current=meeting.version,
        at=now,
    )
    if meeting.current_item_id != item_id or meeting.step != step:
        line = "The meeting moved on while you were typing; here it is now."
    else:
        entities = [("meeting", meeting.id), ("agenda_item", item_id)]
        item = next(
            (i for i in await uow.meetings.agenda(panel.id, meeting.id) if i.id == item_id), None
        )
        if item is not None and item.case_id is not None:
            entities.append(("case", item.case_id))
            entities += [
                ("action", a.id) for a in await uow.actions.for_case(panel.id, item.case_id)
            ]
        if item is not None:
            entities += [("action", action_id) for action_id in item.action_ids]
        line = await versions.changed_meanwhile(
            uow, panel, "This item", entities, now=now, me=member.id
        )
    await uow.commit()
    return f"{line} {versions.NOT_SAVED}."


# --- forms on the chair card ----------------------------------------------------------------


@dataclass(frozen=True)
class FormTurn:
    """One saved form: who, where, the meeting and the item the card was rendered for."""

    uow: UnitOfWork
    request: Request
    panel: Panel
    member: Member
    meeting: Meeting
    item: AgendaItem
    now: datetime
    events: Events

    async def publish(self, event: DomainEvent) -> None:
        """Tell the features that listen (e.g. actions, which owns the SPOC's card)."""
        await self.events.publish(self.uow, self.panel, event, self.now)

    async def audit(self, verb: AuditVerb, entity: str, entity_id: str, detail: str) -> None:
        actor = _actor(self.panel, self.member, self.request.where.kind)
        await record(self.uow, actor, verb, entity, entity_id, detail, at=self.now)

    async def case(self) -> Case:
        if self.item.case_id is None:
            raise InvalidInput("This item is not a case.")
        case = await self.uow.cases.get(self.panel.id, self.item.case_id)
        if case is None:
            raise NotFound("That case no longer exists.")
        return case

    async def unmet_action(self, action_id: str) -> Action:
        if action_id not in self.item.action_ids:
            raise InvalidInput("That action is not among this meeting's unmet actions.")
        action = await self.uow.actions.get(self.panel.id, action_id)
        if action is None:
            raise NotFound("That action no longer exists.")
        return action

    async def active_agency(self, agency_id: str | None, field: str) -> Agency:
        """An agency chosen on the card: one of the panel's, still active."""
        agency = await self.uow.agencies.get(self.panel.id, agency_id) if agency_id else None
        if agency is None or not agency.active:
            raise InvalidInput("Choose an agency from the list.", {field: "invalid"})
        return agency


C = TypeVar("C")


@dataclass(frozen=True)
class Form(Generic[C]):
    """One form of the chair card: how its inputs are read, and what saving it does (it
    says what it did)."""

    read: Callable[[Mapping[str, Any]], C]
    save: Callable[[FormTurn, C], Awaitable[str]]


async def save_form(request: Request, deps: Deps, form: Form[Any]) -> Reply:
    """Save one form of the chair card, once per rendering of the card. The form's inputs
    are read once the card is known to be current, so a wrong one is shown on the card."""
    panel, member = request.admitted()
    click = ChairForm.of(request.data)
    meeting_id, item_id, step, token = click.meeting_id, click.item_id, click.step, click.token
    now = deps.clock.now()
    notice: str
    error = False
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, meeting_id, now)
        _require_running(meeting, panel)
        items = await uow.meetings.agenda(panel.id, meeting.id)
        item = next((i for i in items if i.id == item_id and i.is_active), None)
        if item is None:
            raise NotFound("That item is no longer on the agenda. Type chair.")
        if click.version != meeting.version:
            if not await uow.activities.first_time(f"meeting-form:{token}", now):
                notice = ALREADY_SAVED  # this very card saved, and was clicked again
            else:
                await uow.rollback()  # this card saved nothing: its token stays unused
                notice = await _refuse_stale(
                    uow, request, panel, member, meeting, item_id, step, now
                )
                error = True
        elif not await uow.activities.first_time(f"meeting-form:{token}", now):
            notice = ALREADY_SAVED
        else:
            turn = FormTurn(uow, request, panel, member, meeting, item, now, deps.events)
            try:
                notice = await form.save(turn, form.read(request.data))
                # The meeting's version guards everything its chair card changes.
                await uow.meetings.save(meeting)
            except StaleVersion:
                # Lost the race: another click saved this meeting (or its case) first.
                await uow.rollback()
                current = await uow.meetings.get(panel.id, meeting.id)
                if current is None:
                    raise NotFound("That meeting no longer exists.") from None
                notice = await _refuse_stale(
                    uow, request, panel, member, current, item_id, step, now
                )
                error = True
            except DomainError as err:
                notice, error = err.message, True  # nothing is committed
            else:
                await uow.commit()
    typed = kept_inputs(request.data) if error else None
    return await chair_reply(
        deps, request, panel, member, meeting_id, notice=notice, error=error, typed=typed
    )


async def capture(turn: FormTurn, command: CaptureAction) -> str:
    """Add an action to the case: description, owner agency, due date; handed to the owner
    at once."""
    case = await turn.case()
    if not case.is_open:
        raise InvalidInput(f"{case.reference} is closed: reopen it before adding actions.")
    agency = await turn.active_agency(command.owner_agency_id, OWNER_AGENCY_INPUT)
    due_on = command.due_on
    if due_on < local(turn.meeting.starts_at, turn.panel).date():
        raise InvalidInput("The due date is before the meeting.", {DUE_ON_INPUT: "invalid"})
    action = Action(
        panel_id=turn.panel.id,
        case_id=case.id,
        owner_agency_id=agency.id,
        description=command.description,
        due_on=due_on,
        set_by_member_id=turn.member.id,
        meeting_id=turn.meeting.id,
        created_at=turn.now,
    )
    await turn.uow.actions.save(action)
    if case.status is CaseStatus.OPEN:
        case.mark_heard(turn.now)
        await turn.uow.cases.save(case)
    await turn.publish(ActionAgreed(action))
    await turn.audit(AuditVerb.CREATE, "action", action.id, f"for {case.reference}")
    if _shared(turn.request):
        # The chat sees that it was agreed (case, agency, due date); each reader's own view
        # of that card shows what it is to those who may see the case.
        await views.post(
            turn.uow,
            turn.panel,
            ACTION_VIEW,
            views.Subject(turn.meeting, [case], {ACTION_ID_KEY: action.id}),
            conversation_id=turn.request.where.conversation_id,
            key=f"action-captured:{action.id}",
            now=turn.now,
        )
    return f"Action added for {agency.name}, due {day_label(due_on)}; the agency has its card."


async def nominate_lead(turn: FormTurn, command: NominateLead) -> str:
    case = await turn.case()
    agency = await turn.active_agency(command.agency_id, LEAD_AGENCY_INPUT)
    case.nominate_lead(agency.id, command.officer)
    await turn.uow.cases.save(case)
    await turn.audit(AuditVerb.UPDATE, "case", case.id, f"lead agency {agency.name}")
    await turn.publish(CaseChanged(case))
    return f"Lead agency for {case.reference}: {agency.name}."


async def set_risk(turn: FormTurn, command: SetRisk) -> str:
    case = await turn.case()
    case.set_risk_level(command.level)
    await turn.uow.cases.save(case)
    await turn.audit(AuditVerb.UPDATE, "case", case.id, f"risk level {command.level.value}")
    await turn.publish(CaseChanged(case))
    return f"Risk level of {case.reference}: {RISK_LABELS[command.level]}."


async def review_later(turn: FormTurn, command: ReviewLater) -> str:
    case = await turn.case()
    meeting_id = command.meeting_id
    later = await turn.uow.meetings.get(turn.panel.id, meeting_id) if meeting_id else None
    if (
        later is None
        or later.starts_at <= turn.meeting.starts_at
        or later.status is MeetingStatus.CANCELLED
    ):
        raise InvalidInput("Choose one of the later meetings.", {REVIEW_MEETING_INPUT: "invalid"})
    case.review_at(later.id)
    await turn.uow.cases.save(case)
    await turn.audit(
        AuditVerb.UPDATE,
        "case",
        case.id,
        f"to be reviewed at the meeting on {day_text(later.starts_at, turn.panel)}",
    )
    return (
        f"{case.reference} is reviewed at the meeting on {day_text(later.starts_at, turn.panel)}."
    )


async def close_case(turn: FormTurn, command: CloseCase) -> str:
    """Close the case and settle each of its open actions as the chair chose: passed back to
    its agency (which carries on with it; the panel no longer reviews it) or cancelled. An
    action the form does not settle, or one it names that is not an open action of this case,
    refuses the whole form: nothing changes."""
    case = await turn.case()
    if not case.is_open:
        raise InvalidInput(f"{case.reference} is closed already.")
    open_actions = [
        a
        for a in await turn.uow.actions.for_case(turn.panel.id, case.id)
        if a.status is ActionStatus.OPEN
    ]
    ids = {a.id for a in open_actions}
    named = command.pass_back | command.cancel
    if named != ids or command.pass_back & command.cancel:
        raise InvalidInput(
            "The case's open actions have changed: open the chair card again and choose, for "
            "each, to pass it back or cancel it."
        )
    case.close(command.reason, command.note, turn.now)
    await turn.uow.cases.save(case)
    await turn.audit(AuditVerb.UPDATE, "case", case.id, f"closed: {CLOSURE_LABELS[command.reason]}")
    for action in open_actions:
        if action.id in command.cancel:
            action.cancel(
                f"the panel closed {case.reference}", at=turn.now, by_member_id=turn.member.id
            )
            what, change = "cancelled", f"Cancelled: the panel closed {case.reference}"
        else:
            action.pass_back(case.reference, at=turn.now, by_member_id=turn.member.id)
            what = "passed back to the agency"
            change = f"Passed back to your agency: the panel closed {case.reference}"
        await turn.uow.actions.save(action)
        await turn.audit(AuditVerb.UPDATE, "action", action.id, f"{what} on closing the case")
        await turn.publish(ActionChanged(action, change))
    settled = ""
    if open_actions:
        passed, cancelled = len(command.pass_back), len(command.cancel)
        settled = f" Open actions: {passed} passed back to their agencies, {cancelled} cancelled."
    return f"{case.reference} is closed: {CLOSURE_LABELS[command.reason]}.{settled}"


async def reopen_case(turn: FormTurn, _command: ReopenCase) -> str:
    """Reopen the closed case of the current item; its settled actions stay as they are."""
    case = await turn.case()
    if case.is_open:
        raise InvalidInput(f"{case.reference} is open already.")
    case.reopen()
    await turn.uow.cases.save(case)
    await turn.audit(AuditVerb.UPDATE, "case", case.id, "reopened")
    return f"{case.reference} is open again."


async def save_summary(turn: FormTurn, command: SaveSummary) -> str:
    turn.item.summary = command.summary
    await turn.uow.meetings.save_agenda_item(turn.item)
    await turn.audit(AuditVerb.UPDATE, "agenda_item", turn.item.id, "summary")
    return "Summary saved for the minutes." if command.summary else "Summary cleared."


async def carry_forward(turn: FormTurn, command: CarryForward) -> str:
    action = await turn.unmet_action(command.action_id)
    action.carry_forward(
        command.new_due,
        circumstances_changed=command.circumstances_changed,
        at=turn.now,
        by_member_id=turn.member.id,
    )
    await turn.uow.actions.save(action)
    await turn.audit(AuditVerb.UPDATE, "action", action.id, "carried forward")
    done = f"Carried forward to {day_label(command.new_due)}."
    await turn.publish(ActionChanged(action, done.rstrip(".")))
    return done


async def escalate(turn: FormTurn, command: Escalate) -> str:
    action = await turn.unmet_action(command.action_id)
    action.escalate(
        command.note,
        circumstances_changed=command.circumstances_changed,
        at=turn.now,
        by_member_id=turn.member.id,
    )
    await turn.uow.actions.save(action)
    await turn.audit(AuditVerb.UPDATE, "action", action.id, "escalated")
    await turn.publish(ActionChanged(action, "Escalated"))
    return "Escalated."


async def cancel_action(turn: FormTurn, command: CancelAction) -> str:
    action = await turn.unmet_action(command.action_id)
    if action.status is not ActionStatus.OPEN:
        raise InvalidInput("That action is no longer open.")
    action.cancel(
        command.reason,
        at=turn.now,
        by_member_id=turn.member.id,
        circumstances_changed=command.circumstances_changed,
    )
    await turn.uow.actions.save(action)
    await turn.audit(AuditVerb.UPDATE, "action", action.id, "cancelled")
    await turn.publish(ActionChanged(action, "Cancelled"))
    return "Action cancelled."


# --- the end ---------------------------------------------------------------------------------


async def _end(
    uow: UnitOfWork,
    panel: Panel,
    meeting: Meeting,
    *,
    member: Member | None,
    request: Request | None,
    kind: ConversationKind,
    now: datetime,
) -> bool:
    """End the meeting and draft its minutes (queued to the coordinators); False when it was
    ended meanwhile. The caller commits."""
    if not await uow.activities.first_time(f"meeting-end:{meeting.id}", now):
        return False
    context = await chair_context(uow, panel, meeting)
    await _discussed(uow, panel, context.current, now)
    meeting.end(now)
    await uow.meetings.save(meeting)
    minutes = await draft_for_meeting(uow, panel, meeting, now)
    await queue_draft(uow, panel, minutes, now)
    actor = _actor(panel, member, kind, request)
    await record(uow, actor, AuditVerb.UPDATE, "meeting", meeting.id, "ended", at=now)
    return True


async def _ended_reply(deps: Deps, request: Request, meeting: Meeting, *, edit: bool) -> Reply:
    """The meeting-ended card: a shared view in a shared chat (counts for everyone, each
    reader's own actions agreed), the counts alone in private."""
    if _shared(request):
        return await views.answer(
            deps, request, MEETING_ENDED_VIEW, views.meeting_data(meeting), edit=edit
        )
    assert request.panel is not None
    async with deps.uow() as uow:
        return Reply(card=render_meeting_ended(await ended_view(uow, request.panel, meeting)))


async def end(request: Request, deps: Deps) -> Reply:
    """`end` or the chair card's End button: the meeting ends and its minutes are drafted."""
    panel, member = request.admitted()
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await _meeting(uow, panel, MeetingAsked.of(request.data).meeting_id, now)
        _require_running(meeting, panel)
        ended = await _end(
            uow, panel, meeting, member=member, request=request, kind=request.where.kind, now=now
        )
        if not ended:
            return Reply(text="The meeting has just been ended by someone else.")
        await uow.commit()
    return await _ended_reply(deps, request, meeting, edit=True)


# --- Teams' meeting events -------------------------------------------------------------------


async def _today(uow: UnitOfWork, panel: Panel, now: datetime) -> Meeting | None:
    meeting = await next_meeting(uow, panel.id, now)
    if meeting is None or local(meeting.starts_at, panel).date() != local(now, panel).date():
        return None
    return meeting


async def meeting_started(request: Request, deps: Deps, config: RunConfig | None = None) -> Reply:
    """Teams' meeting-start event: today's panel meeting starts and the meeting chat gets
    the confidentiality card. Nothing happens for a chat of no panel or a day without one."""
    panel = request.panel
    if panel is None:
        return Reply()
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await _today(uow, panel, now)
        if meeting is None or not meeting.agenda_editable:
            return Reply()
        started = await _start(
            uow,
            panel,
            meeting,
            config or RunConfig(),
            member=request.member,
            where=request,
            kind=request.where.kind,
            conversation_id=request.where.conversation_id,
            now=now,
        )
        if not started:
            return Reply()
        await uow.commit()
    if _shared(request):
        return await _statement_view(deps, request, meeting, None)
    async with deps.uow() as uow:
        return Reply(card=await confidentiality_card(uow, panel, meeting))


async def meeting_ended(request: Request, deps: Deps) -> Reply:
    """Teams' meeting-end event: the panel meeting under way ends and its minutes are drafted."""
    panel = request.panel
    if panel is None:
        return Reply()
    now = deps.clock.now()
    async with deps.uow() as uow:
        meeting = await next_meeting(uow, panel.id, now)
        if meeting is None or meeting.status is not MeetingStatus.IN_PROGRESS:
            return Reply()
        ended = await _end(
            uow,
            panel,
            meeting,
            member=request.member,
            request=request,
            kind=request.where.kind,
            now=now,
        )
        if not ended:
            return Reply()
        await uow.commit()
    return await _ended_reply(deps, request, meeting, edit=False)


# --- registration ----------------------------------------------------------------------------


def register(router: Router, config: RunConfig | None = None) -> None:
    """Register `start`, `chair`, `end` and the confidentiality and chair cards' verbs."""
    settings = config or RunConfig()

    async def start_command(request: Request, deps: Deps) -> Reply:
        return await start(request, deps, settings)

    async def chair_command(request: Request, deps: Deps) -> Reply:
        return await open_chair(request, deps)

    router.command(
        CommandSpec(
            name="start",
            summary="Chair: start the panel meeting here and post the confidentiality card.",
            handler=start_command,
            access=Access(Act.START_MEETING, MEETING_CHATS, starts_meeting=True),
        )
    )
    router.command(
        CommandSpec(
            name="chair",
            summary="Chair: show the chair card at the meeting's current item.",
            handler=chair_command,
            access=Access(Act.RUN_MEETING, ANYWHERE),
        )
    )
    router.command(
        CommandSpec(
            name="end",
            summary="Chair: end the meeting and draft its minutes.",
            handler=end,
            access=Access(Act.RUN_MEETING, ANYWHERE),
        )
    )

    def form(
        read: Callable[[Mapping[str, Any]], C], save: Callable[[FormTurn, C], Awaitable[str]]
    ) -> Callable[[Request, Deps], Awaitable[Reply]]:
        chair_form = Form(read, save)

        async def run(request: Request, deps: Deps) -> Reply:
            return await save_form(request, deps, chair_form)

        return run

    async def forward(request: Request, deps: Deps) -> Reply:
        return await navigate(request, deps, forward=True)

    async def back(request: Request, deps: Deps) -> Reply:
        return await navigate(request, deps, forward=False)

    meeting = (Target.MEETING,)
    attending = Access(Act.ATTEND_MEETING, MEETING_CHATS, meeting, meeting)
    views.install(router, *VIEWS)
    router.verb(VerbSpec(Verb.MEETING_ACKNOWLEDGE.value, acknowledge, attending))
    router.verb(VerbSpec(Verb.MEETING_ACCEPT_ISA.value, accept_isa, attending))
    capturing = Access(Act.CAPTURE_ACTION, ANYWHERE, meeting)
    router.verb(VerbSpec(Verb.MEETING_CAPTURE.value, form(CaptureAction.of, capture), capturing))
    for verb, handler in (
        (Verb.MEETING_CHAIR, open_chair),
        (Verb.MEETING_NEXT, forward),
        (Verb.MEETING_BACK, back),
        (Verb.MEETING_LEAD, form(NominateLead.of, nominate_lead)),
        (Verb.MEETING_RISK, form(SetRisk.of, set_risk)),
        (Verb.MEETING_REVIEW, form(ReviewLater.of, review_later)),
        (Verb.MEETING_CLOSE, form(CloseCase.of, close_case)),
        (Verb.MEETING_REOPEN, form(ReopenCase.of, reopen_case)),
        (Verb.MEETING_SUMMARY, form(SaveSummary.of, save_summary)),
        (Verb.MEETING_CARRY, form(CarryForward.of, carry_forward)),
        (Verb.MEETING_ESCALATE, form(Escalate.of, escalate)),
        (Verb.MEETING_CANCEL_ACTION, form(CancelAction.of, cancel_action)),
        (Verb.MEETING_END, end),
    ):
        router.verb(VerbSpec(verb.value, handler, Access(Act.RUN_MEETING, ANYWHERE, meeting)))
