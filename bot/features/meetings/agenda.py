"""The next meeting's agenda: built automatically, adjusted and published by the coordinator.

`agenda` shows the next meeting's agenda to any panel member with a role (references and
risk levels only). The coordinator, in private chat, also gets controls to reorder, add any
other business or a case, remove or defer a case with a reason, and publish. Publishing
announces the agenda in the team channel (references, risk levels, invited agencies, counts:
no personal data) and tells each invited agency's contact which cases it is invited for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from bot.domain.action import ActionStatus
from bot.domain.agenda import (
    AgendaTiming,
    build_agenda,
    due_at,
    listed_elsewhere,
    move_item,
    other_business,
    removed_by_hand,
    renumber,
)
from bot.domain.audit import AuditVerb
from bot.domain.case import Case, CaseStatus
from bot.domain.delivery import ConversationKind
from bot.domain.errors import DomainError, InvalidInput, InvalidTransition, NotFound
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Meeting,
    MeetingStatus,
)
from bot.domain.minutes import day_label
from bot.domain.panel import Agency, Member, Panel, Role, agency_contact
from bot.domain.policy import Act
from bot.features.meetings.commands import (
    AddCase,
    AddOtherBusiness,
    AgendaAsked,
    AgendaCard,
    MeetingAsked,
    MoveItem,
    SetAsideItem,
)
from bot.features.meetings.views import (
    AGENDA_STATUS_LABELS,
    AgendaState,
    agenda_view,
    announcement,
    meeting_after,
    next_meeting,
)
from bot.kernel import versions, views
from bot.kernel.audit import record
from bot.kernel.guard import ANYWHERE, SHARED, Access, Target
from bot.kernel.localtime import day_text, local, when_text
from bot.kernel.notify import card_to_channel, card_to_member
from bot.kernel.ports import StaleVersion, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.agenda import (
    InvitationView,
    render_agenda,
    render_agenda_announcement,
    render_agenda_invitation,
)
from cards.sealed import SealedCard, seal
from cards.verbs import MEETING_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from datetime import date, datetime

    from bot.domain.action import Action
    from cards.kit import Card

ONLY_COORDINATORS = "Only the panel's coordinator can change or publish the agenda."
NO_MEETING = "No meeting is planned yet. Type schedule to see the panel's meetings."


@dataclass(frozen=True)
class AgendaConfig:
    """The agenda's configuration: how long each kind of item is planned for."""

    timing: AgendaTiming = field(default_factory=AgendaTiming)


# --- finding and building ------------------------------------------------------------------


async def _meetings(uow: UnitOfWork, panel_id: str, ids: set[str]) -> dict[str, Meeting]:
    return {m.id: m for m in await uow.meetings.by_ids(panel_id, sorted(ids))}


def meeting_day(meeting: Meeting, panel: Panel) -> date:
    """The meeting's local date."""
    return local(meeting.starts_at, panel).date()


async def unmet_actions(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> list[Action]:
    """Actions from earlier meetings still open and due by this meeting's day."""
    due = await uow.actions.open_due_by(panel.id, meeting_day(meeting, panel))
    return [a for a in due if a.meeting_id != meeting.id]


async def unmet_action_ids(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> list[str]:
    """The ids of `unmet_actions`: all the agenda needs, without loading the actions."""
    return await uow.actions.open_ids_due_by(
        panel.id, meeting_day(meeting, panel), except_meeting_id=meeting.id
    )


async def refresh_agenda(
    uow: UnitOfWork,
    panel: Panel,
    meeting: Meeting,
    agenda_timing: AgendaTiming,
    *,
    save: bool = True,
) -> AgendaState:
    """The meeting's agenda, built again from the panel's cases and actions while it can
    still change (and saved, unless `save` is False: a preview); as stored afterwards."""
    items = await uow.meetings.agenda(panel.id, meeting.id)
    if not meeting.agenda_editable:
        named = [i.case_id for i in items if i.case_id]
        cases = {c.id: c for c in await uow.cases.by_ids(panel.id, named)}
        return AgendaState(meeting, items, cases)
    if meeting.urgent:
        # Called for the cases it names: nothing else is listed by itself.
        named = [i.case_id for i in items if i.case_id]
        cases = {c.id: c for c in await uow.cases.by_ids(panel.id, named)}
        built = build_agenda(
            meeting, items, cases, due=[], unmet_action_ids=[], timing=agenda_timing
        )
        if save:
            await uow.meetings.save_agenda_items(built)
        return AgendaState(meeting, built, cases)
    open_cases = await uow.cases.list_open(panel.id)
    case_items = await uow.meetings.items_for_cases(panel.id, [c.id for c in open_cases])
    wanted = {i.meeting_id for i in case_items}
    wanted |= {c.review_meeting_id for c in open_cases if c.review_meeting_id}
    meetings = await _meetings(uow, panel.id, wanted - {meeting.id})
    meetings[meeting.id] = meeting
    due: list[tuple[Case, AgendaItemKind]] = []
    for case in open_cases:
        if listed_elsewhere(case, meeting, case_items, meetings):
            continue
        if removed_by_hand(case, (i for i in case_items if i.meeting_id != meeting.id), meetings):
            continue
        review = meetings.get(case.review_meeting_id) if case.review_meeting_id else None
        kind = due_at(case, meeting, review)
        if kind is not None:
            due.append((case, kind))
    cases = {c.id: c for c in open_cases}
    missing = [i.case_id for i in items if i.case_id and i.case_id not in cases]
    cases |= {c.id: c for c in await uow.cases.by_ids(panel.id, missing)}
    built = build_agenda(
        meeting,
        items,
        cases,
        due=due,
        unmet_action_ids=await unmet_action_ids(uow, panel, meeting),
        timing=agenda_timing,
    )
    if save:
        await uow.meetings.save_agenda_items(built)
    return AgendaState(meeting, built, cases)


# --- what people see -----------------------------------------------------------------------


async def _agencies(uow: UnitOfWork, panel: Panel) -> dict[str, Agency]:
    return {a.id: a for a in await uow.agencies.all(panel.id)}


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- publishing ----------------------------------------------------------------------------


async def publish(
    uow: UnitOfWork, panel: Panel, state: AgendaState, now: datetime
) -> tuple[bool, list[str]]:
    """Publish the agenda: queue the channel's announcement and each invited agency's
    invitation. Returns whether the channel gets a new announcement, and who was invited.

    Keys name the content, so publishing again without a change sends nothing twice, while
    a changed agenda (or an agency's changed case list) is sent again.
    """
    meeting = state.meeting
    republished = meeting.status is MeetingStatus.AGENDA_PUBLISHED
    meeting.publish_agenda(now)
    await uow.meetings.save(meeting)
    agencies = await _agencies(uow, panel)
    view = announcement(panel, state, agencies)
    view = replace(view, republished=republished)
    # Each member the agenda concerns sees their own view of it (bot.kernel.views).
    card = await views.refreshed(
        uow, panel, ANNOUNCEMENT_VIEW, _announced(state), render_agenda_announcement(view)
    )
    announced = await card_to_channel(
        uow,
        panel=panel,
        card=card,
        key=f"agenda-channel:{meeting.id}:{_digest([c.__dict__ for c in view.cases])}"
        f":{view.unmet_actions}:{view.other_business}",
        now=now,
    )
    invited: dict[str, list[Case]] = {}
    for item in state.items:
        case = state.cases.get(item.case_id or "")
        if case is None or not item.is_active:
            continue
        for agency_id in sorted(case.invited_agency_ids):
            invited.setdefault(agency_id, []).append(case)
    members = await uow.members.all(panel.id)
    today = local(now, panel).date()
    told: list[str] = []
    for agency_id, cases in invited.items():
        agency = agencies.get(agency_id)
        contact = agency_contact(members, agency_id, today)
        if agency is None or contact is None:
            continue
        invitation = InvitationView(
            panel_name=panel.name,
            agency=agency.name,
            meeting_label=when_text(meeting.starts_at, panel),
            cases=[(c.reference, c.risk_level.value.capitalize()) for c in cases],
            join_url=meeting.join_url,
        )
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=contact.id,
            card=render_agenda_invitation(invitation),
            key=f"agenda-invite:{meeting.id}:{agency_id}:{contact.id}"
            f":{_digest(sorted(c.id for c in cases))}",
            now=now,
            text=f"{agency.name} is invited to the panel meeting",
        )
        told.append(f"{agency.name} ({contact.name})")
    return announced, told


# --- the feature ---------------------------------------------------------------------------

C = TypeVar("C")


@dataclass(frozen=True)
class AgendaTurn:
    """One change to a meeting's agenda: who, where, the agenda as it stands, and when."""

    uow: UnitOfWork
    request: Request
    panel: Panel
    member: Member
    state: AgendaState
    now: datetime

    async def audit(self, detail: str) -> None:
        """The change, in the audit trail (the meeting's, by the coordinator)."""
        meeting_id = self.state.meeting.id
        await record(
            self.uow, self.request, AuditVerb.UPDATE, "meeting", meeting_id, detail, at=self.now
        )


# A change: the card's inputs read into its command, then applied; it says what it did.
Edit = Callable[[AgendaTurn, C], Awaitable[str]]


@dataclass(frozen=True)
class KeptCard:
    """An agenda card as last built for a panel and a kind of viewer: good while the panel's
    data version stands still (storage raises it with every change to what the agenda is
    built from, in any process) and until its meeting ends (then another is the next)."""

    data_version: int
    valid_until: datetime
    card: SealedCard


class AgendaCards:
    """The last agenda card built per panel, for its coordinator and for other members.

    `agenda` is what most people type most often, and building it reads the panel's open
    cases, their agenda items, meetings, unmet actions and agencies; a card kept by the
    panel's data version answers again without reading any of them. At most two cards a
    panel, kept sealed (cards.sealed): one object answers every turn, and no reply can
    change it.
    """

    def __init__(self) -> None:
        self._cards: dict[tuple[str, bool], KeptCard] = {}

    def get(self, panel: Panel, coordinator: bool, now: datetime) -> Card | None:
        kept = self._cards.get((panel.id, coordinator))
        if kept is None or kept.data_version != panel.data_version or now >= kept.valid_until:
            return None
        return kept.card

    def keep(self, panel: Panel, coordinator: bool, meeting: Meeting, card: Card) -> Card:
        """Keep the card; the sealed card to answer with."""
        kept = KeptCard(panel.data_version, meeting.ends_at, seal(card))
        self._cards[(panel.id, coordinator)] = kept
        return kept.card


def agenda_lock(panel_id: str) -> str:
    """The database lock held while a panel's agenda is built again and saved, or changed
    (PostgreSQL's advisory lock: one instance at a time)."""
    return f"agenda:{panel_id}"


# --- the announcement as a shared view --------------------------------------------------------

ANNOUNCEMENT = "agenda_announcement"
MAX_ID = 64


def _announced(state: AgendaState) -> views.Subject:
    """The announcement's subject: the meeting and the cases its agenda lists."""
    cases = [
        case
        for item in state.items
        if item.is_active and item.is_case and (case := state.cases.get(item.case_id or ""))
    ]
    return views.Subject(state.meeting, cases, {MEETING_KEY: state.meeting.id})


async def _stored(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> AgendaState:
    items = await uow.meetings.agenda(panel.id, meeting.id)
    named = [i.case_id for i in items if i.case_id]
    cases = {c.id: c for c in await uow.cases.by_ids(panel.id, named)} if named else {}
    return AgendaState(meeting, items, cases)


async def _locate_announcement(
    uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]
) -> views.Subject | None:
    meeting_id = data.get(MEETING_KEY)
    if not isinstance(meeting_id, str) or not 0 < len(meeting_id) <= MAX_ID:
        return None
    meeting = await uow.meetings.get(panel.id, meeting_id)
    if meeting is None or meeting.status is MeetingStatus.CANCELLED:
        return None
    return _announced(await _stored(uow, panel, meeting))


async def case_detail(
    uow: UnitOfWork, panel: Panel, case: Case, agencies: Mapping[str, Agency]
) -> list[str]:
    """What a reader who may see a case in full is told of it beside the agenda: its lead
    agency and its open actions."""
    lead = agencies.get(case.lead_agency_id or "")
    lines = [f"Lead agency: {lead.name if lead else 'not nominated'}"]
    for action in await uow.actions.for_case(panel.id, case.id):
        if action.status is ActionStatus.OPEN:
            owner = agencies.get(action.owner_agency_id)
            lines.append(
                f"Open action · {owner.name if owner else 'an agency no longer listed'}: "
                f"{action.description} (due {day_label(action.due_on)})"
            )
    return lines


async def _render_announcement(
    uow: UnitOfWork, panel: Panel, subject: views.Subject, grant: views.Grant, _: views.Extras
) -> Card:
    assert subject.meeting is not None
    state = await _stored(uow, panel, subject.meeting)
    agencies = await _agencies(uow, panel)
    view = announcement(panel, state, agencies)
    if grant.base:
        return render_agenda_announcement(view)
    by_reference = {c.reference: c for c in subject.cases if c.id in grant.cases}
    cases = [
        replace(line, detail=await case_detail(uow, panel, by_reference[line.reference], agencies))
        if line.reference in by_reference
        else line
        for line in view.cases
    ]
    return render_agenda_announcement(replace(view, cases=cases, personal=True))


ANNOUNCEMENT_VIEW = views.SharedView(
    ANNOUNCEMENT, _locate_announcement, _render_announcement, of_meeting=False
)

AGENDA = "agenda"


def agenda_shared_view(config: AgendaConfig) -> views.SharedView:
    """The agenda card asked for in a shared chat: the members' card (references, risk
    levels, timing) for everyone, and each reader's own view with what they may see of
    each case in full."""

    async def state_of(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> AgendaState:
        return await refresh_agenda(uow, panel, meeting, config.timing, save=False)

    async def locate(
        uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]
    ) -> views.Subject | None:
        meeting_id = data.get(MEETING_KEY)
        if not isinstance(meeting_id, str) or not 0 < len(meeting_id) <= MAX_ID:
            return None
        meeting = await uow.meetings.get(panel.id, meeting_id)
        if meeting is None or meeting.status is MeetingStatus.CANCELLED:
            return None
        return _announced(await state_of(uow, panel, meeting))

    async def render(
        uow: UnitOfWork, panel: Panel, subject: views.Subject, grant: views.Grant, _: views.Extras
    ) -> Card:
        assert subject.meeting is not None
        state = await state_of(uow, panel, subject.meeting)
        agencies = await _agencies(uow, panel)
        view = agenda_view(panel, state, agencies, coordinator=False)
        if grant.base:
            return render_agenda(view)
        shown = {c.id: c for c in subject.cases if c.id in grant.cases}
        lines = []
        for item, line in zip(state.items, view.lines, strict=True):
            case = shown.get(item.case_id or "")
            if case is not None and line.number is not None:
                line = replace(line, detail=await case_detail(uow, panel, case, agencies))
            lines.append(line)
        return render_agenda(replace(view, lines=lines, personal=True))

    return views.SharedView(AGENDA, locate, render, of_meeting=False)


class Agenda:
    """The `agenda` command and the agenda card's verbs."""

    def __init__(self, config: AgendaConfig) -> None:
        self.config = config
        self.cards = AgendaCards()
        self.shared_view = agenda_shared_view(config)

    async def command(self, request: Request, deps: Deps) -> Reply:
        """`agenda` shows the next meeting's agenda; `agenda publish` publishes it."""
        panel, _ = request.admitted()
        if AgendaAsked.of(request.args).publish:
            return await self.publish_verb(request, deps)
        return await self.show(request, deps, panel)

    def _edits(self, request: Request) -> bool:
        return (
            Role.COORDINATOR in request.roles() and request.where.kind is ConversationKind.PERSONAL
        )

    async def show(
        self,
        request: Request,
        deps: Deps,
        panel: Panel,
        *,
        meeting_id: str | None = None,
        notice: str | None = None,
        refused: str | None = None,
    ) -> Reply:
        """The agenda card; the coordinator's (in private chat) is built again and saved.

        The next meeting's plain card is kept (AgendaCards) and shown again while nothing it
        is built from has changed: the coordinator's was saved when it was built, and saving
        it again would write nothing.
        """
        if request.where.kind in SHARED and meeting_id is None and notice is None:
            return await self._shared(request, deps, panel)
        coordinator = self._edits(request)
        plain = meeting_id is None and notice is None and refused is None
        if plain:
            kept = self.cards.get(panel, coordinator, deps.clock.now())
            if kept is not None:
                return Reply(card=kept)
        async with deps.uow() as uow:
            if coordinator:
                # Only the coordinator's view is saved, under the panel's agenda lock (across
                # instances); other members' views only read, so they neither wait for one
                # another nor for the coordinator.
                await uow.take_lock(agenda_lock(panel.id))
            meeting = (
                await uow.meetings.get(panel.id, meeting_id)
                if meeting_id
                else await next_meeting(uow, panel.id, deps.clock.now())
            )
            if meeting is None:
                raise NotFound(NO_MEETING)
            state = await refresh_agenda(uow, panel, meeting, self.config.timing, save=coordinator)
            agencies = await _agencies(uow, panel)
            if coordinator:
                await uow.commit()
        view = agenda_view(panel, state, agencies, coordinator=coordinator, notice=notice)
        if refused:
            view = replace(view, warnings=(refused,))
        card = render_agenda(view)
        if plain:
            card = self.cards.keep(panel, coordinator, meeting, card)
        return Reply(card=card)

    async def _shared(self, request: Request, deps: Deps, panel: Panel) -> Reply:
        """`agenda` in a shared chat: the members' card everyone reads, and each reader's own
        view of it (bot.kernel.views)."""
        async with deps.uow() as uow:
            meeting = await next_meeting(uow, panel.id, deps.clock.now())
        if meeting is None:
            raise NotFound(NO_MEETING)
        return await views.answer(deps, request, self.shared_view, {MEETING_KEY: meeting.id})

    async def _edit(
        self,
        request: Request,
        deps: Deps,
        read: Callable[[Mapping[str, Any]], C],
        edit: Edit[C],
    ) -> Reply:
        """Load the meeting's agenda, change it, save and show it; a refused change saves
        nothing and shows the agenda again with the reason. The change's inputs are `read`
        once the card is known to be current, so a wrong one is shown on the agenda."""
        panel, member = request.admitted()
        card = AgendaCard.of(request.data)
        now = deps.clock.now()
        refused: str | None = None
        async with deps.uow() as uow:
            await uow.take_lock(agenda_lock(panel.id))
            meeting = await uow.meetings.get(panel.id, card.meeting_id)
            if meeting is None:
                raise NotFound("That meeting no longer exists. Type agenda.")
            if not meeting.agenda_editable:
                raise InvalidTransition(
                    f"The meeting on {day_text(meeting.starts_at, panel)} is "
                    f"{AGENDA_STATUS_LABELS[meeting.status].lower()}: its agenda no longer changes."
                )
            state = await refresh_agenda(uow, panel, meeting, self.config.timing)
            if card.version != meeting.version:
                refused = await _refuse_stale(uow, request, panel, member, meeting, now)
            else:
                try:
                    turn = AgendaTurn(uow, request, panel, member, state, now)
                    notice = await edit(turn, read(request.data))
                except StaleVersion:
                    # Lost the race: another change to this meeting's agenda saved first.
                    await uow.rollback()
                    current = await uow.meetings.get(panel.id, meeting.id)
                    if current is None:
                        raise NotFound("That meeting no longer exists. Type agenda.") from None
                    refused = await _refuse_stale(uow, request, panel, member, current, now)
                except DomainError as err:
                    refused = err.message  # the unit of work ends without a commit
                else:
                    await uow.commit()
        if refused is not None:
            return await self.show(
                request, deps, panel, meeting_id=card.meeting_id, refused=refused
            )
        return await self.show(request, deps, panel, meeting_id=card.meeting_id, notice=notice)

    async def _save_order(self, uow: UnitOfWork, state: AgendaState) -> None:
        state.items = renumber(state.items, state.cases, manual=state.meeting.agenda_manual)
        for item in state.items:
            await uow.meetings.save_agenda_item(item)
        await uow.meetings.save(state.meeting)

    # --- verbs ---

    async def move_up(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, MoveItem.of, self._mover(up=True))

    async def move_down(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, MoveItem.of, self._mover(up=False))

    async def add_other(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, AddOtherBusiness.of, self.add_other_business)

    async def add_case(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, AddCase.of, self.add_a_case)

    async def remove(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, SetAsideItem.removing, self.remove_item)

    async def defer(self, request: Request, deps: Deps) -> Reply:
        return await self._edit(request, deps, SetAsideItem.deferring, self.defer_item)

    async def publish_verb(self, request: Request, deps: Deps) -> Reply:
        """Publish the next meeting's agenda (or the one the card names)."""
        if MeetingAsked.of(request.data).meeting_id is None:
            panel, _ = request.admitted()
            async with deps.uow() as uow:
                meeting = await next_meeting(uow, panel.id, deps.clock.now())
            if meeting is None:
                raise NotFound(NO_MEETING)
            # Typed, not clicked: it publishes the agenda as it is now.
            request = replace(
                request,
                data={**request.data, MEETING_KEY: meeting.id, VERSION_KEY: meeting.version},
            )
        return await self._edit(request, deps, _no_inputs, self.publish_agenda)

    # --- the changes ---

    def _mover(self, *, up: bool) -> Edit[MoveItem]:
        async def edit(turn: AgendaTurn, command: MoveItem) -> str:
            state = turn.state
            item = state.item(command.item_id)
            state.items = move_item(state.items, item.id, up=up)
            state.meeting.agenda_manual = True
            await self._save_order(turn.uow, state)
            return f"Moved “{item.title}” {'up' if up else 'down'}."

        return edit

    async def add_other_business(self, turn: AgendaTurn, command: AddOtherBusiness) -> str:
        state = turn.state
        item = other_business(state.meeting, state.items, command.title, minutes=command.minutes)
        state.items.append(item)
        await self._save_order(turn.uow, state)
        await turn.audit("aob")
        return f"Added “{item.title}” to any other business."

    async def add_a_case(self, turn: AgendaTurn, command: AddCase) -> str:
        uow, panel, state, reference = turn.uow, turn.panel, turn.state, command.reference
        case = await uow.cases.by_reference(panel.id, reference) if reference else None
        if case is None:
            raise InvalidInput(f"There is no case {reference or ''} in this panel.".strip())
        if not case.is_open:
            raise InvalidInput(f"{case.reference} is closed.")
        kind = (
            AgendaItemKind.NEW_CASE
            if case.status is CaseStatus.OPEN
            else AgendaItemKind.REVIEW_CASE
        )
        existing = next((i for i in state.items if i.case_id == case.id), None)
        if existing is not None and existing.is_active:
            raise InvalidInput(f"{case.reference} is on this agenda already.")
        elsewhere = [
            i
            for i in await uow.meetings.items_for_cases(panel.id, [case.id])
            if i.meeting_id != state.meeting.id and i.status is AgendaItemStatus.PENDING
        ]
        label = day_text(state.meeting.starts_at, panel)
        for other in elsewhere:
            other.status = AgendaItemStatus.REMOVED
            other.note = f"moved to the meeting on {label}"
            await uow.meetings.save_agenda_item(other)
        if existing is not None:
            existing.status, existing.note = AgendaItemStatus.PENDING, "added back"
        else:
            state.items.append(
                AgendaItem(
                    panel_id=panel.id,
                    meeting_id=state.meeting.id,
                    kind=kind,
                    position=len(state.items) + 1,
                    title=case.reference,
                    case_id=case.id,
                    minutes_estimate=self.config.timing.minutes_per_case,
                )
            )
        state.cases[case.id] = case
        await self._save_order(uow, state)
        await turn.audit(case.reference)
        return f"Added {case.reference} to the agenda."

    async def remove_item(self, turn: AgendaTurn, command: SetAsideItem) -> str:
        item = turn.state.item(command.item_id)
        item.set_aside(AgendaItemStatus.REMOVED, command.reason)
        await self._save_order(turn.uow, turn.state)
        await turn.audit(f"removed {item.title}")
        return f"Removed “{item.title}” from the agenda."

    async def defer_item(self, turn: AgendaTurn, command: SetAsideItem) -> str:
        uow, panel, state = turn.uow, turn.panel, turn.state
        item = state.item(command.item_id)
        item.set_aside(AgendaItemStatus.DEFERRED, command.reason)
        await self._save_order(uow, state)
        later = await meeting_after(uow, panel.id, state.meeting)
        await turn.audit(f"deferred {item.title}")
        if later is None or not later.agenda_editable:
            return (
                f"Deferred “{item.title}”: it is listed on the next meeting once that is planned."
            )
        there = await uow.meetings.agenda(panel.id, later.id)
        if not any(i.case_id == item.case_id for i in there):
            await uow.meetings.save_agenda_item(
                AgendaItem(
                    panel_id=panel.id,
                    meeting_id=later.id,
                    kind=item.kind,
                    position=max((i.position for i in there), default=0) + 1,
                    title=item.title,
                    case_id=item.case_id,
                    minutes_estimate=self.config.timing.minutes_per_case,
                    note=f"Deferred from {day_text(state.meeting.starts_at, panel)}: {item.note}",
                )
            )
        return f"Deferred “{item.title}” to the meeting on {day_text(later.starts_at, panel)}."

    async def publish_agenda(self, turn: AgendaTurn, _: None) -> str:
        announced, told = await publish(turn.uow, turn.panel, turn.state, turn.now)
        await turn.audit("agenda published")
        parts = [
            "Published: the team channel has the announcement."
            if announced
            else "Published. The channel gets no new announcement (nothing in it changed, "
            "or the bot has not been added to the team's channel yet)."
        ]
        if told:
            parts.append(f"Invited agencies told: {'; '.join(told)}.")
        return " ".join(parts)


def _no_inputs(_: Mapping[str, Any]) -> None:
    """Publishing reads nothing from the card but the meeting and its version."""


async def _refuse_stale(
    uow: UnitOfWork,
    request: Request,
    panel: Panel,
    member: Member,
    meeting: Meeting,
    now: datetime,
) -> str:
    """A change from an agenda card older than the meeting (or one that lost the race to
    save): nothing of it is saved; the refusal is audited (and committed) and the line says
    what changed meanwhile. What was typed is not quoted: the agenda may be shown where
    others read it."""
    await versions.record_refusal(
        uow,
        request,
        "meeting",
        meeting.id,
        current=meeting.version,
        at=now,
    )
    line = await versions.changed_meanwhile(
        uow, panel, "The agenda", [("meeting", meeting.id)], now=now, me=member.id
    )
    await uow.commit()
    return f"{line} {versions.NOT_SAVED}: do it again on this card if it is still needed."


def register(router: Router, config: AgendaConfig | None = None) -> Agenda:
    """Register `agenda` and the agenda card's verbs."""
    feature = Agenda(config or AgendaConfig())
    views.install(router, ANNOUNCEMENT_VIEW, feature.shared_view)
    router.command(
        CommandSpec(
            name="agenda",
            summary="Show the next meeting's agenda; the coordinator can change and publish it.",
            handler=feature.command,
            usage="agenda [publish]",
            access=Access(Act.VIEW_PANEL, ANYWHERE, sub_acts={"publish": Act.PUBLISH_AGENDA}),
            button="Agenda",
        )
    )
    for verb, handler in (
        (Verb.AGENDA_MOVE_UP, feature.move_up),
        (Verb.AGENDA_MOVE_DOWN, feature.move_down),
        (Verb.AGENDA_ADD_OTHER, feature.add_other),
        (Verb.AGENDA_ADD_CASE, feature.add_case),
        (Verb.AGENDA_REMOVE, feature.remove),
        (Verb.AGENDA_DEFER, feature.defer),
        (Verb.AGENDA_PUBLISH, feature.publish_verb),
    ):
        router.verb(
            VerbSpec(verb.value, handler, Access(Act.PUBLISH_AGENDA, ANYWHERE, (Target.MEETING,)))
        )
    return feature
