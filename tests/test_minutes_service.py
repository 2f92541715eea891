"""The minutes use cases on the in-memory storage with the demo panel: a meeting is run
(Gemma Hartley, Tom Okafor and Priya Raman attend; one action is agreed), ended, and its
minutes edited, approved and downloaded."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from docx import Document

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.meeting import MeetingStatus
from bot.features.meetings import agenda, meeting_run, minutes
from bot.kernel.links import Links, Purpose
from bot.kernel.router import Router
from cards.kit import card_text
from tests.support import cards
from tests.support.world import NOW, World, demo_world

if TYPE_CHECKING:
    from bot.domain.minutes import Minutes

GROUP = ConversationKind.GROUP_CHAT
# The demo world runs its meeting early.
HELD = "Fri 20 Nov 2026, 10:00 (planned for Tue 8 Dec 2026)"
SECRET = "minutes-test-secret"
PUBLIC = "https://bot.example.org"
LINKS = Links.of(PUBLIC, [SECRET])


@pytest.fixture
async def world() -> World:
    # only the meeting features, the minutes' links configured
    router = Router()
    agenda.register(router)
    meeting_run.register(router)
    minutes.register(router, minutes.MinutesConfig(links=LINKS))
    return await demo_world(router=router)


async def run_meeting(world: World) -> str:
    """Start, three attend, one action on CM-2026-014, end; returns the meeting id."""
    reply = await world.command("Tom", "start", GROUP)
    for offset, name in enumerate(("Gemma", "Tom", "Priya"), start=1):
        world.clock.advance(NOW + timedelta(minutes=offset))
        await world.click(name, *cards.press(reply.card, "I acknowledge"), GROUP)
    chair = await world.click("Tom", *cards.press(reply.card, "Open the chair card"), GROUP)
    chair = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    chair = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    housing = (await world.member("Gemma")).agency_id
    chair = await world.click(
        "Tom",
        *cards.press(
            chair.card, "Save action", description="Fit a door camera.", owner_agency_id=housing
        ),
        GROUP,
    )
    chair = await world.click(
        "Tom",
        *cards.press(chair.card, "Save summary", summary="Threats at the door continue."),
        GROUP,
    )
    ended = await world.command("Tom", "end", GROUP)
    assert cards.text(ended).startswith("Meeting ended")
    return (await world.agenda())[0].meeting_id


async def stored(world: World, meeting_id: str) -> Minutes:
    async with world.storage.unit_of_work() as uow:
        found = await uow.meetings.minutes(world.panel.id, meeting_id)
    assert found is not None
    return found


async def test_the_coordinator_opens_the_draft_and_rewrites_a_summary(world: World) -> None:
    meeting_id = await run_meeting(world)
    reply = await world.command("Priya", "minutes")
    text = cards.text(reply)
    # held early
    assert text.startswith("Draft minutes: Fri 20 Nov 2026, 10:00 (planned for Tue 8 Dec 2026)")
    assert "Riverside Homes (Housing): Gemma Hartley" in text
    assert "Threats at the door continue." in text
    assert "Riverside Homes (Housing): Fit a door camera. — due Mon 11 Jan 2027" in text
    item_id = (await stored(world, meeting_id)).cases[0].item_id
    saved = await world.click(
        "Priya",
        *cards.press(
            reply.card,
            "Save the summary",
            nth=0,
            **{f"summary-{item_id}": "Threats continue; camera agreed."},
        ),
    )
    assert "Summary of CM-2026-014 saved." in cards.text(saved)
    after = await stored(world, meeting_id)
    assert after.cases[0].summary == "Threats continue; camera agreed."
    assert after.version == 2

    stale = await world.click(
        "Priya",
        *cards.press(reply.card, "Save the summary", nth=0, **{f"summary-{item_id}": "Old card"}),
    )
    assert "Someone changed these minutes a moment ago" in cards.text(stale)
    assert (await stored(world, meeting_id)).cases[0].summary == "Threats continue; camera agreed."


async def test_approving_sends_the_document_to_the_attending_spocs_in_private(
    world: World,
) -> None:
    meeting_id = await run_meeting(world)
    card = (await world.command("Priya", "minutes")).card
    reply = await world.click("Priya", *cards.press(card, "Approve minutes"))
    assert (
        "Approved. The Word document goes in private chat to Gemma Hartley (Riverside Homes "
        "(Housing)), Tom Okafor (Riverside Police)."
    ) in cards.text(reply)
    assert cards.text(reply).startswith(f"Minutes: {HELD}")
    assert "Download the minutes (.docx)" in cards.text(reply)
    assert (await world.meeting(meeting_id)).status is MeetingStatus.MINUTES_APPROVED
    assert (await stored(world, meeting_id)).approved_by == "Priya Raman"
    ready = [d for d in await world.queued() if d.key.startswith("minutes-ready:")]
    gemma, tom = await world.member("Gemma"), await world.member("Tom")
    assert sorted(d.recipient_member_id or "" for d in ready) == sorted([gemma.id, tom.id])
    assert all(d.conversation_ref_id is None for d in ready)  # 1:1 only, never the channel
    card_for_gemma = next(d for d in ready if d.recipient_member_id == gemma.id)
    assert f"Minutes approved: {HELD}" in card_text(card_for_gemma.payload["card"])
    again = await world.click("Priya", *cards.press(card, "Approve minutes"))
    assert "Already approved." in cards.text(again)


async def test_the_signed_link_downloads_the_approved_document_once_audited(
    world: World,
) -> None:
    meeting_id = await run_meeting(world)
    gemma = await world.member("Gemma")
    link = minutes.minutes_url(
        minutes.MinutesConfig(links=LINKS),
        world.panel.id,
        meeting_id,
        gemma.id,
        NOW,
    )
    assert link is not None
    parts = urlsplit(link)
    assert parts.path == f"/panels/{world.panel.id}/minutes/{meeting_id}.docx"
    (token,) = parse_qs(parts.query)["token"]
    fetch = world.storage.unit_of_work
    assert await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, token, NOW) is None

    card = (await world.command("Priya", "minutes")).card
    await world.click("Priya", *cards.press(card, "Approve minutes"))
    now = world.clock.now()
    body = await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, token, now)
    assert body is not None
    rows = [
        [c.text for c in row.cells] for t in Document(io.BytesIO(body)).tables for row in t.rows
    ]
    assert ["Fit a door camera.", "Riverside Homes (Housing)", "Mon 11 Jan 2027"] in rows
    async with world.storage.unit_of_work() as uow:
        trail = await uow.audit.recent(world.panel.id, 5)
    assert (trail[0].verb, trail[0].entity, trail[0].actor_member_id) == (
        AuditVerb.EXPORT,
        "minutes",
        gemma.id,
    )
    subject = [world.panel.id, meeting_id]
    unknown_secret = Links.of(PUBLIC, ["not-our-secret"])
    for bad in (
        token + "x",
        "",
        unknown_secret.token(Purpose.MINUTES, subject, gemma.id, NOW),
        LINKS.token(Purpose.CALENDAR, subject, gemma.id, NOW),
    ):
        assert (
            await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, bad, NOW) is None
        )
    later = NOW + timedelta(days=8)  # minutes' links work for 7 days
    assert (
        await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, token, later) is None
    )


async def test_only_the_coordinator_edits_and_approves_the_minutes(world: World) -> None:
    with pytest.raises(NotFound, match="no minutes"):
        await world.command("Priya", "minutes")
    meeting_id = await run_meeting(world)
    officers = r"^Only the panel's coordinators and chairs can sign off the minutes\.$"
    with pytest.raises(NotAllowed, match=officers):
        await world.command("Gemma", "minutes")
    with pytest.raises(NotAllowed, match=officers):
        await world.click("Gemma", "minutes.approve", {"meeting_id": meeting_id, "version": 1})
    # the chair reads them, but this panel's minutes are the coordinator's to approve
    chair = await world.click("Tom", "minutes.approve", {"meeting_id": meeting_id, "version": 1})
    assert "This panel's minutes are signed off by the coordinator." in cards.text(chair)
    assert "Approve minutes" not in cards.text(chair)
    assert "Edit summary" not in cards.text(chair)
    only_coordinators = r"^Only the panel's coordinators can edit and approve the minutes\.$"
    item_id = (await stored(world, meeting_id)).cases[0].item_id
    with pytest.raises(NotAllowed, match=only_coordinators):
        await world.click(
            "Tom", "minutes.edit", {"meeting_id": meeting_id, "item_id": item_id, "version": 1}
        )
    assert not (await stored(world, meeting_id)).approved
