"""The minutes: drafted when the meeting ends, edited by the coordinator, signed off as the
panel's terms of reference say, and sent as a Word document to those who attended.

`end` (bot.features.meetings.meeting_run) drafts them and queues the draft to every coordinator in
private chat. The coordinator rewrites each case's summary as needed. Who signs them off is
the panel's (MINUTES_SIGNOFF, by Teams team id like the meeting schedule; a deployment
setting rather than a command, so that the coordinator whose draft the chair checks cannot
lift that check herself): the coordinator alone approves; with the chair, the coordinator
sends the draft on and the chair receives it to sign in private chat; with both, each signs,
in either order, two different people, and whoever is still awaited receives it. Every
sign-off (name, role, date) is kept in the minutes and audited; a summary rewritten after a
sign-off withdraws it.

Once approved, each member recorded as attending who may read every case in them (the
policy's case detail, so the current agreement accepted) receives, in private chat, a card
saying so and the Word document as a file through Teams' file consent card: they allow it,
Teams makes the file in their OneDrive, the bot uploads it there (`answer_file`) and shows
it; the approving card names them. The file then lives in Microsoft 365, under the
council's retention and data-loss-prevention policies, rather than behind a bearer link.
The consent card's context (the client's to forge) carries only a stored offer's id, and
the offer is bound to the panel, the meeting and the member: at upload the caller must be
that member, still entitled, and the offer unused and unexpired; each file sent is audited.

Signed links to `/panels/<panel>/minutes/<meeting>.docx?token=…` remain the fallback a
coordinator can turn off per panel (`minutes.links`, on the approved minutes' card): on (the
default), a member who declines the file, or whose OneDrive would not take it, gets a link
signed for them (bot.kernel.links) that expires and is re-checked at download, and the
minutes' card of the coordinator and chair has one; off, no link is made and the download
route refuses every link of that panel. Minutes never go to the channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from bot.domain.file_offer import FileOffer, OfferState
from bot.domain.meeting import AgendaItemKind, Meeting, MeetingStatus
from bot.domain.minutes import (
    MeetingRecord,
    Minutes,
    Signature,
    SignOff,
    SignOffBook,
    attending_members,
    draft_minutes,
)
from bot.domain.panel import Member, Panel, Role
from bot.domain.policy import Act, Relation, decide
from bot.features.meetings.commands import EditSummary, MinutesCard
from bot.features.meetings.docx_export import minutes_docx
from bot.features.meetings.views import minutes_view
from bot.kernel import access, notify
from bot.kernel.audit import Actor, record
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.inputs import text_field
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import day_text
from bot.kernel.notify import card_to_member
from bot.kernel.ports import UploadFailed, UploadRefused
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.minutes import (
    ALLOW_LINKS_KEY,
    FileAnswerView,
    MinutesReadyView,
    render_file_answer,
    render_minutes,
    render_minutes_ready,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from bot.kernel.ports import FileUploads, UnitOfWork, UnitOfWorkFactory

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CHANGED_MEANWHILE = "Someone changed these minutes a moment ago: here they are as they stand."
DONE = frozenset({MeetingStatus.ENDED, MeetingStatus.MINUTES_APPROVED})


@dataclass(frozen=True)
class MinutesConfig:
    """Where the Word document is downloaded from; unconfigured links, no link."""

    links: Links = field(default_factory=Links)
    # Who signs each panel's minutes off (MINUTES_SIGNOFF); the coordinator without one.
    sign_offs: SignOffBook = field(default_factory=SignOffBook)
    # Puts the Word file in a member's OneDrive once they allow it (bot.teams.upload);
    # None (a router built without the Teams layer): the file cannot be saved, and the
    # member is told so (with a link, where the panel allows links).
    uploads: FileUploads | None = None


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
        if not await uow.file_offers.links_allowed(panel.id):
            return None  # the coordinator turned links off: every link of the panel is dead
        if not await entitled(uow, panel, member, minutes):
            return None
        document = minutes_docx(minutes, panel.name, panel.timezone)
        actor = Actor.member(member, "download")
        await record(uow, actor, AuditVerb.EXPORT, "minutes", minutes.id, "minutes.docx", at=now)
        await uow.commit()
    return document


# --- who receives them ----------------------------------------------------------------------


async def entitled(uow: UnitOfWork, panel: Panel, member: Member, minutes: Minutes) -> bool:
    """Whether `member` may have these minutes: an active member (invitation accepted) who
    may see every case in them in full under the policy, the panel's current agreement
    accepted (the minutes hold each case's discussion and actions)."""
    if not member.active or member.invited:
        return False
    subject = await access.subject_for(uow, panel, member)
    if decide(subject, Act.VIEW_CASE_DETAIL, Relation.NONE).allowed:
        return True  # the coordinator and the chair see every case
    if not subject.agreement_accepted:
        return False
    case_ids = {c.case_id for c in minutes.cases}
    unmet = await uow.actions.by_ids(panel.id, [u.action_id for u in minutes.unmet])
    case_ids |= {a.case_id for a in unmet}
    for case in await uow.cases.by_ids(panel.id, sorted(case_ids)):
        relations = await access.relations_to_case(uow, panel, member, case)
        if not decide(subject, Act.VIEW_CASE_DETAIL, relations).allowed:
            return False
    return True


def _who(member: Member, agencies: dict[str, str]) -> str:
    agency = agencies.get(member.agency_id or "")
    return f"{member.name} ({agency})" if agency else member.name


def _signed_text(signatures: list[Signature]) -> str:
    return " and ".join(f"{s.name} ({s.role.value})" for s in signatures)


# --- the feature ---------------------------------------------------------------------------


class MinutesFeature:
    """`minutes` and the minutes card's verbs."""

    def __init__(self, config: MinutesConfig) -> None:
        self.config = config

    def _url(
        self, panel: Panel, minutes: Minutes, member: Member, now: datetime, links: bool
    ) -> str | None:
        if not minutes.approved or not links:
            return None
        return minutes_url(self.config, panel.id, minutes.meeting_id, member.id, now)

    def rule(self, panel: Panel) -> SignOff:
        """Who signs this panel's minutes off."""
        return self.config.sign_offs.for_team(panel.team_id)

    def _card(
        self,
        panel: Panel,
        minutes: Minutes,
        member: Member,
        now: datetime,
        links: bool,
        notice: str | None = None,
    ) -> Reply:
        view = minutes_view(
            panel,
            minutes,
            editable=True,
            download_url=self._url(panel, minutes, member, now, links),
            notice=notice,
            rule=self.rule(panel),
            viewer=member,
        )
        coordinator = member.has(Role.COORDINATOR)
        view = replace(
            view,
            save_file=minutes.approved,
            offer_again=minutes.approved and coordinator,
            links_allowed=links if coordinator else None,
        )
        return Reply(card=render_minutes(view))

    async def command(self, request: Request, deps: Deps) -> Reply:
        """`minutes`: the most recent meeting's minutes, to edit (the coordinator) and sign
        off (whoever the panel's sign-off names)."""
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
            links = await uow.file_offers.links_allowed(panel.id)
        if minutes is None:
            raise NotFound("No meeting has ended yet, so there are no minutes.")
        return self._card(panel, minutes, member, now, links)

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
        links = await uow.file_offers.links_allowed(panel.id)
        return self._card(panel, minutes, member, now, links, notice)

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
                withdrawn = minutes.edit_summary(item_id, command.text(request.data))
                await uow.meetings.save_minutes(minutes)
            except Conflict:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            except DomainError as err:
                return await self._show(uow, panel, member, meeting_id, err.message, now)
            case = minutes.case(item_id)
            detail = f"summary of {case.reference} rewritten"
            await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
            notice = f"Summary of {case.reference} saved."
            if withdrawn:
                who = _signed_text(withdrawn)
                detail = f"sign-off withdrawn, the summary changed after it: {who}"
                await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
                notice += f" The sign-off given ({who}) is withdrawn: they sign the new text."
            await uow.commit()
            return await self._show(uow, panel, member, meeting_id, notice, now)

    async def approve(self, request: Request, deps: Deps) -> Reply:
        """Sign the minutes off in the role the panel's rule still awaits from this member
        (or, a coordinator under the chair's sign-off, send them to the chair). When every
        sign-off is given they are approved: final, and the attending members entitled to
        them receive the Word document."""
        panel, member = request.admitted()
        card = MinutesCard.of(request.data)
        meeting_id = card.meeting_id
        now = deps.clock.now()
        rule = self.rule(panel)
        async with deps.uow() as uow:
            minutes = await uow.meetings.minutes(panel.id, meeting_id)
            meeting = await uow.meetings.get(panel.id, meeting_id)
            if minutes is None or meeting is None:
                raise NotFound("Those minutes no longer exist.")
            if minutes.approved:
                return await self._show(uow, panel, member, meeting_id, "Already approved.", now)
            if card.version != minutes.version:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            if minutes.signing_role(rule, member.roles, member.id) is None:
                if rule is SignOff.CHAIR and member.has(Role.COORDINATOR):
                    notice = await self._send_to_chair(uow, panel, minutes, request, now)
                    await uow.commit()
                    return await self._show(uow, panel, member, meeting_id, notice, now)
                if any(s.member_id == member.id for s in minutes.signatures):
                    notice = f"You have signed already: waiting for {rule.words}."
                else:
                    notice = f"This panel's minutes are signed off by {rule.words}."
                return await self._show(uow, panel, member, meeting_id, notice, now)
            signature = minutes.sign(
                rule, member_id=member.id, name=member.name, roles=member.roles, at=now
            )
            try:
                await uow.meetings.save_minutes(minutes)
            except Conflict:
                return await self._show(uow, panel, member, meeting_id, CHANGED_MEANWHILE, now)
            detail = f"signed off by {signature.name} as {signature.role.value}"
            await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
            if minutes.still_to_sign(rule):
                notice = await self._ask_next(uow, panel, minutes, rule, now)
                await uow.commit()
                return await self._show(uow, panel, member, meeting_id, notice, now)
            if meeting.status is MeetingStatus.ENDED:
                meeting.move_to(MeetingStatus.MINUTES_APPROVED)
                await uow.meetings.save(meeting)
            sent = await self.send_to_attending(uow, panel, minutes, now, but=member.id)
            approved = f"approved, signed off by {_signed_text(minutes.signatures)}"
            await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, approved, at=now)
            await uow.commit()
            if sent:
                notice = f"Approved. The Word document goes in private chat to {', '.join(sent)}."
            else:
                notice = "Approved. No other attending member may receive them."
            return await self._show(uow, panel, member, meeting_id, notice, now)

    async def _signers(
        self, uow: UnitOfWork, panel: Panel, role: Role, minutes: Minutes
    ) -> list[Member]:
        """Who may give `role`'s sign-off: its active members, not invited, not signed yet."""
        signed = {s.member_id for s in minutes.signatures}
        return [
            m
            for m in await uow.members.all(panel.id)
            if m.has(role) and not m.invited and m.id not in signed
        ]

    async def _queue_to_sign(
        self, uow: UnitOfWork, panel: Panel, minutes: Minutes, signers: list[Member], now: datetime
    ) -> None:
        for signer in signers:
            view = minutes_view(panel, minutes, editable=True, rule=self.rule(panel), viewer=signer)
            await card_to_member(
                uow,
                panel_id=panel.id,
                member_id=signer.id,
                card=render_minutes(view),
                key=f"minutes-sign:{minutes.id}:{signer.id}:{minutes.version}",
                now=now,
                text=f"The minutes of {minutes.meeting_label} wait for your sign-off",
            )

    async def _send_to_chair(
        self, uow: UnitOfWork, panel: Panel, minutes: Minutes, request: Request, now: datetime
    ) -> str:
        """The coordinator passes the draft to the chair, whose sign-off approves it."""
        chairs = await self._signers(uow, panel, Role.CHAIR, minutes)
        if not chairs:
            return "The panel has no chair to sign them off: add one with members."
        await self._queue_to_sign(uow, panel, minutes, chairs, now)
        names = ", ".join(c.name for c in chairs)
        detail = f"sent to the chair to sign off ({names})"
        await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
        return f"Sent to the chair ({names}) to sign off in private chat."

    async def _ask_next(
        self, uow: UnitOfWork, panel: Panel, minutes: Minutes, rule: SignOff, now: datetime
    ) -> str:
        """After a sign-off that does not complete them: whoever is still awaited gets them."""
        waiting = minutes.still_to_sign(rule)
        signers = [m for role in waiting for m in await self._signers(uow, panel, role, minutes)]
        await self._queue_to_sign(uow, panel, minutes, signers, now)
        roles = " and the ".join(r.value for r in waiting)
        if not signers:
            return f"Signed off. Waiting for the {roles}: the panel has nobody else in that role."
        return (
            f"Signed off. Waiting for the {roles}: sent to "
            f"{', '.join(m.name for m in signers)} in private chat."
        )

    async def send_to_attending(
        self, uow: UnitOfWork, panel: Panel, minutes: Minutes, now: datetime, but: str = ""
    ) -> list[str]:
        """Queue, to each member recorded as attending who is entitled to the approved
        minutes (1:1 only), but `but` (who approved them: their card offers the file), a
        card saying so and the Word document through a file consent card; returns who
        receives them, "name (agency)"."""
        members = {m.id: m for m in await uow.members.all(panel.id)}
        agencies = {a.id: a.name for a in await uow.agencies.all(panel.id)}
        attendance = await uow.meetings.attendance(panel.id, minutes.meeting_id)
        links = await uow.file_offers.links_allowed(panel.id)
        size = len(minutes_docx(minutes, panel.name, panel.timezone))
        sent: list[str] = []
        for member_id in attending_members(attendance):
            member = members.get(member_id)
            if member is None or member.id == but:
                continue
            if not await entitled(uow, panel, member, minutes):
                continue
            view = MinutesReadyView(
                panel_name=panel.name,
                meeting_label=minutes.meeting_label,
                download_url=None,
                cases=len(minutes.cases),
                actions=len(minutes.actions),
                signed_off=_signed_text(minutes.signatures),
                as_file=True,
                link_if_declined=links,
            )
            await card_to_member(
                uow,
                panel_id=panel.id,
                member_id=member.id,
                card=render_minutes_ready(view),
                key=f"minutes-ready:{minutes.id}:{member.id}",
                now=now,
                text=f"The minutes of {minutes.meeting_label} are approved",
            )
            await self._offer(
                uow, panel, minutes, member, now, size, f"minutes-file:{minutes.id}:{member.id}"
            )
            sent.append(_who(member, agencies))
        return sent

    async def _offer(
        self,
        uow: UnitOfWork,
        panel: Panel,
        minutes: Minutes,
        member: Member,
        now: datetime,
        size: int,
        key: str,
    ) -> bool:
        """Queue the Word file to the member as a file consent card, with its offer; False
        when `key` was queued before (nothing is stored then)."""
        offer = FileOffer.of(panel.id, minutes.meeting_id, member.id, now)
        queued = await notify.file_offer_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            file_name=file_name(minutes),
            description=f"The approved minutes of the {panel.name} meeting of "
            f"{minutes.meeting_label} (OFFICIAL-SENSITIVE)",
            size=size,
            offer_id=offer.id,
            key=key,
            now=now,
            delivery_id=offer.delivery_id,
            text=f"The minutes of {minutes.meeting_label} as a Word file",
        )
        if queued:
            await uow.file_offers.add(offer)
        return queued

    # --- the file, offered again ---------------------------------------------------------

    async def _approved(self, uow: UnitOfWork, panel: Panel, meeting_id: str) -> Minutes:
        minutes = await uow.meetings.minutes(panel.id, meeting_id)
        if minutes is None:
            raise NotFound("Those minutes no longer exist.")
        if not minutes.approved:
            raise InvalidInput("These minutes are not approved yet: approve them first.")
        return minutes

    async def offer_to_me(self, request: Request, deps: Deps) -> Reply:
        """The approved minutes' Word file, offered to the caller (a coordinator or chair
        entitled to them) in their private chat."""
        panel, member = request.admitted()
        meeting_id = MinutesCard.of(request.data).meeting_id
        now = deps.clock.now()
        async with deps.uow() as uow:
            minutes = await self._approved(uow, panel, meeting_id)
            if not await entitled(uow, panel, member, minutes):
                raise NotAllowed("These minutes hold cases you may not read in full.")
            size = len(minutes_docx(minutes, panel.name, panel.timezone))
            key = f"minutes-file:{minutes.id}:{member.id}:{now.isoformat()}"
            await self._offer(uow, panel, minutes, member, now, size, key)
            await uow.commit()
            return await self._show(
                uow, panel, member, meeting_id, "The Word file follows: allow it to save it.", now
            )

    async def offer_again(self, request: Request, deps: Deps) -> Reply:
        """The coordinator offers the Word file again to each attending member entitled to
        it who has neither saved it nor an offer still open (they declined it, it lapsed or
        their OneDrive would not take it)."""
        panel, member = request.admitted()
        meeting_id = MinutesCard.of(request.data).meeting_id
        now = deps.clock.now()
        async with deps.uow() as uow:
            minutes = await self._approved(uow, panel, meeting_id)
            offers = await uow.file_offers.for_meeting(panel.id, meeting_id)
            served = {o.member_id for o in offers if _served(o, now)}
            members = {m.id: m for m in await uow.members.all(panel.id)}
            agencies = {a.id: a.name for a in await uow.agencies.all(panel.id)}
            attendance = await uow.meetings.attendance(panel.id, meeting_id)
            size = len(minutes_docx(minutes, panel.name, panel.timezone))
            again: list[str] = []
            for member_id in attending_members(attendance):
                other = members.get(member_id)
                if other is None or other.id in served or other.id == member.id:
                    continue
                if not await entitled(uow, panel, other, minutes):
                    continue
                key = f"minutes-file:{minutes.id}:{other.id}:{now.isoformat()}"
                if await self._offer(uow, panel, minutes, other, now, size, key):
                    again.append(_who(other, agencies))
            if again:
                detail = f"Word file offered again to {len(again)} attending member(s)"
                await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
                await uow.commit()
                notice = f"The Word file is offered again to {', '.join(again)}."
            else:
                notice = "Everyone attending has the file, or an offer still open."
            return await self._show(uow, panel, member, meeting_id, notice, now)

    async def set_links(self, request: Request, deps: Deps) -> Reply:
        """The coordinator allows or stops download links for the panel's minutes."""
        panel, member = request.admitted()
        meeting_id = MinutesCard.of(request.data).meeting_id
        allow = request.data.get(ALLOW_LINKS_KEY)
        if not isinstance(allow, bool):
            raise InvalidInput("This card is out of date. Type minutes.")
        now = deps.clock.now()
        async with deps.uow() as uow:
            await uow.file_offers.allow_links(panel.id, allow, now)
            detail = "minutes download links " + ("allowed" if allow else "turned off")
            await record(uow, request, AuditVerb.UPDATE, "panel", panel.id, detail, at=now)
            await uow.commit()
            notice = (
                "Download links are on: a member who cannot save the Word file gets a link "
                "signed for them."
                if allow
                else "Download links are off: the minutes go only as a Word file saved in "
                "each member's OneDrive, and every link sent before stops working."
            )
            return await self._show(uow, panel, member, meeting_id, notice, now)

    # --- the member's answer to the file consent card -----------------------------------

    async def answer_file(self, request: Request, deps: Deps) -> Reply:
        """A member allowed or declined the Word file (Teams' fileConsent/invoke). Only the
        member it was offered to, still entitled, may have it, once, before it lapses."""
        panel, member = request.admitted()
        answer = FileAnswer.of(request.data)
        now = deps.clock.now()
        async with deps.uow() as uow:
            offer = await uow.file_offers.get(panel.id, answer.offer_id)
            if offer is None:
                raise NotFound(NO_OFFER)
            if offer.member_id != member.id:
                raise NotAllowed(NOT_YOUR_FILE)
            if offer.state is OfferState.SENT:
                return Reply(text=ALREADY_SENT)
            if offer.state is OfferState.UPLOADING:
                return Reply(text=BEING_SENT)
            if offer.state is OfferState.DECLINED:
                return Reply(text=ALREADY_DECLINED)
            if not offer.open_at(now):
                return Reply(text=LAPSED)
            minutes = await uow.meetings.minutes(panel.id, offer.meeting_id)
            if minutes is None or not minutes.approved:
                raise NotFound(NO_OFFER)
            if not await entitled(uow, panel, member, minutes):
                raise NotAllowed(NO_LONGER_ENTITLED)
            if not answer.accepted:
                return await self._declined(uow, request, panel, member, minutes, offer, now)
            if answer.upload_url is None:
                raise InvalidInput("Teams did not say where to save the file. Allow it again.")
            if not await uow.file_offers.move(
                panel.id, offer.id, OfferState.OFFERED, OfferState.UPLOADING, now
            ):
                return Reply(text=BEING_SENT)
            await uow.commit()
            document = minutes_docx(minutes, panel.name, panel.timezone)
        failure = await self._upload(answer.upload_url, document)
        async with deps.uow() as uow:
            if failure is not None:
                await uow.file_offers.move(
                    panel.id, offer.id, OfferState.UPLOADING, OfferState.OFFERED, now
                )
                detail = f"Word file not saved in the member's OneDrive: {failure}"
                await record(uow, request, AuditVerb.REFUSE, "minutes", minutes.id, detail, at=now)
                reply = await self._instead(uow, panel, member, minutes, now, NOT_SAVED)
                await uow.commit()
                return reply
            await uow.file_offers.move(
                panel.id, offer.id, OfferState.UPLOADING, OfferState.SENT, now
            )
            detail = "sent as a Word file to the member's OneDrive"
            await record(uow, request, AuditVerb.EXPORT, "minutes", minutes.id, detail, at=now)
            await notify.file_sent_to_member(
                uow,
                panel_id=panel.id,
                member_id=member.id,
                file_name=answer.file_name or file_name(minutes),
                content_url=answer.content_url or "",
                unique_id=answer.unique_id or "",
                file_type=answer.file_type or "docx",
                key=f"minutes-file-sent:{offer.id}",
                now=now,
            )
            await self._answered(uow, panel, minutes, offer, now, SAVED)
            await uow.commit()
        return Reply()

    async def _upload(self, url: str, document: bytes) -> str | None:
        """Put the file where Teams said; None when it went, else why not (for the audit
        trail: no address, no file name)."""
        if self.config.uploads is None:
            return "file uploads are not set up"
        try:
            await self.config.uploads.upload(url, document)
        except UploadRefused:
            return "the upload address is not an allowed OneDrive host"
        except UploadFailed:
            return "OneDrive did not take it"
        return None

    async def _declined(
        self,
        uow: UnitOfWork,
        request: Request,
        panel: Panel,
        member: Member,
        minutes: Minutes,
        offer: FileOffer,
        now: datetime,
    ) -> Reply:
        if not await uow.file_offers.move(
            panel.id, offer.id, OfferState.OFFERED, OfferState.DECLINED, now
        ):
            return Reply(text=BEING_SENT)
        detail = "Word file declined by the member"
        await record(uow, request, AuditVerb.UPDATE, "minutes", minutes.id, detail, at=now)
        await self._answered(uow, panel, minutes, offer, now, DECLINED)
        reply = await self._instead(uow, panel, member, minutes, now, DECLINED)
        await uow.commit()
        return reply

    async def _answered(
        self,
        uow: UnitOfWork,
        panel: Panel,
        minutes: Minutes,
        offer: FileOffer,
        now: datetime,
        outcome: str,
    ) -> None:
        """Put a card over the consent card, so that it cannot be answered again."""
        view = FileAnswerView(minutes.meeting_label, panel.name, outcome)
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=offer.member_id,
            card=render_file_answer(view),
            key=f"minutes-file-answered:{offer.id}",
            now=now,
            update_of=offer.delivery_id,
        )

    async def _instead(
        self,
        uow: UnitOfWork,
        panel: Panel,
        member: Member,
        minutes: Minutes,
        now: datetime,
        outcome: str,
    ) -> Reply:
        """The card a member who has no file gets: a link signed for them where the panel
        allows links, else how to have it offered again."""
        links = await uow.file_offers.links_allowed(panel.id)
        url = self._url(panel, minutes, member, now, links)
        if url is None:
            outcome += " " + ASK_AGAIN
            return Reply(
                card=render_file_answer(FileAnswerView(minutes.meeting_label, panel.name, outcome))
            )
        expires = day_text(self.config.links.expires(Purpose.MINUTES, now), panel)
        view = FileAnswerView(
            minutes.meeting_label, panel.name, outcome + " " + LINK_INSTEAD, url, expires
        )
        return Reply(card=render_file_answer(view))


# What a member is told of their answer to the file consent card.
NO_OFFER = (
    "I can't find that file. If you sit on several panels, type panel, choose the one it "
    "came from and allow it again; or ask your coordinator to offer it again."
)
NOT_YOUR_FILE = "That file was offered to someone else."
NO_LONGER_ENTITLED = (
    "You may no longer read every case in these minutes, so I can't send you the file."
)
ALREADY_SENT = "I have already sent you these minutes: the file is in your OneDrive."
BEING_SENT = "These minutes are already on their way to your OneDrive."
ALREADY_DECLINED = "You declined this file. Ask your coordinator to offer it again."
LAPSED = "This offer has lapsed. Ask your coordinator to offer the file again."
SAVED = "Saved in your OneDrive: open it from the card below."
DECLINED = "You declined the Word file."
NOT_SAVED = "I could not save the Word file in your OneDrive."
LINK_INSTEAD = "Here is a download link instead."
ASK_AGAIN = "Your coordinator can offer it again (type minutes, Offer the file again)."


# An upload still under way after this long was cut short (the process stopped mid-way):
# the member may be offered the file again.
STALE_UPLOAD = timedelta(minutes=10)


def _served(offer: FileOffer, now: datetime) -> bool:
    """Whether the offer's member has the file, or it is on its way, or the offer is open."""
    if offer.state is OfferState.UPLOADING:
        return offer.answered_at is None or now - offer.answered_at < STALE_UPLOAD
    return offer.state is OfferState.SENT or offer.open_at(now)


def file_name(minutes: Minutes) -> str:
    """The Word file's name: the meeting's date and time, nothing of its cases."""
    held = minutes.meeting_label.split(" (")[0].replace(":", ".")  # OneDrive takes no ':'
    label = re.sub(r"[^A-Za-z0-9 .-]+", "", held)
    return f"Minutes {' '.join(label.split())}.docx"


@dataclass(frozen=True)
class FileAnswer:
    """A member's answer to the file consent card, as the Teams layer hands it over (every
    value the client's)."""

    offer_id: str
    accepted: bool
    upload_url: str | None = None
    content_url: str | None = None
    file_name: str | None = None
    unique_id: str | None = None
    file_type: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> FileAnswer:
        offer_id = text_field(data, notify.OFFER_ID, 64)
        answer = data.get(notify.ANSWER)
        if offer_id is None or answer not in ("accept", "decline"):
            raise InvalidInput("Teams sent an answer I can't read. Ask for the file again.")
        return cls(
            offer_id=offer_id,
            accepted=answer == "accept",
            upload_url=text_field(data, notify.UPLOAD_URL, 4000),
            content_url=text_field(data, notify.CONTENT_URL, 4000),
            file_name=text_field(data, notify.FILE_NAME, 200),
            unique_id=text_field(data, notify.UNIQUE_ID, 200),
            file_type=text_field(data, notify.FILE_TYPE, 20),
        )


def register(router: Router, config: MinutesConfig | None = None) -> MinutesFeature:
    """Register `minutes` and the minutes card's verbs."""
    feature = MinutesFeature(config or MinutesConfig())
    router.command(
        CommandSpec(
            name="minutes",
            summary="Coordinator and chair: the latest meeting's minutes, to edit and sign off.",
            handler=feature.command,
            access=Access(Act.SIGN_MINUTES, PRIVATE),
            button="Minutes",
        )
    )
    editing = Access(Act.APPROVE_MINUTES, PRIVATE, (Target.MEETING,), (Target.MEETING,))
    signing = Access(Act.SIGN_MINUTES, PRIVATE, (Target.MEETING,), (Target.MEETING,))
    router.verb(VerbSpec(Verb.MINUTES_EDIT.value, feature.edit, editing))
    router.verb(VerbSpec(Verb.MINUTES_APPROVE.value, feature.approve, signing))
    router.verb(VerbSpec(Verb.MINUTES_OFFER.value, feature.offer_to_me, signing))
    router.verb(VerbSpec(Verb.MINUTES_OFFER_AGAIN.value, feature.offer_again, editing))
    router.verb(VerbSpec(Verb.MINUTES_LINKS.value, feature.set_links, editing))
    # The answer to the file consent card names only an offer (its context): any member may
    # send one, in private chat; the offer's member, entitlement, state and expiry are
    # checked by the handler against the stored offer.
    router.verb(
        VerbSpec(Verb.MINUTES_FILE.value, feature.answer_file, Access(Act.ATTEND_MEETING, PRIVATE))
    )
    return feature
