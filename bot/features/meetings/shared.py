"""The meeting's cards in its chat as shared views (bot.kernel.views): the confidentiality
statement, the chair card, an action captured and the meeting ended.

Each is posted with its base, which carries no personal data; each reader's client asks for
their own view, and the policy's grant decides what it shows: the chair and the coordinator
the chair's controls and every narrative; a SPOC whose agency may see a case, that case's
narratives (agencies' returns, actions, the summary); anyone else the base. Which grant
anyone has is the kernel's decision, never made here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.domain.agenda import running_items
from bot.domain.errors import DomainError
from bot.domain.meeting import AgendaItemKind, AgendaItemStatus, MeetingStatus
from bot.domain.minutes import day_label
from bot.features.meetings.views import (
    PRIVATE_ONLY,
    attendance_lines,
    chair_context,
    chair_view,
    meeting_title,
)
from bot.kernel.localtime import day_text, local, when_text
from bot.kernel.views import Grant, SharedView, Subject
from cards.chair import (
    ActionCapturedView,
    ConfidentialityView,
    MeetingEndedView,
    render_action_captured,
    render_chair,
    render_confidentiality,
    render_meeting_ended,
)
from cards.verbs import ACTION_ID_KEY, MEETING_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.domain.meeting import Meeting
    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.views import Extras
    from cards.kit import Card

CHAIR = "chair"
CONFIDENTIALITY = "confidentiality"
ACTION_CAPTURED = "action_captured"
MEETING_ENDED = "meeting_ended"
MAX_ID = 64

# What the statement's own view says to someone who may see cases on the agenda.
YOUR_CASES = "Cases on the agenda you will see in full here: {cases}."


def started_late(meeting: Meeting, panel: Panel) -> str | None:
    """Said on the statement, to every reader, when the meeting started on another day than
    the one planned (no personal data: a date)."""
    started = meeting.started_at
    if started is None or local(started, panel).date() == local(meeting.starts_at, panel).date():
        return None
    return f"Started on another day than planned ({day_text(meeting.starts_at, panel)})."


def _id(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else None


async def _meeting(
    uow: UnitOfWork, panel: Panel, data: Mapping[str, Any], *states: MeetingStatus
) -> Meeting | None:
    meeting_id = _id(data, MEETING_KEY)
    meeting = await uow.meetings.get(panel.id, meeting_id) if meeting_id else None
    return meeting if meeting is not None and meeting.status in states else None


async def _agenda_cases(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> list[Any]:
    items = running_items(await uow.meetings.agenda(panel.id, meeting.id))
    ids = [i.case_id for i in items if i.case_id]
    return await uow.cases.by_ids(panel.id, ids) if ids else []


# --- the chair card --------------------------------------------------------------------------


async def _locate_chair(uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]) -> Subject | None:
    meeting = await _meeting(uow, panel, data, MeetingStatus.IN_PROGRESS)
    if meeting is None:
        return None
    try:
        current = (await chair_context(uow, panel, meeting)).current
    except DomainError:
        return None
    if current.case_id is not None:
        case = await uow.cases.get(panel.id, current.case_id)
        cases = [case] if case is not None else []
    elif current.kind is AgendaItemKind.UNMET_ACTIONS:
        actions = await uow.actions.by_ids(panel.id, list(current.action_ids))
        cases = await uow.cases.by_ids(panel.id, sorted({a.case_id for a in actions}))
    else:
        cases = []
    return Subject(meeting, cases, {MEETING_KEY: meeting.id})


async def _render_chair(
    uow: UnitOfWork, panel: Panel, subject: Subject, grant: Grant, extras: Extras
) -> Card:
    assert subject.meeting is not None
    current = (await chair_context(uow, panel, subject.meeting)).current
    whole = grant.controls or (current.case_id is not None and current.case_id in grant.cases)
    view, _ = await chair_view(
        uow,
        panel,
        subject.meeting,
        private=whole,
        notice=extras.get("notice"),
        error=bool(extras.get("error")),
        typed=extras.get("typed") if grant.controls else None,
        detail_of=grant.cases if current.kind is AgendaItemKind.UNMET_ACTIONS else frozenset(),
        controls=grant.controls,
        opener=grant.base,
    )
    return render_chair(view)


CHAIR_VIEW = SharedView(CHAIR, _locate_chair, _render_chair)


# --- the confidentiality statement -----------------------------------------------------------


STATEMENT = (
    "Everything shared at this meeting is confidential. Agencies share it under the Crime and "
    "Disorder Act 1998 s.115, UK GDPR Art. 6(1)(e) and the panel's information sharing "
    "agreement (version {version}), only to reduce risk. Keep it within your agency on a need "
    "to know basis; do not record it elsewhere or pass it on."
)


def statement(panel: Panel) -> str:
    """What every attendee acknowledges, naming the agreement's current version."""
    return STATEMENT.format(version=panel.isa_version)


async def _locate_statement(
    uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]
) -> Subject | None:
    meeting = await _meeting(uow, panel, data, MeetingStatus.IN_PROGRESS)
    if meeting is None:
        return None
    return Subject(meeting, await _agenda_cases(uow, panel, meeting), {MEETING_KEY: meeting.id})


async def _render_statement(
    uow: UnitOfWork, panel: Panel, subject: Subject, grant: Grant, extras: Extras
) -> Card:
    assert subject.meeting is not None
    meeting = subject.meeting
    mine = [c.reference for c in subject.cases if c.id in grant.cases and not grant.base]
    view = ConfidentialityView(
        panel_name=panel.name,
        meeting_id=meeting.id,
        meeting_label=meeting_title(meeting, when_text(meeting.starts_at, panel)),
        statement=statement(panel),
        attendance=await attendance_lines(uow, panel, meeting),
        notice=extras.get("notice"),
        acknowledged=bool(extras.get("acknowledged")),
        started_late=started_late(meeting, panel),
        your_cases=YOUR_CASES.format(cases=", ".join(mine)) if mine else None,
    )
    return render_confidentiality(view)


CONFIDENTIALITY_VIEW = SharedView(CONFIDENTIALITY, _locate_statement, _render_statement)


# --- an action captured ----------------------------------------------------------------------


async def _locate_action(uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]) -> Subject | None:
    action_id = _id(data, ACTION_ID_KEY)
    action = await uow.actions.get(panel.id, action_id) if action_id else None
    if action is None or action.meeting_id is None:
        return None
    meeting = await uow.meetings.get(panel.id, action.meeting_id)
    case = await uow.cases.get(panel.id, action.case_id)
    if meeting is None or case is None:
        return None
    return Subject(meeting, [case], {ACTION_ID_KEY: action.id})


async def _render_action(
    uow: UnitOfWork, panel: Panel, subject: Subject, grant: Grant, _extras: Extras
) -> Card:
    action_id = subject.data[ACTION_ID_KEY]
    action = await uow.actions.get(panel.id, action_id)
    assert action is not None and subject.meeting is not None
    case = subject.cases[0]
    agency = await uow.agencies.get(panel.id, action.owner_agency_id)
    shown = case.id in grant.cases
    view = ActionCapturedView(
        panel_name=panel.name,
        meeting_label=meeting_title(subject.meeting, when_text(subject.meeting.starts_at, panel)),
        reference=case.reference,
        agency=agency.name if agency else "an agency no longer listed",
        due=day_label(action.due_on),
        description=action.description if shown else None,
        state=action.status.value if shown else None,
        hidden=PRIVATE_ONLY,
    )
    return render_action_captured(view)


ACTION_VIEW = SharedView(ACTION_CAPTURED, _locate_action, _render_action)


# --- the meeting ended -----------------------------------------------------------------------


async def _locate_ended(uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]) -> Subject | None:
    meeting = await _meeting(uow, panel, data, MeetingStatus.ENDED, MeetingStatus.MINUTES_APPROVED)
    if meeting is None:
        return None
    return Subject(meeting, await _agenda_cases(uow, panel, meeting), {MEETING_KEY: meeting.id})


async def ended_view(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> MeetingEndedView:
    """The counts the meeting chat sees when the meeting ends."""
    running = running_items(await uow.meetings.agenda(panel.id, meeting.id))
    present = {a.agency_id for a in await uow.meetings.attendance(panel.id, meeting.id)}
    agreed = 0
    for case_id in sorted({i.case_id for i in running if i.case_id}):
        agreed += sum(
            1 for a in await uow.actions.for_case(panel.id, case_id) if a.meeting_id == meeting.id
        )
    return MeetingEndedView(
        panel_name=panel.name,
        meeting_label=meeting_title(meeting, when_text(meeting.starts_at, panel)),
        discussed=sum(1 for i in running if i.status is AgendaItemStatus.DISCUSSED),
        items=len(running),
        actions=agreed,
        agencies=len(present),
    )


async def _render_ended(
    uow: UnitOfWork, panel: Panel, subject: Subject, grant: Grant, _extras: Extras
) -> Card:
    assert subject.meeting is not None
    meeting = subject.meeting
    view = await ended_view(uow, panel, meeting)
    agencies = {a.id: a.name for a in await uow.agencies.all(panel.id)}
    lines: list[str] = []
    for case in subject.cases:
        if case.id not in grant.cases:
            continue
        for action in await uow.actions.for_case(panel.id, case.id):
            if action.meeting_id == meeting.id:
                owner = agencies.get(action.owner_agency_id, "an agency no longer listed")
                lines.append(
                    f"{case.reference} · {owner}: {action.description} — due "
                    f"{day_label(action.due_on)}"
                )
    return render_meeting_ended(replace(view, agreed=tuple(lines), detail=not grant.base))


MEETING_ENDED_VIEW = SharedView(MEETING_ENDED, _locate_ended, _render_ended)

VIEWS = (CHAIR_VIEW, CONFIDENTIALITY_VIEW, ACTION_VIEW, MEETING_ENDED_VIEW)
