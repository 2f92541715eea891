"""Urgent meetings (issue 15; Islington's terms of reference: urgent cases do not wait for the
monthly meeting, an urgent CMARAC is called on request to the chairs).

The coordinator or the chair, in private chat, calls an extraordinary meeting for one or more
open cases: `schedule urgent 2 Dec 14:00 <reason> for CM-2026-014`, or the schedule card's
"Urgent meeting…" form with the open cases to tick. The rules are the domain's
(bot.domain.meeting.call_urgent): a reason, a time ahead and within two weeks, not on top of
another meeting of the panel. The meeting's agenda lists only the cases named and is
published at once: the team channel hears when and how many cases (no reference, reason or
name), and each agency concerned with a case (its lead, the agencies asked for information,
those invited, those owning an open action) has the cases it is concerned with, in private.
The reason is kept in the audit trail only. A case heard there is reviewed, not new, at the
next monthly meeting (bot.domain.agenda.build_agenda).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.action import ActionStatus, RequestStatus
from bot.domain.agenda import AgendaTiming, build_agenda
from bot.domain.audit import AuditVerb
from bot.domain.case import Case, CaseStatus
from bot.domain.errors import InvalidInput
from bot.domain.meeting import AgendaItemKind, Meeting, call_urgent
from bot.domain.panel import Agency, Panel, Role, agency_contact
from bot.domain.schedule import local_instant
from bot.features.meetings.views import meeting_title, when_in
from bot.kernel.audit import record
from bot.kernel.localtime import local, when_text
from bot.kernel.notify import card_to_channel, card_to_member
from cards.agenda import InvitationView, render_agenda_invitation
from cards.schedule import (
    UrgentAnnouncementView,
    UrgentCalledView,
    render_urgent_announcement,
    render_urgent_called,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from bot.features.meetings.commands import CallUrgentMeeting
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Request


@dataclass(frozen=True)
class UrgentCall:
    """An urgent meeting just called: the meeting, its cases, who was told."""

    meeting: Meeting
    cases: list[Case]
    announced: bool
    invited: list[str]


def heard(case: Case) -> AgendaItemKind:
    """A case's item at the urgent meeting: new if never heard, else a review."""
    return AgendaItemKind.NEW_CASE if case.status is CaseStatus.OPEN else AgendaItemKind.REVIEW_CASE


async def named_cases(uow: UnitOfWork, panel: Panel, command: CallUrgentMeeting) -> list[Case]:
    """The open cases the command names (typed references or ticked ids), in that order."""
    found: list[Case] = []
    for reference in command.references:
        case = await uow.cases.by_reference(panel.id, reference)
        if case is None:
            raise InvalidInput(f"There is no case {reference} in this panel.", {"cases": "unknown"})
        found.append(case)
    if command.case_ids:
        by_id = {c.id: c for c in await uow.cases.by_ids(panel.id, list(command.case_ids))}
        if len(by_id) != len(command.case_ids):
            raise InvalidInput(
                "A case ticked is no longer in this panel. Type schedule for the form again.",
                {"cases": "unknown"},
            )
        found += [by_id[i] for i in command.case_ids]
    unique = list({c.id: c for c in found}.values())
    closed = [c.reference for c in unique if not c.is_open]
    if closed:
        raise InvalidInput(
            f"{', '.join(closed)} is closed: reopen it before calling a meeting for it.",
            {"cases": "closed"},
        )
    return unique


async def _concerned(uow: UnitOfWork, panel: Panel, case: Case) -> set[str]:
    """The agencies concerned with a case: its lead, those invited for it, those asked for
    information on it, and the owners of its open actions."""
    agencies = set(case.invited_agency_ids)
    if case.lead_agency_id:
        agencies.add(case.lead_agency_id)
    for info in await uow.information_requests.for_case(panel.id, case.id):
        if info.status is not RequestStatus.CANCELLED:
            agencies.add(info.agency_id)
    for action in await uow.actions.for_case(panel.id, case.id):
        if action.status is ActionStatus.OPEN:
            agencies.add(action.owner_agency_id)
    return agencies


async def urgent_agencies(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> set[str]:
    """The agencies concerned with the cases on an urgent meeting's agenda (its calendar
    event invites only them, with the chairs and coordinators)."""
    case_ids = [i.case_id for i in await uow.meetings.agenda(panel.id, meeting.id) if i.case_id]
    agencies: set[str] = set()
    for case in await uow.cases.by_ids(panel.id, case_ids):
        agencies |= await _concerned(uow, panel, case)
    return agencies


async def call_urgent_meeting(
    uow: UnitOfWork,
    panel: Panel,
    command: CallUrgentMeeting,
    *,
    now: datetime,
    actor: Request,
    timing: AgendaTiming | None = None,
) -> UrgentCall:
    """Call the urgent meeting, list its cases, publish its agenda, announce it in the
    channel and invite the agencies concerned; the caller commits (holding the panel's
    calendar and agenda locks). A refusal raises before anything is written."""
    assert command.day is not None and command.start is not None
    zone = ZoneInfo(panel.timezone)
    cases = await named_cases(uow, panel, command)
    starts_at = local_instant(command.day, command.start, zone)
    nearby = await uow.meetings.upcoming(panel.id, starts_at - timedelta(days=1), limit=20)
    meeting = call_urgent(
        panel_id=panel.id,
        starts_at=starts_at,
        now=now,
        reason=command.reason,
        case_count=len(cases),
        others=[m for m in nearby if m.starts_at < starts_at + timedelta(days=1)],
    )
    reason = " ".join(command.reason.split())
    await uow.meetings.save(meeting)
    items = build_agenda(
        meeting,
        [],
        {c.id: c for c in cases},
        due=[(c, heard(c)) for c in cases],
        unmet_action_ids=[],
        timing=timing or AgendaTiming(),
    )
    await uow.meetings.save_agenda_items(items)
    label = when_in(meeting.starts_at, zone)
    references = ", ".join(c.reference for c in cases)
    await record(
        uow,
        actor,
        AuditVerb.CREATE,
        "meeting",
        meeting.id,
        f"urgent meeting called for {label}, for {references}: {reason}",
        at=now,
    )
    for case in cases:
        await record(
            uow,
            actor,
            AuditVerb.UPDATE,
            "case",
            case.id,
            f"listed at the urgent meeting on {label}",
            at=now,
        )
    meeting.publish_agenda(now)
    await uow.meetings.save(meeting)
    starts = local(meeting.starts_at, panel)
    announced = await card_to_channel(
        uow,
        panel=panel,
        card=render_urgent_announcement(
            UrgentAnnouncementView(
                when=f"{starts:%a} {starts.day} {starts:%b}, {starts:%H:%M}",
                cases=len(cases),
                join_url=meeting.join_url,
            )
        ),
        key=f"urgent-channel:{meeting.id}",
        now=now,
    )
    invited, contacts = await _invite(uow, panel, meeting, cases, now)
    await _tell_the_chairs(
        uow,
        panel,
        UrgentCalledView(
            panel_name=panel.name,
            when=f"{label}–{meeting.ends_at.astimezone(zone):%H:%M}",
            cases=[c.reference for c in cases],
            reason=None,
            invited=invited,
            announced=announced,
            called_by=actor.caller.name,
        ),
        meeting,
        skip={*contacts, *([actor.member.id] if actor.member else [])},
        now=now,
    )
    return UrgentCall(meeting, cases, announced, invited)


async def _tell_the_chairs(
    uow: UnitOfWork,
    panel: Panel,
    view: UrgentCalledView,
    meeting: Meeting,
    *,
    skip: set[str],
    now: datetime,
) -> None:
    """The panel's other chairs and coordinators hear that it was called, and by whom (not
    why: the reason stays in the audit trail), unless invited for an agency already."""
    for member in await uow.members.all(panel.id):
        if not member.active or member.id in skip:
            continue
        if not (member.has(Role.CHAIR) or member.has(Role.COORDINATOR)):
            continue
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            card=render_urgent_called(view),
            key=f"urgent-called:{meeting.id}:{member.id}",
            now=now,
            text="An urgent panel meeting was called",
        )


async def _invite(
    uow: UnitOfWork, panel: Panel, meeting: Meeting, cases: Sequence[Case], now: datetime
) -> tuple[list[str], set[str]]:
    """Each agency concerned gets, in its contact's private chat, only its own cases.
    Returns who was told ("Agency (contact)") and the contacts' member ids."""
    agencies: dict[str, Agency] = {a.id: a for a in await uow.agencies.all(panel.id)}
    by_agency: dict[str, list[Case]] = {}
    for case in cases:
        for agency_id in sorted(await _concerned(uow, panel, case)):
            by_agency.setdefault(agency_id, []).append(case)
    members = await uow.members.all(panel.id)
    today = local(now, panel).date()
    told: list[str] = []
    contacts: set[str] = set()
    for agency_id, theirs in sorted(
        by_agency.items(), key=lambda pair: agencies[pair[0]].name if pair[0] in agencies else ""
    ):
        agency = agencies.get(agency_id)
        contact = agency_contact(members, agency_id, today)
        if agency is None or not agency.active or contact is None:
            continue
        view = InvitationView(
            panel_name=panel.name,
            agency=agency.name,
            meeting_label=meeting_title(meeting, when_text(meeting.starts_at, panel)),
            cases=[(c.reference, c.risk_level.value.capitalize()) for c in theirs],
            join_url=meeting.join_url,
        )
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=contact.id,
            card=render_agenda_invitation(view),
            key=f"urgent-invite:{meeting.id}:{agency_id}:{contact.id}",
            now=now,
            text=f"{agency.name} is invited to an urgent panel meeting",
        )
        told.append(f"{agency.name} ({contact.name})")
        contacts.add(contact.id)
    return told, contacts
