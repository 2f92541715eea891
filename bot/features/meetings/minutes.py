"""The minutes: drafted when the meeting ends, edited and approved by the coordinator, and
sent as a Word document to the SPOCs who attended.

`end` (bot.features.meetings.meeting_run) drafts them and queues the draft to every coordinator in
private chat. The coordinator rewrites each case's summary as needed and approves; approving
queues each attending SPOC (or deputy) a card with a signed link to
`/panels/<panel>/minutes/<meeting>.docx?token=…` (Teams cards cannot carry files). Each link
is signed for its recipient (bot.kernel.links) and expires; at download the recipient must
still be an active member of the panel; downloads are audited. Minutes never go to the
channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.errors import Conflict, DomainError, NotFound
from bot.domain.meeting import AgendaItemKind, Meeting, MeetingStatus
from bot.domain.minutes import (
    MeetingRecord,
    Minutes,
    attending_members,
    draft_minutes,
)
from bot.domain.panel import AGENCY_ROLES, Member, Panel, Role
from bot.domain.policy import Act
from bot.features.meetings.commands import EditSummary, MinutesCard
from bot.features.meetings.docx_export import minutes_docx
from bot.features.meetings.views import minutes_view
from bot.kernel import access
from bot.kernel.audit import Actor, record
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import day_text
from bot.kernel.notify import card_to_member
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.minutes import (
    MinutesReadyView,
    render_minutes,
    render_minutes_ready,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ONLY_COORDINATORS = "Only the panel's coordinator can edit and approve the minutes."
CHANGED_MEANWHILE = "Someone changed these minutes a moment ago: here they are as they stand."
DONE = frozenset({MeetingStatus.ENDED, MeetingStatus.MINUTES_APPROVED})


@dataclass(frozen=True)
class MinutesConfig:
    """Where the Word document is downloaded from; unconfigured links, no link."""

    links: Links = field(default_factory=Links)


# --- drafting --------------------------------------------------------------------------


async def meeting_record(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> MeetingRecord:
    """Everything the minutes of `meeting` are drafted from."""
    items = await uow.meetings.agenda(panel.id, meeting.id)
    case_ids = [i.case_id for i in items if i.case_id]
    unmet_item = next((i for i in items if i.kind is AgendaItemKind.UNMET_ACTIONS), None)
    unmet = (
        await uow.actions.by_ids(panel.id, list(unmet_item.action_ids))
        if unmet_item is not None and unmet_item.is_active
        else []
    )
    cases = {
        c.id: c
        for c in await uow.cases.by_ids(panel.id, sorted({*case_ids, *(a.case_id for a in unmet)}))
    }
    actions_by_case = {
        case_id: await uow.actions.for_case(panel.id, case_id) for case_id in case_ids
    }
    meetings: dict[str, Meeting] = {meeting.id: meeting}
    for case in cases.values():
        if case.review_meeting_id and case.review_meeting_id not in meetings:
            review = await uow.meetings.get(panel.id, case.review_meeting_id)
            if review is not None:
                meetings[review.id] = review
    return MeetingRecord(
        meeting=meeting,
        items=items,
        cases=cases,
        actions_by_case=actions_by_case,
        unmet_actions=unmet,
        attendance=await uow.meetings.attendance(panel.id, meeting.id),
        agencies={a.id: a for a in await uow.agencies.all(panel.id)},
        members={m.id: m for m in await uow.members.all(panel.id)},
        meetings=meetings,
        zone=ZoneInfo(panel.timezone),
    )


async def draft_for_meeting(
    uow: UnitOfWork, panel: Panel, meeting: Meeting, now: datetime
) -> Minutes:
    """Draft and save the minutes of a meeting that has ended (once: the draft stored is
    returned if there is one). The caller commits."""
    existing = await uow.meetings.minutes(panel.id, meeting.id)
    if existing is not None:
        return existing
    minutes = draft_minutes(await meeting_record(uow, panel, meeting), now=now)
    await uow.meetings.save_minutes(minutes)
    return minutes


async def _coordinators(uow: UnitOfWork, panel: Panel) -> list[Member]:
    return [m for m in await uow.members.all(panel.id) if m.has(Role.COORDINATOR)]


async def queue_draft(uow: UnitOfWork, panel: Panel, minutes: Minutes, now: datetime) -> None:
    """Queue the draft to every coordinator's private chat, to edit and approve."""
    card = render_minutes(minutes_view(panel, minutes, editable=True))
    for coordinator in await _coordinators(uow, panel):
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=coordinator.id,
            card=card,
            key=f"minutes-draft:{minutes.id}:{coordinator.id}",
            now=now,
            text=f"The minutes of {minutes.meeting_label} are drafted",
        )


# --- signed download links ---------------------------------------------------------------


# Where approved minutes are downloaded (the route the feature serves, and its links).
MINUTES_ROUTE = "/panels/{panel_id}/minutes/{meeting_id}.docx"


def minutes_path(panel_id: str, meeting_id: str) -> str:
    """The Word document's path for one meeting's minutes."""
    return MINUTES_ROUTE.format(
        panel_id=quote(panel_id, safe=""), meeting_id=quote(meeting_id, safe="")
    )


def minutes_url(
    config: MinutesConfig, panel_id: str, meeting_id: str, member_id: str, now: datetime
) -> str | None:
    """The signed link for one member, or None when downloads are not configured."""
    path = minutes_path(panel_id, meeting_id)
    return config.links.url(Purpose.MINUTES, path, (panel_id, meeting_id), member_id, now)


async def minutes_file(
    uow_factory: UnitOfWorkFactory,
    links: Links,
    panel_id: str,
    meeting_id: str,
    token: str,
    now: datetime,
) -> bytes | None:
    """The approved minutes as .docx bytes for a valid link of a member who is still active
    and may still read case summaries; None for anything else (the same answer for a bad
    token, an unknown meeting, a removed member and a draft). Each download is audited."""
    member_id = links.holder(Purpose.MINUTES, (panel_id, meeting_id), token, now)
    if member_id is None:
        return None
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        member = await uow.members.get(panel_id, member_id) if panel else None
        minutes = await uow.meetings.minutes(panel_id, meeting_id) if panel else None
        if panel is None or member is None or not member.active or minutes is None:
            return None
        if not minutes.approved:
            return None
        if not (await access.decide_for(uow, panel, member, Act.VIEW_CASE_SUMMARY)).allowed:
            return None
        document = minutes_docx(minutes, panel.name, panel.timezone)
        actor = Actor.member(member, "download")
        await record(uow, actor, AuditVerb.EXPORT, "minutes", minutes.id, "minutes.docx", at=now)
        await uow.commit()
    return document


# --- the feature ---------------------------------------------------------------------------


class MinutesFeature:
    """`minutes` and the minutes card's verbs."""

    def __init__(self, config: MinutesConfig) -> None:
        self.config = config

    def _url(self, panel: Panel, minutes: Minutes, member: Member, now: datetime) -> str | None:
        if not minutes.approved:
            return None
        return minutes_url(self.config, panel.id, minutes.meeting_id, member.id, now)

    async def command(self, request: Request, deps: Deps) -> Reply:
        """`minutes`: the most recent meeting's minutes, to edit and approve."""
        panel, member = request.admitted()
        now = deps.clock.now()
        async with deps.uow() as uow:
            found = await uow.meetings.upcoming(panel.id, now - timedelta(days=400), limit=60)
            minutes = None
            for meeting in sorted(found, key=lambda m: m.starts_at, reverse=True):
                if meeting.status in DONE:
                    minutes = await uow.meetings.minutes(panel.id, meeting.id)
                    if minutes is not None:
                        break
        if minutes is None:
            raise NotFound("No meeting has ended yet, so there are no minutes.")
        view = minutes_view(
            panel, minutes, editable=True, download_url=self._url(panel, minutes, member, now)
        )
        return Reply(card=render_minutes(view))

    async def _show(
        self,
        uow: UnitOfWork,
        panel: Panel,
        member: Member,
        meeting_id: str,
        notice: str,
        now: datetime,
    ) -> Reply:
        minutes = await uow.meetings.minutes(panel.id, meeting_id)
        if minutes is None:
            raise NotFound("Those minutes no longer exist.")
        view = minutes_view(
            panel,
            minutes,
            editable=True,
            download_url=self._url(panel, minutes, member, now),
            notice=notice,
        )
        return Reply(card=render_minutes(view))

    async def edit(self, request: Request, deps: Deps) -> Reply:
        """Save one case's discussion summary in the draft."""
        panel, member = request.admitted()
        command = EditSummary.of(request.data)
        meeting_id, item_id = command.meeting_id, command.item_id
        now = deps.clock.now()
        async with deps.uow() as uow:
            minutes = await uow.meetings.minutes(panel.id, meeting_id)
            if minutes is None:
                raise NotFound("Those minutes no longer exist.")
            if command.version != minutes.version:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            try:
                minutes.edit_summary(item_id, command.text(request.data))
                await uow.meetings.save_minutes(minutes)
            except Conflict:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            except DomainError as err:
                return await self._show(uow, panel, member, meeting_id, err.message, now)
            detail = f"summary of {item_id}"
            await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
            await uow.commit()
            case = minutes.case(item_id)
            return await self._show(
                uow, panel, member, meeting_id, f"Summary of {case.reference} saved.", now
            )

    async def approve(self, request: Request, deps: Deps) -> Reply:
        """Approve the minutes: they are final; attending SPOCs get the Word document."""
        panel, member = request.admitted()
        card = MinutesCard.of(request.data)
        meeting_id = card.meeting_id
        now = deps.clock.now()
        async with deps.uow() as uow:
            minutes = await uow.meetings.minutes(panel.id, meeting_id)
            meeting = await uow.meetings.get(panel.id, meeting_id)
            if minutes is None or meeting is None:
                raise NotFound("Those minutes no longer exist.")
            if minutes.approved:
                return await self._show(uow, panel, member, meeting_id, "Already approved.", now)
            if card.version != minutes.version:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            minutes.approve(by_member_id=member.id, by_name=member.name, at=now)
            try:
                await uow.meetings.save_minutes(minutes)
            except Conflict:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            if meeting.status is MeetingStatus.ENDED:
                meeting.move_to(MeetingStatus.MINUTES_APPROVED)
                await uow.meetings.save(meeting)
            sent = await self.send_to_attending(uow, panel, minutes, now)
            await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, "approved", at=now)
            await uow.commit()
            spocs = "1 attending SPOC receives" if sent == 1 else f"{sent} attending SPOCs receive"
            notice = f"Approved. {spocs} the Word document in private chat."
            return await self._show(uow, panel, member, meeting_id, notice, now)

    async def send_to_attending(
        self, uow: UnitOfWork, panel: Panel, minutes: Minutes, now: datetime
    ) -> int:
        """Queue the approved minutes' card to each SPOC or deputy who attended (1:1 only)."""
        members = {m.id: m for m in await uow.members.all(panel.id)}
        attendance = await uow.meetings.attendance(panel.id, minutes.meeting_id)
        sent = 0
        for member_id in attending_members(attendance):
            member = members.get(member_id)
            if member is None or not member.active or not AGENCY_ROLES & member.roles:
                continue
            url = minutes_url(self.config, panel.id, minutes.meeting_id, member.id, now)
            expires = self.config.links.expires(Purpose.MINUTES, now)
            view = MinutesReadyView(
                panel_name=panel.name,
                meeting_label=minutes.meeting_label,
                download_url=url,
                cases=len(minutes.cases),
                actions=len(minutes.actions),
                expires=day_text(expires, panel) if url else None,
            )
            if await card_to_member(
                uow,
                panel_id=panel.id,
                member_id=member.id,
                card=render_minutes_ready(view),
                key=f"minutes-ready:{minutes.id}:{member.id}",
                now=now,
                text=f"The minutes of {minutes.meeting_label} are approved",
            ):
                sent += 1
        return sent


def register(router: Router, config: MinutesConfig | None = None) -> MinutesFeature:
    """Register `minutes` and the minutes card's verbs."""
    feature = MinutesFeature(config or MinutesConfig())
    router.command(
        CommandSpec(
            name="minutes",
            summary="Coordinator: the latest meeting's minutes, to edit and approve.",
            handler=feature.command,
            access=Access(Act.APPROVE_MINUTES, PRIVATE),
            button="Minutes",
        )
    )
    approving = Access(Act.APPROVE_MINUTES, PRIVATE, (Target.MEETING,), (Target.MEETING,))
    router.verb(VerbSpec(Verb.MINUTES_EDIT.value, feature.edit, approving))
    router.verb(VerbSpec(Verb.MINUTES_APPROVE.value, feature.approve, approving))
    return feature
